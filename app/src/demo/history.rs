//! Three weeks of treatment behind the demo patient, dated from the sandbox's creation, so a
//! visitor meets a treatment under way: the weekly GAD-7 answered three times (moderate, then
//! worse, then better), the first module's homework sent and answered with the therapist's
//! feedback (which opened the second module), and a read message thread. The second week's
//! worsening raised a flag, which the therapist handled. This week's GAD-7 is still to answer,
//! and the patient's question of yesterday waits for the therapist. Written as the care functions write it (scored by the shared scoring, on
//! the version followed), a few dozen rows: sandbox creation stays fast.

use crate::db::statement;
use crate::domain::time::{stockholm_day, stockholm_offset};
use crate::instruments::{Answer, score};
use crate::programs::Program;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{ActiveEnum, ConnectionTrait, DbErr};
use std::collections::BTreeMap;

/// How long ago the demo patient's treatment began.
pub const DAYS_AGO: i64 = 21;

/// The weekly schedule of the demo program, and its questionnaire.
const SCHEDULE: &str = "oro-gad7-vecka";
const QUESTIONNAIRE: &str = "gad7";

/// GAD-7 item values week by week: totals 12, 16 and 8.
const WEEKS: [[i32; 7]; 3] = [
    [2, 2, 2, 2, 2, 1, 1],
    [3, 3, 2, 2, 2, 2, 2],
    [1, 1, 1, 1, 2, 1, 1],
];

/// (days after the start, from the patient, text)
const MESSAGES: [(i64, bool, &str); 4] = [
    (
        1,
        true,
        "Hej! Ska jag fylla i orosloggen varje gång jag oroar mig, eller räcker det en gång om dagen?",
    ),
    (
        1,
        false,
        "Hej Petra! En gång om dagen räcker, gärna när oron är som starkast. Skriv kort, det viktiga är att du gör det.",
    ),
    (
        9,
        true,
        "Den här veckan har varit jobbig. Oron kom tillbaka på jobbet och jag har sovit dåligt.",
    ),
    (
        10,
        false,
        "Tack för att du berättar. Det är vanligt att det går upp och ner. Pröva att sortera oron som modul 2 visar, så pratar vi om det nästa vecka.",
    ),
];

/// The patient's question of yesterday, not yet read by the care team.
const UNREAD: &str = "Hej! Jag har fastnat på övningen i modul 2. Hur ska jag sortera oron när allt känns lika viktigt?";

/// How the therapist handled the second week's worsening.
const HANDLED: &str = "Ringde Petra dagen efter. Oron hängde ihop med jobbet; vi lade upp en plan och den sjönk igen.";

/// Where the demo patient's enrolment is, and who wrote to them.
pub struct Enrolment {
    pub id: i64,
    pub version_id: i64,
    pub started_at: DateTime<Utc>,
    pub therapist: Option<i64>,
}

/// `hour` o'clock Swedish time on the `days`-th day of treatment (never before it began).
fn day(e: &Enrolment, days: i64, hour: u32) -> DateTime<Utc> {
    let date = stockholm_day(e.started_at) + Duration::days(days);
    let local = Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0).unwrap_or_default());
    let at = local - Duration::seconds(i64::from(stockholm_offset(local).local_minus_utc()));
    at.max(e.started_at + Duration::minutes(10))
}

