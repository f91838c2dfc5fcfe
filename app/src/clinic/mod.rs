//! The therapist's side: the patients of the unit in the chosen assignment, and one patient's
//! record. Every patient shown is written to the access log.

pub mod arrange;
mod components;
#[cfg(feature = "ssr")]
pub mod enrol;
#[cfg(feature = "ssr")]
mod flagging;
#[cfg(feature = "ssr")]
mod handover;
#[cfg(feature = "ssr")]
mod notes;
#[cfg(feature = "ssr")]
mod queries;
pub mod summary;
#[cfg(feature = "ssr")]
mod team;
#[cfg(feature = "ssr")]
pub mod together;

pub use components::{ClinicHome, PatientRecordPage};
pub use summary::RecordSummaryPage;

use crate::error::AppError;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPatient {
    pub patient_id: i64,
    pub name: String,
    pub personnummer: String,
    pub program: String,
    pub state: crate::domain::EnrolmentState,
}

/// The therapist's dashboard: the unit's patients in ongoing treatment, most in need first,
/// and the open flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub patients: Vec<DashboardPatient>,
    pub flags: Vec<OpenFlag>,
    /// The newest care event the dashboard reflects: its live stream starts after it.
    pub live_after: i64,
    /// Whether the caller may acknowledge and resolve flags (a therapist of the unit).
    pub handles_flags: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardPatient {
    pub patient_id: i64,
    pub enrolment_id: i64,
    pub name: String,
    /// What the list is ordered by when ordered by name (empty until the e-ID gave one).
    pub family_name: String,
    pub personnummer: String,
    pub program: String,
    /// The title of the module the patient opened a page of last (none before the first).
    pub module: Option<String>,
    pub state: crate::domain::EnrolmentState,
    pub urgent_flags: i64,
    pub other_flags: i64,
    /// The patient's messages that nobody of the care team has read.
    pub unread: i64,
    /// Modules whose worksheets are submitted and have no feedback yet.
    pub awaiting_feedback: i64,
    /// The patient's last answer, first view of a page, message or homework sent (what makes
    /// a care event), Swedish time.
    pub last_activity: Option<String>,
    /// The responsible therapist's name, if one is set.
    pub therapist: Option<String>,
    /// Each scale the patient answered in this treatment: the latest total and its change.
    pub scores: Vec<ScoreChange>,
}

/// A scale's latest total in one treatment, its band, and how it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreChange {
    /// The questionnaire's title in the program.
    pub title: String,
    pub total: i32,
    pub band: Option<String>,
    /// The latest total minus the first (`None` when answered once).
    pub from_first: Option<i32>,
    /// The latest total minus the one before it (`None` when answered once).
    pub from_previous: Option<i32>,
    /// The scale's meaningful change, where one is published (higher is worse).
    pub meaningful: Option<i32>,
}

