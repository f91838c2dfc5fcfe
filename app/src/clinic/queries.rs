use super::{Acknowledged, DashboardPatient, OpenFlag, RecordEnrolment, ScoreChange, UnitPatient};
use crate::auth::scope::{CareAccess, UnitCare};
use crate::care::treatment::person;
use crate::db::statement;
use crate::programs::Program;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A patient's name as the unit's lists show it, and the personal identity number: enrolled
/// by staff and not yet signed in, a person has no name until the e-ID gives one, and is
/// listed by number.
fn listed_name(row: &sea_orm::QueryResult) -> Result<(String, String), DbErr> {
    let given: String = row.try_get("", "given_name")?;
    let family: String = row.try_get("", "family_name")?;
    let personnummer: String = row.try_get("", "personnummer")?;
    let name = format!("{given} {family}").trim().to_owned();
    Ok((
        if name.is_empty() {
            personnummer.clone()
        } else {
            name
        },
        personnummer,
    ))
}

/// The patients in ongoing treatment at the unit.
pub async fn unit_patients(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
) -> Result<Vec<UnitPatient>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT pa.id, pa.given_name, pa.family_name, pa.personnummer, p.title, e.state \
                 FROM {} e \
                 JOIN patient pa ON pa.id = e.patient_id \
                 JOIN program_version v ON v.id = e.program_version_id \
                 JOIN program p ON p.id = v.program_id \
                 ORDER BY pa.family_name, pa.given_name, pa.id",
                unit.enrolments()
            ),
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let (name, personnummer) = listed_name(&row)?;
            Ok(UnitPatient {
                patient_id: row.try_get("", "id")?,
                name,
                personnummer,
                program: row.try_get("", "title")?,
                state: row.try_get("", "state")?,
            })
        })
        .collect()
}

/// The patient's enrolments that the access reaches, with their therapist-internal notes.
pub async fn record_enrolments(
    db: &impl ConnectionTrait,
    access: &CareAccess,
) -> Result<Vec<RecordEnrolment>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT e.id, p.title, u.name, e.state, e.started_at, e.internal_note, \
                        e.maintenance_at, e.ended_at, e.end_reason \
                 FROM {} e \
                 JOIN program_version v ON v.id = e.program_version_id \
                 JOIN program p ON p.id = v.program_id \
                 JOIN care_unit u ON u.id = e.care_unit_id \
                 ORDER BY e.started_at DESC, e.id DESC",
                access.enrolments()
            ),
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let started: chrono::DateTime<chrono::Utc> = row.try_get("", "started_at")?;
            let day = |at: DateTime<Utc>| {
                crate::domain::time::stockholm_day(at)
                    .format("%Y-%m-%d")
                    .to_string()
            };
            let maintenance: Option<DateTime<Utc>> = row.try_get("", "maintenance_at")?;
            let ended: Option<DateTime<Utc>> = row.try_get("", "ended_at")?;
            let reason: Option<crate::domain::EndReason> = row.try_get("", "end_reason")?;
            Ok(RecordEnrolment {
                maintenance_from: maintenance.map(day),
                ended: ended.map(day),
                end_reason: reason,
                may_change: false,
                results: Vec::new(),
                team: super::CareTeam::default(),
                may_manage_team: false,
                notes: Vec::new(),
                may_note: false,
                extra: Default::default(),
                handover_units: Vec::new(),
                handed_to: None,
                take_as: None,
                enrolment_id: row.try_get("", "id")?,
                program: row.try_get("", "title")?,
                care_unit: row.try_get("", "name")?,
                state: row.try_get("", "state")?,
                started: started.format("%Y-%m-%d").to_string(),
                internal_note: row.try_get("", "internal_note")?,
                messages: Vec::new(),
                reply_key: None,
                modules: Vec::new(),
                feedback_key: None,
            })
        })
        .collect()
}