fn day_text(at: DateTime<Utc>) -> String {
    stockholm_day(at).format("%Y-%m-%d").to_string()
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, DbErr> {
    serde_json::to_string(value).map_err(|e| DbErr::Custom(e.to_string()))
}

/// Writes the history of one enrolment in the demo program.
pub async fn write(
    db: &impl ConnectionTrait,
    program: &Program,
    e: &Enrolment,
) -> Result<(), DbErr> {
    weekly_answers(db, program, e).await?;
    first_module(db, e).await?;
    for (n, (days, from_patient, body)) in MESSAGES.iter().enumerate() {
        let sent = day(e, *days, if *from_patient { 8 } else { 14 });
        db.execute(statement(
            db,
            "INSERT INTO message (enrolment_id, sender_kind, sender_staff_id, body, idempotency_key, \
               sent_at, read_at, read_by_staff_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                e.id.into(),
                if *from_patient { "patient" } else { "staff" }.into(),
                (!from_patient).then_some(e.therapist).flatten().into(),
                (*body).into(),
                format!("demo-history-{n}").into(),
                sent.into(),
                (sent + Duration::hours(1)).into(),
                from_patient.then_some(e.therapist).flatten().into(),
            ],
        ))
        .await?;
    }
    db.execute(statement(
        db,
        "INSERT INTO message (enrolment_id, sender_kind, body, idempotency_key, sent_at) \
         VALUES ($1, 'patient', $2, 'demo-history-unread', $3)",
        vec![e.id.into(), UNREAD.into(), day(e, DAYS_AGO - 1, 8).into()],
    ))
    .await?;
    Ok(())
}

