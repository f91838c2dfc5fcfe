//! The authorization gate. Every server function starts with [`enter`] (or [`public`]) under
//! its endpoint name, on every path: called from the browser through `/api/…` (where the
//! router checks the same table first) or directly while the server renders a page.
//!
//! Refusals carry a status: 401 when nobody is signed in, 403 when the caller may not, and 404
//! when the object belongs to another tenant (its existence is not revealed).

use super::Principal;
use super::policy::{Requirement, requirement};
use crate::audit::{self, Action, Entry, Outcome};
use crate::db::entities::{care_unit, enrolment, patient};
use crate::error::AppError;
use http::StatusCode;
use leptos::prelude::use_context;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

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
    let units: Vec<i64> = enrolment::Entity::find()
        .filter(enrolment::Column::PatientId.eq(patient_id))
        .filter(enrolment::Column::State.is_in(["active", "maintenance"]))
        .select_only()
        .column(enrolment::Column::CareUnitId)
        .into_tuple()
        .all(db)
        .await?;
    let outcome = if units.contains(&assignment.care_unit_id) {
        Outcome::Allowed
    } else {
        let same_provider = care_unit::Entity::find()
            .filter(care_unit::Column::Id.is_in(units))
            .filter(care_unit::Column::CareProviderId.eq(assignment.care_provider_id))
            .one(db)
            .await?
            .is_some();
        if !same_provider {
            return Err(refuse(AppError::NotFound));
        }
        Outcome::Refused
    };
    audit::append(
        db,
        staff_entry(principal, Some(patient_id), action, object_type, outcome),
    )
    .await?;
    match outcome {
        Outcome::Allowed => Ok(PatientAccess { patient }),
        Outcome::Refused => Err(refuse(AppError::Forbidden)),
    }
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
