//! Use cases for activity types: listing, creating (with custom fields) and updating them.

use uuid::Uuid;

use super::Service;
use crate::domain::rules::{check_direction, check_fields, check_salesloft_type, check_score};
use crate::domain::{rules, ActivityType, FieldDef, NewActivityType, Role, TypeKind, User};
use crate::error::{Error, Missing, Result};

pub use crate::domain::rules::MAX_FIELDS;

/// Changes to an activity type; `None` keeps the current value. `fields` are merged by SchemaName.
#[derive(Debug, Default, Clone)]
pub struct TypePatch {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub score: Option<i64>,
    pub description: Option<String>,
    pub direction: Option<i64>,
    pub salesloft_type: Option<String>,
    pub fields: Vec<FieldDef>,
}

fn require_manager(caller: &User) -> Result<()> {
    if caller.role == Role::SalesUser {
        return Err(Error::Forbidden(
            "A Sales_User may not change activity types".into(),
        ));
    }
    Ok(())
}

impl Service {
    pub async fn list_activity_types(&self, caller: &User) -> Result<Vec<ActivityType>> {
        self.store.list_activity_types(caller.tenant_id).await
    }

    pub async fn activity_type(&self, caller: &User, code: i64) -> Result<Option<ActivityType>> {
        Ok(self
            .store
            .activity_type_by_code(caller.tenant_id, code)
            .await?
            .map(std::sync::Arc::unwrap_or_clone))
    }

    /// Creates a custom activity type (or an opportunity type when `kind` says so).
    pub async fn create_activity_type(
        &self,
        caller: &User,
        mut ty: NewActivityType,
    ) -> Result<ActivityType> {
        require_manager(caller)?;
        ty.name = ty.name.trim().to_string();
        rules::check_new_type(&ty)?;
        if ty.display_name.trim().is_empty() {
            ty.display_name = ty.name.clone();
        }
        ty.guid = Uuid::now_v7();
        self.store.create_activity_type(caller.tenant_id, ty).await
    }

    /// Applies `patch` to the type with this code. System types keep their name and Salesloft type.
    pub async fn update_activity_type(
        &self,
        caller: &User,
        code: i64,
        patch: TypePatch,
    ) -> Result<ActivityType> {
        require_manager(caller)?;
        let mut ty = self
            .store
            .activity_type_by_code(caller.tenant_id, code)
            .await?
            .map(std::sync::Arc::unwrap_or_clone)
            .ok_or_else(|| Error::NotFound(Missing::ActivityType(Some(code))))?;
        if let Some(name) = patch
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
        {
            rules::check_type_name(&name)?;
            if ty.kind == TypeKind::System && name != ty.name {
                return Err(Error::InvalidInput(
                    "The name of a system activity type cannot change".into(),
                ));
            }
            // A display name that was only the old name follows the rename.
            if ty.display_name == ty.name {
                ty.display_name = name.clone();
            }
            ty.name = name;
        }
        if let Some(d) = patch.display_name.filter(|d| !d.trim().is_empty()) {
            ty.display_name = d;
        }
        if let Some(s) = patch.score {
            check_score(s)?;
            ty.score = s;
        }
        if let Some(d) = patch.description {
            ty.description = d;
        }
        if let Some(d) = patch.direction {
            check_direction(d)?;
            ty.direction = d;
        }
        if let Some(t) = patch.salesloft_type {
            check_salesloft_type(&t)?;
            ty.salesloft_type = t;
        }
        for f in patch.fields {
            match ty
                .fields
                .iter_mut()
                .find(|g| g.schema_name == f.schema_name)
            {
                Some(g) => *g = f,
                None => ty.fields.push(f),
            }
        }
        check_fields(&ty.fields)?;
        self.store
            .update_activity_type(caller.tenant_id, ty.clone())
            .await?;
        Ok(ty)
    }
}
