//! How far a decision of the gate reaches, as values that queries of patient data must take.
//!
//! Patient-data tables are read only through these values: each one adds the predicates of the
//! decision that made it (the patient, the unit or the care provider, the demo sandbox), so no
//! query can reach wider than the access that was allowed and logged. Their fields are private;
//! only the gate makes a [`CareAccess`] or a [`UnitCare`], and an [`OwnCare`] comes only from a
//! patient's own session. `app/tests/all/scoping.rs` fails for any other code that names these
//! tables.
//!
//! The sources are SQL subqueries with the decision's ids written as numbers: the ids are
//! `i64`s, so nothing a user typed ever reaches the SQL text.
//!
//! Test enrolments (a producer walking a program as a patient) are not care: no staff decision
//! reaches them, and a patient's own scope never does; only the test principal bound to one
//! reaches that one ([`OwnCare::of`]).
//!
//! Ended and handed-over treatment: the unit that had it keeps reading the patient's record
//! (never writing to it) for [`RECENT_CARE_DAYS`] days after it ended or was handed over to
//! another unit of the care provider (`enrolment_handover`: the treatment, as it goes on there,
//! is reached by id from the handing unit's decisions), for follow-up and the hand-over; after
//! that, only emergency access opens it.

use crate::db::entities::{enrolment, patient};
use crate::db::statement;
use crate::domain::EnrolmentState;
use sea_orm::{ConnectionTrait, DbErr};

/// How long the unit of an ended or handed-over treatment keeps reading the record.
pub const RECENT_CARE_DAYS: i64 = 90;

use crate::db::filter::{in_sandbox, not_a_test};

/// Why the gate let staff reach a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Treatment going on at the caller's unit.
    Ongoing,
    /// Treatment at the caller's unit ended or was handed over less than
    /// [`RECENT_CARE_DAYS`] ago: read only.
    Recent,
    /// Emergency access under this grant, at the caller's care provider: read only.
    Emergency { grant_id: i64 },
}

/// The gate's decision that a staff member may reach one patient's data: the patient, the unit
/// and care provider of the assignment it was decided for, the sandbox, and why.
#[derive(Debug, Clone)]
pub struct CareAccess {
    patient: patient::Model,
    unit_id: i64,
    provider_id: i64,
    basis: Basis,
    /// The patient's enrolments the caller's unit handed over to another unit less than
    /// [`RECENT_CARE_DAYS`] ago: read only.
    handed_over: Vec<i64>,
}

impl CareAccess {
    pub(super) fn new(
        patient: patient::Model,
        unit_id: i64,
        provider_id: i64,
        basis: Basis,
    ) -> Self {
        Self {
            patient,
            unit_id,
            provider_id,
            basis,
            handed_over: Vec::new(),
        }
    }

    /// The decision reaches these enrolments too, handed over from the caller's unit recently.
    pub(super) fn with_handed_over(mut self, enrolment_ids: Vec<i64>) -> Self {
        self.handed_over = enrolment_ids;
        self
    }

    pub fn patient(&self) -> &patient::Model {
        &self.patient
    }

    pub fn patient_id(&self) -> i64 {
        self.patient.id
    }

    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// Only ongoing treatment at the caller's unit may be changed.
    pub fn may_write(&self) -> bool {
        self.basis == Basis::Ongoing
    }

    /// The patient's enrolments this decision reaches, as an SQL source to select from: those
    /// at the caller's unit and those it handed over to another less than
    /// [`RECENT_CARE_DAYS`] ago (read only: see [`CareAccess::enrolment`]), or, under emergency
    /// access, those at the caller's care provider.
    pub fn enrolments(&self) -> String {
        let reach = match self.basis {
            Basis::Ongoing | Basis::Recent if self.handed_over.is_empty() => {
                format!("care_unit_id = {}", self.unit_id)
            }
            Basis::Ongoing | Basis::Recent => {
                let ids: Vec<String> = self.handed_over.iter().map(i64::to_string).collect();
                format!(
                    "(care_unit_id = {} OR id IN ({}))",
                    self.unit_id,
                    ids.join(", ")
                )
            }
            Basis::Emergency { .. } => format!(
                "care_unit_id IN (SELECT id FROM care_unit WHERE care_provider_id = {})",
                self.provider_id
            ),
        };
        format!(
            "(SELECT * FROM enrolment WHERE patient_id = {} AND {} AND {reach} AND {})",
            self.patient.id,
            in_sandbox("", self.patient.sandbox_id),
            not_a_test(""),
        )
    }
}

