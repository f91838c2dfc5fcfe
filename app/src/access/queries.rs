use super::{GRANTABLE, UnitStaff};
use crate::auth::security::{self, Event};
use crate::auth::{Principal, Role};
use crate::db::entities::staff_role;
use crate::db::statement;
use crate::error::AppError;
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    TransactionTrait,
};

/// (care unit, care provider, the administrator's staff id) of the caller's assignment.
pub fn unit_of(principal: &Principal) -> Result<(i64, i64, i64), AppError> {
    let staff = principal.staff().ok_or(AppError::Forbidden)?;
    let a = staff.assignment.as_ref().ok_or(AppError::Forbidden)?;
    Ok((a.care_unit_id, a.care_provider_id, staff.staff_person_id))
}

/// Nobody grants roles to themselves: another administrator does, so that every grant has two
/// people behind it.
pub fn own_roles() -> AppError {
    AppError::Invalid {
        field: "staff_person_id".to_owned(),
        reason: "own_roles".to_owned(),
    }
}

pub async fn unit_staff(
    db: &impl ConnectionTrait,
    (unit, _, _): (i64, i64, i64),
) -> Result<Vec<UnitStaff>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            "SELECT DISTINCT p.id, p.given_name, p.family_name, h.hsa_id \
             FROM staff_assignment a \
             JOIN staff_hsa_identity h ON h.id = a.staff_hsa_identity_id \
             JOIN staff_person p ON p.id = h.staff_person_id \
             WHERE a.care_unit_id = $1 \
             ORDER BY p.family_name, p.given_name, p.id",
            vec![unit.into()],
        ))
        .await?;
    let grants = staff_role::Entity::find()
        .filter(staff_role::Column::CareUnitId.eq(unit))
        .filter(staff_role::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("", "id")?;
            let given: String = row.try_get("", "given_name")?;
            let family: String = row.try_get("", "family_name")?;
            Ok(UnitStaff {
                staff_person_id: id,
                name: format!("{given} {family}"),
                hsa_id: row.try_get("", "hsa_id")?,
                roles: grants
                    .iter()
                    .filter(|g| g.staff_person_id == id)
                    .map(|g| (g.id, g.role))
                    .collect(),
            })
        })
        .collect()
}

/// Whether the person has an assignment at the unit (staff elsewhere are not found).
pub async fn works_at(
    db: &impl ConnectionTrait,
    staff_person_id: i64,
    unit: i64,
) -> Result<bool, DbErr> {
    Ok(db
        .query_one(statement(
            db,
            "SELECT 1 FROM staff_assignment a \
             JOIN staff_hsa_identity h ON h.id = a.staff_hsa_identity_id \
             WHERE h.staff_person_id = $1 AND a.care_unit_id = $2",
            vec![staff_person_id.into(), unit.into()],
        ))
        .await?
        .is_some())
}

pub async fn grant(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    staff_person_id: i64,
    role: Role,
) -> Result<(), AppError> {
    let (unit, provider, admin) = unit_of(principal)?;
    if staff_person_id == admin {
        return Err(own_roles());
    }
    if !works_at(db, staff_person_id, unit).await? {
        return Err(AppError::NotFound);
    }
    if !GRANTABLE.contains(&role) {
        return Err(AppError::Forbidden);
    }
    let existing = staff_role::Entity::find()
        .filter(staff_role::Column::StaffPersonId.eq(staff_person_id))
        .filter(staff_role::Column::CareUnitId.eq(unit))
        .filter(staff_role::Column::Role.eq(role.as_code()))
        .filter(staff_role::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    if existing.is_some() {
        return Ok(());
    }
    staff_role::Entity::insert(staff_role::ActiveModel {
        staff_person_id: Set(staff_person_id),
        care_provider_id: Set(provider),
        care_unit_id: Set(Some(unit)),
        role: Set(role),
        granted_by: Set(Some(admin)),
        granted_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    granted(role, staff_person_id, unit);
    Ok(())
}

/// Revokes a grant at the administrator's unit and ends all of that person's sessions.
pub async fn revoke(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    grant_id: i64,
) -> Result<(), AppError> {
    let (unit, _, admin) = unit_of(principal)?;
    let Some(grant) = staff_role::Entity::find_by_id(grant_id)
        .filter(staff_role::Column::CareUnitId.eq(unit))
        // Only the roles this administrator may give; access administrators are the care
        // provider administrator's to remove.
        .filter(staff_role::Column::Role.is_in(GRANTABLE.map(Role::as_code)))
        .filter(staff_role::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    revoke_grant(db, &grant, admin).await
}

/// Marks a grant revoked (when, by whom) and ends all sessions of its holder, in one
/// transaction.
pub async fn revoke_grant(
    db: &(impl ConnectionTrait + TransactionTrait),
    grant: &staff_role::Model,
    admin: i64,
) -> Result<(), AppError> {
    let txn = crate::db::begin_write(db).await?;
    staff_role::Entity::update_many()
        .col_expr(staff_role::Column::RevokedAt, Utc::now().into())
        .col_expr(staff_role::Column::RevokedBy, Some(admin).into())
        .filter(staff_role::Column::Id.eq(grant.id))
        .exec(&txn)
        .await?;
    let ended = crate::auth::session::end_all_for_staff(&txn, grant.staff_person_id).await?;
    txn.commit().await?;
    tracing::info!(
        grant_id = grant.id,
        staff_person_id = grant.staff_person_id,
        sessions_ended = ended,
        "role revoked"
    );
    security::record_here(
        Event::RoleRevoked,
        "success",
        &format!(
            "{}:staff:{}:unit:{}",
            grant.role.as_code(),
            grant.staff_person_id,
            grant.care_unit_id.unwrap_or_default()
        ),
    );
    Ok(())
}

/// A role was granted: in the security log, who got which role where.
pub fn granted(role: Role, staff_person_id: i64, unit: i64) {
    security::record_here(
        Event::RoleGranted,
        "success",
        &format!("{}:staff:{staff_person_id}:unit:{unit}", role.as_code()),
    );
}
