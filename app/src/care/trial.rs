//! Testing a program as a patient: a producer or publisher walks a draft or a version in a test
//! enrolment of their own, through the patient's pages, without ever holding a patient session.
//!
//! - The test enrolment is an ordinary enrolment row marked `test_by_staff_id`, at the unit of
//!   the tester's assignment, of a test patient who belongs to the tester (personal identity
//!   number `T` and the staff id: no real number can equal it, so no sign-in, look-up or
//!   enrolment of a real person ever finds it). It has no care team: from the therapist's side
//!   (`/testa/behandlare`, [`crate::auth::gate::test_as_therapist`]) the tester is its
//!   therapist, and gives feedback, opens or hides modules and asks for extra forms with the
//!   therapist's own server functions, which reach only the test enrolment for them.
//! - The tester's own session is bound to it ([`crate::auth::TestBinding`]): while bound, the
//!   session reaches that one enrolment as a patient reaches their own, checked again on every
//!   request (their own enrolment, at their assignment's unit, while they hold a program role).
//! - It is kept out of everything that is care: the care team's lists and records, flags on
//!   dashboards, the due-form sweep and every notification (the test patient has no contact
//!   details, and the contact functions refuse a test principal), catalogue upgrades and the
//!   public figures. Its flags are raised as for a patient, on the test enrolment only.
//! - A reset deletes the test enrolment with everything recorded in it and starts a new one on
//!   the same version; ending the test unbinds the session.

use crate::auth::{Principal, Role, session};
use crate::db::entities::{enrolment, patient, program_version};
use crate::error::{AppError, invalid};
use crate::programs::version::VersionNumber;
use crate::programs::{Program, store};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// What the form names the draft by (versions by their number, `1.0`).
pub const DRAFT: &str = "utkast";

/// The tester: staff holding a program role in their chosen assignment.
fn tester(principal: &Principal) -> Result<(i64, i64), AppError> {
    let staff = principal.staff().ok_or(AppError::Forbidden)?;
    let assignment = staff.assignment.as_ref().ok_or(AppError::Forbidden)?;
    if !staff
        .roles
        .iter()
        .any(|r| matches!(r, Role::Producer | Role::Publisher))
    {
        return Err(AppError::Forbidden);
    }
    Ok((staff.staff_person_id, assignment.care_unit_id))
}

/// The personal identity number of a staff member's test patient.
fn test_number(staff_id: i64) -> String {
    format!("T{staff_id:011}")
}

/// The version row to test: the program's draft (the latest version when there is no draft),
/// or one of its versions by number.
async fn version_row(
    db: &DatabaseConnection,
    program_id: i64,
    which: &str,
) -> Result<program_version::Model, AppError> {
    let rows = program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .all(db)
        .await?;
    let found = if which == DRAFT {
        // Without a draft, the editor shows the latest version as the draft: so does the test.
        let latest = rows
            .iter()
            .filter(|r| r.status != store::DRAFT)
            .max_by_key(|r| (r.major, r.minor))
            .cloned();
        rows.into_iter()
            .find(|r| r.status == store::DRAFT)
            .or(latest)
    } else {
        let number: VersionNumber = crate::catalogue::parse_version(which)
            .ok_or_else(|| invalid("version", "invalid_version"))?;
        rows.into_iter().find(|r| {
            r.status != store::DRAFT && r.major == number.major && r.minor == number.minor
        })
    };
    let row = found.ok_or(AppError::NotFound)?;
    let program: Option<Program> = row
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    match program {
        Some(p) if !p.modules.is_empty() => Ok(row),
        _ => Err(invalid("version", "nothing_to_test")),
    }
}

async fn find_test_patient(
    db: &impl ConnectionTrait,
    number: &str,
    sandbox_id: Option<i64>,
) -> Result<Option<i64>, AppError> {
    Ok(patient::Entity::find()
        .filter(patient::Column::Personnummer.eq(number))
        .all(db)
        .await?
        .into_iter()
        .find(|p| p.sandbox_id == sandbox_id)
        .map(|p| p.id))
}

/// The tester's test patient in this sandbox (or real mode), made the first time (a second
/// start at the same moment finds the one the first made).
async fn test_patient(
    db: &impl ConnectionTrait,
    staff_id: i64,
    sandbox_id: Option<i64>,
) -> Result<i64, AppError> {
    let number = test_number(staff_id);
    if let Some(id) = find_test_patient(db, &number, sandbox_id).await? {
        return Ok(id);
    }
    db.execute(crate::db::statement(
        db,
        "INSERT INTO patient (personnummer, given_name, family_name, notify_by_email, \
         notify_by_sms, locale, sandbox_id, created_at) \
         VALUES ($1, 'Test', 'Patient', FALSE, FALSE, 'sv', $2, $3) ON CONFLICT DO NOTHING",
        vec![number.clone().into(), sandbox_id.into(), Utc::now().into()],
    ))
    .await?;
    find_test_patient(db, &number, sandbox_id)
        .await?
        .ok_or(AppError::Unavailable)
}

/// The tester's test of a version at a unit, if there is one.
async fn find_test(
    db: &impl ConnectionTrait,
    staff_id: i64,
    version_id: i64,
    unit_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(enrolment::Entity::find()
        .filter(enrolment::Column::TestByStaffId.eq(staff_id))
        .filter(enrolment::Column::ProgramVersionId.eq(version_id))
        .filter(enrolment::Column::CareUnitId.eq(unit_id))
        .one(db)
        .await?
        .map(|e| e.id))
}