impl CareAccess {
    /// The messages of the enrolments this decision reaches, as an SQL source.
    pub fn messages(&self) -> String {
        format!(
            "(SELECT * FROM message WHERE enrolment_id IN (SELECT x.id FROM {} x))",
            self.enrolments()
        )
    }
}

/// Writes a care event for one enrolment of `source` (a decision's SQL source of enrolments):
/// none when the source does not reach it. See [`EnrolmentScope::record_event`].
async fn insert_event(
    db: &impl ConnectionTrait,
    source: &str,
    enrolment_id: i64,
    kind: crate::live::EventKind,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    crate::live::before_event(db).await?;
    db.execute(statement(
        db,
        &format!(
            "INSERT INTO care_event (care_unit_id, sandbox_id, kind, enrolment_id, created_at) \
             SELECT e.care_unit_id, e.sandbox_id, $1, e.id, $2 FROM {source} e WHERE e.id = $3"
        ),
        vec![kind.code().into(), now.into(), enrolment_id.into()],
    ))
    .await?;
    Ok(())
}

impl CareAccess {
    /// Records a care event of an enrolment this decision reaches, in the transaction of the
    /// change (`db`). Call [`crate::live::wake`] once it has committed.
    pub async fn record_event(
        &self,
        db: &impl ConnectionTrait,
        enrolment_id: i64,
        kind: crate::live::EventKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        insert_event(db, &self.enrolments(), enrolment_id, kind, now).await
    }
}

/// The gate's decision that a staff member may list the patients in ongoing treatment at the
/// unit of their assignment.
#[derive(Debug, Clone, Copy)]
pub struct UnitCare {
    unit_id: i64,
    sandbox_id: Option<i64>,
    /// Narrowed to the treatments whose care team this staff member is on.
    team_of: Option<i64>,
}

impl UnitCare {
    pub(super) fn new(unit_id: i64, sandbox_id: Option<i64>) -> Self {
        Self {
            unit_id,
            sandbox_id,
            team_of: None,
        }
    }

    /// The same decision narrowed to the treatments whose care team `staff_person_id` is on
    /// (responsible therapist or co-therapist): a therapist's own caseload.
    pub fn of_team(self, staff_person_id: i64) -> Self {
        Self {
            team_of: Some(staff_person_id),
            ..self
        }
    }

    pub fn unit_id(&self) -> i64 {
        self.unit_id
    }

    /// All that decides what the decision reaches: unit, sandbox, care team.
    pub(crate) fn key(&self) -> (i64, Option<i64>, Option<i64>) {
        (self.unit_id, self.sandbox_id, self.team_of)
    }

    /// The demo sandbox of the caller (and so of the unit), or `None` for real care.
    pub fn sandbox_id(&self) -> Option<i64> {
        self.sandbox_id
    }

    /// The unit's ongoing enrolments (those of one care team's member, if narrowed), as an
    /// SQL source.
    pub fn enrolments(&self) -> String {
        let team = match self.team_of {
            None => String::new(),
            // One set of ids, not `responsible = X OR id IN (…)`: an OR with a subquery can use
            // no index, and PostgreSQL then guesses the caseload ten times too big and plans
            // for it (a scan of every enrolment and every patient).
            Some(staff) => format!(
                " AND id IN (SELECT r.id FROM enrolment r WHERE r.responsible_staff_id = {staff} \
                 UNION ALL \
                 SELECT t.enrolment_id FROM enrolment_therapist t WHERE t.staff_person_id = {staff})"
            ),
        };
        format!(
            "(SELECT * FROM enrolment WHERE care_unit_id = {} AND {} AND {} \
             AND {}{team})",
            self.unit_id,
            in_sandbox("", self.sandbox_id),
            EnrolmentState::ongoing_sql("state"),
            not_a_test(""),
        )
    }

    /// Records a care event of one of the unit's ongoing enrolments, in the transaction of the
    /// change (`db`). Call [`crate::live::wake`] once it has committed.
    pub async fn record_event(
        &self,
        db: &impl ConnectionTrait,
        enrolment_id: i64,
        kind: crate::live::EventKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        insert_event(db, &self.enrolments(), enrolment_id, kind, now).await
    }

