//! Limits on a request's head (URI length, header count and size), answered 414/431 in the
//! envelope of the dialect the path belongs to.
//!
//! hyper enforces its own, larger limits while parsing and answers those breaches with a bare
//! status and no body, before any dialect can be known. These limits sit below hyper's, so a
//! client that sends an over-long query string or too many headers reads a clear error in its
//! own dialect's format; only heads past hyper's limits (or bytes that are not HTTP at all) still
//! get hyper's bare 400/414/431.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::lsq::LsqError;
use crate::api::native::error::ApiError;
use crate::api::salesloft::SlError;

/// Longest path and query answered: 16 KiB holds a Salesloft list with hundreds of `ids[]` and
/// any LeadSquared query string; hyper's own bare 414 starts at 64 KiB.
pub const MAX_URI: usize = 16 * 1024;
/// Most headers a request may carry (hyper is set to parse twice as many, see `server`).
pub const MAX_HEADERS: usize = 100;
/// Most bytes of header names and values together; hyper's buffer (about 400 KiB) bounds the
/// head before this check sees it.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Middleware: refuses a request whose head is over a limit, before routing and authentication.
pub async fn limit_head(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let refusal = if uri_len > MAX_URI {
        Some((
            StatusCode::URI_TOO_LONG,
            format!("The request URI is {uri_len} bytes long; the limit is {MAX_URI} bytes"),
        ))
    } else if headers.len() > MAX_HEADERS {
        Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "The request has {} headers; the limit is {MAX_HEADERS}",
                headers.len()
            ),
        ))
    } else if header_bytes > MAX_HEADER_BYTES {
        Some((
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "The request headers hold {header_bytes} bytes; the limit is {MAX_HEADER_BYTES} bytes"
            ),
        ))
    } else {
        None
    };
    match refusal {
        None => next.run(req).await,
        Some((status, message)) => refuse(req.uri().path(), status, message),
    }
}

/// `message` with `status` in the envelope of the dialect `path` belongs to.
fn refuse(path: &str, status: StatusCode, message: String) -> Response {
    if let Some(rest) = path.strip_prefix("/v2/") {
        if rest.contains(".svc") {
            LsqError::new(status, "MXInvalidInputException", message).into_response()
        } else {
            SlError::new(status, message).into_response()
        }
    } else {
        let code = if status == StatusCode::URI_TOO_LONG {
            "uri_too_long"
        } else {
            "headers_too_large"
        };
        ApiError::new(status, code, message).into_response()
    }
}
