//! Who signed in: the patient found (or created) by personal identity number, the staff member
//! found (or created) by HSA-ID with the assignments their identity provider reported, and the
//! rules for which assignment may open a session.

use super::{Choice, Choices, Failure, attempt::Pending};
use crate::auth::Role;
use crate::auth::session::CARE_PURPOSE;
use crate::db::entities::{
    care_provider, care_unit, patient, staff_assignment, staff_hsa_identity, staff_person,
    staff_role,
};
use crate::domain::{HsaId, Personnummer};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TransactionTrait,
};

/// Finds the patient with this personal identity number (outside every demo sandbox), or
/// registers them. The identity provider's names replace stored ones that differ.
pub async fn patient_sign_in(
    db: &(impl ConnectionTrait + TransactionTrait),
    pnr: &Personnummer,
    given_name: &str,
    family_name: &str,
) -> Result<i64, DbErr> {
    let find = || {
        patient::Entity::find()
            .filter(patient::Column::Personnummer.eq(pnr.as_str()))
            .filter(patient::Column::SandboxId.is_null())
            .one(db)
    };
    if let Some(found) = find().await? {
        if found.given_name != given_name || found.family_name != family_name {
            let id = found.id;
            let mut row = found.into_active_model();
            row.given_name = Set(given_name.to_owned());
            row.family_name = Set(family_name.to_owned());
            row.update(db).await?;
            return Ok(id);
        }
        return Ok(found.id);
    }
    let inserted = patient::Entity::insert(patient::ActiveModel {
        personnummer: Set(pnr.as_str().to_owned()),
        given_name: Set(given_name.to_owned()),
        family_name: Set(family_name.to_owned()),
        notify_by_email: Set(false),
        notify_by_sms: Set(false),
        locale: Set("sv".to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await;
    match inserted {
        Ok(done) => Ok(done.last_insert_id),
        // Two first logins at once: the other one registered the patient.
        Err(err) => match find().await? {
            Some(found) => Ok(found.id),
            None => Err(err),
        },
    }
}

/// A staff assignment (medarbetaruppdrag) as the identity provider reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commission {
    pub hsa_id: String,
    pub name: String,
    pub purpose: String,
    pub right: Option<String>,
    pub care_unit_hsa_id: String,
}

/// What the staff identity provider said about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffClaims {
    pub hsa_id: HsaId,
    pub given_name: String,
    pub family_name: String,
    pub commissions: Vec<Commission>,
}

/// The HSA identity with this HSA-ID, if Lotsen knows it.
pub async fn staff_identity(
    db: &impl ConnectionTrait,
    hsa_id: &HsaId,
) -> Result<Option<staff_hsa_identity::Model>, DbErr> {
    staff_hsa_identity::Entity::find()
        .filter(staff_hsa_identity::Column::HsaId.eq(hsa_id.as_str()))
        .one(db)
        .await
}

/// Registers a staff member (outside every sandbox) with their first HSA-ID.
pub async fn register_staff(
    db: &impl ConnectionTrait,
    hsa_id: &HsaId,
    given_name: &str,
    family_name: &str,
) -> Result<staff_hsa_identity::Model, DbErr> {
    let now = Utc::now();
    let person = staff_person::ActiveModel {
        given_name: Set(given_name.to_owned()),
        family_name: Set(family_name.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    staff_hsa_identity::ActiveModel {
        staff_person_id: Set(person.id),
        hsa_id: Set(hsa_id.as_str().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Finds the staff member by HSA-ID (or registers them), records the assignments at care units
/// that use Lotsen, and returns the person and the assignment ids they may choose from.
/// Assignments at units unknown to Lotsen, or at closed units, are not offered.
pub async fn staff_sign_in(
    db: &(impl ConnectionTrait + TransactionTrait),
    claims: &StaffClaims,
) -> Result<(i64, Vec<i64>), Failure> {
    let txn = crate::db::begin_write(db).await.map_err(unavailable)?;
    let now = Utc::now();
    let identity = staff_identity(&txn, &claims.hsa_id)
        .await
        .map_err(unavailable)?;
    let identity = match identity {
        Some(identity) => {
            let person = staff_person::Entity::find_by_id(identity.staff_person_id)
                .one(&txn)
                .await
                .map_err(unavailable)?;
            match person {
                // A demo sandbox's made-up person never signs in for real.
                Some(person) if person.sandbox_id.is_some() => return Err(Failure::HsaId),
                Some(person)
                    if person.given_name != claims.given_name
                        || person.family_name != claims.family_name =>
                {
                    let mut row = person.into_active_model();
                    row.given_name = Set(claims.given_name.clone());
                    row.family_name = Set(claims.family_name.clone());
                    row.update(&txn).await.map_err(unavailable)?;
                }
                Some(_) => {}
                None => return Err(Failure::HsaId),
            }
            identity
        }
        None => register_staff(
            &txn,
            &claims.hsa_id,
            &claims.given_name,
            &claims.family_name,
        )
        .await
        .map_err(unavailable)?,
    };
    let mut offered = Vec::new();
    for commission in &claims.commissions {
        let unit = care_unit::Entity::find()
            .filter(care_unit::Column::HsaId.eq(commission.care_unit_hsa_id.to_ascii_uppercase()))
            .filter(care_unit::Column::SandboxId.is_null())
            .filter(care_unit::Column::Active.eq(true))
            .one(&txn)
            .await
            .map_err(unavailable)?;
        let Some(unit) = unit else { continue };
        let existing = staff_assignment::Entity::find()
            .filter(staff_assignment::Column::StaffHsaIdentityId.eq(identity.id))
            .filter(staff_assignment::Column::CommissionHsaId.eq(commission.hsa_id.as_str()))
            .one(&txn)
            .await
            .map_err(unavailable)?;
        let id = match existing {
            Some(row) => {
                let id = row.id;
                let mut row = row.into_active_model();
                row.care_unit_id = Set(unit.id);
                row.commission_name = Set(commission.name.clone());
                row.commission_purpose = Set(commission.purpose.clone());
                row.commission_right = Set(commission.right.clone());
                row.valid_to = Set(None);
                row.update(&txn).await.map_err(unavailable)?;
                id
            }
            None => {
                staff_assignment::ActiveModel {
                    staff_hsa_identity_id: Set(identity.id),
                    care_unit_id: Set(unit.id),
                    commission_hsa_id: Set(commission.hsa_id.clone()),
                    commission_name: Set(commission.name.clone()),
                    commission_purpose: Set(commission.purpose.clone()),
                    commission_right: Set(commission.right.clone()),
                    valid_to: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await
                .map_err(unavailable)?
                .id
            }
        };
        offered.push(id);
    }
    txn.commit().await.map_err(unavailable)?;
    if offered.is_empty() {
        return Err(Failure::NoUnit);
    }
    Ok((identity.staff_person_id, offered))
}

fn unavailable(err: DbErr) -> Failure {
    tracing::error!(error = %err, "staff sign-in: database error");
    Failure::Unavailable
}

/// The assignments of a pending staff login, for the picker.
pub async fn choices(
    db: &impl ConnectionTrait,
    pending: &Pending,
) -> Result<Option<Choices>, DbErr> {
    let Some(person) = staff_person::Entity::find_by_id(pending.staff_person_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let hsa_id = staff_hsa_identity::Entity::find()
        .filter(staff_hsa_identity::Column::StaffPersonId.eq(person.id))
        .order_by_asc(staff_hsa_identity::Column::Id)
        .one(db)
        .await?
        .map(|i| i.hsa_id)
        .unwrap_or_default();
    let mut assignments = Vec::new();
    for id in &pending.offered {
        let Some((assignment, unit, provider)) = assignment_at(db, *id).await? else {
            continue;
        };
        assignments.push(Choice {
            id: assignment.id,
            for_care: assignment.commission_purpose == CARE_PURPOSE && unit.active,
            commission_name: assignment.commission_name,
            purpose: assignment.commission_purpose,
            care_unit: unit.name,
            care_provider: provider.name,
        });
    }
    Ok(Some(Choices {
        name: format!("{} {}", person.given_name, person.family_name),
        hsa_id,
        assignments,
    }))
}

async fn assignment_at(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<
    Option<(
        staff_assignment::Model,
        care_unit::Model,
        care_provider::Model,
    )>,
    DbErr,
> {
    let Some(assignment) = staff_assignment::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let Some(unit) = care_unit::Entity::find_by_id(assignment.care_unit_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(provider) = care_provider::Entity::find_by_id(unit.care_provider_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((assignment, unit, provider)))
}

/// The assignment a staff member picked, if it may open a session, and the page to land on.
///
/// Only an assignment that was offered in this login counts. One whose purpose is care and
/// treatment opens a session (what it opens is decided by the roles granted in Lotsen). Any
/// other purpose opens one only for a person who holds an administrative role there (access
/// or care-provider administrator, auditor, producer, publisher, operator); it never opens
/// patient data.
pub async fn choose(
    db: &impl ConnectionTrait,
    pending: &Pending,
    chosen: i64,
) -> Result<(i64, &'static str), Failure> {
    if !pending.offered.contains(&chosen) {
        return Err(Failure::Stale);
    }
    let Some((assignment, unit, _)) = assignment_at(db, chosen).await.map_err(unavailable)? else {
        return Err(Failure::Stale);
    };
    let grants = staff_role::Entity::find()
        .filter(staff_role::Column::StaffPersonId.eq(pending.staff_person_id))
        .filter(staff_role::Column::RevokedAt.is_null())
        .filter(staff_role::Column::CareProviderId.eq(unit.care_provider_id))
        .filter(
            Condition::any()
                .add(staff_role::Column::CareUnitId.eq(unit.id))
                .add(staff_role::Column::CareUnitId.is_null()),
        )
        .all(db)
        .await
        .map_err(unavailable)?;
    let roles: Vec<Role> = grants.iter().map(|g| g.role).collect();
    let for_care = assignment.commission_purpose == CARE_PURPOSE && unit.active;
    if !for_care && !roles.iter().any(|r| !r.is_clinical()) {
        return Err(Failure::Purpose);
    }
    Ok((assignment.id, home_for(&roles, for_care)))
}

/// Where a staff member lands after choosing an assignment.
fn home_for(roles: &[Role], for_care: bool) -> &'static str {
    if for_care && roles.iter().any(|r| r.is_clinical()) {
        "/mottagning"
    } else if roles.contains(&Role::AccessAdministrator) {
        "/behorigheter"
    } else if roles.contains(&Role::CareProviderAdministrator) {
        "/vardgivare"
    } else if roles.contains(&Role::Auditor) {
        "/granskning"
    } else if roles.contains(&Role::Producer) || roles.contains(&Role::Publisher) {
        "/program"
    } else {
        "/konto"
    }
}
