//! The care record of one enrolment: pages seen, questionnaire answers, homework and the
//! therapist's feedback. The patient's functions take the [`OwnEnrolment`] their session
//! reached, staff's the [`StaffEnrolment`] their access reached; every statement is limited to
//! that one enrolment.

use super::homework::{self, HomeworkKind};
use super::progress::{self, Latest, ModuleStatus, Record};
use super::{
    AnswerRecord, Answered, DueFormLink, DueFormPage, FeedbackView, FormIntent, FormState,
    HomeworkAnswer, HomeworkEntry, HomeworkRecord, HomeworkState, ModuleView, PageLink,
    PatientPage, StaffModule, Treatment, TreatmentRecord, block_place, schedule, schedule_place,
};
use crate::auth::scope::{EnrolmentScope, OwnEnrolment, StaffEnrolment};
use crate::db::entities::care_unit;
use crate::db::{begin_write, statement};
use crate::domain::{FlagPriority, ResponseState};
use crate::error::{AppError, invalid};
use crate::instruments::{Answer, AnswerError, Instrument, ItemKind, Priority, Scored, score};
use crate::programs::{
    Block, BlockBody, Field, Program, QuestionnaireDef, Schedule, ScheduleStart, Step,
};
use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, DbErr, FromQueryResult, TransactionTrait};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

/// The version the patient follows, and their unit.
struct Frame {
    program: Arc<Program>,
    program_id: i64,
    unit: care_unit::Model,
}

/// Published versions never change, so their parsed content is kept, keyed by the hash of the
/// canonical content; a draft (no hash yet) is read and parsed each time.
static PUBLISHED: LazyLock<Mutex<HashMap<String, Arc<Program>>>> = LazyLock::new(Mutex::default);

/// How many parsed versions are kept before the cache starts again.
const PUBLISHED_KEPT: usize = 256;

async fn frame(db: &impl ConnectionTrait, own: &impl EnrolmentScope) -> Result<Frame, AppError> {
    // The unit's row and the version's identity in one round trip; the content only when it
    // is not kept already.
    let row = db
        .query_one(statement(
            db,
            "SELECT u.*, v.program_id AS version_program_id, v.content_hash AS version_hash \
             FROM care_unit u JOIN program_version v ON v.id = $1 WHERE u.id = $2",
            vec![own.version_id().into(), own.unit_id().into()],
        ))
        .await?
        .ok_or(AppError::NotFound)?;
    let program_id: i64 = row.try_get("", "version_program_id")?;
    let hash: Option<String> = row.try_get("", "version_hash")?;
    let unit = care_unit::Model::from_query_result(&row, "")?;
    let program = content(db, own.version_id(), hash).await?;
    Ok(Frame {
        program,
        program_id,
        unit,
    })
}

/// The content of a program version, parsed (or kept from before when it is published).
pub(crate) async fn version_content(
    db: &impl ConnectionTrait,
    version_id: i64,
) -> Result<Arc<Program>, AppError> {
    let hash: Option<String> = db
        .query_one(statement(
            db,
            "SELECT content_hash FROM program_version WHERE id = $1",
            vec![version_id.into()],
        ))
        .await?
        .ok_or(AppError::NotFound)?
        .try_get("", "content_hash")?;
    content(db, version_id, hash).await
}

async fn content(
    db: &impl ConnectionTrait,
    version_id: i64,
    hash: Option<String>,
) -> Result<Arc<Program>, AppError> {
    let cached = hash.as_ref().and_then(|h| {
        PUBLISHED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(h)
            .cloned()
    });
    let program = match cached {
        Some(program) => program,
        None => {
            let content: Option<String> = db
                .query_one(statement(
                    db,
                    "SELECT content FROM program_version WHERE id = $1",
                    vec![version_id.into()],
                ))
                .await?
                .map(|r| r.try_get("", "content"))
                .transpose()?
                .flatten();
            let program: Arc<Program> = content
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .map(Arc::new)
                .ok_or_else(|| {
                    tracing::error!(
                        version = version_id,
                        "a followed version has no readable content"
                    );
                    AppError::Unavailable
                })?;
            if let Some(hash) = hash {
                let mut kept = PUBLISHED
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if kept.len() >= PUBLISHED_KEPT {
                    kept.clear();
                }
                kept.insert(hash, Arc::clone(&program));
            }
            program
        }
    };
    Ok(program)
}

/// Stored answers: item code → answer.
type Stored = BTreeMap<String, Answer>;

/// Everything of an enrolment's care that its pages show, read in one statement: the record
/// (pages seen, submitted answers and worksheets, modules with feedback), its due forms, the
/// therapist's feedback and how many messages from the care team are unread.
struct CareRows {
    record: Record,
    due: Vec<DueRow>,
    feedback: Vec<FeedbackRow>,
    unread_messages: i64,
}

/// The therapist's feedback on one module, as stored.
struct FeedbackRow {
    module_key: String,
    body: String,
    given_at: chrono::DateTime<Utc>,
    unread: bool,
    author: Option<String>,
}

/// What each branch of [`care_rows_sql`] reads; the number is its `kind` column.
mod kind {
    pub const ANSWER: i64 = 1;
    pub const VISIT: i64 = 2;
    pub const WORKSHEET: i64 = 3;
    pub const FEEDBACK: i64 = 4;
    pub const DUE: i64 = 5;
    pub const UNREAD: i64 = 6;
    pub const OVERRIDE: i64 = 7;
}

/// The branches of the one statement that [`care_rows`] runs, each over one of the scope's
/// sources, in the generic columns `k1`…`k4` (text), `n1`, `n2` (integers) and `at1` (a time).
/// The first branch has a typed value in every non-text column, so that PostgreSQL resolves
/// the other branches' NULLs to those types.
///
/// The homework kind is written into the text, not bound, here and wherever `homework_entry`
/// is filtered by kind: the table has a partial index on `kind = 'worksheet'`, and when SQLite
/// weighs that index against `kind = ?` it makes the plan depend on the bound value, which
/// expires the prepared statement at every reset, so it would be compiled again on each run.
fn care_rows_sql(scope: &impl EnrolmentScope) -> String {
    format!(
        "SELECT CAST({answer} AS BIGINT) AS kind, questionnaire_key AS k1, answers AS k2, \
                NULL AS k3, NULL AS k4, CAST(total AS BIGINT) AS n1, CAST(id AS BIGINT) AS n2, \
                submitted_at AS at1 \
           FROM {responses} r WHERE state = $1 \
         UNION ALL SELECT {visit}, module_key, step_key, NULL, NULL, NULL, NULL, NULL FROM {visits} v \
         UNION ALL SELECT {worksheet}, place, NULL, NULL, NULL, NULL, NULL, NULL FROM {homework} h \
           WHERE kind = '{worksheet_code}' AND state = $1 \
         UNION ALL SELECT {feedback}, f.module_key, f.body, s.given_name, s.family_name, \
                CASE WHEN f.read_at IS NULL THEN 1 ELSE 0 END, NULL, f.given_at \
           FROM {feedbacks} f LEFT JOIN staff_person s ON s.id = f.staff_person_id \
         UNION ALL SELECT {due}, schedule_key, state, due_on, closes_on, occurrence, NULL, NULL \
           FROM {due_forms} d \
         UNION ALL SELECT {unread}, NULL, NULL, NULL, NULL, COUNT(*), NULL, NULL FROM {messages} m \
           WHERE sender_kind = 'staff' AND read_at IS NULL \
         UNION ALL SELECT {overridden}, module_key, NULL, NULL, NULL, \
                CASE WHEN hidden THEN 1 ELSE 0 END, \
                CASE WHEN unlocked_at IS NULL THEN 0 ELSE 1 END, NULL \
           FROM {overrides} o",
        answer = kind::ANSWER,
        visit = kind::VISIT,
        worksheet = kind::WORKSHEET,
        worksheet_code = HomeworkKind::Worksheet.code(),
        feedback = kind::FEEDBACK,
        due = kind::DUE,
        unread = kind::UNREAD,
        overridden = kind::OVERRIDE,
        overrides = scope.module_overrides(),
        responses = scope.form_responses(),
        visits = scope.page_visits(),
        homework = scope.homework(),
        feedbacks = scope.feedback(),
        due_forms = scope.due_forms(),
        messages = scope.messages(),
    )
}

async fn care_rows(
    db: &impl ConnectionTrait,
    scope: &impl EnrolmentScope,
) -> Result<CareRows, DbErr> {
    let mut out = CareRows {
        record: Record {
            day: (crate::domain::time::stockholm_day(Utc::now())
                - crate::domain::time::stockholm_day(scope.started_at()))
            .num_days(),
            ..Record::default()
        },
        due: Vec::new(),
        feedback: Vec::new(),
        unread_messages: 0,
    };
    let rows = db
        .query_all(scope.statement(
            db,
            &care_rows_sql(scope),
            vec![ResponseState::Submitted.to_value().into()],
        ))
        .await?;
    // Submitted answers in the order they were given: the latest of each questionnaire wins.
    let mut answers = Vec::new();
    for row in rows {
        let text = |column: &str| row.try_get::<Option<String>>("", column);
        let text_or_empty = |column: &str| text(column).map(Option::unwrap_or_default);
        let number = |column: &str| row.try_get::<Option<i64>>("", column);
        match row.try_get::<i64>("", "kind")? {
            kind::ANSWER => {
                let at: Option<chrono::DateTime<Utc>> = row.try_get("", "at1")?;
                answers.push((
                    at,
                    number("n2")?.unwrap_or_default(),
                    text_or_empty("k1")?,
                    text_or_empty("k2")?,
                    number("n1")?,
                ));
            }
            kind::VISIT => {
                out.record
                    .seen
                    .insert((text_or_empty("k1")?, text_or_empty("k2")?));
            }
            kind::WORKSHEET => {
                let place = text_or_empty("k1")?;
                if let Some(block) = place.rsplit('/').next() {
                    out.record.worksheets_submitted.insert(block.to_owned());
                }
            }
            kind::FEEDBACK => {
                let module_key = text_or_empty("k1")?;
                out.record.feedback.insert(module_key.clone());
                out.feedback.push(FeedbackRow {
                    module_key,
                    body: text_or_empty("k2")?,
                    given_at: row.try_get("", "at1")?,
                    unread: number("n1")? == Some(1),
                    author: text("k3")?
                        .zip(text("k4")?)
                        .map(|(g, f)| format!("{g} {f}")),
                });
            }
            kind::DUE => out.due.push(DueRow {
                schedule_key: text_or_empty("k1")?,
                state: text_or_empty("k2")?,
                due_on: text_or_empty("k3")?,
                closes_on: text_or_empty("k4")?,
                occurrence: number("n1")?
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
            }),
            kind::UNREAD => out.unread_messages = number("n1")?.unwrap_or(0),
            kind::OVERRIDE => {
                let module_key = text_or_empty("k1")?;
                if number("n1")? == Some(1) {
                    out.record.hidden.insert(module_key.clone());
                }
                if number("n2")? == Some(1) {
                    out.record.unlocked.insert(module_key);
                }
            }
            _ => {}
        }
    }
    answers.sort_by_key(|a| (a.0, a.1));
    for (_, _, key, stored, total) in answers {
        let stored: Stored = serde_json::from_str(&stored).unwrap_or_default();
        out.record.latest.insert(
            key,
            Latest {
                total: total.and_then(|t| i32::try_from(t).ok()),
                values: stored
                    .iter()
                    .filter_map(|(code, a)| progress::numeric(a).map(|v| (code.clone(), v)))
                    .collect(),
            },
        );
    }
    sort_due(&mut out.due);
    Ok(out)
}