impl ScoreChange {
    /// Whether a change is at least the scale's meaningful change.
    pub fn is_meaningful(&self, change: i32) -> bool {
        self.meaningful.is_some_and(|m| change.abs() >= m)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFlag {
    pub flag_id: i64,
    pub enrolment_id: i64,
    pub patient_id: i64,
    pub patient: String,
    pub priority: crate::domain::FlagPriority,
    /// The alert rule's code (or another reason's).
    pub reason: String,
    /// The questionnaire whose answer raised it.
    pub questionnaire: Option<String>,
    /// Swedish time.
    pub raised_at: String,
    /// A flag raised by hand: who raised it, and their note.
    pub raised_by: Option<String>,
    pub note: Option<String>,
    pub acknowledged: Option<Acknowledged>,
    /// When it was escalated to the unit's patient administrators, not acknowledged in time
    /// (Swedish time).
    pub escalated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    pub by: String,
    pub at: String,
}

/// The dashboard of the caller's unit, or (`mine`) of the treatments whose care team the
/// caller is on. The access log gets a row for each patient shown when the session first has
/// the unit's dashboard, and after that (a live refresh, a reload) one for each patient whose
/// care changed since the dashboard it had (see `crate::live`): only those shown.
#[endpoint("dashboard")]
pub async fn unit_dashboard(#[server(default)] mine: bool) -> Result<Dashboard, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    let listed = match principal.staff() {
        Some(staff) if mine => unit.of_team(staff.staff_person_id),
        _ => unit,
    };
    // Read before the rows: the stream starts after it, so a change committed later makes
    // the browser fetch the dashboard again.
    let live_after = crate::live::latest_in_unit(&db, &unit).await?;
    // Read after this request came (shared with the requests that wait with it).
    let rows = together::dashboard_rows(&db, &listed).await?;
    let (patients, mut flags) = std::sync::Arc::unwrap_or_clone(rows);
    // A manual flag's note is clinical text for the unit's therapists, as internal notes are:
    // a patient administrator sees the flag, its reason and who raised it, not the note. (The
    // rows are shared by the requests of one unit, whatever their roles: taken out here.)
    let therapist = principal.has_role(crate::auth::Role::Therapist);
    if !therapist {
        for flag in &mut flags {
            flag.note = None;
        }
    }
    let shown: std::collections::BTreeSet<i64> = patients
        .iter()
        .map(|p| p.patient_id)
        .chain(flags.iter().map(|f| f.patient_id))
        .collect();
    // Logged: whoever shown this session has not had logged, and whoever's care changed since
    // (read after the rows, so every change the rows may hold is counted).
    let seen = crate::live::seen(&principal.session_tag, unit.unit_id());
    let (changed, newest) = crate::live::changed_in_unit(&db, &unit, seen.event).await?;
    let logged: std::collections::BTreeSet<i64> = shown
        .iter()
        .copied()
        .filter(|id| !seen.logged.contains(id))
        .chain(
            patients
                .iter()
                .filter(|p| changed.contains(&p.enrolment_id))
                .map(|p| p.patient_id),
        )
        .collect();
    let entries = crate::auth::gate::staff_entries(
        &principal,
        logged,
        crate::access_log::Action::List,
        "dashboard",
    );
    crate::access_log::append_shared(&db, entries).await?;
    let mut remembered = seen.logged;
    remembered.extend(shown);
    crate::live::mark_seen(
        &principal.session_tag,
        unit.unit_id(),
        newest.max(live_after),
        remembered,
    );
    Ok(Dashboard {
        patients,
        flags,
        live_after,
        handles_flags: therapist,
    })
}

/// Acknowledges an open flag of the caller's unit: someone is on it. Acknowledging one that
/// is already acknowledged changes nothing; a resolved one answers 409.
#[endpoint]
pub async fn acknowledge_flag(flag_id: i64) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    handle_flag(&db, &principal, &unit, flag_id, None).await
}

/// Resolves a flag of the caller's unit with a comment on how it was handled (logged, kept
/// with the flag). A resolved flag answers 409.
#[endpoint]
pub async fn resolve_flag(flag_id: i64, comment: String) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    let comment = crate::messages::text::clean_field(&comment, "comment", "comment_empty")?;
    handle_flag(&db, &principal, &unit, flag_id, Some(&comment)).await
}

/// Acknowledges (`comment` `None`) or resolves a flag, with its care event and access-log row,
/// in one transaction.
#[cfg(feature = "ssr")]
async fn handle_flag(
    db: &sea_orm::DatabaseConnection,
    principal: &crate::auth::Principal,
    unit: &crate::auth::scope::UnitCare,
    flag_id: i64,
    comment: Option<&str>,
) -> Result<(), AppError> {
    let staff_person_id = principal
        .staff()
        .map(|s| s.staff_person_id)
        .ok_or(AppError::Forbidden)?;
    let now = chrono::Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let Some(flag) = queries::unit_flag(&txn, unit, flag_id).await? else {
        txn.rollback().await?;
        return Err(AppError::NotFound);
    };
    if flag.resolved {
        txn.rollback().await?;
        return Err(AppError::Conflict);
    }
    let changed = match comment {
        None => queries::acknowledge_flag(&txn, unit, flag_id, staff_person_id, now).await?,
        Some(comment) => {
            queries::resolve_flag(&txn, unit, flag_id, staff_person_id, comment, now).await?
        }
    };
    if changed {
        let entry = crate::auth::gate::staff_entry(
            principal,
            Some(flag.patient_id),
            crate::access_log::Action::Write,
            if comment.is_some() {
                "flag_resolved"
            } else {
                "flag_acknowledged"
            },
            crate::access_log::Outcome::Allowed,
        );
        crate::access_log::append_all(&txn, vec![entry]).await?;
        // Last: it holds the events' order lock until the commit.
        unit.record_event(&txn, flag.enrolment_id, crate::live::EventKind::Flag, now)
            .await?;
    }
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}