    /// `table`'s rows of the unit's ongoing enrolments, as an SQL source.
    fn of_enrolments(&self, table: &str) -> String {
        format!(
            "(SELECT * FROM {table} WHERE enrolment_id IN (SELECT x.id FROM {} x))",
            self.enrolments()
        )
    }

    /// The flags of the unit's ongoing enrolments, open and closed, as an SQL source.
    pub fn flags(&self) -> String {
        self.of_enrolments("flag")
    }

    /// The messages of the unit's ongoing enrolments, as an SQL source.
    pub fn messages(&self) -> String {
        self.of_enrolments("message")
    }

    /// The worksheets and exercise entries of the unit's ongoing enrolments, as an SQL source.
    pub fn homework(&self) -> String {
        self.of_enrolments("homework_entry")
    }

    /// The therapists' feedback on the unit's ongoing enrolments, as an SQL source.
    pub fn feedback(&self) -> String {
        self.of_enrolments("module_feedback")
    }

    /// The questionnaire answers of the unit's ongoing enrolments, as an SQL source.
    pub fn form_responses(&self) -> String {
        self.of_enrolments("form_response")
    }

    /// The pages seen in the unit's ongoing enrolments, as an SQL source.
    pub fn page_visits(&self) -> String {
        self.of_enrolments("page_visit")
    }

    /// The care events of the unit's (and sandbox's) enrolments, as an SQL source: what the
    /// unit's live dashboards hear of. Test enrolments make none.
    pub fn events(&self) -> String {
        format!(
            "(SELECT * FROM care_event WHERE care_unit_id = {} AND {})",
            self.unit_id,
            in_sandbox("", self.sandbox_id)
        )
    }
}

/// A patient's own data, as their own session reaches it; or a test patient's one test
/// enrolment, as the producer or publisher testing it reaches it.
#[derive(Debug, Clone, Copy)]
pub struct OwnCare {
    patient_id: i64,
    sandbox_id: Option<i64>,
    /// A test principal's one enrolment: nothing else of the test patient is reached.
    only: Option<i64>,
}

impl OwnCare {
    /// The signed-in patient's own scope, or a test principal's; `None` for anyone else.
    pub fn of(principal: &super::Principal) -> Option<Self> {
        if let Some(test) = principal.test {
            return Some(Self {
                patient_id: test.patient_id,
                sandbox_id: principal.sandbox_id,
                only: Some(test.enrolment_id),
            });
        }
        principal.patient_id().map(|patient_id| Self {
            patient_id,
            sandbox_id: principal.sandbox_id,
            only: None,
        })
    }

    /// Whether this is a test principal's scope (a program being tested, not care).
    pub fn is_test(&self) -> bool {
        self.only.is_some()
    }

    fn reaches(&self, enrolment: &enrolment::Model) -> bool {
        enrolment.sandbox_id == self.sandbox_id
            && self.only.is_none_or(|only| only == enrolment.id)
            // A patient's own session never reaches a test enrolment, nor a test principal
            // anything but one.
            && enrolment.test_by_staff_id.is_some() == self.only.is_some()
    }

    pub fn patient_id(&self) -> i64 {
        self.patient_id
    }

    pub fn sandbox_id(&self) -> Option<i64> {
        self.sandbox_id
    }

    /// The patient's own enrolments, everywhere, as an SQL source.
    pub fn enrolments(&self) -> String {
        let which = match self.only {
            Some(id) => format!("id = {id} AND test_by_staff_id IS NOT NULL"),
            None => not_a_test(""),
        };
        format!(
            "(SELECT * FROM enrolment WHERE patient_id = {} AND {} AND {which})",
            self.patient_id,
            in_sandbox("", self.sandbox_id)
        )
    }