/// The weekly GAD-7 of the first three weeks, each its due form answered.
async fn weekly_answers(
    db: &impl ConnectionTrait,
    program: &Program,
    e: &Enrolment,
) -> Result<(), DbErr> {
    let schedule = program
        .schedules
        .iter()
        .find(|s| s.key == SCHEDULE)
        .ok_or_else(|| DbErr::Custom("the demo program has no weekly GAD-7".to_owned()))?;
    let instrument = program
        .questionnaires
        .iter()
        .find(|q| q.key == QUESTIONNAIRE)
        .and_then(|q| q.worded())
        .ok_or_else(|| DbErr::Custom("the demo program has no GAD-7".to_owned()))?;
    let every = i64::from(schedule.every_days.unwrap_or(7));
    let mut previous = None;
    for (week, values) in WEEKS.iter().enumerate() {
        let offset = i64::try_from(week).unwrap_or(0) * every;
        let due = day(e, offset, 0);
        let sent = day(e, offset, 9);
        let answers: Vec<Option<Answer>> = values.iter().map(|v| Some(Answer::Value(*v))).collect();
        let scored = score(&instrument, &answers, previous)
            .map_err(|e| DbErr::Custom(format!("demo answers: {e:?}")))?;
        previous = Some(scored.total);
        let stored: BTreeMap<String, Answer> = instrument
            .items
            .iter()
            .zip(values)
            .map(|(item, v)| (item.code.clone(), Answer::Value(*v)))
            .collect();
        let place = crate::care::schedule_place(SCHEDULE, u32::try_from(week).unwrap_or(0));
        db.execute(statement(
            db,
            "INSERT INTO form_response (enrolment_id, program_version_id, questionnaire_key, place, state, \
               answers, total, band, scores, updated_at, submitted_at) \
             VALUES ($1, $2, $3, $4, 'submitted', $5, $6, $7, $8, $9, $9)",
            vec![
                e.id.into(),
                e.version_id.into(),
                QUESTIONNAIRE.into(),
                place.clone().into(),
                json(&stored)?.into(),
                scored.total.into(),
                scored.band.clone().into(),
                json(&scored)?.into(),
                sent.into(),
            ],
        ))
        .await?;
        // The flags its rules raised, handled by the therapist the next day.
        for alert in &scored.alerts {
            let handled = sent + Duration::days(1);
            db.execute(statement(
                db,
                "INSERT INTO flag (enrolment_id, kind, priority, reason, response_id, raised_at, \
                   acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution) \
                 SELECT $1, 'automatic', $2, $3, r.id, $4, $5, $6, $5, $6, $7 \
                 FROM form_response r WHERE r.enrolment_id = $1 AND r.place = $8",
                vec![
                    e.id.into(),
                    crate::domain::FlagPriority::of_alert(alert.priority)
                        .to_value()
                        .into(),
                    alert.code.clone().into(),
                    sent.into(),
                    handled.into(),
                    e.therapist.into(),
                    HANDLED.into(),
                    place.clone().into(),
                ],
            ))
            .await?;
        }
        db.execute(statement(
            db,
            "INSERT INTO due_form (enrolment_id, program_version_id, schedule_key, occurrence, \
               questionnaire_key, due_on, closes_on, blocking, state, response_id, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, 'answered', r.id, $9, $10 \
             FROM form_response r WHERE r.enrolment_id = $1 AND r.place = $11",
            vec![
                e.id.into(),
                e.version_id.into(),
                SCHEDULE.into(),
                i64::try_from(week).unwrap_or(0).into(),
                QUESTIONNAIRE.into(),
                day_text(due).into(),
                day_text(day(e, offset + every, 0)).into(),
                schedule.blocking.into(),
                due.into(),
                sent.into(),
                place.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// The first module read, its worksheet sent, and the therapist's feedback on it (which opens
/// the second); the second module's first page read.
async fn first_module(db: &impl ConnectionTrait, e: &Enrolment) -> Result<(), DbErr> {
    for (module, page, days) in [
        ("oro-1", "oro-valkommen", 0),
        ("oro-1", "oro-hemuppgift-1", 1),
        ("oro-2", "oro-tankar", 5),
    ] {
        db.execute(statement(
            db,
            "INSERT INTO page_visit (enrolment_id, program_version_id, module_key, step_key, first_seen_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                e.id.into(),
                e.version_id.into(),
                module.into(),
                page.into(),
                day(e, days, 10).into(),
            ],
        ))
        .await?;
    }
    send_worksheet(db, e, day(e, 2, 20), "demo-history-oro-logg").await?;
    let given = day(e, 3, 14);
    db.execute(statement(
        db,
        "INSERT INTO module_feedback (enrolment_id, module_key, staff_person_id, body, idempotency_key, \
           given_at, read_at) VALUES ($1, 'oro-1', $2, $3, 'demo-history-oro-1', $4, $5)",
        vec![
            e.id.into(),
            e.therapist.into(),
            "Fint att du fyllde i loggen direkt när oron kom. Lägg märke till hur stark den var \
             jämfört med hur det sedan gick. Nu öppnas nästa modul."
                .into(),
            given.into(),
            (given + Duration::hours(5)).into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The first module's worksheet, sent at `sent`.
async fn send_worksheet(
    db: &impl ConnectionTrait,
    e: &Enrolment,
    sent: DateTime<Utc>,
    key: &str,
) -> Result<(), DbErr> {
    let fields: BTreeMap<&str, &str> = [
        ("logg-situation", "På jobbet, inför veckomötet."),
        (
            "logg-oro",
            "Att chefen skulle tycka att jag gjort fel i rapporten.",
        ),
        ("logg-styrka", "7"),
    ]
    .into_iter()
    .collect();
    db.execute(statement(
        db,
        "INSERT INTO homework_entry (enrolment_id, program_version_id, module_key, place, kind, state, \
           fields, idempotency_key, updated_at, submitted_at) \
         VALUES ($1, $2, 'oro-1', 'block:oro-1/oro-hemuppgift-1/oro-logg', 'worksheet', 'submitted', \
           $3, $4, $5, $5)",
        vec![
            e.id.into(),
            e.version_id.into(),
            json(&fields)?.into(),
            key.into(),
            sent.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// A treatment a week in whose first module's worksheet was sent yesterday and waits for the
/// therapist's feedback.
pub async fn homework_waiting(db: &impl ConnectionTrait, e: &Enrolment) -> Result<(), DbErr> {
    for (page, days) in [("oro-valkommen", 0), ("oro-hemuppgift-1", WAITING_DAYS - 2)] {
        db.execute(statement(
            db,
            "INSERT INTO page_visit (enrolment_id, program_version_id, module_key, step_key, first_seen_at) \
             VALUES ($1, $2, 'oro-1', $3, $4)",
            vec![
                e.id.into(),
                e.version_id.into(),
                page.into(),
                day(e, days, 18).into(),
            ],
        ))
        .await?;
    }
    send_worksheet(db, e, day(e, WAITING_DAYS - 1, 20), "demo-history-waiting").await
}

/// How long ago the treatment with homework waiting began.
pub const WAITING_DAYS: i64 = 9;