/// The therapist's feedback on the enrolment's modules, by module key, and whether any of it
/// is still unread.
fn feedback_views(rows: &[FeedbackRow]) -> (BTreeMap<String, FeedbackView>, bool) {
    let mut out = BTreeMap::new();
    let mut unread = false;
    for row in rows {
        unread |= row.unread;
        out.insert(
            row.module_key.clone(),
            FeedbackView {
                author: row.author.clone(),
                body: row.body.clone(),
                given_at: row.given_at.format("%Y-%m-%d %H:%M").to_string(),
            },
        );
    }
    (out, unread)
}

fn pages_of(
    program: &Program,
    record: &Record,
    statuses: &[ModuleStatus],
    index: usize,
) -> Vec<PageLink> {
    if !statuses[index].is_open() {
        return Vec::new();
    }
    let module = &program.modules[index];
    progress::visible_steps(module, record)
        .into_iter()
        .map(|step| PageLink {
            seen: record
                .seen
                .contains(&(module.key.clone(), step.key.clone())),
            module: module.key.clone(),
            step: step.key,
            title: step.title,
        })
        .collect()
}

pub async fn treatment(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
) -> Result<Treatment, AppError> {
    let Frame { program, unit, .. } = frame(db, own).await?;
    let (rows, due_forms) = own_record(db, own, &program).await?;
    let record = &rows.record;
    let statuses = progress::statuses(&program, record);
    let (mut feedback, unread_feedback) = feedback_views(&rows.feedback);
    // Marked read once: a page whose feedback was all read before writes nothing.
    if own.may_write() && unread_feedback {
        db.execute(statement(
            db,
            "UPDATE module_feedback SET read_at = $1 WHERE enrolment_id = $2 AND read_at IS NULL",
            vec![Utc::now().into(), own.id().into()],
        ))
        .await?;
    }
    let modules = program
        .modules
        .iter()
        .enumerate()
        .filter(|(index, _)| statuses[*index] != ModuleStatus::Hidden)
        .map(|(index, module)| ModuleView {
            key: module.key.clone(),
            title: module.title.clone(),
            status: statuses[index],
            pages: pages_of(&program, record, &statuses, index),
            feedback: feedback.remove(&module.key),
        })
        .collect();
    Ok(Treatment {
        due_forms,
        unread_messages: rows.unread_messages,
        enrolment_id: own.id(),
        program: program.title.clone(),
        care_unit: unit.name,
        ongoing: own.may_write(),
        modules,
    })
}

/// Each module's title and how far the patient has come in it, under the version followed.
pub async fn module_statuses(
    db: &impl ConnectionTrait,
    scope: &impl EnrolmentScope,
) -> Result<Vec<(String, ModuleStatus)>, AppError> {
    let Frame { program, .. } = frame(db, scope).await?;
    let record = care_rows(db, scope).await?.record;
    let statuses = progress::statuses(&program, &record);
    Ok(program
        .modules
        .iter()
        .map(|m| m.title.clone())
        .zip(statuses)
        .collect())
}

/// Each scale's submitted totals in this enrolment, oldest first, with the scale's range and
/// bands from the version the patient follows. Questionnaires without a total are left out.
pub async fn results(
    db: &impl ConnectionTrait,
    own: &impl EnrolmentScope,
) -> Result<Vec<super::results::Series>, AppError> {
    use super::results::{Point, Series};
    let Frame { program, .. } = frame(db, own).await?;
    let rows = db
        .query_all(own.statement(
            db,
            &format!(
                "SELECT questionnaire_key, total, band, submitted_at FROM {} r \
                 WHERE state = $1 AND total IS NOT NULL ORDER BY submitted_at, id",
                own.form_responses()
            ),
            vec![ResponseState::Submitted.to_value().into()],
        ))
        .await?;
    let mut out: Vec<Series> = Vec::new();
    for row in rows {
        let key: String = row.try_get("", "questionnaire_key")?;
        let at: chrono::DateTime<Utc> = row.try_get("", "submitted_at")?;
        let point = Point {
            date: at.format("%Y-%m-%d").to_string(),
            total: row.try_get("", "total")?,
            band: row.try_get("", "band")?,
        };
        if let Some(series) = out.iter_mut().find(|s| s.key == key) {
            series.points.push(point);
            continue;
        }
        let Some(def) = program.questionnaires.iter().find(|q| q.key == key) else {
            continue;
        };
        let Some(instrument) = def.instrument() else {
            continue;
        };
        let (min, max) = instrument.range();
        out.push(Series {
            key,
            title: def.title.clone(),
            min,
            max,
            bands: instrument
                .bands
                .iter()
                .map(|b| (b.code.clone(), b.from, b.to))
                .collect(),
            points: vec![point],
        });
    }
    Ok(out)
}

/// Due-form states (`due_form.state`).
const PLANNED: &str = "planned";
const SHOWN: &str = "shown";
const ANSWERED: &str = "answered";
const EXPIRED: &str = "expired";

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Whether a schedule that starts with a module, or the program's end, has started: its
/// module open or finished now.
fn triggered(program: &Program, statuses: &[ModuleStatus], starts: &ScheduleStart) -> bool {
    let status_of = |key: &str| {
        program
            .modules
            .iter()
            .position(|m| m.key == key)
            .map(|i| statuses[i])
    };
    match starts {
        ScheduleStart::Enrolment => true,
        ScheduleStart::ModuleOpens { module } => status_of(module).is_some_and(|s| s.is_open()),
        ScheduleStart::ModuleFinished { module } => {
            status_of(module) == Some(ModuleStatus::Finished)
        }
        ScheduleStart::ProgramFinished => {
            statuses.contains(&ModuleStatus::Finished)
                && statuses
                    .iter()
                    .all(|s| matches!(s, ModuleStatus::Finished | ModuleStatus::Hidden))
        }
    }
}

/// The questionnaire a schedule key asks, and whether it holds back the pages: a schedule of
/// the program, or an extra form of one of its questionnaires (never blocking). `None` for a
/// key the program does not have.
fn asked_by<'p>(program: &'p Program, key: &str) -> Option<(&'p QuestionnaireDef, bool)> {
    let (questionnaire, blocking) = match super::extra_questionnaire(key) {
        Some(q) => (q, false),
        None => {
            let s = program.schedules.iter().find(|s| s.key == key)?;
            (s.questionnaire.as_str(), s.blocking)
        }
    };
    program
        .questionnaires
        .iter()
        .find(|q| q.key == questionnaire)
        .map(|q| (q, blocking))
}

/// One due-form row of an enrolment, as the patient's pages need it.
struct DueRow {
    schedule_key: String,
    occurrence: u32,
    state: String,
    due_on: String,
    closes_on: String,
}

impl DueRow {
    fn is_open(&self) -> bool {
        self.state == PLANNED || self.state == SHOWN
    }
}

