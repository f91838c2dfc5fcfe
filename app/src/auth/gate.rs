//! The authorization gate. Every server function starts with [`enter`] (or [`public`]) under
//! its endpoint name, on every path: called from the browser through `/api/…` (where the
//! router checks the same table first) or directly while the server renders a page.
//!
//! Refusals carry a status: 401 when nobody is signed in, 403 when the caller may not, and 404
//! when the object belongs to another tenant (its existence is not revealed).

use super::Principal;
use super::policy::{Requirement, requirement};
use crate::audit::{self, Action, Entry, Outcome};
use crate::db::entities::{access_log, care_unit, enrolment, patient};
use crate::error::AppError;
use http::StatusCode;
use leptos::prelude::use_context;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The caller of this request, as the session middleware found them.
pub fn principal() -> Option<Principal> {
    let parts = use_context::<http::request::Parts>()?;
    parts.extensions.get::<Principal>().cloned()
}

/// Sets the response status for a refusal and returns the error.
pub fn refuse(error: AppError) -> AppError {
    let status = match error {
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unavailable | AppError::Request => StatusCode::SERVICE_UNAVAILABLE,
    };
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    error
}

/// Whether `principal` meets `requirement` (no object involved yet).
pub fn check(requirement: Requirement, principal: Option<&Principal>) -> Result<(), AppError> {
    let signed_in = || principal.ok_or(AppError::Unauthenticated);
    match requirement {
        Requirement::Public => Ok(()),
        Requirement::SignedIn => signed_in().map(|_| ()),
        Requirement::Patient => match signed_in()?.patient_id() {
            Some(_) => Ok(()),
            None => Err(AppError::Forbidden),
        },
        Requirement::Clinical => {
            let staff = signed_in()?.staff().ok_or(AppError::Forbidden)?;
            let for_care = staff.assignment.as_ref().is_some_and(|a| a.for_care);
            if for_care && staff.roles.iter().any(|r| r.is_clinical()) {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
        Requirement::Role(role) => {
            if signed_in()?.has_role(role) {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
        Requirement::AnyRole(roles) => {
            let principal = signed_in()?;
            if roles.iter().any(|role| principal.has_role(*role)) {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
    }
}

/// The first line of every non-public server function.
pub fn enter(endpoint: &str) -> Result<Principal, AppError> {
    let Some(requirement) = requirement(endpoint) else {
        tracing::error!(endpoint, "server function without a policy row");
        return Err(refuse(AppError::NotFound));
    };
    let principal = principal();
    check(requirement, principal.as_ref()).map_err(refuse)?;
    principal.ok_or_else(|| refuse(AppError::Unauthenticated))
}

/// The first line of a public server function.
pub fn public(endpoint: &str) -> Result<Option<Principal>, AppError> {
    match requirement(endpoint) {
        Some(Requirement::Public) => Ok(principal()),
        _ => {
            tracing::error!(endpoint, "public server function not marked public");
            Err(refuse(AppError::NotFound))
        }
    }
}

/// A patient record reached by staff: the patient and the access-log fields of the caller.
#[derive(Debug, Clone)]
pub struct PatientAccess {
    pub patient: patient::Model,
}

/// The object check for staff reaching a patient's data, and its access-log row.
///
/// - The patient has an ongoing enrolment at the caller's unit: allowed, logged.
/// - The patient is cared for elsewhere at the same care provider: refused (403), logged.
/// - Otherwise (another care provider or region, another sandbox, or no such patient): 404.
pub async fn patient_for_staff(
    db: &DatabaseConnection,
    principal: &Principal,
    patient_id: i64,
    action: Action,
    object_type: &'static str,
) -> Result<PatientAccess, AppError> {
    let staff = principal
        .staff()
        .ok_or_else(|| refuse(AppError::Forbidden))?;
    let assignment = staff
        .assignment
        .as_ref()
        .ok_or_else(|| refuse(AppError::Forbidden))?;
    let found = patient::Entity::find_by_id(patient_id).one(db).await?;
    let Some(patient) = found.filter(|p| p.sandbox_id == principal.sandbox_id) else {
        return Err(refuse(AppError::NotFound));
    };
    let relation = care_relation(db, patient_id, assignment).await?;
    let mut entry = staff_entry(
        principal,
        Some(patient_id),
        action,
        object_type,
        Outcome::Allowed,
    );
    match relation {
        CareRelation::ThisUnit => {}
        CareRelation::None => return Err(refuse(AppError::NotFound)),
        CareRelation::SameProvider => match emergency_grant(db, principal, patient_id).await? {
            Some(reason) => {
                entry.action = Action::EmergencyRead;
                entry.reason = Some(reason);
                entry.needs_follow_up = true;
            }
            None => entry.outcome = Outcome::Refused,
        },
    }
    let outcome = entry.outcome;
    audit::append(db, entry).await?;
    match outcome {
        Outcome::Allowed => Ok(PatientAccess { patient }),
        Outcome::Refused => Err(refuse(AppError::Forbidden)),
    }
}

/// Where a patient of the caller's tenant is cared for, seen from the caller's assignment.
enum CareRelation {
    /// An ongoing enrolment at the assignment's unit.
    ThisUnit,
    /// Ongoing care elsewhere at the same care provider.
    SameProvider,
    /// No ongoing care at this care provider.
    None,
}

async fn care_relation(
    db: &DatabaseConnection,
    patient_id: i64,
    assignment: &super::Assignment,
) -> Result<CareRelation, AppError> {
    let units: Vec<i64> = enrolment::Entity::find()
        .filter(enrolment::Column::PatientId.eq(patient_id))
        .filter(enrolment::Column::State.is_in(["active", "maintenance"]))
        .select_only()
        .column(enrolment::Column::CareUnitId)
        .into_tuple()
        .all(db)
        .await?;
    if units.contains(&assignment.care_unit_id) {
        return Ok(CareRelation::ThisUnit);
    }
    let same_provider = care_unit::Entity::find()
        .filter(care_unit::Column::Id.is_in(units))
        .filter(care_unit::Column::CareProviderId.eq(assignment.care_provider_id))
        .one(db)
        .await?
        .is_some();
    Ok(if same_provider {
        CareRelation::SameProvider
    } else {
        CareRelation::None
    })
}

/// An access-log row for the signed-in staff member in their chosen assignment.
pub fn staff_entry(
    principal: &Principal,
    patient_id: Option<i64>,
    action: Action,
    object_type: &'static str,
    outcome: Outcome,
) -> Entry {
    let staff = principal.staff();
    let assignment = staff.and_then(|s| s.assignment.as_ref());
    Entry {
        user_hsa_id: staff.map(|s| s.hsa_id.clone()).unwrap_or_default(),
        assignment_hsa_id: assignment.map(|a| a.commission_hsa_id.clone()),
        care_unit_hsa_id: assignment.map(|a| a.care_unit_hsa_id.clone()),
        care_provider_org_number: assignment.map(|a| a.care_provider_org_number.clone()),
        patient_id,
        action,
        object_type,
        object_id: patient_id,
        outcome,
        reason: None,
        needs_follow_up: false,
        sandbox_id: principal.sandbox_id,
    }
}

/// How long an emergency access, once stated, keeps the record open for its user.
pub const EMERGENCY_ACCESS_MINUTES: i64 = 30;

/// The reason of this user's emergency access to the patient in the last 30 minutes, if any.
/// The access log itself is the record of the grant.
async fn emergency_grant(
    db: &DatabaseConnection,
    principal: &Principal,
    patient_id: i64,
) -> Result<Option<String>, AppError> {
    let Some(staff) = principal.staff() else {
        return Ok(None);
    };
    let since = chrono::Utc::now() - chrono::Duration::minutes(EMERGENCY_ACCESS_MINUTES);
    let sandbox = access_log::Column::SandboxId;
    let reason: Option<Option<String>> = access_log::Entity::find()
        .filter(access_log::Column::UserHsaId.eq(staff.hsa_id.clone()))
        .filter(access_log::Column::PatientId.eq(patient_id))
        .filter(access_log::Column::Action.eq(Action::EmergencyRead.as_str()))
        .filter(access_log::Column::Outcome.eq(Outcome::Allowed.as_str()))
        .filter(access_log::Column::OccurredAt.gte(since))
        .filter(match principal.sandbox_id {
            Some(id) => sandbox.eq(id),
            None => sandbox.is_null(),
        })
        .order_by_desc(access_log::Column::Id)
        .select_only()
        .column(access_log::Column::Reason)
        .into_tuple()
        .one(db)
        .await?;
    Ok(reason.flatten())
}

/// Emergency access (Patient Data Act 4 ch. 4 §): a staff member outside the care relationship
/// opens a patient's record at the same care provider, where their unit allows it, stating a
/// reason. Logged with the reason and flagged for the auditor's follow-up; the record stays
/// open to them for 30 minutes, every read logged the same way.
pub async fn grant_emergency_access(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    patient_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    check(Requirement::Clinical, principal)?;
    let principal = principal.ok_or(AppError::Unauthenticated)?;
    let reason = reason.trim();
    let length = reason.chars().count();
    if !(10..=1000).contains(&length) {
        return Err(AppError::Invalid {
            field: "reason".to_owned(),
            reason: "length_10_to_1000".to_owned(),
        });
    }
    let assignment = principal
        .staff()
        .and_then(|s| s.assignment.as_ref())
        .ok_or(AppError::Forbidden)?;
    let found = patient::Entity::find_by_id(patient_id).one(db).await?;
    if found
        .filter(|p| p.sandbox_id == principal.sandbox_id)
        .is_none()
    {
        return Err(AppError::NotFound);
    }
    let at_provider = !matches!(
        care_relation(db, patient_id, assignment).await?,
        CareRelation::None
    );
    if !at_provider {
        return Err(AppError::NotFound);
    }
    let allowed = care_unit::Entity::find_by_id(assignment.care_unit_id)
        .one(db)
        .await?
        .is_some_and(|u| u.allows_emergency_access);
    let mut entry = staff_entry(
        principal,
        Some(patient_id),
        Action::EmergencyRead,
        "patient_record",
        if allowed {
            Outcome::Allowed
        } else {
            Outcome::Refused
        },
    );
    entry.reason = Some(reason.to_owned());
    entry.needs_follow_up = true;
    audit::append(db, entry).await?;
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
