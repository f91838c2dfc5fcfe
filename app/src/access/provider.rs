//! The care-provider administrator: the provider's care units (open or closed for care), their
//! access administrators, and the crisis contacts a patient of each unit is shown after an
//! urgent answer.

use crate::error::AppError;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderUnit {
    pub id: i64,
    pub hsa_id: String,
    pub name: String,
    pub active: bool,
    /// Who the unit's patients can reach at once (shown with 112 and 1177 after an urgent
    /// answer); Markdown.
    pub crisis_info: String,
    /// (grant id, name) of the unit's access administrators.
    pub access_admins: Vec<(i64, String)>,
    /// (staff person id, name) of everyone with an assignment at the unit.
    pub staff: Vec<(i64, String)>,
}

#[endpoint("provider_units")]
pub async fn list_provider_units() -> Result<Vec<ProviderUnit>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::units(&db, &principal)
        .await
        .map_err(crate::auth::gate::refuse)
}

/// Opens or closes a unit. A closed unit's assignments open no patient data.
#[endpoint]
pub async fn set_unit_active(unit_id: i64, active: bool) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::set_active(&db, &principal, unit_id, active)
        .await
        .map_err(crate::auth::gate::refuse)
}

/// The most a unit's crisis information may hold, in characters.
pub const CRISIS_INFO_MAX: usize = 1000;

