//! Who calls: the Bearer-authenticated `Caller` extractor and the role checks handlers apply.

use axum::extract::FromRequestParts;
use axum::http::{request::Parts, StatusCode};

use super::error::{ApiError, ApiResult};
use crate::api::extract::{authenticate, bearer_token, locked_out_text, AuthRefused};
use crate::app::AppState;
use crate::domain::{Role, User};

/// The authenticated caller of a native endpoint.
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authorization: Bearer <api key> is required",
            )
        })?;
        match authenticate(
            state,
            &parts.extensions,
            state.service.authenticate_bearer(token),
        )
        .await
        {
            Ok(user) => {
                super::rate::charge(state, &parts.extensions, parts.uri.path(), &user).await?;
                crate::api::idempotency::claim(state, &parts.extensions, &user)
                    .await
                    .map_err(ApiError::from)?;
                Ok(Caller(user))
            }
            Err(AuthRefused::Failed(e)) => Err(e.into()),
            Err(AuthRefused::LockedOut(wait)) => Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                locked_out_text(state),
            )
            .retry_after(wait)),
        }
    }
}

/// A Sales_User works on its own leads; directory-wide changes are for managers and admins.
pub(super) fn forbid_sales_user(me: &User, what: &str) -> ApiResult<()> {
    if me.role == Role::SalesUser {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("A Sales_User may not {what}"),
        ))
    } else {
        Ok(())
    }
}

/// Only an Administrator manages users.
pub(super) fn require_admin(me: &User, what: &str) -> ApiResult<()> {
    if me.role == Role::Administrator {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("Only an Administrator may {what}"),
        ))
    }
}