/// A patient's record as staff see it, therapist-internal notes included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRecord {
    pub patient_id: i64,
    pub name: String,
    pub personnummer: String,
    pub enrolments: Vec<RecordEnrolment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordEnrolment {
    pub enrolment_id: i64,
    pub program: String,
    pub care_unit: String,
    pub state: crate::domain::EnrolmentState,
    pub started: String,
    pub internal_note: String,
    /// The thread with the patient, oldest first.
    pub messages: Vec<crate::messages::MessageView>,
    /// A key for the answer form while an answer may be written (ongoing treatment at the
    /// caller's unit).
    pub reply_key: Option<String>,
    /// The modules: progress, homework, feedback.
    pub modules: Vec<crate::care::StaffModule>,
    /// A key for the feedback forms, for a therapist while feedback may be given.
    pub feedback_key: Option<String>,
    /// Swedish days.
    pub maintenance_from: Option<String>,
    pub ended: Option<String>,
    pub end_reason: Option<crate::domain::EndReason>,
    /// Whether the caller may move the treatment on (a therapist on its care team, while it
    /// is going on at the caller's unit).
    pub may_change: bool,
    /// Each scale's totals, for the charts and tables.
    pub results: Vec<crate::care::results::Series>,
    /// The care team; who could join it only when the caller may change it.
    pub team: CareTeam,
    /// Whether the caller may change the care team (the unit's patient administrator, or a
    /// therapist on the team, while the treatment goes on at the caller's unit).
    pub may_manage_team: bool,
    /// Therapist-internal notes, newest first: for therapists only.
    pub notes: Vec<Note>,
    /// Whether the caller may write a note (a therapist on the team, treatment going on).
    pub may_note: bool,
    /// The extra forms asked for, and what the caller may ask for (a therapist on the team).
    pub extra: crate::care::ExtraForms,
    /// Where the caller may hand the treatment over to (empty unless they may).
    pub handover_units: Vec<UnitChoice>,
    /// Where it was handed over to, when it is read at the unit that handed it over.
    pub handed_to: Option<String>,
    /// The caller's staff id, when they may take on the treatment (a therapist of its unit,
    /// and it has no responsible therapist).
    pub take_as: Option<i64>,
}

/// A therapist-internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub author: String,
    /// Swedish time, to the minute.
    pub written_at: String,
    pub body: String,
}

/// A treatment's care team: the responsible therapist first, then the co-therapists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareTeam {
    pub members: Vec<TeamMember>,
    /// The unit's therapists not on the team.
    pub candidates: Vec<TherapistChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub staff_person_id: i64,
    pub name: String,
    pub responsible: bool,
}

/// The patients with an ongoing enrolment at the caller's unit. Each one listed is logged.
#[endpoint]
pub async fn unit_patients() -> Result<Vec<UnitPatient>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    let patients = queries::unit_patients(&db, &unit).await?;
    let entries = crate::auth::gate::staff_entries(
        &principal,
        patients.iter().map(|p| p.patient_id),
        crate::access_log::Action::List,
        "patient_list",
    );
    crate::access_log::append_shared(&db, entries).await?;
    Ok(patients)
}