    /// A test principal's test enrolment seen from the therapist's side: the producer or
    /// publisher testing the program (`tester`) is its therapist, and it may be changed while
    /// it goes on. `None` for a patient's scope, or when the test is not the tester's.
    pub async fn test_as_therapist(
        &self,
        db: &impl ConnectionTrait,
        tester: i64,
    ) -> Result<Option<StaffEnrolment>, DbErr> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let Some(only) = self.only else {
            return Ok(None);
        };
        let found = enrolment::Entity::find_by_id(only)
            .filter(enrolment::Column::PatientId.eq(self.patient_id))
            .filter(enrolment::Column::TestByStaffId.eq(tester))
            .one(db)
            .await?;
        Ok(found.filter(|e| self.reaches(e)).map(|e| StaffEnrolment {
            id: e.id,
            version_id: e.program_version_id,
            unit_id: e.care_unit_id,
            state: e.state,
            may_write: e.state.is_ongoing(),
            responsible_staff_id: Some(tester),
            patient_id: e.patient_id,
            started_at: e.started_at,
        }))
    }

    /// One of the patient's own enrolments, by id: `None` when it is not theirs (or not of
    /// their sandbox), which the caller answers as "not found".
    pub async fn enrolment(
        &self,
        db: &impl ConnectionTrait,
        enrolment_id: i64,
    ) -> Result<Option<OwnEnrolment>, DbErr> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let found = enrolment::Entity::find_by_id(enrolment_id)
            .filter(enrolment::Column::PatientId.eq(self.patient_id))
            .one(db)
            .await?;
        Ok(found
            .filter(|e| self.reaches(e))
            .map(|e| OwnEnrolment { enrolment: e }))
    }

    /// The patient's own person row (contact details and settings): never anyone else's.
    pub async fn person(&self, db: &impl ConnectionTrait) -> Result<Option<patient::Model>, DbErr> {
        patient_in_sandbox(db, self.patient_id, self.sandbox_id).await
    }

    /// Every one of the patient's own enrolments, oldest first.
    pub async fn all_enrolments(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<OwnEnrolment>, DbErr> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let found = enrolment::Entity::find()
            .filter(enrolment::Column::PatientId.eq(self.patient_id))
            .order_by_asc(enrolment::Column::StartedAt)
            .order_by_asc(enrolment::Column::Id)
            .all(db)
            .await?;
        Ok(found
            .into_iter()
            .filter(|e| self.reaches(e))
            .map(|e| OwnEnrolment { enrolment: e })
            .collect())
    }

    /// Whether the patient is enrolled in one of the versions of a program.
    pub async fn enrolled_in_program(
        &self,
        db: &impl ConnectionTrait,
        program_id: i64,
    ) -> Result<bool, DbErr> {
        let row = db
            .query_one(statement(
                db,
                &format!(
                    "SELECT COUNT(*) AS n FROM {} e \
                     JOIN program_version v ON v.id = e.program_version_id \
                     WHERE v.program_id = $1",
                    self.enrolments()
                ),
                vec![program_id.into()],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0)
            > 0)
    }
}

/// Where an enrolment's SQL source names its enrolment: bound by [`EnrolmentScope::statement`].
pub(crate) const ENROLMENT: &str = crate::db::SCOPE_PARAMETER;

/// The care record of one enrolment, as a decision of the gate reaches it: the patient's own
/// ([`OwnEnrolment`]) or staff's at the unit ([`StaffEnrolment`]). Every source it gives is
/// limited to the one enrolment that was reached. Sealed: only this module makes one.
pub trait EnrolmentScope: sealed::Sealed {
    fn id(&self) -> i64;

    /// The program version the patient follows now.
    fn version_id(&self) -> i64;

    fn unit_id(&self) -> i64;

    fn state(&self) -> EnrolmentState;

    /// The patient being treated (to notify them).
    fn patient_id(&self) -> i64;

    /// When treatment started: schedules and `AfterDays` count from its Swedish day.
    fn started_at(&self) -> chrono::DateTime<chrono::Utc>;

    /// The care team: the responsible therapist and the co-therapists (to notify them).
    #[allow(async_fn_in_trait)]
    async fn care_team(&self, db: &impl ConnectionTrait) -> Result<Vec<i64>, DbErr> {
        let rows = db
            .query_all(statement(
                db,
                "SELECT responsible_staff_id AS id FROM enrolment \
                 WHERE id = $1 AND responsible_staff_id IS NOT NULL \
                 UNION SELECT staff_person_id AS id FROM enrolment_therapist \
                 WHERE enrolment_id = $1",
                vec![self.id().into()],
            ))
            .await?;
        rows.iter().map(|r| r.try_get("", "id")).collect()
    }