/// Every due-form row of the enrolment, in one statement.
async fn due_rows(
    db: &impl ConnectionTrait,
    own: &impl EnrolmentScope,
) -> Result<Vec<DueRow>, AppError> {
    let rows = db
        .query_all(own.statement(
            db,
            &format!(
                "SELECT schedule_key, occurrence, state, due_on, closes_on FROM {} d",
                own.due_forms()
            ),
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let occurrence: i32 = row.try_get("", "occurrence")?;
            Ok(DueRow {
                schedule_key: row.try_get("", "schedule_key")?,
                occurrence: u32::try_from(occurrence).unwrap_or(0),
                state: row.try_get("", "state")?,
                due_on: row.try_get("", "due_on")?,
                closes_on: row.try_get("", "closes_on")?,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()
        .map(|mut rows| {
            sort_due(&mut rows);
            rows
        })
        .map_err(AppError::from)
}

/// Due rows in the order the patient meets them: by day, then by schedule key (compared as
/// bytes, the same on both engines).
fn sort_due(rows: &mut [DueRow]) {
    rows.sort_by(|a, b| (&a.due_on, &a.schedule_key).cmp(&(&b.due_on, &b.schedule_key)));
}

/// Brings the enrolment's due forms up to `today` (a Swedish day): the instance of each
/// schedule that has fallen due is made (once: a unique index decides between concurrent
/// calls), and open instances that a newer one replaced or whose window closed lapse. A
/// schedule that starts with a module is anchored on the day this first saw it started.
/// `rows` are the enrolment's due forms as read before; a schedule whose rows are already up
/// to date is not written, so reading a page whose forms are current writes nothing. Returns
/// what it did.
async fn refresh_due(
    db: &impl ConnectionTrait,
    own: &impl EnrolmentScope,
    program: &Program,
    record: &Record,
    rows: &[DueRow],
    today: NaiveDate,
) -> Result<Changes, AppError> {
    let mut changes = Changes::default();
    if !own.state().is_ongoing() {
        return Ok(changes);
    }
    let now = Utc::now();
    let today_text = day_text(today);
    // An extra form whose last day passed lapses (and another of its questionnaire may be
    // asked for).
    if rows.iter().any(|r| {
        super::extra_questionnaire(&r.schedule_key).is_some()
            && r.is_open()
            && r.closes_on <= today_text
    }) {
        db.execute(statement(
            db,
            &format!(
                "UPDATE due_form SET state = '{EXPIRED}', updated_at = $1 \
                 WHERE enrolment_id = $2 AND schedule_key LIKE $3 \
                 AND state IN ('{PLANNED}', '{SHOWN}') AND closes_on <= $4"
            ),
            vec![
                now.into(),
                own.id().into(),
                format!("{}%", super::EXTRA_PREFIX).into(),
                today_text.clone().into(),
            ],
        ))
        .await?;
        changes.stale = true;
    }
    if program.schedules.is_empty() {
        return Ok(changes);
    }
    let started = crate::domain::time::stockholm_day(own.started_at());
    let anchors: BTreeMap<&str, NaiveDate> = rows
        .iter()
        .filter(|r| r.occurrence == 0)
        .filter_map(|r| Some((r.schedule_key.as_str(), parse_day(&r.due_on)?)))
        .collect();
    let statuses = progress::statuses(program, record);
    for s in &program.schedules {
        let anchor = match &s.starts {
            ScheduleStart::Enrolment => Some(started),
            starts => anchors
                .get(s.key.as_str())
                .copied()
                .or_else(|| triggered(program, &statuses, starts).then_some(today)),
        };
        let latest = anchor.and_then(|a| schedule::latest(s, a, today));
        // Only older instances lapse for a newer one: a caller whose day is behind another's
        // (a sweep running past midnight) never closes the newer.
        let current = latest.map_or(-1, |i| i64::from(i.number));
        let lapsed = rows.iter().any(|r| {
            r.schedule_key == s.key
                && r.is_open()
                && (i64::from(r.occurrence) < current || r.closes_on <= today_text)
        });
        if lapsed {
            db.execute(statement(
                    db,
                    &format!(
                        "UPDATE due_form SET state = '{EXPIRED}', updated_at = $1 \
                         WHERE enrolment_id = $2 AND schedule_key = $3 AND state IN ('{PLANNED}', '{SHOWN}') \
                         AND (occurrence < $4 OR closes_on <= $5)"
                    ),
                    vec![
                        now.into(),
                        own.id().into(),
                        s.key.clone().into(),
                        current.into(),
                        today_text.clone().into(),
                    ],
                ))
                .await?;
            changes.stale = true;
        }
        let Some(instance) = latest.filter(|i| i.is_open_on(today)) else {
            continue;
        };
        if rows
            .iter()
            .any(|r| r.schedule_key == s.key && r.occurrence == instance.number)
        {
            continue;
        }
        let inserted = db
            .execute(statement(
                db,
                &format!(
                    "INSERT INTO due_form (enrolment_id, program_version_id, schedule_key, occurrence, \
                       questionnaire_key, due_on, closes_on, blocking, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{PLANNED}', $9, $9) ON CONFLICT DO NOTHING"
                ),
                vec![
                    own.id().into(),
                    own.version_id().into(),
                    s.key.clone().into(),
                    i64::from(instance.number).into(),
                    s.questionnaire.clone().into(),
                    day_text(instance.due_on).into(),
                    day_text(instance.closes_on).into(),
                    s.blocking.into(),
                    now.into(),
                ],
            ))
            .await?;
        // Made here or by a concurrent call: either way the rows read are stale.
        changes.stale = true;
        if inserted.rows_affected() > 0 {
            changes.made += 1;
            carry_draft(db, own, s, instance.number, now).await?;
        }
    }
    Ok(changes)
}

/// What [`refresh_due`] did.
#[derive(Default)]
struct Changes {
    /// Instances this call made.
    made: u64,
    /// Whether the rows read before may no longer be current.
    stale: bool,
}

/// A draft begun on an instance that lapsed (it was saved, and the patient was told so) is
/// not lost with it: the newest one becomes the draft of the instance that replaced it.
async fn carry_draft(
    db: &impl ConnectionTrait,
    own: &impl EnrolmentScope,
    s: &Schedule,
    number: u32,
    now: chrono::DateTime<Utc>,
) -> Result<(), AppError> {
    let prefix = format!("schedule:{}/", s.key);
    let Some(row) = db
        .query_one(own.statement(
            db,
            &format!(
                "SELECT answers, place FROM {} r WHERE state = $1 AND place LIKE $2 \
                 ORDER BY updated_at DESC, id DESC LIMIT 1",
                own.form_responses()
            ),
            vec![
                ResponseState::Draft.to_value().into(),
                format!("{prefix}%").into(),
            ],
        ))
        .await?
    else {
        return Ok(());
    };
    let place = schedule_place(&s.key, number);
    if row.try_get::<String>("", "place")? == place {
        return Ok(());
    }
    db.execute(statement(
        db,
        "INSERT INTO form_response \
           (enrolment_id, program_version_id, questionnaire_key, place, state, answers, scores, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, '{}', $7) ON CONFLICT (enrolment_id, place) DO NOTHING",
        vec![
            own.id().into(),
            own.version_id().into(),
            s.questionnaire.clone().into(),
            place.into(),
            ResponseState::Draft.to_value().into(),
            row.try_get::<String>("", "answers")?.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The server's sweep: brings the due forms of every ongoing enrolment of real care, on a
/// version with schedules, up to today, and gives each patient one of whose forms fell due a
/// notice without content. Each enrolment in its own transaction. Returns how many forms
/// were made.
pub async fn sweep_due<C: ConnectionTrait + TransactionTrait>(db: &C) -> Result<u64, AppError> {
    // Canonical content leaves out an empty list of schedules.
    let versions = db
        .query_all(statement(
            db,
            "SELECT id, content FROM program_version WHERE content LIKE $1",
            vec!["%\"schedules\":%".into()],
        ))
        .await?;
    let mut programs: BTreeMap<i64, Program> = BTreeMap::new();
    for row in versions {
        let content: Option<String> = row.try_get("", "content")?;
        if let Some(program) = content
            .and_then(|c| serde_json::from_str::<Program>(&c).ok())
            .filter(|p| !p.schedules.is_empty())
        {
            programs.insert(row.try_get("", "id")?, program);
        }
    }
    let ids: Vec<i64> = programs.keys().copied().collect();
    let mut made = 0;
    for enrolment in crate::auth::scope::scheduled_enrolments(db, &ids).await? {
        let Some(program) = programs.get(&enrolment.version_id()) else {
            continue;
        };
        // One treatment that fails (logged by id) does not stop the others'.
        match sweep_one(db, &enrolment, program).await {
            Ok(new) => made += new,
            Err(error) => tracing::error!(
                enrolment = enrolment.id(),
                error = %error,
                "making due forms failed"
            ),
        }
    }
    Ok(made)
}

async fn sweep_one<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    enrolment: &crate::auth::scope::ScheduledEnrolment,
    program: &Program,
) -> Result<u64, AppError> {
    // The day is taken for each treatment: a sweep may run past midnight.
    let now = Utc::now();
    let today = crate::domain::time::stockholm_day(now);
    let txn = begin_write(db).await?;
    let rows = care_rows(&txn, enrolment).await?;
    let new = refresh_due(&txn, enrolment, program, &rows.record, &rows.due, today)
        .await?
        .made;
    if new > 0 {
        let to = crate::notify::Recipient::Patient(enrolment.patient_id());
        crate::notify::enqueue(&txn, to, crate::notify::Template::FormDue, now).await?;
    }
    txn.commit().await?;
    Ok(new)
}

/// The open due forms on `today`, as (schedule key, instance) into the record and as
/// links (blocking first), with the questionnaires' titles from the program.
fn read_due(
    own: &OwnEnrolment,
    program: &Program,
    record: &mut Record,
    rows: &[DueRow],
    today: NaiveDate,
) -> Vec<DueFormLink> {
    record.due.clear();
    record.due_answered.clear();
    if !own.may_write() {
        return Vec::new();
    }
    let today_text = day_text(today);
    let mut links = Vec::new();
    for row in rows {
        if row.state == ANSWERED {
            record
                .due_answered
                .push((row.schedule_key.clone(), row.occurrence));
            continue;
        }
        if !row.is_open() || row.due_on > today_text || row.closes_on <= today_text {
            continue;
        }
        // A schedule or questionnaire the followed version no longer has is not asked.
        let Some((questionnaire, blocking)) = asked_by(program, &row.schedule_key) else {
            continue;
        };
        record.due.push((row.schedule_key.clone(), row.occurrence));
        links.push(due_link(
            &row.schedule_key,
            questionnaire,
            blocking,
            &row.due_on,
            &row.closes_on,
        ));
    }
    links.sort_by_key(|l| !l.blocking);
    links
}

fn due_link(
    schedule: &str,
    questionnaire: &QuestionnaireDef,
    blocking: bool,
    due_on: &str,
    closes_on: &str,
) -> DueFormLink {
    DueFormLink {
        schedule: schedule.to_owned(),
        title: questionnaire.title.clone(),
        due_on: due_on.to_owned(),
        last_day: last_day(closes_on),
        blocking,
    }
}

/// The last day a form is open: the day before the one it closes on.
fn last_day(closes_on: &str) -> String {
    parse_day(closes_on)
        .and_then(|d| d.pred_opt())
        .map_or_else(|| closes_on.to_owned(), day_text)
}

/// The patient's record for their own pages: pages, answers, homework, feedback, the day of
/// treatment, and the due forms brought up to today.
async fn own_record(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    program: &Program,
) -> Result<(CareRows, Vec<DueFormLink>), AppError> {
    let today = crate::domain::time::stockholm_day(Utc::now());
    let mut rows = care_rows(db, own).await?;
    if refresh_due(db, own, program, &rows.record, &rows.due, today)
        .await?
        .stale
    {
        rows.due = due_rows(db, own).await?;
    }
    let links = read_due(own, program, &mut rows.record, &rows.due, today);
    Ok((rows, links))
}

/// A scheduled questionnaire's page: its open instance, marked shown, or else the instance
/// last answered.
pub async fn due_form(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    key: &str,
) -> Result<DueFormPage, AppError> {
    let Frame { program, unit, .. } = frame(db, own).await?;
    let (CareRows { record, due, .. }, links) = own_record(db, own, &program).await?;
    let (def, blocking) = asked_by(&program, key).ok_or(AppError::NotFound)?;
    let questionnaire = def.clone();
    let open = record.due.iter().find(|(k, _)| k == key).map(|(_, n)| *n);
    let row = match open {
        Some(n) => due
            .iter()
            .find(|r| r.schedule_key == key && r.occurrence == n),
        None => due
            .iter()
            .filter(|r| r.schedule_key == key && r.state == ANSWERED)
            .max_by_key(|r| r.occurrence),
    }
    .ok_or(AppError::NotFound)?;
    // Marked shown once; a page opened again writes nothing.
    if open.is_some() && row.state == PLANNED {
        db.execute(statement(
            db,
            &format!(
                "UPDATE due_form SET state = '{SHOWN}', updated_at = $1 \
                 WHERE enrolment_id = $2 AND schedule_key = $3 AND occurrence = $4 AND state = '{PLANNED}'"
            ),
            vec![
                Utc::now().into(),
                own.id().into(),
                key.into(),
                i64::from(row.occurrence).into(),
            ],
        ))
        .await?;
    }
    let occurrence = row.occurrence;
    let place = schedule_place(key, occurrence);
    let form = form_at(db, own, &format!("due-{key}"), place).await?;
    let due = links
        .into_iter()
        .find(|l| l.schedule == key)
        .unwrap_or_else(|| due_link(key, def, blocking, &row.due_on, &row.closes_on));
    Ok(DueFormPage {
        enrolment_id: own.id(),
        program: program.title.clone(),
        due,
        questionnaire,
        form,
        ongoing: own.may_write() && open.is_some(),
        crisis_info: unit.crisis_info,
    })
}

/// The module (by index) and page that the patient may be shown, or why not.
fn locate(
    program: &Program,
    record: &Record,
    module_key: &str,
    step_key: &str,
) -> Result<(usize, Vec<Step>, usize), AppError> {
    let index = program
        .modules
        .iter()
        .position(|m| m.key == module_key)
        .ok_or(AppError::NotFound)?;
    if !progress::statuses(program, record)[index].is_open() {
        return Err(AppError::Forbidden);
    }
    let steps = progress::visible_steps(&program.modules[index], record);
    let at = steps
        .iter()
        .position(|s| s.key == step_key)
        .ok_or(AppError::NotFound)?;
    Ok((index, steps, at))
}

pub async fn page(
    db: &(impl ConnectionTrait + TransactionTrait),
    own: &OwnEnrolment,
    module_key: &str,
    step_key: &str,
) -> Result<PatientPage, AppError> {
    let Frame {
        program,
        program_id,
        unit,
    } = frame(db, own).await?;
    let (CareRows { mut record, .. }, links) = own_record(db, own, &program).await?;
    let (index, mut steps, at) = locate(&program, &record, module_key, step_key)?;
    // A blocking form comes first: the page's content is not sent, nor the page marked seen.
    if let Some(blocking) = links.into_iter().find(|l| l.blocking) {
        let mut step = steps.swap_remove(at);
        step.blocks.clear();
        return Ok(PatientPage {
            enrolment_id: own.id(),
            program: program.title.clone(),
            module_title: program.modules[index].title.clone(),
            number: at + 1,
            count: steps.len() + 1,
            questionnaires: Vec::new(),
            media_base: crate::programs::media::url_base(program_id),
            previous: None,
            next: None,
            forms: Vec::new(),
            homework: Vec::new(),
            ongoing: own.may_write(),
            crisis_info: None,
            blocked_by: Some(blocking),
            step,
        });
    }
    // The first visit is written; a page seen before writes nothing.
    let first = !record
        .seen
        .contains(&(module_key.to_owned(), step_key.to_owned()));
    if own.may_write() && first {
        let now = Utc::now();
        let txn = db.begin().await?;
        let added = txn
            .execute(statement(
                &txn,
                "INSERT INTO page_visit (enrolment_id, program_version_id, module_key, step_key, first_seen_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (enrolment_id, module_key, step_key) DO NOTHING",
                vec![
                    own.id().into(),
                    own.version_id().into(),
                    module_key.into(),
                    step_key.into(),
                    now.into(),
                ],
            ))
            .await?;
        if added.rows_affected() > 0 {
            own.record_event(&txn, crate::live::EventKind::Progress, now)
                .await?;
        }
        txn.commit().await?;
        crate::live::wake();
        record
            .seen
            .insert((module_key.to_owned(), step_key.to_owned()));
    }
    // This visit may have finished the module and opened the next.
    let statuses = progress::statuses(&program, &record);
    let links = pages_of(&program, &record, &statuses, index);
    let previous = at.checked_sub(1).and_then(|i| links.get(i).cloned());
    let next = links.get(at + 1).cloned().or_else(|| {
        (index + 1 < program.modules.len())
            .then(|| pages_of(&program, &record, &statuses, index + 1))
            .and_then(|pages| pages.into_iter().next())
    });
    let step = steps[at].clone();
    // Only the questionnaires on this page: nothing of what locked or hidden content asks.
    let questionnaires: Vec<QuestionnaireDef> = program
        .questionnaires
        .iter()
        .filter(|q| {
            step.blocks.iter().any(|b| {
                matches!(&b.body, BlockBody::Questionnaire { questionnaire } if questionnaire == &q.key)
            })
        })
        .cloned()
        .collect();
    let forms = forms_on(db, own, module_key, &step).await?;
    let homework = homework_on(db, own, module_key, &step).await?;
    Ok(PatientPage {
        enrolment_id: own.id(),
        program: program.title.clone(),
        module_title: program.modules[index].title.clone(),
        number: at + 1,
        count: steps.len(),
        questionnaires,
        media_base: crate::programs::media::url_base(program_id),
        previous,
        next,
        forms,
        homework,
        ongoing: own.may_write(),
        crisis_info: unit.crisis_info,
        blocked_by: None,
        step,
    })
}

/// The questionnaires on a page, each as far as it was answered.
async fn forms_on(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    module_key: &str,
    step: &Step,
) -> Result<Vec<FormState>, AppError> {
    let mut forms = Vec::new();
    for block in &step.blocks {
        if !matches!(block.body, BlockBody::Questionnaire { .. }) {
            continue;
        }
        let place = block_place(module_key, &step.key, &block.key);
        forms.push(form_at(db, own, &block.key, place).await?);
    }
    Ok(forms)
}

/// A questionnaire at a place, as far as it was answered.
async fn form_at(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    block_key: &str,
    place: String,
) -> Result<FormState, AppError> {
    let row = db
        .query_one(own.statement(
            db,
            &format!(
                "SELECT state, answers, total, band, scores, updated_at FROM {} r WHERE place = $1",
                own.form_responses()
            ),
            vec![place.clone().into()],
        ))
        .await?;
    let mut form = FormState {
        block_key: block_key.to_owned(),
        place,
        submitted: false,
        values: BTreeMap::new(),
        total: None,
        band: None,
        urgent: false,
        saved_at: None,
        submit_key: crate::auth::session::new_token()?,
    };
    if let Some(row) = row {
        let state: ResponseState = row.try_get("", "state")?;
        let answers: String = row.try_get("", "answers")?;
        let stored: Stored = serde_json::from_str(&answers).unwrap_or_default();
        let scores: String = row.try_get("", "scores")?;
        let updated: chrono::DateTime<Utc> = row.try_get("", "updated_at")?;
        form.submitted = state == ResponseState::Submitted;
        form.values = field_values(&stored);
        form.total = row.try_get("", "total")?;
        form.band = row.try_get("", "band")?;
        form.urgent = is_urgent(&scores);
        form.saved_at = Some(updated.format("%Y-%m-%d %H:%M").to_string());
    }
    Ok(form)
}

fn is_urgent(scores: &str) -> bool {
    serde_json::from_str::<Scored>(scores)
        .is_ok_and(|s| s.alerts.iter().any(|a| a.priority == Priority::Urgent))
}

/// The form's field names and values for stored answers: `code` for one value or text,
/// `code.value` (checked) for each of several choices.
fn field_values(stored: &Stored) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for (code, answer) in stored {
        match answer {
            Answer::Value(v) => {
                values.insert(code.clone(), v.to_string());
            }
            Answer::Values(vs) => {
                for v in vs {
                    values.insert(format!("{code}.{v}"), "on".to_owned());
                }
            }
            Answer::Text(t) => {
                values.insert(code.clone(), t.clone());
            }
        }
    }
    values
}

/// The form's fields as one answer per item (`None` where none was given). Every field must
/// belong to an item and hold a value that item takes.
pub fn parse_answers(
    instrument: &Instrument,
    fields: &BTreeMap<String, String>,
) -> Result<Vec<Option<Answer>>, AppError> {
    let mut used = 0;
    let mut answers = Vec::with_capacity(instrument.items.len());
    for item in &instrument.items {
        let code = item.code.as_str();
        let given = fields.get(code).map(|v| v.trim()).filter(|v| !v.is_empty());
        used += usize::from(fields.contains_key(code));
        let number = |v: &str| v.parse::<i32>().map_err(|_| invalid(code, "not_a_number"));
        let answer = match &item.kind {
            ItemKind::Choice { values } => match given.map(number).transpose()? {
                Some(v) if !values.contains(&v) => return Err(invalid(code, "not_allowed")),
                v => v.map(Answer::Value),
            },
            ItemKind::MultipleChoice { values } => {
                let mut chosen = Vec::new();
                for value in values {
                    let name = format!("{code}.{value}");
                    if fields.contains_key(&name) {
                        used += 1;
                        chosen.push(*value);
                    }
                }
                (!chosen.is_empty()).then_some(Answer::Values(chosen))
            }
            ItemKind::Number { min, max } => match given.map(number).transpose()? {
                Some(v) if v < *min || v > *max => return Err(invalid(code, "out_of_range")),
                v => v.map(Answer::Value),
            },
            ItemKind::FreeText { max_chars } => match given {
                Some(t) if t.chars().count() > *max_chars as usize => {
                    return Err(invalid(code, "too_long"));
                }
                t => t.map(|t| Answer::Text(t.to_owned())),
            },
            ItemKind::Date | ItemKind::Time => given.map(|t| Answer::Text(t.to_owned())),
        };
        answers.push(answer);
    }
    if used != fields.len() {
        return Err(invalid("answers", "unknown_item"));
    }
    Ok(answers)
}

fn stored_of(instrument: &Instrument, answers: &[Option<Answer>]) -> Stored {
    instrument
        .items
        .iter()
        .zip(answers)
        .filter_map(|(item, a)| a.clone().map(|a| (item.code.clone(), a)))
        .collect()
}

/// The block at a place (`block:<module>/<page>/<block>`) that the patient may fill in now: its
/// module open, its page and block shown to them. With the module's key.
fn block_at(program: &Program, record: &Record, place: &str) -> Result<(String, Block), AppError> {
    // A blocking form holds back the pages' content, not what the patient had begun on them:
    // a draft or homework open in a tab when the form fell due is still taken.
    let path = place.strip_prefix("block:").ok_or(AppError::NotFound)?;
    let mut parts = path.splitn(3, '/');
    let (Some(module), Some(step), Some(block)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AppError::NotFound);
    };
    let (_, steps, at) = locate(program, record, module, step)?;
    let found = steps[at]
        .blocks
        .iter()
        .find(|b| b.key == block)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((module.to_owned(), found))
}

/// The questionnaire at a place the patient may answer now.
fn questionnaire_at<'p>(
    program: &'p Program,
    record: &Record,
    place: &str,
) -> Result<&'p QuestionnaireDef, AppError> {
    let key = match place.strip_prefix("schedule:") {
        // An instance of a schedule: only the one open now.
        Some(instance) => {
            let (key, number) = instance.split_once('/').ok_or(AppError::NotFound)?;
            let number: u32 = number.parse().map_err(|_| AppError::NotFound)?;
            // One spelling of each instance (not `03` beside `3`): one response for it.
            if place != schedule_place(key, number) {
                return Err(AppError::NotFound);
            }
            // Open now, or answered (a retried send is answered as the first; another, 409).
            let instance = (key.to_owned(), number);
            if !record.due.contains(&instance) && !record.due_answered.contains(&instance) {
                return Err(AppError::NotFound);
            }
            return asked_by(program, key)
                .map(|(q, _)| q)
                .ok_or(AppError::NotFound);
        }
        None => {
            let (_, block) = block_at(program, record, place)?;
            let BlockBody::Questionnaire { questionnaire } = block.body else {
                return Err(AppError::NotFound);
            };
            questionnaire
        }
    };
    program
        .questionnaires
        .iter()
        .find(|q| q.key == key)
        .ok_or(AppError::NotFound)
}

/// The answer to a send of `submit_key` at `place` that was submitted already, if one was.
async fn submitted_before(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    place: &str,
    submit_key: &str,
) -> Result<Option<Answered>, AppError> {
    let row = db
        .query_one(own.statement(
            db,
            &format!(
                "SELECT scores FROM {} r WHERE place = $1 AND idempotency_key = $2 AND state = $3",
                own.form_responses()
            ),
            vec![
                place.into(),
                submit_key.into(),
                ResponseState::Submitted.to_value().into(),
            ],
        ))
        .await?;
    row.map(|row| {
        let scores: String = row.try_get("", "scores")?;
        Ok(Answered {
            submitted: true,
            urgent: is_urgent(&scores),
        })
    })
    .transpose()
}

pub async fn answer<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    own: &OwnEnrolment,
    place: &str,
    fields: &BTreeMap<String, String>,
    submit_key: &str,
    intent: FormIntent,
) -> Result<Answered, AppError> {
    if !own.may_write() {
        // A send that went through before the treatment ended, retried (its answer lost on
        // the way), is answered as it was.
        if intent == FormIntent::Submit
            && let Some(done) = submitted_before(db, own, place, submit_key).await?
        {
            return Ok(done);
        }
        return Err(invalid("enrolment", "treatment_ended"));
    }
    crate::messages::store::check_key(submit_key)?;
    let Frame { program, .. } = frame(db, own).await?;
    let (CareRows { record, .. }, _) = own_record(db, own, &program).await?;
    let def = questionnaire_at(&program, &record, place)?;
    let instrument = def.worded().ok_or(AppError::NotFound)?;
    let answers = parse_answers(&instrument, fields)?;
    let stored = serde_json::to_string(&stored_of(&instrument, &answers))
        .map_err(|_| AppError::Unavailable)?;
    if intent == FormIntent::Save {
        save_draft(db, own, &def.key, place, &stored).await?;
        return Ok(Answered {
            submitted: false,
            urgent: false,
        });
    }
    let previous = record.latest.get(&def.key).and_then(|l| l.total);
    let scored = match score(&instrument, &answers, previous) {
        Ok(scored) => scored,
        Err(error) => {
            // Nothing the patient wrote is lost: the answers stay as the draft.
            save_draft(db, own, &def.key, place, &stored).await?;
            let (item, reason) = match error {
                AnswerError::Missing { item } => (item, "missing_answer"),
                AnswerError::NotAsked { item }
                | AnswerError::NotAllowed { item, .. }
                | AnswerError::WrongKind { item }
                | AnswerError::Repeated { item, .. }
                | AnswerError::TooLong { item, .. }
                | AnswerError::Invalid { item } => (item, "invalid_answer"),
                AnswerError::Count { .. } => (0, "invalid_answer"),
            };
            let code = instrument.items.get(item).map_or("answers", |i| &i.code);
            return Err(invalid(code, reason));
        }
    };
    submit(db, own, &def.key, place, &stored, &scored, submit_key).await
}

async fn save_draft(
    db: &impl ConnectionTrait,
    own: &impl EnrolmentScope,
    questionnaire: &str,
    place: &str,
    stored: &str,
) -> Result<(), AppError> {
    let saved = db
        .execute(statement(
            db,
            "INSERT INTO form_response \
               (enrolment_id, program_version_id, questionnaire_key, place, state, answers, scores, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, '{}', $7) \
             ON CONFLICT (enrolment_id, place) DO UPDATE \
               SET answers = excluded.answers, updated_at = excluded.updated_at, \
                   program_version_id = excluded.program_version_id \
               WHERE form_response.state = excluded.state",
            vec![
                own.id().into(),
                own.version_id().into(),
                questionnaire.into(),
                place.into(),
                ResponseState::Draft.to_value().into(),
                stored.into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    if saved.rows_affected() == 0 {
        return Err(AppError::Conflict);
    }
    Ok(())
}

/// Submits in one transaction: the response turns from draft to submitted only once (the
/// `state = draft` condition decides between concurrent submits), and its flags are raised in
/// the same transaction, one per alert rule.
async fn submit<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    own: &OwnEnrolment,
    questionnaire: &str,
    place: &str,
    stored: &str,
    scored: &Scored,
    submit_key: &str,
) -> Result<Answered, AppError> {
    let scores = serde_json::to_string(scored).map_err(|_| AppError::Unavailable)?;
    let urgent = scored.alerts.iter().any(|a| a.priority == Priority::Urgent);
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // The treatment is read again, and held against a change of state until the commit: a
    // therapist ending it at this moment waits for this answer and sees its flag (an urgent one
    // stops the ending), or this answer finds the treatment ended. A flag is never raised on a
    // treatment no dashboard shows.
    if let Err(error) = own.hold_ongoing(&txn).await {
        txn.rollback().await?;
        return Err(error);
    }
    txn.execute(statement(
        &txn,
        "INSERT INTO form_response \
           (enrolment_id, program_version_id, questionnaire_key, place, state, answers, scores, updated_at) \
         VALUES ($1, $2, $3, $4, $5, '{}', '{}', $6) \
         ON CONFLICT (enrolment_id, place) DO NOTHING",
        vec![
            own.id().into(),
            own.version_id().into(),
            questionnaire.into(),
            place.into(),
            ResponseState::Draft.to_value().into(),
            now.into(),
        ],
    ))
    .await?;
    let changed = txn
        .execute(statement(
            &txn,
            "UPDATE form_response SET state = $1, answers = $2, total = $3, band = $4, scores = $5, \
                    idempotency_key = $6, program_version_id = $7, updated_at = $8, submitted_at = $9 \
             WHERE enrolment_id = $10 AND place = $11 AND state = $12",
            vec![
                ResponseState::Submitted.to_value().into(),
                stored.into(),
                scored.total.into(),
                scored.band.clone().into(),
                scores.into(),
                submit_key.into(),
                own.version_id().into(),
                now.into(),
                now.into(),
                own.id().into(),
                place.into(),
                ResponseState::Draft.to_value().into(),
            ],
        ))
        .await?;
    let row = txn
        .query_one(own.statement(
            &txn,
            &format!(
                "SELECT id, idempotency_key, scores FROM {} r WHERE place = $1",
                own.form_responses()
            ),
            vec![place.into()],
        ))
        .await?
        .ok_or(AppError::Unavailable)?;
    if changed.rows_affected() == 0 {
        // Submitted before: the same submit again is answered as it was; another is refused.
        txn.rollback().await?;
        let key: Option<String> = row.try_get("", "idempotency_key")?;
        let scores: String = row.try_get("", "scores")?;
        return match key.as_deref() == Some(submit_key) {
            true => Ok(Answered {
                submitted: true,
                urgent: is_urgent(&scores),
            }),
            false => Err(AppError::Conflict),
        };
    }
    let response_id: i64 = row.try_get("", "id")?;
    if let Some((key, number)) = place
        .strip_prefix("schedule:")
        .and_then(|i| i.split_once('/'))
    {
        txn.execute(statement(
            &txn,
            &format!(
                "UPDATE due_form SET state = '{ANSWERED}', response_id = $1, updated_at = $2 \
                 WHERE enrolment_id = $3 AND schedule_key = $4 AND occurrence = $5 \
                 AND state <> '{ANSWERED}'"
            ),
            vec![
                response_id.into(),
                now.into(),
                own.id().into(),
                key.into(),
                number.parse::<i64>().unwrap_or(-1).into(),
            ],
        ))
        .await?;
    }
    let mut urgent_raised = false;
    for alert in &scored.alerts {
        let raised = txn
            .execute(statement(
                &txn,
                "INSERT INTO flag (enrolment_id, kind, priority, reason, response_id, raised_at) \
             VALUES ($1, 'automatic', $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                vec![
                    own.id().into(),
                    FlagPriority::of_alert(alert.priority).to_value().into(),
                    alert.code.clone().into(),
                    response_id.into(),
                    now.into(),
                ],
            ))
            .await?;
        urgent_raised |= raised.rows_affected() > 0 && alert.priority == Priority::Urgent;
    }
    // The care team hears of an urgent flag at once (a notice without content).
    if urgent_raised {
        for staff in own.care_team(&txn).await? {
            let to = crate::notify::Recipient::Staff(staff);
            crate::notify::enqueue(&txn, to, crate::notify::Template::UrgentFlag, now).await?;
        }
    }
    let kind = match scored.alerts.is_empty() {
        true => crate::live::EventKind::Answer,
        false => crate::live::EventKind::Flag,
    };
    own.record_event(&txn, kind, now).await?;
    txn.commit().await?;
    crate::live::wake();
    Ok(Answered {
        submitted: true,
        urgent,
    })
}

/// A worksheet's or exercise's kind and fields, for a block that is one.
fn homework_fields(block: &Block) -> Option<(HomeworkKind, &[Field])> {
    match &block.body {
        BlockBody::Worksheet { fields, .. } => Some((HomeworkKind::Worksheet, fields)),
        BlockBody::Exercise { fields, .. } => Some((HomeworkKind::Exercise, fields)),
        _ => None,
    }
}

type Values = BTreeMap<String, String>;

fn stamp(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// The worksheets and exercises on a page, as far as the patient has written them.
async fn homework_on(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    module_key: &str,
    step: &Step,
) -> Result<Vec<HomeworkState>, AppError> {
    let mut out = Vec::new();
    for block in &step.blocks {
        let Some((kind, _)) = homework_fields(block) else {
            continue;
        };
        let place = block_place(module_key, &step.key, &block.key);
        let rows = db
            .query_all(own.statement(
                db,
                &format!(
                    "SELECT state, fields, updated_at FROM {} h WHERE place = $1 AND kind = '{}' \
                     ORDER BY updated_at DESC, id DESC",
                    own.homework(),
                    kind.code()
                ),
                vec![place.clone().into()],
            ))
            .await?;
        let mut state = HomeworkState {
            block_key: block.key.clone(),
            place,
            kind,
            submitted: false,
            values: Values::new(),
            saved_at: None,
            entries: Vec::new(),
            submit_key: crate::auth::session::new_token()?,
        };
        for row in rows {
            let fields: String = row.try_get("", "fields")?;
            let values: Values = serde_json::from_str(&fields).unwrap_or_default();
            let at: chrono::DateTime<Utc> = row.try_get("", "updated_at")?;
            match kind {
                HomeworkKind::Worksheet => {
                    let row_state: ResponseState = row.try_get("", "state")?;
                    state.submitted = row_state == ResponseState::Submitted;
                    state.values = values;
                    state.saved_at = Some(stamp(at));
                }
                HomeworkKind::Exercise => state.entries.push(HomeworkEntry {
                    at: stamp(at),
                    values,
                }),
            }
        }
        out.push(state);
    }
    Ok(out)
}

/// Saves a worksheet's draft, submits it (then it is locked), or adds an exercise entry. A
/// retry with the same key is answered as the first one was; a key used for another block is
/// refused.
pub async fn save_homework<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    own: &OwnEnrolment,
    place: &str,
    sent: &BTreeMap<String, String>,
    submit_key: &str,
    intent: FormIntent,
) -> Result<(), AppError> {
    crate::messages::store::check_key(submit_key)?;
    // A retry (the same key, place and values) is answered as the first send was, whatever
    // happened since; the same key with anything else (a stale page) is refused, never dropped.
    if let Some(earlier) = homework_with_key(db, own, submit_key).await? {
        return match earlier == (place.to_owned(), homework::normalised(sent)) {
            true => Ok(()),
            false => Err(AppError::Conflict),
        };
    }
    if !own.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let Frame { program, .. } = frame(db, own).await?;
    let (CareRows { record, .. }, _) = own_record(db, own, &program).await?;
    let (module_key, block) = block_at(&program, &record, place)?;
    let (kind, fields) = homework_fields(&block).ok_or(AppError::NotFound)?;
    let complete = intent == FormIntent::Submit;
    if kind == HomeworkKind::Exercise && !complete {
        return Err(invalid("intent", "no_draft"));
    }
    let kept = match homework::check_fields(fields, sent, complete) {
        Ok(kept) => kept,
        Err(problem) => {
            // A worksheet sent with a field missing keeps what was written, as its draft.
            if kind == HomeworkKind::Worksheet
                && complete
                && let Ok(draft) = homework::check_fields(fields, sent, false)
            {
                worksheet_draft(db, own, &module_key, place, &draft).await?;
            }
            return Err(invalid(&problem.field, problem.reason));
        }
    };
    match (kind, intent) {
        (HomeworkKind::Worksheet, FormIntent::Save) => {
            worksheet_draft(db, own, &module_key, place, &kept).await
        }
        (HomeworkKind::Worksheet, FormIntent::Submit) => {
            submit_worksheet(db, own, &module_key, place, &kept, submit_key).await
        }
        (HomeworkKind::Exercise, _) => {
            add_entry(db, own, &module_key, place, &kept, submit_key).await
        }
    }
}

/// The place and values of the homework row written with this key, if there is one.
async fn homework_with_key(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    key: &str,
) -> Result<Option<(String, Values)>, AppError> {
    let row = db
        .query_one(own.statement(
            db,
            &format!(
                "SELECT place, fields FROM {} h WHERE idempotency_key = $1",
                own.homework()
            ),
            vec![key.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let fields: String = row.try_get("", "fields")?;
    Ok(Some((
        row.try_get("", "place")?,
        serde_json::from_str(&fields).unwrap_or_default(),
    )))
}

fn to_json(values: &Values) -> Result<String, AppError> {
    serde_json::to_string(values).map_err(|_| AppError::Unavailable)
}

async fn worksheet_draft(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    module_key: &str,
    place: &str,
    values: &Values,
) -> Result<(), AppError> {
    let saved = db
        .execute(statement(
            db,
            "INSERT INTO homework_entry \
               (enrolment_id, program_version_id, module_key, place, kind, state, fields, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (enrolment_id, place) WHERE kind = 'worksheet' DO UPDATE \
               SET fields = excluded.fields, updated_at = excluded.updated_at, \
                   program_version_id = excluded.program_version_id \
               WHERE homework_entry.state = excluded.state",
            vec![
                own.id().into(),
                own.version_id().into(),
                module_key.into(),
                place.into(),
                HomeworkKind::Worksheet.code().into(),
                ResponseState::Draft.to_value().into(),
                to_json(values)?.into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    if saved.rows_affected() == 0 {
        return Err(AppError::Conflict);
    }
    Ok(())
}

/// Submits a worksheet in one transaction: it turns from draft to submitted only once.
async fn submit_worksheet<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    own: &OwnEnrolment,
    module_key: &str,
    place: &str,
    values: &Values,
    submit_key: &str,
) -> Result<(), AppError> {
    let now = Utc::now();
    let txn = begin_write(db).await?;
    txn.execute(statement(
        &txn,
        "INSERT INTO homework_entry \
           (enrolment_id, program_version_id, module_key, place, kind, state, fields, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, '{}', $7) \
         ON CONFLICT (enrolment_id, place) WHERE kind = 'worksheet' DO NOTHING",
        vec![
            own.id().into(),
            own.version_id().into(),
            module_key.into(),
            place.into(),
            HomeworkKind::Worksheet.code().into(),
            ResponseState::Draft.to_value().into(),
            now.into(),
        ],
    ))
    .await?;
    let changed = txn
        .execute(statement(
            &txn,
            "UPDATE homework_entry SET state = $1, fields = $2, idempotency_key = $3, \
                    program_version_id = $4, updated_at = $5, submitted_at = $5 \
             WHERE enrolment_id = $6 AND place = $7 AND kind = 'worksheet' AND state = $8",
            vec![
                ResponseState::Submitted.to_value().into(),
                to_json(values)?.into(),
                submit_key.into(),
                own.version_id().into(),
                now.into(),
                own.id().into(),
                place.into(),
                ResponseState::Draft.to_value().into(),
            ],
        ))
        .await?;
    if own
        .commit_if(
            txn,
            changed.rows_affected() == 1,
            crate::live::EventKind::Homework,
            now,
        )
        .await?
    {
        return Ok(());
    }
    // Submitted before, maybe by this very submit at the same moment.
    match homework_with_key(db, own, submit_key).await? {
        Some(earlier) if earlier == (place.to_owned(), values.clone()) => Ok(()),
        _ => Err(AppError::Conflict),
    }
}

/// Adds an exercise entry: the count and the insert in one transaction, so the limit holds.
async fn add_entry<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    own: &OwnEnrolment,
    module_key: &str,
    place: &str,
    values: &Values,
    submit_key: &str,
) -> Result<(), AppError> {
    let txn = begin_write(db).await?;
    let count = txn
        .query_one(own.statement(
            &txn,
            &format!(
                "SELECT COUNT(*) AS n FROM {} h WHERE place = $1 AND kind = '{}'",
                own.homework(),
                HomeworkKind::Exercise.code()
            ),
            vec![place.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if count >= homework::MAX_ENTRIES {
        txn.rollback().await?;
        return Err(invalid("fields", "too_many_entries"));
    }
    let now = Utc::now();
    let inserted = txn
        .execute(statement(
            &txn,
            "INSERT INTO homework_entry \
               (enrolment_id, program_version_id, module_key, place, kind, state, fields, \
                idempotency_key, updated_at, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (enrolment_id, idempotency_key) DO NOTHING",
            vec![
                own.id().into(),
                own.version_id().into(),
                module_key.into(),
                place.into(),
                HomeworkKind::Exercise.code().into(),
                ResponseState::Submitted.to_value().into(),
                to_json(values)?.into(),
                submit_key.into(),
                now.into(),
            ],
        ))
        .await?;
    if own
        .commit_if(
            txn,
            inserted.rows_affected() == 1,
            crate::live::EventKind::Homework,
            now,
        )
        .await?
    {
        return Ok(());
    }
    // The key was used at the same moment: the same entry is a retry, anything else is not kept.
    match homework_with_key(db, own, submit_key).await? {
        Some(earlier) if earlier == (place.to_owned(), values.clone()) => Ok(()),
        _ => Err(AppError::Conflict),
    }
}

/// Every block of a module, with the title of its page, whatever the patient is shown now.
fn blocks_of(module: &crate::programs::Module) -> impl Iterator<Item = (&Step, &Block)> {
    module
        .sections
        .iter()
        .flat_map(|section| &section.steps)
        .flat_map(|step| step.blocks.iter().map(move |block| (step, block)))
}

/// The enrolment's modules as the care team sees them: where the patient is, the homework they
/// submitted (drafts are the patient's own), and the feedback given.
pub async fn staff_modules(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
    reader: i64,
) -> Result<Vec<StaffModule>, AppError> {
    let on_team = enrolment.on_team(db, reader).await?;
    let Frame { program, .. } = frame(db, enrolment).await?;
    let CareRows {
        record, feedback, ..
    } = care_rows(db, enrolment).await?;
    let statuses = progress::statuses(&program, &record);
    let (mut feedback, _) = feedback_views(&feedback);
    let rows = db
        .query_all(enrolment.statement(
            db,
            &format!(
                "SELECT module_key, place, kind, fields, submitted_at FROM {} h \
                 WHERE state = $1 ORDER BY submitted_at, id",
                enrolment.homework()
            ),
            vec![ResponseState::Submitted.to_value().into()],
        ))
        .await?;
    let mut answers: BTreeMap<String, Vec<HomeworkAnswer>> = BTreeMap::new();
    for row in rows {
        let module_key: String = row.try_get("", "module_key")?;
        let place: String = row.try_get("", "place")?;
        let fields: String = row.try_get("", "fields")?;
        let values: Values = serde_json::from_str(&fields).unwrap_or_default();
        let at: Option<chrono::DateTime<Utc>> = row.try_get("", "submitted_at")?;
        let block_key = place.rsplit('/').next().unwrap_or_default();
        let kind = match row.try_get::<String>("", "kind")?.as_str() {
            "exercise" => HomeworkKind::Exercise,
            _ => HomeworkKind::Worksheet,
        };
        let defined = program
            .modules
            .iter()
            .find(|m| m.key == module_key)
            .and_then(|module| blocks_of(module).find(|(_, b)| b.key == block_key))
            .and_then(|(step, block)| Some((step, homework_fields(block)?.1)));
        // Under a version that no longer has the block, it is shown by its keys: what the
        // patient submitted is never hidden from the care team.
        let (page, fields) = match defined {
            Some((step, fields)) => (step.title.clone(), homework::labelled(fields, &values)),
            None => (block_key.to_owned(), values.into_iter().collect()),
        };
        answers.entry(module_key).or_default().push(HomeworkAnswer {
            page,
            kind,
            at: at.map(stamp).unwrap_or_default(),
            fields,
        });
    }
    Ok(program
        .modules
        .iter()
        .zip(statuses)
        .map(|(module, status)| {
            let feedback = feedback.remove(&module.key);
            StaffModule {
                key: module.key.clone(),
                title: module.title.clone(),
                status,
                may_give_feedback: on_team
                    && enrolment.may_write()
                    && status.is_open()
                    && feedback.is_none(),
                may_set: on_team && enrolment.may_write(),
                feedback,
                homework: answers.remove(&module.key).unwrap_or_default(),
            }
        })
        .collect())
}

/// What a therapist does to one module of one patient's treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleAction {
    /// Open it now, whatever its rule (and show it, if it was hidden).
    Unlock,
    /// Hide it from the patient.
    Hide,
    /// Back to the program's rule: shown, and opened when the rule says.
    Reset,
}

/// A therapist on the care team opens a module early, hides it, or puts it back under the
/// program's rule, while the treatment goes on. Doing what is done already changes nothing.
pub async fn set_module(
    db: &(impl ConnectionTrait + TransactionTrait),
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
    module_key: &str,
    action: ModuleAction,
) -> Result<(), AppError> {
    if !enrolment.on_team(db, staff_person_id).await? {
        return Err(AppError::Forbidden);
    }
    if !enrolment.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let Frame { program, .. } = frame(db, enrolment).await?;
    if !program.modules.iter().any(|m| m.key == module_key) {
        return Err(invalid("module", "unknown_module"));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    if let Err(error) = enrolment.hold_ongoing(&txn).await {
        txn.rollback().await?;
        return Err(error);
    }
    let changed = match action {
        ModuleAction::Reset => txn
            .execute(enrolment.statement(
                &txn,
                &format!(
                    "DELETE FROM module_override WHERE module_key = $1 \
                     AND enrolment_id IN (SELECT x.id FROM {} x)",
                    enrolment.enrolment_row()
                ),
                vec![module_key.into()],
            ))
            .await?
            .rows_affected(),
        ModuleAction::Unlock | ModuleAction::Hide => {
            let hide = action == ModuleAction::Hide;
            let unlocked: Option<chrono::DateTime<Utc>> = (!hide).then_some(now);
            // An early opening is kept while the module is hidden, and shown again with it.
            txn.execute(enrolment.statement(
                &txn,
                &format!(
                    "INSERT INTO module_override \
                       (enrolment_id, module_key, unlocked_at, hidden, changed_by, changed_at) \
                     SELECT x.id, $1, $2, $3, $4, $5 FROM {} x WHERE 1 = 1 \
                     ON CONFLICT (enrolment_id, module_key) DO UPDATE SET \
                       unlocked_at = COALESCE(module_override.unlocked_at, excluded.unlocked_at), \
                       hidden = excluded.hidden, changed_by = excluded.changed_by, \
                       changed_at = excluded.changed_at \
                     WHERE module_override.hidden <> excluded.hidden \
                       OR (module_override.unlocked_at IS NULL AND excluded.unlocked_at IS NOT NULL)",
                    enrolment.enrolment_row()
                ),
                vec![
                    module_key.into(),
                    unlocked.into(),
                    hide.into(),
                    staff_person_id.into(),
                    now.into(),
                ],
            ))
            .await?
            .rows_affected()
        }
    };
    enrolment
        .commit_if(txn, changed > 0, crate::live::EventKind::Progress, now)
        .await?;
    Ok(())
}

/// The treatment's extra forms, newest first, and the questionnaires `reader` may ask for (a
/// therapist on the care team, while the treatment goes on at the reader's unit).
pub async fn extra_forms(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
    reader: i64,
) -> Result<super::ExtraForms, AppError> {
    use super::{ExtraForm, ExtraFormState, FormChoice};
    let Frame { program, .. } = frame(db, enrolment).await?;
    let today = day_text(crate::domain::time::stockholm_day(Utc::now()));
    let mut forms: Vec<(&DueRow, ExtraForm)> = Vec::new();
    let rows = due_rows(db, enrolment).await?;
    for row in &rows {
        let Some(questionnaire) = super::extra_questionnaire(&row.schedule_key) else {
            continue;
        };
        let state = if row.state == ANSWERED {
            ExtraFormState::Answered
        } else if row.is_open() && row.closes_on > today {
            ExtraFormState::Open
        } else {
            ExtraFormState::Closed
        };
        let title = program
            .questionnaires
            .iter()
            .find(|q| q.key == questionnaire)
            .map_or_else(|| questionnaire.to_owned(), |q| q.title.clone());
        forms.push((
            row,
            ExtraForm {
                schedule: row.schedule_key.clone(),
                title,
                asked_on: row.due_on.clone(),
                last_day: last_day(&row.closes_on),
                state,
            },
        ));
    }
    forms.sort_by(|(a, _), (b, _)| {
        (&b.due_on, &b.schedule_key, b.occurrence).cmp(&(&a.due_on, &a.schedule_key, a.occurrence))
    });
    let may_ask = enrolment.may_write() && enrolment.on_team(db, reader).await?;
    let choices = if may_ask {
        program
            .questionnaires
            .iter()
            .filter(|q| q.worded().is_some())
            .map(|q| FormChoice {
                key: q.key.clone(),
                title: q.title.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(super::ExtraForms {
        forms: forms.into_iter().map(|(_, f)| f).collect(),
        choices,
    })
}

/// A therapist on the care team asks the patient to answer one of the program's questionnaires
/// now, open for `days` days from today (Swedish days): a due form the patient's pages show
/// like a scheduled one, never blocking. The patient is told, without content. One extra form
/// of a questionnaire is open at a time: asking again while one is open is refused (422).
pub async fn request_form(
    db: &(impl ConnectionTrait + TransactionTrait),
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
    questionnaire: &str,
    days: u32,
) -> Result<(), AppError> {
    if !enrolment.on_team(db, staff_person_id).await? {
        return Err(AppError::Forbidden);
    }
    if !enrolment.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    if !super::EXTRA_DAYS.contains(&days) {
        return Err(invalid("days", "extra_form_days"));
    }
    let Frame { program, .. } = frame(db, enrolment).await?;
    if !program
        .questionnaires
        .iter()
        .any(|q| q.key == questionnaire && q.worded().is_some())
    {
        return Err(invalid("questionnaire", "unknown_questionnaire"));
    }
    let schedule = super::extra_schedule(questionnaire);
    let now = Utc::now();
    let today = crate::domain::time::stockholm_day(now);
    let closes = today + chrono::Days::new(u64::from(days));
    let txn = begin_write(db).await?;
    if let Err(error) = enrolment.hold_ongoing(&txn).await {
        txn.rollback().await?;
        return Err(error);
    }
    // One whose last day passed lapses first: it no longer holds the questionnaire's place.
    txn.execute(enrolment.statement(
        &txn,
        &format!(
            "UPDATE due_form SET state = '{EXPIRED}', updated_at = $1 \
             WHERE schedule_key = $2 AND state IN ('{PLANNED}', '{SHOWN}') AND closes_on <= $3 \
             AND enrolment_id IN (SELECT x.id FROM {} x)",
            enrolment.enrolment_row()
        ),
        vec![now.into(), schedule.clone().into(), day_text(today).into()],
    ))
    .await?;
    let next: i64 = match txn
        .query_one(enrolment.statement(
            &txn,
            &format!(
                "SELECT CAST(COALESCE(MAX(occurrence) + 1, 0) AS BIGINT) AS next FROM {} d \
                 WHERE schedule_key = $1",
                enrolment.due_forms()
            ),
            vec![schedule.clone().into()],
        ))
        .await?
    {
        Some(row) => row.try_get("", "next")?,
        None => 0,
    };
    // An open one of the questionnaire (or the same request made at once) wins.
    let made = txn
        .execute(enrolment.statement(
            &txn,
            &format!(
                "INSERT INTO due_form (enrolment_id, program_version_id, schedule_key, occurrence, \
                   questionnaire_key, due_on, closes_on, blocking, state, requested_by, \
                   created_at, updated_at) \
                 SELECT x.id, x.program_version_id, $1, $2, $3, $4, $5, $6, '{PLANNED}', $7, $8, $8 \
                 FROM {} x WHERE 1 = 1 ON CONFLICT DO NOTHING",
                enrolment.enrolment_row()
            ),
            vec![
                schedule.into(),
                next.into(),
                questionnaire.into(),
                day_text(today).into(),
                day_text(closes).into(),
                false.into(),
                staff_person_id.into(),
                now.into(),
            ],
        ))
        .await?
        .rows_affected();
    if made == 0 {
        txn.rollback().await?;
        return Err(invalid("questionnaire", "extra_form_open"));
    }
    let to = crate::notify::Recipient::Patient(enrolment.patient_id());
    crate::notify::enqueue(&txn, to, crate::notify::Template::FormDue, now).await?;
    enrolment
        .record_event(&txn, crate::live::EventKind::Progress, now)
        .await?;
    txn.commit().await?;
    crate::live::wake();
    Ok(())
}

/// A therapist on the care team withdraws an extra form the patient has not answered: it
/// closes, and the patient's pages no longer ask it. One no longer open changes nothing.
pub async fn withdraw_form(
    db: &(impl ConnectionTrait + TransactionTrait),
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
    schedule: &str,
) -> Result<(), AppError> {
    if !enrolment.on_team(db, staff_person_id).await? {
        return Err(AppError::Forbidden);
    }
    if !enrolment.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    if super::extra_questionnaire(schedule).is_none() {
        return Err(AppError::NotFound);
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    if let Err(error) = enrolment.hold_ongoing(&txn).await {
        txn.rollback().await?;
        return Err(error);
    }
    let closed = txn
        .execute(enrolment.statement(
            &txn,
            &format!(
                "UPDATE due_form SET state = '{EXPIRED}', updated_at = $1 \
                 WHERE schedule_key = $2 AND state IN ('{PLANNED}', '{SHOWN}') \
                 AND enrolment_id IN (SELECT x.id FROM {} x)",
                enrolment.enrolment_row()
            ),
            vec![now.into(), schedule.into()],
        ))
        .await?
        .rows_affected();
    enrolment
        .commit_if(txn, closed > 0, crate::live::EventKind::Progress, now)
        .await?;
    Ok(())
}

/// The therapist's feedback on a module the patient has open: given once per module (a retry
/// with the same key is answered as the first one was; another is refused, 409).
pub async fn give_feedback(
    db: &(impl ConnectionTrait + TransactionTrait),
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
    module_key: &str,
    body: &str,
    submit_key: &str,
) -> Result<(), AppError> {
    crate::messages::store::check_key(submit_key)?;
    if !enrolment.on_team(db, staff_person_id).await? {
        return Err(AppError::Forbidden);
    }
    let body = crate::messages::text::clean(body).map_err(|e| invalid("body", e.code()))?;
    // A retry (the same key and text) is answered as the first was; anything else is refused.
    if let Some(given) = feedback_given(db, enrolment, module_key).await? {
        return match given == (submit_key.to_owned(), body) {
            true => Ok(()),
            false => Err(AppError::Conflict),
        };
    }
    if !enrolment.may_write() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let Frame { program, .. } = frame(db, enrolment).await?;
    let record = care_rows(db, enrolment).await?.record;
    let index = program
        .modules
        .iter()
        .position(|m| m.key == module_key)
        .ok_or(AppError::NotFound)?;
    if !progress::statuses(&program, &record)[index].is_open() {
        return Err(invalid("module", "module_locked"));
    }
    let txn = db.begin().await?;
    let inserted = txn
        .execute(statement(
            &txn,
            "INSERT INTO module_feedback \
               (enrolment_id, module_key, staff_person_id, body, idempotency_key, given_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (enrolment_id, module_key) DO NOTHING",
            vec![
                enrolment.id().into(),
                module_key.into(),
                staff_person_id.into(),
                body.clone().into(),
                submit_key.into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 1 {
        let patient = crate::notify::Recipient::Patient(enrolment.patient_id());
        crate::notify::enqueue(
            &txn,
            patient,
            crate::notify::Template::NewFeedback,
            Utc::now(),
        )
        .await?;
        enrolment
            .record_event(&txn, crate::live::EventKind::Feedback, Utc::now())
            .await?;
        txn.commit().await?;
        crate::live::wake();
        return Ok(());
    }
    txn.rollback().await?;
    // Given at the same moment by another request.
    match feedback_given(db, enrolment, module_key).await? {
        Some(given) if given == (submit_key.to_owned(), body) => Ok(()),
        _ => Err(AppError::Conflict),
    }
}

/// The key and text of the feedback on a module, once given.
async fn feedback_given(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
    module_key: &str,
) -> Result<Option<(String, String)>, AppError> {
    let row = db
        .query_one(enrolment.statement(
            db,
            &format!(
                "SELECT idempotency_key, body FROM {} f WHERE module_key = $1",
                enrolment.feedback()
            ),
            vec![module_key.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get("", "idempotency_key")?,
        row.try_get("", "body")?,
    )))
}

/// One treatment's record for the patient to take home: every answer (drafts too, marked),
/// homework, feedback, messages and pages opened, labelled from the version followed (keys
/// where the version no longer has them). Reads only; marks nothing read.
pub async fn export(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
) -> Result<TreatmentRecord, AppError> {
    let Frame { program, unit, .. } = frame(db, own).await?;
    let about = db
        .query_one(statement(
            db,
            "SELECT v.major, v.minor, c.name AS provider, e.started_at \
             FROM enrolment e JOIN program_version v ON v.id = e.program_version_id \
             JOIN care_unit u ON u.id = e.care_unit_id \
             JOIN care_provider c ON c.id = u.care_provider_id WHERE e.id = $1",
            vec![own.id().into()],
        ))
        .await?
        .ok_or(AppError::NotFound)?;
    let started: chrono::DateTime<Utc> = about.try_get("", "started_at")?;
    let module_title = |key: &str| {
        program
            .modules
            .iter()
            .find(|m| m.key == key)
            .map_or_else(|| key.to_owned(), |m| m.title.clone())
    };
    let page_title = |module: &str, step: &str| {
        program
            .modules
            .iter()
            .find(|m| m.key == module)
            .and_then(|m| blocks_of(m).map(|(s, _)| s).find(|s| s.key == step))
            .or_else(|| {
                program
                    .modules
                    .iter()
                    .find(|m| m.key == module)
                    .and_then(|m| {
                        m.sections
                            .iter()
                            .flat_map(|s| &s.steps)
                            .find(|s| s.key == step)
                    })
            })
            .map_or_else(|| step.to_owned(), |s| s.title.clone())
    };
    let mut pages_seen = Vec::new();
    for row in db
        .query_all(own.statement(
            db,
            &format!(
                "SELECT module_key, step_key, first_seen_at FROM {} v ORDER BY first_seen_at, id",
                own.page_visits()
            ),
            vec![],
        ))
        .await?
    {
        let module: String = row.try_get("", "module_key")?;
        let step: String = row.try_get("", "step_key")?;
        let at: chrono::DateTime<Utc> = row.try_get("", "first_seen_at")?;
        pages_seen.push((module_title(&module), page_title(&module, &step), stamp(at)));
    }
    let mut answers = Vec::new();
    for row in db
        .query_all(own.statement(
            db,
            &format!(
                "SELECT questionnaire_key, state, answers, total, band, updated_at FROM {} r \
                 ORDER BY updated_at, id",
                own.form_responses()
            ),
            vec![],
        ))
        .await?
    {
        let key: String = row.try_get("", "questionnaire_key")?;
        let state: ResponseState = row.try_get("", "state")?;
        let stored: String = row.try_get("", "answers")?;
        let stored: Stored = serde_json::from_str(&stored).unwrap_or_default();
        let at: chrono::DateTime<Utc> = row.try_get("", "updated_at")?;
        let def = program.questionnaires.iter().find(|q| q.key == key);
        let shown = |answer: &Answer| match answer {
            Answer::Value(v) => v.to_string(),
            Answer::Values(vs) => vs.iter().map(i32::to_string).collect::<Vec<_>>().join(", "),
            Answer::Text(t) => t.clone(),
        };
        let items = match def.and_then(QuestionnaireDef::worded) {
            Some(instrument) => instrument
                .items
                .iter()
                .filter_map(|item| {
                    let answer = stored.get(&item.code)?;
                    Some((
                        item.text.clone().unwrap_or_else(|| item.code.clone()),
                        shown(answer),
                    ))
                })
                .collect(),
            None => stored
                .iter()
                .map(|(code, a)| (code.clone(), shown(a)))
                .collect(),
        };
        answers.push(AnswerRecord {
            questionnaire: def.map_or_else(|| key.clone(), |d| d.title.clone()),
            submitted: state == ResponseState::Submitted,
            at: stamp(at),
            total: row.try_get("", "total")?,
            band: row.try_get("", "band")?,
            items,
        });
    }
    let mut homework_rows = Vec::new();
    for row in db
        .query_all(own.statement(
            db,
            &format!(
                "SELECT module_key, place, kind, state, fields, updated_at FROM {} h \
                 ORDER BY updated_at, id",
                own.homework()
            ),
            vec![],
        ))
        .await?
    {
        let module_key: String = row.try_get("", "module_key")?;
        let place: String = row.try_get("", "place")?;
        let block_key = place.rsplit('/').next().unwrap_or_default().to_owned();
        let fields: String = row.try_get("", "fields")?;
        let values: Values = serde_json::from_str(&fields).unwrap_or_default();
        let state: ResponseState = row.try_get("", "state")?;
        let at: chrono::DateTime<Utc> = row.try_get("", "updated_at")?;
        let kind = match row.try_get::<String>("", "kind")?.as_str() {
            "exercise" => HomeworkKind::Exercise,
            _ => HomeworkKind::Worksheet,
        };
        let defined = program
            .modules
            .iter()
            .find(|m| m.key == module_key)
            .and_then(|m| blocks_of(m).find(|(_, b)| b.key == block_key))
            .and_then(|(step, block)| Some((step, homework_fields(block)?.1)));
        let (page, fields) = match defined {
            Some((step, fields)) => (step.title.clone(), homework::labelled(fields, &values)),
            None => (block_key, values.into_iter().collect()),
        };
        homework_rows.push(HomeworkRecord {
            page,
            kind,
            submitted: state == ResponseState::Submitted,
            at: stamp(at),
            fields,
        });
    }
    let feedback = feedback_views(&care_rows(db, own).await?.feedback)
        .0
        .into_iter()
        .map(|(module, view)| (module_title(&module), view))
        .collect();
    Ok(TreatmentRecord {
        program: program.title.clone(),
        version: format!(
            "{}.{}",
            about.try_get::<i32>("", "major")?,
            about.try_get::<i32>("", "minor")?
        ),
        care_unit: unit.name,
        care_provider: about.try_get("", "provider")?,
        state: own.state(),
        started: started.format("%Y-%m-%d").to_string(),
        pages_seen,
        answers,
        homework: homework_rows,
        feedback,
        messages: crate::messages::store::patient_messages(db, own).await?,
    })
}