#[endpoint("patient_record")]
pub async fn get_patient_record(patient_id: i64) -> Result<PatientRecord, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let access = crate::auth::gate::patient_for_staff(
        &db,
        &principal,
        patient_id,
        crate::access_log::Action::Read,
        "patient_record",
    )
    .await?;
    let patient = access.patient();
    let mut enrolments = queries::record_enrolments(&db, &access).await?;
    let staff_person_id = principal
        .staff()
        .map(|s| s.staff_person_id)
        .unwrap_or_default();
    let mut threads = crate::messages::store::record_threads(&db, &access, staff_person_id).await?;
    let mut modules = crate::care::staff_modules(&db, &access, staff_person_id).await?;
    let therapist = principal.has_role(crate::auth::Role::Therapist);
    let reached = access.reached_enrolments(&db).await?;
    // The caller's unit, for who could join a care team (none under emergency access).
    let unit = crate::auth::gate::unit_for_staff(&principal).ok();
    for enrolment in &mut enrolments {
        enrolment.messages = threads.remove(&enrolment.enrolment_id).unwrap_or_default();
        enrolment.modules = modules.remove(&enrolment.enrolment_id).unwrap_or_default();
        let writable = reached.iter().any(|e| {
            crate::auth::scope::EnrolmentScope::id(e) == enrolment.enrolment_id && e.may_write()
        });
        if writable {
            enrolment.reply_key = Some(crate::auth::session::new_token()?);
            if therapist {
                enrolment.feedback_key = Some(crate::auth::session::new_token()?);
            }
        }
        if let Some(scope) = reached
            .iter()
            .find(|e| crate::auth::scope::EnrolmentScope::id(*e) == enrolment.enrolment_id)
        {
            let on_team = scope.on_team(&db, staff_person_id).await?;
            enrolment.may_change = therapist && scope.may_write() && on_team;
            enrolment.may_manage_team = scope.may_write()
                && (principal.has_role(crate::auth::Role::PatientAdministrator)
                    || (therapist && on_team));
            let mut team = match &unit {
                Some(unit) => team::team(&db, unit, scope).await?,
                None => CareTeam::default(),
            };
            if !enrolment.may_manage_team {
                team.candidates.clear();
            } else {
                enrolment.handover_units = handover::targets(&db, scope).await?;
            }
            if unit
                .is_some_and(|u| u.unit_id() != crate::auth::scope::EnrolmentScope::unit_id(scope))
                && !matches!(access.basis(), crate::auth::scope::Basis::Emergency { .. })
            {
                // Handed over from here: read only, at its new unit.
                enrolment.handed_to = Some(enrolment.care_unit.clone());
            }
            enrolment.team = team;
            if therapist && scope.may_write() && scope.responsible_staff_id().is_none() {
                enrolment.take_as = Some(staff_person_id);
            }
            if therapist {
                enrolment.notes = notes::notes(&db, scope).await?;
                enrolment.may_note = scope.may_write() && on_team;
            }
            // A version that cannot be read (logged where it is read) shows no charts or
            // extra forms, not no record; another failure is the record's.
            enrolment.results = match crate::care::staff_results(&db, scope).await {
                Err(AppError::Unavailable) => Vec::new(),
                other => other?,
            };
            enrolment.extra =
                match crate::care::staff_extra_forms(&db, scope, staff_person_id).await {
                    Err(AppError::Unavailable) => crate::care::ExtraForms::default(),
                    other => other?,
                };
            if !therapist {
                enrolment.extra.choices.clear();
            }
        }
    }
    // Therapist-internal notes are the therapists' own: a patient administrator, who starts
    // and oversees treatment, does not read them.
    if !therapist {
        for enrolment in &mut enrolments {
            enrolment.internal_note.clear();
        }
    }
    Ok(PatientRecord {
        patient_id,
        name: format!("{} {}", patient.given_name, patient.family_name),
        personnummer: patient.personnummer.clone(),
        enrolments,
    })
}