    /// A statement over this enrolment's SQL sources (the methods below): their placeholder
    /// for the enrolment becomes the parameter after `values`. The text is then the same for
    /// every enrolment, so each connection prepares it once; [`statement`] refuses a source
    /// that was not bound this way.
    fn statement(
        &self,
        db: &impl ConnectionTrait,
        sql: &str,
        mut values: Vec<sea_orm::Value>,
    ) -> sea_orm::Statement {
        values.push(self.id().into());
        let bound = sql.replace(ENROLMENT, &format!("${}", values.len()));
        statement(db, &bound, values)
    }

    /// This enrolment's own row, as an SQL source, without the therapist-internal note (no
    /// patient's scope carries it).
    fn enrolment_row(&self) -> String {
        format!(
            "(SELECT id, patient_id, program_version_id, care_unit_id, responsible_staff_id, \
               state, started_at, ended_at, handed_over_to_unit_id, sandbox_id, \
               test_by_staff_id, maintenance_at, end_reason, ended_by \
             FROM enrolment WHERE id = {ENROLMENT})"
        )
    }

    /// This enrolment's pages seen, as an SQL source.
    fn page_visits(&self) -> String {
        format!("(SELECT * FROM page_visit WHERE enrolment_id = {ENROLMENT})")
    }

    /// This enrolment's messages, as an SQL source.
    fn messages(&self) -> String {
        format!("(SELECT * FROM message WHERE enrolment_id = {ENROLMENT})")
    }

    /// This enrolment's questionnaire answers, drafts and submitted, as an SQL source.
    fn form_responses(&self) -> String {
        format!("(SELECT * FROM form_response WHERE enrolment_id = {ENROLMENT})")
    }

    /// This enrolment's worksheets and exercise entries, drafts and submitted, as an SQL source.
    fn homework(&self) -> String {
        format!("(SELECT * FROM homework_entry WHERE enrolment_id = {ENROLMENT})")
    }

    /// This enrolment's due forms (instances of scheduled questionnaires), as an SQL source.
    fn due_forms(&self) -> String {
        format!("(SELECT * FROM due_form WHERE enrolment_id = {ENROLMENT})")
    }

    /// What the therapist decided about this enrolment's modules (opened early, hidden), as
    /// an SQL source.
    fn module_overrides(&self) -> String {
        format!("(SELECT * FROM module_override WHERE enrolment_id = {ENROLMENT})")
    }

    /// The therapist's feedback on this enrolment's modules, as an SQL source.
    fn feedback(&self) -> String {
        format!("(SELECT * FROM module_feedback WHERE enrolment_id = {ENROLMENT})")
    }

    /// Records that this enrolment changed in a way its unit's dashboards show: a care event,
    /// in the transaction of the change (`db`), of the enrolment's unit and sandbox. A test
    /// enrolment makes none. Call [`crate::live::wake`] once the transaction has committed.
    #[allow(async_fn_in_trait)]
    async fn record_event(
        &self,
        db: &impl ConnectionTrait,
        kind: crate::live::EventKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        let source = format!(
            "(SELECT * FROM enrolment WHERE id = {} AND {})",
            self.id(),
            not_a_test("")
        );
        insert_event(db, &source, self.id(), kind, now).await
    }