/// The dashboard's rows: the unit's patients in ongoing treatment with what needs the care
/// team (open flags, unread messages, homework without feedback) and when they last did
/// something, in one statement, with their scores in another.
pub async fn dashboard_patients(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
) -> Result<Vec<DashboardPatient>, DbErr> {
    let sql = format!(
        "SELECT e.id AS enrolment_id, pa.id, pa.given_name, pa.family_name, pa.personnummer, \
                p.title, e.state, e.program_version_id, \
                s.given_name AS therapist_given, s.family_name AS therapist_family, \
           (SELECT COUNT(*) FROM {flags} f WHERE f.enrolment_id = e.id \
              AND f.resolved_at IS NULL AND f.priority = 'urgent') AS urgent, \
           (SELECT COUNT(*) FROM {flags} f WHERE f.enrolment_id = e.id \
              AND f.resolved_at IS NULL AND f.priority <> 'urgent') AS other_flags, \
           (SELECT COUNT(*) FROM {messages} m WHERE m.enrolment_id = e.id \
              AND m.sender_kind = 'patient' AND m.read_at IS NULL) AS unread, \
           (SELECT COUNT(DISTINCT h.module_key) FROM {homework} h WHERE h.enrolment_id = e.id \
              AND h.kind = 'worksheet' AND h.submitted_at IS NOT NULL AND NOT EXISTS \
              (SELECT 1 FROM {feedback} b WHERE b.enrolment_id = e.id \
                 AND b.module_key = h.module_key)) AS awaiting, \
           (SELECT MAX(r.submitted_at) FROM {responses} r WHERE r.enrolment_id = e.id) AS last_answer, \
           (SELECT MAX(v.first_seen_at) FROM {visits} v WHERE v.enrolment_id = e.id) AS last_visit, \
           (SELECT v.module_key FROM {visits} v WHERE v.enrolment_id = e.id \
              ORDER BY v.first_seen_at DESC, v.id DESC LIMIT 1) AS last_module, \
           (SELECT MAX(m.sent_at) FROM {messages} m WHERE m.enrolment_id = e.id \
              AND m.sender_kind = 'patient') AS last_message, \
           (SELECT MAX(h.submitted_at) FROM {homework} h WHERE h.enrolment_id = e.id) AS last_homework \
         FROM {enrolments} e \
         JOIN patient pa ON pa.id = e.patient_id \
         JOIN program_version v ON v.id = e.program_version_id \
         JOIN program p ON p.id = v.program_id \
         LEFT JOIN staff_person s ON s.id = e.responsible_staff_id \
         ORDER BY pa.family_name, pa.given_name, pa.id",
        flags = unit.flags(),
        messages = unit.messages(),
        homework = unit.homework(),
        feedback = unit.feedback(),
        responses = unit.form_responses(),
        visits = unit.page_visits(),
        enrolments = unit.enrolments(),
    );
    // The rows and the totals at once, on two of the pool's connections (in a transaction, one
    // after the other): the request waits for the slower, not for both.
    let (rows, mut totals) = tokio::try_join!(
        db.query_all(statement(db, &sql, vec![])),
        dashboard_totals(db, unit)
    )?;
    let mut programs: BTreeMap<i64, Option<Arc<Program>>> = BTreeMap::new();
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        let enrolment_id: i64 = row.try_get("", "enrolment_id")?;
        let version: i64 = row.try_get("", "program_version_id")?;
        let last_module: Option<String> = row.try_get("", "last_module")?;
        let answered = totals.remove(&enrolment_id);
        if (answered.is_some() || last_module.is_some())
            && let std::collections::btree_map::Entry::Vacant(slot) = programs.entry(version)
        {
            // A version that cannot be read (logged) shows no scores and no module, not no
            // dashboard.
            slot.insert(crate::care::version_content(db, version).await.ok());
        }
        let program = programs.get(&version).and_then(Option::as_ref);
        let scores = match (answered, program) {
            (Some(answered), Some(program)) => score_changes(program, answered),
            _ => Vec::new(),
        };
        let module = last_module.and_then(|key| {
            program?
                .modules
                .iter()
                .find(|m| m.key == key)
                .map(|m| m.title.clone())
        });
        list.push((row, enrolment_id, scores, module));
    }
    let mut list = list
        .into_iter()
        .map(|(row, enrolment_id, scores, module)| {
            let (name, personnummer) = listed_name(&row)?;
            let mut last: Option<DateTime<Utc>> = None;
            for column in ["last_answer", "last_visit", "last_message", "last_homework"] {
                let at: Option<DateTime<Utc>> = row.try_get("", column)?;
                last = last.max(at);
            }
            Ok(DashboardPatient {
                patient_id: row.try_get("", "id")?,
                enrolment_id,
                name,
                family_name: row.try_get("", "family_name")?,
                personnummer,
                program: row.try_get("", "title")?,
                module,
                state: row.try_get("", "state")?,
                urgent_flags: row.try_get("", "urgent")?,
                other_flags: row.try_get("", "other_flags")?,
                unread: row.try_get("", "unread")?,
                awaiting_feedback: row.try_get("", "awaiting")?,
                last_activity: last.map(local_minute),
                therapist: {
                    let given: Option<String> = row.try_get("", "therapist_given")?;
                    let family: Option<String> = row.try_get("", "therapist_family")?;
                    given.map(|g| {
                        format!("{g} {}", family.unwrap_or_default())
                            .trim()
                            .to_owned()
                    })
                },
                scores,
            })
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    // Who needs the care team first: urgent flags, other flags, unread messages, homework;
    // by name within each (the statement's order, kept by the stable sort).
    list.sort_by_key(|p| {
        std::cmp::Reverse((p.urgent_flags, p.other_flags, p.unread, p.awaiting_feedback))
    });
    Ok(list)
}

/// Submitted totals of one treatment: by questionnaire key (in the order first answered), the
/// totals and bands oldest first.
type Answered = Vec<(String, Vec<(i32, Option<String>)>)>;

/// The submitted totals of the unit's ongoing treatments, by enrolment, in one statement.
async fn dashboard_totals(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
) -> Result<BTreeMap<i64, Answered>, DbErr> {
    let sql = format!(
        "SELECT r.enrolment_id, r.questionnaire_key, r.total, r.band FROM {} r \
         WHERE r.state = 'submitted' AND r.total IS NOT NULL \
         ORDER BY r.enrolment_id, r.submitted_at, r.id",
        unit.form_responses()
    );
    let mut out: BTreeMap<i64, Answered> = BTreeMap::new();
    for row in db.query_all(statement(db, &sql, vec![])).await? {
        let key: String = row.try_get("", "questionnaire_key")?;
        let point = (row.try_get("", "total")?, row.try_get("", "band")?);
        let answered = out.entry(row.try_get("", "enrolment_id")?).or_default();
        match answered.iter_mut().find(|(k, _)| *k == key) {
            Some((_, points)) => points.push(point),
            None => answered.push((key, vec![point])),
        }
    }
    Ok(out)
}

/// The latest total of each scored questionnaire, with its change from the first answer and
/// from the previous one, against the scale's meaningful change.
fn score_changes(program: &Program, answered: Answered) -> Vec<ScoreChange> {
    answered
        .into_iter()
        .filter_map(|(key, points)| {
            let def = program.questionnaires.iter().find(|q| q.key == key)?;
            let instrument = def.instrument()?;
            let (total, band) = points.last()?.clone();
            let first = points.first().map(|(t, _)| *t);
            let previous = points
                .len()
                .checked_sub(2)
                .and_then(|i| points.get(i))
                .map(|(t, _)| *t);
            let answered_again = points.len() > 1;
            Some(ScoreChange {
                title: def.title.clone(),
                total,
                band,
                from_first: first.filter(|_| answered_again).map(|f| total - f),
                from_previous: previous.map(|p| total - p),
                meaningful: instrument.meaningful_change,
            })
        })
        .collect()
}

/// A time as the unit reads it: Swedish local time to the minute.
fn local_minute(at: DateTime<Utc>) -> String {
    crate::domain::time::stockholm(at)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The unit's open flags (not resolved), the most urgent and oldest first.
pub async fn open_flags(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
) -> Result<Vec<OpenFlag>, DbErr> {
    let sql = format!(
        "SELECT f.id, f.priority, f.reason, f.raised_at, f.acknowledged_at, f.escalated_at, \
                f.enrolment_id, e.patient_id, pa.given_name, pa.family_name, pa.personnummer, \
                r.questionnaire_key, s.given_name AS ack_given, s.family_name AS ack_family, \
                f.note, b.given_name AS by_given, b.family_name AS by_family \
         FROM {flags} f \
         JOIN {enrolments} e ON e.id = f.enrolment_id \
         JOIN patient pa ON pa.id = e.patient_id \
         LEFT JOIN {responses} r ON r.id = f.response_id \
         LEFT JOIN staff_person s ON s.id = f.acknowledged_by \
         LEFT JOIN staff_person b ON b.id = f.raised_by \
         WHERE f.resolved_at IS NULL",
        flags = unit.flags(),
        enrolments = unit.enrolments(),
        responses = unit.form_responses(),
    );
    let rows = db.query_all(statement(db, &sql, vec![])).await?;
    let mut flags = rows
        .into_iter()
        .map(|row| {
            let (name, _) = listed_name(&row)?;
            let raised: DateTime<Utc> = row.try_get("", "raised_at")?;
            let acknowledged: Option<DateTime<Utc>> = row.try_get("", "acknowledged_at")?;
            let escalated: Option<DateTime<Utc>> = row.try_get("", "escalated_at")?;
            let ack_given: Option<String> = row.try_get("", "ack_given")?;
            let ack_family: Option<String> = row.try_get("", "ack_family")?;
            let by_given: Option<String> = row.try_get("", "by_given")?;
            let by_family: Option<String> = row.try_get("", "by_family")?;
            Ok((
                raised,
                OpenFlag {
                    flag_id: row.try_get("", "id")?,
                    enrolment_id: row.try_get("", "enrolment_id")?,
                    patient_id: row.try_get("", "patient_id")?,
                    patient: name,
                    priority: row.try_get("", "priority")?,
                    reason: row.try_get("", "reason")?,
                    questionnaire: row.try_get("", "questionnaire_key")?,
                    raised_at: local_minute(raised),
                    raised_by: person(by_given, by_family),
                    note: row.try_get("", "note")?,
                    escalated_at: escalated.map(local_minute),
                    acknowledged: acknowledged.map(|at| Acknowledged {
                        by: person(ack_given, ack_family).unwrap_or_default(),
                        at: local_minute(at),
                    }),
                },
            ))
        })
        .collect::<Result<Vec<_>, DbErr>>()?;
    flags.sort_by(|(a_at, a), (b_at, b)| {
        b.priority
            .cmp(&a.priority)
            .then(a_at.cmp(b_at))
            .then(a.flag_id.cmp(&b.flag_id))
    });
    Ok(flags.into_iter().map(|(_, flag)| flag).collect())
}

/// A flag of one of the unit's ongoing enrolments, as the care team handles it.
pub struct UnitFlag {
    pub enrolment_id: i64,
    pub patient_id: i64,
    pub resolved: bool,
}

/// The flag `flag_id` of one of the unit's ongoing enrolments; `None` when the unit does not
/// reach it.
pub async fn unit_flag(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
    flag_id: i64,
) -> Result<Option<UnitFlag>, DbErr> {
    let row = db
        .query_one(statement(
            db,
            &format!(
                "SELECT f.enrolment_id, e.patient_id, f.resolved_at FROM {} f \
                 JOIN {} e ON e.id = f.enrolment_id WHERE f.id = $1",
                unit.flags(),
                unit.enrolments()
            ),
            vec![flag_id.into()],
        ))
        .await?;
    row.map(|row| {
        let resolved: Option<DateTime<Utc>> = row.try_get("", "resolved_at")?;
        Ok(UnitFlag {
            enrolment_id: row.try_get("", "enrolment_id")?,
            patient_id: row.try_get("", "patient_id")?,
            resolved: resolved.is_some(),
        })
    })
    .transpose()
}

/// Acknowledges an open flag of the unit's (once: `false` when it was already acknowledged
/// or resolved), in `db`'s transaction.
pub async fn acknowledge_flag(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
    flag_id: i64,
    staff_person_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = db
        .execute(statement(
            db,
            &format!(
                "UPDATE flag SET acknowledged_at = $1, acknowledged_by = $2 \
                 WHERE id = $3 AND acknowledged_at IS NULL AND resolved_at IS NULL \
                 AND id IN (SELECT f.id FROM {} f)",
                unit.flags()
            ),
            vec![now.into(), staff_person_id.into(), flag_id.into()],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Resolves an open flag of the unit's with a comment (acknowledging it too if it was not),
/// in `db`'s transaction: `false` when it was already resolved.
pub async fn resolve_flag(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
    flag_id: i64,
    staff_person_id: i64,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = db
        .execute(statement(
            db,
            &format!(
                "UPDATE flag SET resolved_at = $1, resolved_by = $2, resolution = $3, \
                   acknowledged_at = COALESCE(acknowledged_at, $1), \
                   acknowledged_by = COALESCE(acknowledged_by, $2) \
                 WHERE id = $4 AND resolved_at IS NULL AND id IN (SELECT f.id FROM {} f)",
                unit.flags()
            ),
            vec![
                now.into(),
                staff_person_id.into(),
                comment.into(),
                flag_id.into(),
            ],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}