/// Sets what the unit's patients are shown to reach the unit at once after an urgent answer
/// (its phone, opening hours, where to go out of hours). Empty clears it.
#[endpoint]
pub async fn set_crisis_info(unit_id: i64, crisis_info: String) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::set_crisis_info(&db, &principal, unit_id, &crisis_info)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn appoint_access_admin(unit_id: i64, staff_person_id: i64) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::appoint(&db, &principal, unit_id, staff_person_id)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn remove_access_admin(grant_id: i64) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::remove(&db, &principal, grant_id)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::ProviderUnit;
    use crate::access::queries::{revoke_grant, works_at};
    use crate::auth::{Principal, Role};
    use crate::db::entities::{care_unit, staff_role};
    use crate::db::statement;
    use crate::error::AppError;
    use chrono::Utc;
    use sea_orm::{
        ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
        TransactionTrait,
    };

    /// (care provider, sandbox, the administrator's staff id).
    fn provider_of(principal: &Principal) -> Result<(i64, Option<i64>, i64), AppError> {
        let staff = principal.staff().ok_or(AppError::Forbidden)?;
        let a = staff.assignment.as_ref().ok_or(AppError::Forbidden)?;
        Ok((
            a.care_provider_id,
            principal.sandbox_id,
            staff.staff_person_id,
        ))
    }

    /// The unit, if it belongs to the administrator's care provider.
    async fn own_unit(
        db: &impl ConnectionTrait,
        principal: &Principal,
        unit_id: i64,
    ) -> Result<care_unit::Model, AppError> {
        let (provider, sandbox, _) = provider_of(principal)?;
        care_unit::Entity::find_by_id(unit_id)
            .one(db)
            .await?
            .filter(|u| u.care_provider_id == provider && u.sandbox_id == sandbox)
            .ok_or(AppError::NotFound)
    }

    pub async fn units(
        db: &impl ConnectionTrait,
        principal: &Principal,
    ) -> Result<Vec<ProviderUnit>, AppError> {
        let (provider, _, _) = provider_of(principal)?;
        let units = care_unit::Entity::find()
            .filter(care_unit::Column::CareProviderId.eq(provider))
            .order_by_asc(care_unit::Column::Name)
            .all(db)
            .await?;
        let mut out = Vec::with_capacity(units.len());
        for unit in units {
            let staff_rows = db
                .query_all(statement(
                    db,
                    "SELECT DISTINCT p.id, p.given_name, p.family_name \
                     FROM staff_assignment a \
                     JOIN staff_hsa_identity h ON h.id = a.staff_hsa_identity_id \
                     JOIN staff_person p ON p.id = h.staff_person_id \
                     WHERE a.care_unit_id = $1 ORDER BY p.family_name, p.given_name, p.id",
                    vec![unit.id.into()],
                ))
                .await?;
            let mut staff = Vec::new();
            for row in &staff_rows {
                let id: i64 = row.try_get("", "id")?;
                let given: String = row.try_get("", "given_name")?;
                let family: String = row.try_get("", "family_name")?;
                staff.push((id, format!("{given} {family}")));
            }
            let admins = staff_role::Entity::find()
                .filter(staff_role::Column::CareUnitId.eq(unit.id))
                .filter(staff_role::Column::Role.eq(Role::AccessAdministrator.as_code()))
                .filter(staff_role::Column::RevokedAt.is_null())
                .all(db)
                .await?;
            let access_admins = admins
                .iter()
                .map(|g| {
                    let name = staff
                        .iter()
                        .find(|(id, _)| *id == g.staff_person_id)
                        .map_or_else(String::new, |(_, n)| n.clone());
                    (g.id, name)
                })
                .collect();
            out.push(ProviderUnit {
                id: unit.id,
                hsa_id: unit.hsa_id,
                name: unit.name,
                active: unit.active,
                crisis_info: unit.crisis_info.unwrap_or_default(),
                access_admins,
                staff,
            });
        }
        Ok(out)
    }

    pub async fn set_active(
        db: &impl ConnectionTrait,
        principal: &Principal,
        unit_id: i64,
        active: bool,
    ) -> Result<(), AppError> {
        let unit = own_unit(db, principal, unit_id).await?;
        care_unit::Entity::update_many()
            .col_expr(care_unit::Column::Active, active.into())
            .filter(care_unit::Column::Id.eq(unit.id))
            .exec(db)
            .await?;
        tracing::info!(unit_id, active, "care unit opened or closed");
        Ok(())
    }

    pub async fn set_crisis_info(
        db: &impl ConnectionTrait,
        principal: &Principal,
        unit_id: i64,
        text: &str,
    ) -> Result<(), AppError> {
        let unit = own_unit(db, principal, unit_id).await?;
        let text = crate::messages::text::strip_invisible(text)
            .trim()
            .to_owned();
        if text.chars().count() > super::CRISIS_INFO_MAX {
            return Err(AppError::Invalid {
                field: "crisis_info".to_owned(),
                reason: "too_long".to_owned(),
            });
        }
        care_unit::Entity::update_many()
            .col_expr(
                care_unit::Column::CrisisInfo,
                (!text.is_empty()).then_some(text).into(),
            )
            .filter(care_unit::Column::Id.eq(unit.id))
            .exec(db)
            .await?;
        tracing::info!(unit_id, "care unit's crisis information set");
        Ok(())
    }

    pub async fn appoint(
        db: &impl ConnectionTrait,
        principal: &Principal,
        unit_id: i64,
        staff_person_id: i64,
    ) -> Result<(), AppError> {
        let unit = own_unit(db, principal, unit_id).await?;
        let (provider, _, admin) = provider_of(principal)?;
        if staff_person_id == admin {
            return Err(crate::access::queries::own_roles());
        }
        if !works_at(db, staff_person_id, unit.id).await? {
            return Err(AppError::NotFound);
        }
        let existing = staff_role::Entity::find()
            .filter(staff_role::Column::StaffPersonId.eq(staff_person_id))
            .filter(staff_role::Column::CareUnitId.eq(unit.id))
            .filter(staff_role::Column::Role.eq(Role::AccessAdministrator.as_code()))
            .filter(staff_role::Column::RevokedAt.is_null())
            .one(db)
            .await?;
        if existing.is_none() {
            staff_role::Entity::insert(staff_role::ActiveModel {
                staff_person_id: Set(staff_person_id),
                care_provider_id: Set(provider),
                care_unit_id: Set(Some(unit.id)),
                role: Set(Role::AccessAdministrator),
                granted_by: Set(Some(admin)),
                granted_at: Set(Utc::now()),
                ..Default::default()
            })
            .exec(db)
            .await?;
            crate::access::queries::granted(Role::AccessAdministrator, staff_person_id, unit.id);
        }
        Ok(())
    }

    pub async fn remove(
        db: &(impl ConnectionTrait + TransactionTrait),
        principal: &Principal,
        grant_id: i64,
    ) -> Result<(), AppError> {
        let (provider, _, admin) = provider_of(principal)?;
        let grant = staff_role::Entity::find_by_id(grant_id)
            .filter(staff_role::Column::CareProviderId.eq(provider))
            .filter(staff_role::Column::Role.eq(Role::AccessAdministrator.as_code()))
            .filter(staff_role::Column::RevokedAt.is_null())
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Some(unit) = grant.care_unit_id {
            own_unit(db, principal, unit).await?;
        }
        revoke_grant(db, &grant, admin).await
    }
}