    /// Ends the transaction of a change: when something `changed`, records the care event
    /// `kind` (see [`EnrolmentScope::record_event`]), commits and wakes the live readers;
    /// otherwise rolls back. Returns `changed`.
    #[allow(async_fn_in_trait)]
    async fn commit_if(
        &self,
        txn: sea_orm::DatabaseTransaction,
        changed: bool,
        kind: crate::live::EventKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, DbErr> {
        if changed {
            // Last: the event holds the events' order lock until the commit.
            self.record_event(&txn, kind, now).await?;
            txn.commit().await?;
            crate::live::wake();
        } else {
            txn.rollback().await?;
        }
        Ok(changed)
    }

    /// Reads the enrolment's state again in the transaction of a change (`txn`) and holds the
    /// row against a change of state until the commit (PostgreSQL; SQLite's write transaction
    /// holds everything): a treatment ended since it was read refuses the change (422
    /// `treatment_ended`), and an ending at this moment waits for the change. Call it first.
    #[allow(async_fn_in_trait)]
    async fn hold_ongoing(&self, txn: &impl ConnectionTrait) -> Result<(), crate::error::AppError> {
        let row = txn
            .query_one(self.statement(
                txn,
                &format!(
                    "SELECT e.state, e.care_unit_id FROM {} e{}",
                    self.enrolment_row(),
                    crate::db::share_lock(txn)
                ),
                vec![],
            ))
            .await?;
        let Some(row) = row else {
            return Err(crate::error::invalid("enrolment", "treatment_ended"));
        };
        if !row.try_get::<EnrolmentState>("", "state")?.is_ongoing() {
            return Err(crate::error::invalid("enrolment", "treatment_ended"));
        }
        // Staff change a treatment only at its unit: one handed over since is not theirs.
        if self.changed_at_its_unit() && row.try_get::<i64>("", "care_unit_id")? != self.unit_id() {
            return Err(crate::error::invalid("enrolment", "handed_over"));
        }
        Ok(())
    }

    /// Whether changes through this scope are made at the enrolment's unit (staff's), so that
    /// one handed over since refuses them; a patient's follow their treatment anywhere.
    fn changed_at_its_unit(&self) -> bool {
        false
    }

    /// Records a care event of this enrolment for `unit_id` (where it was before a handover,
    /// whose dashboards drop it), in the transaction of the change.
    #[allow(async_fn_in_trait)]
    async fn record_event_for_unit(
        &self,
        db: &impl ConnectionTrait,
        unit_id: i64,
        kind: crate::live::EventKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), DbErr> {
        let source = format!(
            "(SELECT id, {unit_id} AS care_unit_id, sandbox_id FROM enrolment \
              WHERE id = {} AND {})",
            self.id(),
            not_a_test("")
        );
        insert_event(db, &source, self.id(), kind, now).await
    }
}

/// The scope of one enrolment row the decision reached: its sources come from the row.
macro_rules! model_scope {
    ($scope:ty) => {
        impl EnrolmentScope for $scope {
            fn id(&self) -> i64 {
                self.enrolment.id
            }

            fn version_id(&self) -> i64 {
                self.enrolment.program_version_id
            }

            fn unit_id(&self) -> i64 {
                self.enrolment.care_unit_id
            }

            fn state(&self) -> EnrolmentState {
                self.enrolment.state
            }

            fn patient_id(&self) -> i64 {
                self.enrolment.patient_id
            }

            fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.enrolment.started_at
            }
        }
    };
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::OwnEnrolment {}
    impl Sealed for super::StaffEnrolment {}
    impl Sealed for super::ScheduledEnrolment {}
}

/// An ongoing enrolment of real care (never a demo sandbox's), as the server's own sweep
/// reaches it to make due forms and tell the patient: no person is behind it, no record is
/// shown, and only [`scheduled_enrolments`] makes one.
#[derive(Debug, Clone)]
pub(crate) struct ScheduledEnrolment {
    enrolment: enrolment::Model,
}

model_scope!(ScheduledEnrolment);

/// Every ongoing enrolment of real care (no sandbox's, no test) on one of `versions`: what the
/// due-form sweep works through. A test enrolment's forms fall due when it is opened.
pub(crate) async fn scheduled_enrolments(
    db: &impl ConnectionTrait,
    versions: &[i64],
) -> Result<Vec<ScheduledEnrolment>, DbErr> {
    ongoing_real_care(db, enrolment::Column::ProgramVersionId, versions).await
}

/// The ongoing enrolments of real care among `ids` (none of a sandbox, no test): what the
/// follow-up sweep raises a flag on, found again at the moment it raises it.
pub(crate) async fn followed_enrolments(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<ScheduledEnrolment>, DbErr> {
    ongoing_real_care(db, enrolment::Column::Id, ids).await
}

/// The ongoing enrolments of real care whose `column` is one of `values`, by id.
async fn ongoing_real_care(
    db: &impl ConnectionTrait,
    column: enrolment::Column,
    values: &[i64],
) -> Result<Vec<ScheduledEnrolment>, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let mut out = Vec::new();
    // In chunks: a statement takes a bounded number of parameters.
    for chunk in values.chunks(500) {
        let found = enrolment::Entity::find()
            .filter(column.is_in(chunk.iter().copied()))
            .filter(enrolment::Column::SandboxId.is_null())
            .filter(enrolment::Column::TestByStaffId.is_null())
            .filter(enrolment::Column::State.is_in(EnrolmentState::ONGOING))
            .order_by_asc(enrolment::Column::Id)
            .all(db)
            .await?;
        out.extend(
            found
                .into_iter()
                .map(|enrolment| ScheduledEnrolment { enrolment }),
        );
    }
    // Chunks of versions each come in id order; together too.
    out.sort_by_key(|e| e.enrolment.id);
    Ok(out)
}

