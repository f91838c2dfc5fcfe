//! The patient's care record: pages seen and questionnaire answers, read and written for one
//! enrolment of theirs. Every function takes the [`OwnEnrolment`] their session reached and
//! every statement is limited to it.

use super::progress::{self, Latest, ModuleStatus, Record};
use super::{
    Answered, FormIntent, FormState, ModuleView, PageLink, PatientPage, Treatment, block_place,
};
use crate::auth::scope::OwnEnrolment;
use crate::db::entities::{care_unit, program_version};
use crate::db::{begin_write, statement};
use crate::domain::{FlagPriority, ResponseState};
use crate::error::AppError;
use crate::instruments::{Answer, AnswerError, Instrument, ItemKind, Priority, Scored, score};
use crate::programs::{BlockBody, Program, QuestionnaireDef, Step};
use chrono::Utc;
use sea_orm::{ActiveEnum, ConnectionTrait, DbErr, EntityTrait, TransactionTrait};
use std::collections::BTreeMap;

/// The version the patient follows, and their unit.
struct Frame {
    program: Program,
    program_id: i64,
    unit: care_unit::Model,
}

async fn frame(db: &impl ConnectionTrait, own: &OwnEnrolment) -> Result<Frame, AppError> {
    let version = program_version::Entity::find_by_id(own.version_id())
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let program: Program = version
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .ok_or_else(|| {
            tracing::error!(
                version = version.id,
                "a followed version has no readable content"
            );
            AppError::Unavailable
        })?;
    let unit = care_unit::Entity::find_by_id(own.unit_id())
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Frame {
        program,
        program_id: version.program_id,
        unit,
    })
}

/// Stored answers: item code → answer.
type Stored = BTreeMap<String, Answer>;

async fn read_record(db: &impl ConnectionTrait, own: &OwnEnrolment) -> Result<Record, DbErr> {
    let mut record = Record::default();
    let visits = db
        .query_all(statement(
            db,
            &format!("SELECT module_key, step_key FROM {} v", own.page_visits()),
            vec![],
        ))
        .await?;
    for row in visits {
        record
            .seen
            .insert((row.try_get("", "module_key")?, row.try_get("", "step_key")?));
    }
    let answered = db
        .query_all(statement(
            db,
            &format!(
                "SELECT questionnaire_key, answers, total FROM {} r WHERE state = $1 \
                 ORDER BY submitted_at, id",
                own.form_responses()
            ),
            vec![ResponseState::Submitted.to_value().into()],
        ))
        .await?;
    for row in answered {
        let key: String = row.try_get("", "questionnaire_key")?;
        let answers: String = row.try_get("", "answers")?;
        let stored: Stored = serde_json::from_str(&answers).unwrap_or_default();
        record.latest.insert(
            key,
            Latest {
                total: row.try_get("", "total")?,
                values: stored
                    .iter()
                    .filter_map(|(code, a)| progress::numeric(a).map(|v| (code.clone(), v)))
                    .collect(),
            },
        );
    }
    Ok(record)
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
    let record = read_record(db, own).await?;
    let statuses = progress::statuses(&program, &record);
    let modules = program
        .modules
        .iter()
        .enumerate()
        .map(|(index, module)| ModuleView {
            key: module.key.clone(),
            title: module.title.clone(),
            status: statuses[index],
            pages: pages_of(&program, &record, &statuses, index),
        })
        .collect();
    let unread = db
        .query_one(statement(
            db,
            &format!(
                "SELECT COUNT(*) AS n FROM {} m WHERE sender_kind = 'staff' AND read_at IS NULL",
                own.messages()
            ),
            vec![],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(Treatment {
        unread_messages: unread,
        enrolment_id: own.id(),
        program: program.title,
        care_unit: unit.name,
        ongoing: own.may_write(),
        modules,
    })
}

/// Each scale's submitted totals in this enrolment, oldest first, with the scale's range and
/// bands from the version the patient follows. Questionnaires without a total are left out.
pub async fn results(
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
) -> Result<Vec<super::results::Series>, AppError> {
    use super::results::{Point, Series};
    let Frame { program, .. } = frame(db, own).await?;
    let rows = db
        .query_all(statement(
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
    db: &impl ConnectionTrait,
    own: &OwnEnrolment,
    module_key: &str,
    step_key: &str,
) -> Result<PatientPage, AppError> {
    let Frame {
        program,
        program_id,
        unit,
    } = frame(db, own).await?;
    let mut record = read_record(db, own).await?;
    let (index, steps, at) = locate(&program, &record, module_key, step_key)?;
    if own.may_write() {
        db.execute(statement(
            db,
            "INSERT INTO page_visit (enrolment_id, program_version_id, module_key, step_key, first_seen_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (enrolment_id, module_key, step_key) DO NOTHING",
            vec![
                own.id().into(),
                own.version_id().into(),
                module_key.into(),
                step_key.into(),
                Utc::now().into(),
            ],
        ))
        .await?;
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
        ongoing: own.may_write(),
        crisis_info: unit.crisis_info,
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
        let row = db
            .query_one(statement(
                db,
                &format!(
                    "SELECT state, answers, total, band, scores, updated_at FROM {} r WHERE place = $1",
                    own.form_responses()
                ),
                vec![place.clone().into()],
            ))
            .await?;
        let mut form = FormState {
            block_key: block.key.clone(),
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
        forms.push(form);
    }
    Ok(forms)
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

fn invalid(field: &str, reason: &str) -> AppError {
    AppError::Invalid {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
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

/// The questionnaire at a place the patient may answer now: its module open, its page and block
/// shown to them.
fn questionnaire_at<'p>(
    program: &'p Program,
    record: &Record,
    place: &str,
) -> Result<&'p QuestionnaireDef, AppError> {
    let path = place.strip_prefix("block:").ok_or(AppError::NotFound)?;
    let mut parts = path.splitn(3, '/');
    let (Some(module), Some(step), Some(block)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AppError::NotFound);
    };
    let (_, steps, at) = locate(program, record, module, step)?;
    let key = steps[at]
        .blocks
        .iter()
        .find_map(|b| match &b.body {
            BlockBody::Questionnaire { questionnaire } if b.key == block => Some(questionnaire),
            _ => None,
        })
        .ok_or(AppError::NotFound)?;
    program
        .questionnaires
        .iter()
        .find(|q| &q.key == key)
        .ok_or(AppError::NotFound)
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
        return Err(invalid("enrolment", "treatment_ended"));
    }
    crate::messages::store::check_key(submit_key)?;
    let Frame { program, .. } = frame(db, own).await?;
    let record = read_record(db, own).await?;
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
    own: &OwnEnrolment,
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
        .query_one(statement(
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
    for alert in &scored.alerts {
        txn.execute(statement(
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
    }
    txn.commit().await?;
    Ok(Answered {
        submitted: true,
        urgent,
    })
}