/// The summary of one of the patient's treatments for the medical record (read, and logged as
/// a read of the patient's record).
#[endpoint("record_summary")]
pub async fn get_record_summary(
    patient_id: i64,
    enrolment: i64,
) -> Result<summary::RecordSummary, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let access = crate::auth::gate::patient_for_staff(
        &db,
        &principal,
        patient_id,
        crate::access_log::Action::Read,
        "record_summary",
    )
    .await?;
    let enrolment = access
        .enrolment(&db, enrolment)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut summary = crate::care::treatment::summary(&db, &access, &enrolment).await?;
    // As on the dashboard: a manual flag's note is for the unit's therapists. A patient
    // administrator reads who raised it and how it was handled, not the note.
    if !principal.has_role(crate::auth::Role::Therapist) {
        for flag in &mut summary.flags {
            flag.note = None;
        }
    }
    Ok(summary)
}

/// A therapist on the treatment's care team moves it to the maintenance phase (`to` =
/// `maintenance`) or ends it (`to` = `ended`) with one of the fixed reasons. An urgent flag
/// still open stops the ending (422 `urgent_flags_open`).
#[endpoint]
pub async fn change_treatment(
    patient_id: i64,
    enrolment: i64,
    to: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    use crate::care::treatment::Change;
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let change = match to.as_str() {
        "maintenance" => Change::Maintenance,
        "ended" => Change::End(
            crate::domain::EndReason::from_code(&reason)
                .ok_or_else(|| crate::error::invalid("reason", "end_reason_unknown"))?,
        ),
        _ => return Err(crate::error::invalid("to", "unknown_change")),
    };
    let (db, enrolment, me) = crate::auth::gate::treatment_for_staff(
        &principal,
        patient_id,
        enrolment,
        "treatment",
        crate::auth::gate::Changer::Team,
    )
    .await?;
    crate::care::treatment::change(&db, &enrolment, me, change).await
}

/// A therapist on the treatment's care team flags it by hand: a reason from the fixed list
/// (`crate::domain::flag_reason::MANUAL`), a priority and a note. One flag per reason is open
/// at a time (a second is refused); an urgent one tells the rest of the care team at once.
#[endpoint]
pub async fn raise_flag(
    patient_id: i64,
    enrolment: i64,
    reason: String,
    priority: String,
    note: String,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let (priority, note) = flagging::check(&reason, &priority, &note)?;
    let (db, enrolment, me) = crate::auth::gate::treatment_for_staff(
        &principal,
        patient_id,
        enrolment,
        "flag",
        crate::auth::gate::Changer::Team,
    )
    .await?;
    flagging::raise(&db, &enrolment, me, &reason, priority, &note).await
}

/// A therapist on the treatment's care team writes a therapist-internal note (never shown to
/// the patient, nor to a patient administrator).
#[endpoint]
pub async fn add_note(patient_id: i64, enrolment: i64, body: String) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let (db, enrolment, me) = crate::auth::gate::treatment_for_staff(
        &principal,
        patient_id,
        enrolment,
        "internal_note",
        crate::auth::gate::Changer::Team,
    )
    .await?;
    notes::add(&db, &enrolment, me, &body).await
}

/// Changes a treatment's care team (`action`: `responsible`, `add` or `remove`, for the staff
/// member `staff_person_id`): the unit's patient administrator, or a therapist on the team,
/// while the treatment goes on.
#[endpoint]
pub async fn change_care_team(
    patient_id: i64,
    enrolment: i64,
    action: String,
    staff_person_id: i64,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    let change = team::TeamChange::parse(&action, staff_person_id)?;
    // A treatment without a responsible therapist (handed over here) may be taken on by any
    // of the unit's therapists: themselves made responsible, nothing else.
    let claims = principal
        .staff()
        .is_some_and(|s| change == team::TeamChange::Responsible(s.staff_person_id));
    let (db, enrolment, me) = crate::auth::gate::treatment_for_staff(
        &principal,
        patient_id,
        enrolment,
        "care_team",
        crate::auth::gate::Changer::TeamAdministratorOrClaim { claims },
    )
    .await?;
    // The responsible therapist, or the patient administrator, hands the treatment over; a
    // co-therapist who takes it keeps the one it was with on the team.
    let administrator = principal.has_role(crate::auth::Role::PatientAdministrator);
    let keep_previous = !administrator && enrolment.responsible_staff_id() != Some(me);
    team::change(&db, &unit, &enrolment, change, keep_previous).await
}