/// One of the signed-in patient's own enrolments, as their session reaches it. Its care
/// record (pages seen, answers, homework) is read and written only through it. The
/// therapist-internal note is never part of it.
#[derive(Debug, Clone)]
pub struct OwnEnrolment {
    enrolment: enrolment::Model,
}

impl OwnEnrolment {
    /// Only ongoing treatment takes new answers and marks pages seen; ended treatment stays
    /// readable to the patient.
    pub fn may_write(&self) -> bool {
        self.enrolment.state.is_ongoing()
    }
}

model_scope!(OwnEnrolment);

/// One enrolment that a staff member's [`CareAccess`] reaches: at the caller's unit (or, under
/// emergency access, at their care provider), of the patient and sandbox the gate decided on.
#[derive(Debug, Clone)]
pub struct StaffEnrolment {
    id: i64,
    version_id: i64,
    unit_id: i64,
    state: EnrolmentState,
    /// The decision allows changes (ongoing care at the caller's unit) and the treatment is
    /// going on.
    may_write: bool,
    responsible_staff_id: Option<i64>,
    patient_id: i64,
    started_at: chrono::DateTime<chrono::Utc>,
}

impl StaffEnrolment {
    pub fn may_write(&self) -> bool {
        self.may_write
    }

    /// The therapist responsible for the treatment, if one is set.
    pub fn responsible_staff_id(&self) -> Option<i64> {
        self.responsible_staff_id
    }

    /// This enrolment's therapist-internal notes, as an SQL source (bound by
    /// [`EnrolmentScope::statement`]). Staff only: no patient's scope has it.
    pub fn notes(&self) -> String {
        format!("(SELECT * FROM care_note WHERE enrolment_id = {ENROLMENT})")
    }

    /// This enrolment's flags, as an SQL source (bound by [`EnrolmentScope::statement`]).
    pub fn flags(&self) -> String {
        format!("(SELECT * FROM flag WHERE enrolment_id = {ENROLMENT})")
    }

    /// Whether a staff member is on the treatment's care team: its responsible therapist or
    /// one of its co-therapists.
    pub async fn on_team(
        &self,
        db: &impl ConnectionTrait,
        staff_person_id: i64,
    ) -> Result<bool, DbErr> {
        if self.responsible_staff_id == Some(staff_person_id) {
            return Ok(true);
        }
        let row = db
            .query_one(statement(
                db,
                "SELECT COUNT(*) AS n FROM enrolment_therapist \
                 WHERE enrolment_id = $1 AND staff_person_id = $2",
                vec![self.id.into(), staff_person_id.into()],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0)
            > 0)
    }
}

impl EnrolmentScope for StaffEnrolment {
    fn id(&self) -> i64 {
        self.id
    }

    fn changed_at_its_unit(&self) -> bool {
        true
    }

    fn version_id(&self) -> i64 {
        self.version_id
    }

    fn unit_id(&self) -> i64 {
        self.unit_id
    }

    fn state(&self) -> EnrolmentState {
        self.state
    }

    fn patient_id(&self) -> i64 {
        self.patient_id
    }

    fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.started_at
    }
}

impl CareAccess {
    /// One enrolment this decision reaches, by id: `None` when it reaches no such enrolment.
    pub async fn enrolment(
        &self,
        db: &impl ConnectionTrait,
        enrolment_id: i64,
    ) -> Result<Option<StaffEnrolment>, DbErr> {
        Ok(self.reached(db, Some(enrolment_id)).await?.pop())
    }