/// Makes the tester's test of a version at a unit, unless it exists (a start at the same
/// moment made it: one test per version and unit), and returns it.
async fn make_test(
    db: &impl ConnectionTrait,
    staff_id: i64,
    patient_id: i64,
    version_id: i64,
    unit_id: i64,
    sandbox_id: Option<i64>,
) -> Result<i64, AppError> {
    db.execute(crate::db::statement(
        db,
        "INSERT INTO enrolment (patient_id, program_version_id, care_unit_id, state, started_at, \
         sandbox_id, internal_note, test_by_staff_id) \
         VALUES ($1, $2, $3, 'active', $4, $5, '', $6) ON CONFLICT DO NOTHING",
        vec![
            patient_id.into(),
            version_id.into(),
            unit_id.into(),
            Utc::now().into(),
            sandbox_id.into(),
            staff_id.into(),
        ],
    ))
    .await?;
    find_test(db, staff_id, version_id, unit_id)
        .await?
        .ok_or(AppError::Unavailable)
}

/// Starts (or goes back to) the caller's test of a program's draft or version (`which`:
/// [`DRAFT`] or `MAJOR.MINOR`), and binds their session to it. The program must be their care
/// provider's (404 otherwise); a version without modules has nothing to test (422). Returns the
/// test enrolment.
pub async fn start(
    db: &DatabaseConnection,
    principal: &Principal,
    program_id: i64,
    which: &str,
) -> Result<i64, AppError> {
    let (staff_id, unit_id) = tester(principal)?;
    let scope = store::scope(principal)?;
    store::owned(db, scope, program_id)
        .await
        .map_err(|e| match e {
            store::StoreError::NotFound => AppError::NotFound,
            _ => AppError::Unavailable,
        })?;
    let version = version_row(db, program_id, which).await?;
    let txn = crate::db::begin_write(db).await?;
    let patient_id = test_patient(&txn, staff_id, scope.sandbox_id).await?;
    let enrolment_id = match find_test(&txn, staff_id, version.id, unit_id).await? {
        Some(id) => id,
        None => {
            make_test(
                &txn,
                staff_id,
                patient_id,
                version.id,
                unit_id,
                scope.sandbox_id,
            )
            .await?
        }
    };
    session::bind_test(&txn, principal.session_id, Some(enrolment_id)).await?;
    txn.commit().await?;
    Ok(enrolment_id)
}

/// The caller's test enrolment, as their binding names it.
async fn bound(
    db: &impl ConnectionTrait,
    principal: &Principal,
) -> Result<enrolment::Model, AppError> {
    let (staff_id, _) = tester(principal)?;
    let test = principal.test.ok_or(AppError::Forbidden)?;
    enrolment::Entity::find_by_id(test.enrolment_id)
        .filter(enrolment::Column::TestByStaffId.eq(staff_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Starts the caller's test over: deletes the test enrolment with all it recorded (pages seen,
/// answers, homework, messages, flags, due forms) and binds the session to a new one on the same
/// version. Returns the new test enrolment.
pub async fn reset(db: &DatabaseConnection, principal: &Principal) -> Result<i64, AppError> {
    let (staff_id, _) = tester(principal)?;
    let txn = crate::db::begin_write(db).await?;
    let old = bound(&txn, principal).await?;
    let deleted = enrolment::Entity::delete_by_id(old.id)
        .filter(enrolment::Column::TestByStaffId.eq(staff_id))
        .exec(&txn)
        .await?;
    // Another reset of the same test got there first.
    if deleted.rows_affected != 1 {
        return Err(AppError::Conflict);
    }
    let enrolment_id = make_test(
        &txn,
        staff_id,
        old.patient_id,
        old.program_version_id,
        old.care_unit_id,
        old.sandbox_id,
    )
    .await?;
    session::bind_test(&txn, principal.session_id, Some(enrolment_id)).await?;
    txn.commit().await?;
    Ok(enrolment_id)
}

/// Ends the caller's test: the session is theirs alone again. Returns the program tested, to go
/// back to (`None` when no test was going on).
pub async fn stop(db: &DatabaseConnection, principal: &Principal) -> Result<Option<i64>, AppError> {
    let program = match principal.test {
        Some(_) => match bound(db, principal).await {
            Ok(e) => program_version::Entity::find_by_id(e.program_version_id)
                .one(db)
                .await?
                .map(|v| v.program_id),
            Err(_) => None,
        },
        None => None,
    };
    // Always cleared: a binding that no longer holds (a program role taken away) must not come
    // back with the role.
    session::bind_test(db, principal.session_id, None).await?;
    Ok(program)
}

/// Deletes every test of a program's draft, before the draft itself is discarded (a program
/// whose import failed).
pub async fn forget_draft(
    db: &impl ConnectionTrait,
    program_id: i64,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ActiveEnum;
    db.execute(crate::db::statement(
        db,
        "DELETE FROM enrolment WHERE test_by_staff_id IS NOT NULL AND program_version_id IN \
         (SELECT id FROM program_version WHERE program_id = $1 AND status = $2)",
        vec![program_id.into(), store::DRAFT.to_value().into()],
    ))
    .await?;
    Ok(())
}