/// Hands a treatment over to another unit of the care provider where its version is active
/// (the unit's patient administrator or a therapist on the care team, while it goes on here).
/// Logged as a write at this unit and as a handover received at the other.
#[endpoint]
pub async fn hand_over(patient_id: i64, enrolment: i64, unit_id: i64) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let (db, enrolment, me) = crate::auth::gate::treatment_for_staff(
        &principal,
        patient_id,
        enrolment,
        "handover",
        crate::auth::gate::Changer::TeamOrAdministrator,
    )
    .await?;
    // The receiving unit's row: the unit that holds the record now, by the caller, who has
    // no assignment there (their own unit is in their row of the gate).
    let logged = |unit: &UnitChoice| {
        let mut received = crate::auth::gate::staff_entry(
            &principal,
            Some(patient_id),
            crate::access_log::Action::Write,
            "handover_received",
            crate::access_log::Outcome::Allowed,
        );
        received.assignment_hsa_id = None;
        received.care_unit_hsa_id = Some(unit.hsa_id.clone());
        received
    };
    handover::hand_over(&db, &enrolment, unit_id, me, logged).await
}

/// What a patient may be enrolled on at the caller's unit, and who may be responsible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolChoices {
    pub versions: Vec<VersionChoice>,
    pub therapists: Vec<TherapistChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionChoice {
    pub version_id: i64,
    /// `<program> <major>.<minor>`.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TherapistChoice {
    pub staff_person_id: i64,
    pub name: String,
}

/// A unit a treatment may be handed over to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitChoice {
    pub unit_id: i64,
    pub name: String,
    pub hsa_id: String,
}

/// What the enrolment form asks for, checked by `enrol`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrolRequest {
    /// One person a line: `<personal identity number> [given name] [family name]`.
    pub patients: String,
    pub version_id: i64,
    pub responsible_staff_id: i64,
    /// Contact details and consent, for one person enrolled alone; empty when not given.
    pub email: String,
    pub phone: String,
    pub notify_by_email: bool,
    pub notify_by_sms: bool,
}

/// The program versions active at the caller's unit and the unit's therapists, for the
/// enrolment form.
#[endpoint]
pub async fn enrolment_choices() -> Result<EnrolChoices, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    enrol::choices(&db, &unit).await
}

/// Enrols one patient or a group at the caller's unit: all of them, or none and the bad line
/// named. Personal identity numbers come only in the POST body, never in an address. Each
/// enrolment is logged as a write. Returns how many were enrolled.
#[allow(clippy::too_many_arguments)]
#[endpoint]
pub async fn enrol_patients(
    patients: String,
    version_id: i64,
    responsible_staff_id: i64,
    #[server(default)] email: String,
    #[server(default)] phone: String,
    /// A checked box sends `on`.
    #[server(default)]
    notify_by_email: String,
    #[server(default)] notify_by_sms: String,
) -> Result<usize, AppError> {
    let request = EnrolRequest {
        patients,
        version_id,
        responsible_staff_id,
        email,
        phone,
        notify_by_email: !notify_by_email.is_empty(),
        notify_by_sms: !notify_by_sms.is_empty(),
    };
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let unit = crate::auth::gate::unit_for_staff(&principal)?;
    let enrolled = enrol::enrol(&db, &unit, &request).await?;
    let entries = crate::auth::gate::staff_entries(
        &principal,
        enrolled.iter().copied(),
        crate::access_log::Action::Write,
        "enrolment",
    );
    crate::access_log::append_shared(&db, entries).await?;
    Ok(enrolled.len())
}