    /// Every enrolment this decision reaches, newest first.
    pub async fn reached_enrolments(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<StaffEnrolment>, DbErr> {
        self.reached(db, None).await
    }

    async fn reached(
        &self,
        db: &impl ConnectionTrait,
        only: Option<i64>,
    ) -> Result<Vec<StaffEnrolment>, DbErr> {
        let filter = only.map_or(String::new(), |id| format!(" WHERE e.id = {id}"));
        let rows = db
            .query_all(statement(
                db,
                &format!(
                    "SELECT e.id, e.program_version_id, e.care_unit_id, e.state,                             e.responsible_staff_id, e.patient_id, e.started_at                      FROM {} e{filter} ORDER BY e.started_at DESC, e.id DESC",
                    self.enrolments()
                ),
                vec![],
            ))
            .await?;
        rows.into_iter()
            .map(|row| {
                let state: EnrolmentState = row.try_get("", "state")?;
                Ok(StaffEnrolment {
                    id: row.try_get("", "id")?,
                    version_id: row.try_get("", "program_version_id")?,
                    unit_id: row.try_get("", "care_unit_id")?,
                    state,
                    // A treatment handed over to another unit is only read here.
                    may_write: self.may_write()
                        && state.is_ongoing()
                        && row.try_get::<i64>("", "care_unit_id")? == self.unit_id,
                    responsible_staff_id: row.try_get("", "responsible_staff_id")?,
                    patient_id: row.try_get("", "patient_id")?,
                    started_at: row.try_get("", "started_at")?,
                })
            })
            .collect()
    }
}

/// One enrolment of a patient, as the gate weighs the care relation.
#[derive(Debug, Clone)]
pub(super) struct Relation {
    pub unit_id: i64,
    pub provider_id: i64,
    pub ongoing: bool,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Every enrolment of a patient of the sandbox, with its unit's care provider, and every
/// handover of one (as a treatment of the unit that handed it over, ended when it was handed
/// over): what the gate decides from (the patient's lookup already matched the sandbox).
pub(super) async fn relations(
    db: &impl ConnectionTrait,
    patient: &patient::Model,
) -> Result<Vec<Relation>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT e.care_unit_id, u.care_provider_id, e.state, e.ended_at \
                 FROM enrolment e JOIN care_unit u ON u.id = e.care_unit_id \
                 WHERE e.patient_id = $1 AND {sandbox} AND {care} \
                 UNION ALL \
                 SELECT h.from_unit_id, u.care_provider_id, '{handed}', h.handed_over_at \
                 FROM enrolment_handover h JOIN enrolment e ON e.id = h.enrolment_id \
                 JOIN care_unit u ON u.id = h.from_unit_id \
                 WHERE e.patient_id = $1 AND {sandbox} AND {care}",
                sandbox = in_sandbox("e", patient.sandbox_id),
                care = not_a_test("e"),
                handed = sea_orm::ActiveEnum::to_value(&EnrolmentState::HandedOver),
            ),
            vec![patient.id.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let state: EnrolmentState = row.try_get("", "state")?;
            Ok(Relation {
                unit_id: row.try_get("", "care_unit_id")?,
                provider_id: row.try_get("", "care_provider_id")?,
                ongoing: state.is_ongoing(),
                ended_at: row.try_get("", "ended_at")?,
            })
        })
        .collect()
}

/// The patient's enrolments that `unit_id` handed over to another unit since `since`.
pub(super) async fn handed_over_from(
    db: &impl ConnectionTrait,
    patient: &patient::Model,
    unit_id: i64,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<i64>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT DISTINCT h.enrolment_id FROM enrolment_handover h \
                 JOIN enrolment e ON e.id = h.enrolment_id \
                 WHERE e.patient_id = $1 AND {} AND {} \
                   AND h.from_unit_id = $2 AND h.handed_over_at >= $3 ORDER BY h.enrolment_id",
                in_sandbox("e", patient.sandbox_id),
                not_a_test("e")
            ),
            vec![patient.id.into(), unit_id.into(), since.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| row.try_get("", "enrolment_id"))
        .collect()
}

/// The patient of the sandbox with this id, if there is one.
pub(super) async fn patient_in_sandbox(
    db: &impl ConnectionTrait,
    patient_id: i64,
    sandbox_id: Option<i64>,
) -> Result<Option<patient::Model>, DbErr> {
    use sea_orm::EntityTrait;
    let found = patient::Entity::find_by_id(patient_id).one(db).await?;
    Ok(found.filter(|p| p.sandbox_id == sandbox_id))
}
