//! The authorization gate. Every server function is declared with `#[endpoint]` and starts
//! with `enter(ENDPOINT)` (or `public(ENDPOINT)`), on every path: called from the browser
//! through `/api/…` (where the router checks the same table first) or directly while the server
//! renders a page. `ENDPOINT` is made by the macro from the function itself.
//!
//! Every error of an `#[endpoint]` body carries a status ([`respond`]): 401 when nobody is
//! signed in, 403 when the caller may not, 404 when the object belongs to another tenant (its
//! existence is not revealed), 422 for bad input. [`refuse`] also writes the security log.

use super::Principal;
use super::policy::{Requirement, requirement};
use super::scope::{self, Basis, CareAccess, RECENT_CARE_DAYS, UnitCare};
use crate::access_log::{self, Action, Entry, Outcome};
use crate::db::entities::{care_unit, emergency_grant};
use crate::error::AppError;
use http::StatusCode;
use leptos::prelude::{use_context, with_context};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

/// The caller of this request, as the session middleware found them.
pub fn principal() -> Option<Principal> {
    // Read in place: `use_context` would clone the whole request head, headers and all.
    with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<Principal>().cloned())
        .flatten()
}

/// The gate's name for one server function. Only `#[endpoint]` makes one (as the constant
/// `ENDPOINT` inside the function's body), from the function's own name, so a gate line copied
/// into another function still names the function it stands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint(&'static str);

impl Endpoint {
    #[doc(hidden)]
    pub const fn of_function(name: &'static str) -> Self {
        Self(name)
    }

    pub fn name(self) -> &'static str {
        self.0
    }
}

/// The HTTP status of an error.
pub fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict => StatusCode::CONFLICT,
        AppError::Unavailable | AppError::Request => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Gives this request's response the status of `error`, except for a form posted without
/// JavaScript to a server function: Leptos answers that with a redirect back to the form's page
/// carrying the error (`?__path=…&__err=…`), where `ServerAction` picks it up and the form shows
/// it. A status set here would turn that redirect into a bare error page.
fn set_status(error: &AppError) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let form_post = with_context::<http::request::Parts, _>(|parts| {
        parts.method == http::Method::POST
            && leptos::server_fn::axum::server_fn_paths().any(|(path, _)| path == parts.uri.path())
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
    })
    .unwrap_or(false);
    if !form_post {
        response.set_status(status_of(error));
    }
}

/// Every `#[endpoint]` body's result passes through here: an error sets the response status.
pub async fn respond<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = body.await;
    if let Err(error) = &result {
        set_status(error);
    }
    result
}

/// A refusal: sets the response status and writes the security log's "refused" event.
pub fn refuse(error: AppError) -> AppError {
    set_status(&error);
    if matches!(
        error,
        AppError::Unauthenticated | AppError::Forbidden | AppError::NotFound
    ) {
        let status = status_of(&error);
        let path = with_context::<http::request::Parts, _>(|p| p.uri.path().to_owned())
            .unwrap_or_default();
        super::security::record_here(super::security::Event::Refused, status.as_str(), &path);
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
        Requirement::PatientOrTester => {
            let principal = signed_in()?;
            if principal.patient_id().is_some() || principal.test.is_some() {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
        Requirement::Tester => match signed_in()?.test {
            Some(_) => Ok(()),
            None => Err(AppError::Forbidden),
        },
        Requirement::RoleOrTester(role) => {
            let principal = signed_in()?;
            if principal.test.is_some() || principal.has_role(role) {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
        Requirement::Clinical => {
            let staff = signed_in()?.staff().ok_or(AppError::Forbidden)?;
            let for_care = staff.assignment.as_ref().is_some_and(|a| a.for_care);
            if for_care && staff.roles.iter().any(|r| r.is_clinical()) {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
        Requirement::ClinicalRole(role) => {
            check(Requirement::Clinical, principal)?;
            if signed_in()?.has_role(role) {
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
pub fn enter(endpoint: Endpoint) -> Result<Principal, AppError> {
    let endpoint = endpoint.name();
    let Some(requirement) = requirement(endpoint) else {
        tracing::error!(endpoint, "server function without a policy row");
        return Err(refuse(AppError::NotFound));
    };
    let principal = principal();
    check(requirement, principal.as_ref()).map_err(refuse)?;
    principal.ok_or_else(|| refuse(AppError::Unauthenticated))
}

/// The first line of a public server function.
pub fn public(endpoint: Endpoint) -> Result<Option<Principal>, AppError> {
    let endpoint = endpoint.name();
    match requirement(endpoint) {
        Some(Requirement::Public) => Ok(principal()),
        _ => {
            tracing::error!(endpoint, "public server function not marked public");
            Err(refuse(AppError::NotFound))
        }
    }
}

/// The object check for staff reaching a patient's data, and its access-log row. The answer is
/// the decision itself ([`CareAccess`]): queries of the patient's data take it, and reach no
/// further than it allows.
///
/// - Treatment at the caller's unit, going on or ended (or handed over to another unit) less
///   than [`RECENT_CARE_DAYS`] ago: allowed, logged (read only once ended; a treatment handed
///   over is reached, read only, for that time).
/// - An emergency grant of the caller's assignment for this patient, not yet expired, at a unit
///   that still allows emergency access: allowed, logged with the grant's reason and flagged.
/// - The patient has data elsewhere at the same care provider: refused (403), logged.
/// - Otherwise (another care provider or region, another sandbox, or no such patient): 404.
/// - A write (`Action::Write`) only under ongoing treatment at the caller's unit: otherwise
///   refused (403), logged as a refused write.
pub async fn patient_for_staff(
    db: &DatabaseConnection,
    principal: &Principal,
    patient_id: i64,
    action: Action,
    object_type: &'static str,
) -> Result<CareAccess, AppError> {
    let (entry, access) = decide(db, principal, patient_id, action, object_type).await?;
    access_log::append_shared(db, vec![entry]).await?;
    access.ok_or_else(|| refuse(AppError::Forbidden))
}

/// The decision of [`patient_for_staff`] and its access-log row, not yet written: the access,
/// or `None` when refused (the row says so). A patient not reached at all is 404, with no row.
async fn decide(
    db: &DatabaseConnection,
    principal: &Principal,
    patient_id: i64,
    action: Action,
    object_type: &'static str,
) -> Result<(Entry, Option<CareAccess>), AppError> {
    let assignment = clinical_assignment(principal)?;
    let Some(patient) = scope::patient_in_sandbox(db, patient_id, principal.sandbox_id).await?
    else {
        return Err(refuse(AppError::NotFound));
    };
    let relation = care_relation(db, &patient, assignment, chrono::Utc::now()).await?;
    let mut entry = staff_entry(
        principal,
        Some(patient_id),
        action,
        object_type,
        Outcome::Allowed,
    );
    let basis = match relation {
        CareRelation::ThisUnit { ongoing: true } => Some(Basis::Ongoing),
        CareRelation::ThisUnit { ongoing: false } => Some(Basis::Recent),
        CareRelation::None => return Err(refuse(AppError::NotFound)),
        CareRelation::SameProvider => match emergency_grant(db, assignment, &patient).await? {
            Some(grant) => {
                entry.action = Action::EmergencyRead;
                entry.reason = Some(grant.reason);
                entry.needs_follow_up = true;
                Some(Basis::Emergency { grant_id: grant.id })
            }
            None => {
                entry.outcome = Outcome::Refused;
                None
            }
        },
    };
    // A change needs treatment going on at the caller's unit: ended or handed-over treatment and
    // emergency access are read-only, so a write under them is refused (and logged so).
    let basis = match basis {
        Some(b) if action == Action::Write && b != Basis::Ongoing => {
            refuse_write(&mut entry);
            None
        }
        other => other,
    };
    let Some(basis) = basis else {
        return Ok((entry, None));
    };
    // What this unit handed over to another recently, it still reads (never writes).
    let since = chrono::Utc::now() - chrono::Duration::days(RECENT_CARE_DAYS);
    let handed_over = match basis {
        Basis::Emergency { .. } => Vec::new(),
        _ => scope::handed_over_from(db, &patient, assignment.care_unit_id, since).await?,
    };
    let access = CareAccess::new(
        patient,
        assignment.care_unit_id,
        assignment.care_provider_id,
        basis,
    )
    .with_handed_over(handed_over);
    Ok((entry, Some(access)))
}

/// Turns a row into that of a refused write.
fn refuse_write(entry: &mut Entry) {
    entry.action = Action::Write;
    entry.reason = None;
    entry.needs_follow_up = false;
    entry.outcome = Outcome::Refused;
}

/// The signed-in patient's own enrolment `enrolment_id`, past the endpoint's policy: 403 for
/// anyone but a patient or a test principal, 404 when it is not theirs (or not of their
/// sandbox; for a test principal, anything but their test enrolment).
pub async fn own_enrolment(
    endpoint: Endpoint,
    enrolment_id: i64,
) -> Result<(DatabaseConnection, scope::OwnEnrolment), AppError> {
    let principal = enter(endpoint)?;
    let own = scope::OwnCare::of(&principal).ok_or_else(|| refuse(AppError::Forbidden))?;
    let db = crate::server::db()?;
    let enrolment = own
        .enrolment(&db, enrolment_id)
        .await?
        .ok_or_else(|| refuse(AppError::NotFound))?;
    Ok((db, enrolment))
}

/// The test principal's test enrolment `enrolment_id`, seen from the therapist's side (the
/// producer or publisher testing the program is its therapist): 403 for anyone but a test
/// principal, 404 for any other enrolment. With the tester's staff id. Test data is the
/// tester's own, not a patient's: nothing is written to the access log.
pub async fn test_as_therapist(
    principal: &Principal,
    enrolment_id: i64,
) -> Result<(DatabaseConnection, scope::StaffEnrolment, i64), AppError> {
    let own = scope::OwnCare::of(principal)
        .filter(scope::OwnCare::is_test)
        .ok_or_else(|| refuse(AppError::Forbidden))?;
    let tester = principal
        .staff()
        .ok_or_else(|| refuse(AppError::Forbidden))?
        .staff_person_id;
    let db = crate::server::db()?;
    let enrolment = own
        .test_as_therapist(&db, tester)
        .await?
        .filter(|e| scope::EnrolmentScope::id(e) == enrolment_id)
        .ok_or_else(|| refuse(AppError::NotFound))?;
    Ok((db, enrolment, tester))
}

/// Who, besides the treatment's unit, a change of a treatment needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changer {
    /// A therapist on the treatment's care team.
    Team,
    /// The unit's patient administrator, or a therapist on the care team.
    TeamOrAdministrator,
    /// As [`Changer::TeamOrAdministrator`], or (`claims`: the change makes the caller its
    /// responsible therapist) any of the unit's therapists, while the treatment has no
    /// responsible therapist (it was handed over here).
    TeamAdministratorOrClaim { claims: bool },
}

impl Changer {
    async fn allows(
        self,
        db: &DatabaseConnection,
        principal: &Principal,
        enrolment: &scope::StaffEnrolment,
        me: i64,
    ) -> Result<bool, AppError> {
        let therapist = principal.has_role(super::Role::Therapist);
        let administrator = principal.has_role(super::Role::PatientAdministrator);
        let claim = match self {
            Changer::Team => {
                return Ok(therapist && enrolment.on_team(db, me).await?);
            }
            Changer::TeamOrAdministrator => false,
            Changer::TeamAdministratorOrClaim { claims } => {
                claims && therapist && enrolment.responsible_staff_id().is_none()
            }
        };
        Ok(administrator || claim || (therapist && enrolment.on_team(db, me).await?))
    }
}

/// One treatment a staff member changes: reached through the patient's care relation (as
/// [`patient_for_staff`], a write of `object_type`) and allowed to `who`, or, for a test
/// principal, their own test enrolment ([`test_as_therapist`]: its therapist, so only a
/// [`Changer::Team`] change). With the caller's staff id.
///
/// The access-log row says what the caller was let do: a change that the caller's role or
/// place on the care team does not allow is logged as a refused write (403), as is an
/// enrolment of the patient that the access does not reach (404).
pub async fn treatment_for_staff(
    principal: &Principal,
    patient_id: i64,
    enrolment_id: i64,
    object_type: &'static str,
    who: Changer,
) -> Result<(DatabaseConnection, scope::StaffEnrolment, i64), AppError> {
    if principal.test.is_some() {
        if who != Changer::Team {
            return Err(refuse(AppError::Forbidden));
        }
        return test_as_therapist(principal, enrolment_id).await;
    }
    let db = crate::server::db()?;
    let me = principal
        .staff()
        .ok_or_else(|| refuse(AppError::Forbidden))?
        .staff_person_id;
    let (mut entry, access) =
        decide(&db, principal, patient_id, Action::Write, object_type).await?;
    let decision = match &access {
        None => Err(AppError::Forbidden),
        Some(access) => match access.enrolment(&db, enrolment_id).await? {
            None => Err(AppError::NotFound),
            Some(enrolment) if who.allows(&db, principal, &enrolment, me).await? => Ok(enrolment),
            Some(_) => Err(AppError::Forbidden),
        },
    };
    if decision.is_err() {
        refuse_write(&mut entry);
    }
    access_log::append_shared(&db, vec![entry]).await?;
    decision
        .map(|enrolment| (db, enrolment, me))
        .map_err(refuse)
}

/// The gate's decision for the patient list of the caller's unit.
pub fn unit_for_staff(principal: &Principal) -> Result<UnitCare, AppError> {
    let assignment = clinical_assignment(principal)?;
    Ok(UnitCare::new(assignment.care_unit_id, principal.sandbox_id))
}

/// The assignment of staff working in care: the unit and care provider every decision about
/// patient data is made for.
fn clinical_assignment(principal: &Principal) -> Result<&super::Assignment, AppError> {
    check(Requirement::Clinical, Some(principal)).map_err(refuse)?;
    principal
        .staff()
        .and_then(|s| s.assignment.as_ref())
        .ok_or_else(|| refuse(AppError::Forbidden))
}

/// Where a patient of the caller's tenant is cared for, seen from the caller's assignment.
enum CareRelation {
    /// Treatment at the assignment's unit: going on, or ended recently.
    ThisUnit { ongoing: bool },
    /// The patient has data elsewhere at the same care provider.
    SameProvider,
    /// No data of the patient at this care provider.
    None,
}

async fn care_relation(
    db: &DatabaseConnection,
    patient: &crate::db::entities::patient::Model,
    assignment: &super::Assignment,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CareRelation, AppError> {
    let relations = scope::relations(db, patient).await?;
    let recent_since = now - chrono::Duration::days(RECENT_CARE_DAYS);
    let here = relations
        .iter()
        .filter(|r| r.unit_id == assignment.care_unit_id);
    let mut recent = false;
    for relation in here {
        if relation.ongoing {
            return Ok(CareRelation::ThisUnit { ongoing: true });
        }
        // An ended treatment without an end date is taken as ended long ago.
        recent |= relation.ended_at.is_some_and(|at| at >= recent_since);
    }
    if recent {
        return Ok(CareRelation::ThisUnit { ongoing: false });
    }
    Ok(
        if relations
            .iter()
            .any(|r| r.provider_id == assignment.care_provider_id)
        {
            CareRelation::SameProvider
        } else {
            CareRelation::None
        },
    )
}

/// An allowed access-log row for each of these patients, by the signed-in staff member in
/// their chosen assignment (a list shown, an enrolment made).
pub fn staff_entries(
    principal: &Principal,
    patients: impl IntoIterator<Item = i64>,
    action: Action,
    object_type: &'static str,
) -> Vec<Entry> {
    patients
        .into_iter()
        .map(|patient_id| {
            staff_entry(
                principal,
                Some(patient_id),
                action,
                object_type,
                Outcome::Allowed,
            )
        })
        .collect()
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

/// How long an emergency access, once granted, keeps the record open. Reads under it do not
/// extend it.
pub const EMERGENCY_ACCESS_MINUTES: i64 = 30;

/// This assignment's emergency grant for the patient, if one is still running and the
/// assignment's unit still allows emergency access.
async fn emergency_grant(
    db: &DatabaseConnection,
    assignment: &super::Assignment,
    patient: &crate::db::entities::patient::Model,
) -> Result<Option<emergency_grant::Model>, AppError> {
    if !unit_allows_emergency_access(db, assignment.care_unit_id).await? {
        return Ok(None);
    }
    let sandbox = emergency_grant::Column::SandboxId;
    Ok(emergency_grant::Entity::find()
        .filter(emergency_grant::Column::AssignmentId.eq(assignment.id))
        .filter(emergency_grant::Column::CareUnitId.eq(assignment.care_unit_id))
        .filter(emergency_grant::Column::PatientId.eq(patient.id))
        .filter(emergency_grant::Column::ExpiresAt.gt(chrono::Utc::now()))
        .filter(match patient.sandbox_id {
            Some(id) => sandbox.eq(id),
            None => sandbox.is_null(),
        })
        .order_by_desc(emergency_grant::Column::ExpiresAt)
        .one(db)
        .await?)
}

async fn unit_allows_emergency_access(
    db: &DatabaseConnection,
    unit_id: i64,
) -> Result<bool, AppError> {
    Ok(care_unit::Entity::find_by_id(unit_id)
        .one(db)
        .await?
        .is_some_and(|u| u.active && u.allows_emergency_access))
}

/// Emergency access (Patient Data Act 4 ch. 4 §): a staff member outside the care relationship
/// opens a patient's record at the same care provider, where their unit allows it, stating a
/// reason. The grant is a row of its own, tied to the assignment and unit, ending
/// [`EMERGENCY_ACCESS_MINUTES`] after it was made; it is logged with the reason and flagged for
/// the auditor's follow-up, and so is every read under it.
pub async fn grant_emergency_access(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    patient_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    // A therapist's step, for care that cannot wait: a patient administrator starts and
    // oversees treatment at their unit and opens no record outside the care relation.
    check(Requirement::ClinicalRole(super::Role::Therapist), principal)?;
    let principal = principal.ok_or(AppError::Unauthenticated)?;
    let reason = reason.trim();
    let length = reason.chars().count();
    if !(10..=1000).contains(&length) {
        return Err(AppError::Invalid {
            field: "reason".to_owned(),
            reason: "length_10_to_1000".to_owned(),
        });
    }
    let (staff, assignment) = principal
        .staff()
        .and_then(|s| Some((s, s.assignment.as_ref()?)))
        .ok_or(AppError::Forbidden)?;
    let Some(patient) = scope::patient_in_sandbox(db, patient_id, principal.sandbox_id).await?
    else {
        return Err(AppError::NotFound);
    };
    match care_relation(db, &patient, assignment, chrono::Utc::now()).await? {
        CareRelation::None => return Err(AppError::NotFound),
        // Already open through the care relation: nothing to grant.
        CareRelation::ThisUnit { .. } => return Ok(()),
        CareRelation::SameProvider => {}
    }
    let allowed = unit_allows_emergency_access(db, assignment.care_unit_id).await?;
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
    // Logged first: a grant that could not be logged is never made.
    access_log::append_shared(db, vec![entry]).await?;
    if allowed {
        let now = chrono::Utc::now();
        emergency_grant::ActiveModel {
            staff_person_id: Set(staff.staff_person_id),
            assignment_id: Set(assignment.id),
            care_unit_id: Set(assignment.care_unit_id),
            care_provider_id: Set(assignment.care_provider_id),
            patient_id: Set(patient_id),
            reason: Set(reason.to_owned()),
            granted_at: Set(now),
            expires_at: Set(now + chrono::Duration::minutes(EMERGENCY_ACCESS_MINUTES)),
            sandbox_id: Set(principal.sandbox_id),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
