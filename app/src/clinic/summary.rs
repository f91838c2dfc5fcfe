//! The summary of a treatment for the medical record: fixed content, as a page to read and as
//! plain text to paste into the region's record system (the platform is not the record).
//! Therapist-internal notes are never part of it.

use super::Acknowledged;
use super::components::{priority_label, reason_label};
use crate::care::results::{ScaleResults, Series};
use crate::domain::{EndReason, EnrolmentState, FlagPriority};
use crate::error::AppError;
use crate::i18n::*;
use crate::layout::{ErrorNotice, page_title};
use crate::programs::render::band_name;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSummary {
    pub patient_id: i64,
    pub enrolment_id: i64,
    pub name: String,
    pub personnummer: String,
    pub program: String,
    /// `major.minor` of the version followed.
    pub version: String,
    pub care_unit: String,
    pub state: EnrolmentState,
    /// Swedish days, `YYYY-MM-DD`.
    pub started: String,
    pub maintenance_from: Option<String>,
    pub ended: Option<String>,
    pub end_reason: Option<EndReason>,
    /// The care team, the responsible therapist first.
    pub therapists: Vec<String>,
    pub modules: Vec<SummaryModule>,
    /// Each scale's submitted totals, oldest first.
    pub scores: Vec<Series>,
    /// Every flag of the treatment, oldest first.
    pub flags: Vec<SummaryFlag>,
    /// When the summary was put together (Swedish time).
    pub made_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryModule {
    pub title: String,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryFlag {
    pub priority: FlagPriority,
    pub reason: String,
    pub questionnaire: Option<String>,
    /// Swedish time, to the minute.
    pub raised_at: String,
    pub escalated_at: Option<String>,
    pub acknowledged: Option<Acknowledged>,
    pub resolved: Option<Handled>,
    /// A flag raised by hand: who raised it, and their note.
    pub raised_by: Option<String>,
    pub note: Option<String>,
}

/// How a flag was resolved: by whom, when, and the comment written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handled {
    pub by: String,
    pub at: String,
    pub comment: String,
}

pub fn state_label(state: EnrolmentState, locale: Locale) -> &'static str {
    match state {
        EnrolmentState::Active => td_string!(locale, summary.state_active),
        EnrolmentState::Maintenance => td_string!(locale, summary.state_maintenance),
        EnrolmentState::Ended => td_string!(locale, summary.state_ended),
        EnrolmentState::HandedOver => td_string!(locale, summary.state_handed_over),
    }
}

pub fn end_reason_label(reason: EndReason, locale: Locale) -> &'static str {
    match reason {
        EndReason::Completed => td_string!(locale, summary.reason_completed),
        EndReason::PatientRequest => td_string!(locale, summary.reason_patient_request),
        EndReason::NoContact => td_string!(locale, summary.reason_no_contact),
        EndReason::OtherCare => td_string!(locale, summary.reason_other_care),
        EndReason::Other => td_string!(locale, summary.reason_other),
    }
}

/// "14 (måttlig)": a total with its band's name.
fn total_text(total: i32, band: Option<&str>, locale: Locale) -> String {
    match band {
        Some(band) => format!("{total} ({})", band_name(band, locale)),
        None => total.to_string(),
    }
}

/// The period: first day – last day, or "pågår".
fn period_text(summary: &RecordSummary, locale: Locale) -> String {
    format!(
        "{} – {}",
        summary.started,
        summary
            .ended
            .clone()
            .unwrap_or_else(|| td_string!(locale, summary.ongoing).to_owned())
    )
}

/// One scale's line: the first and latest totals (the latest is the one at the end, once the
/// treatment has ended) with their dates and bands, and the change.
fn score_text(series: &Series, ended: bool, locale: Locale) -> String {
    let (Some(first), Some(last)) = (series.points.first(), series.points.last()) else {
        return series.title.clone();
    };
    let mut text = format!(
        "{}: {} {} {}",
        series.title,
        td_string!(locale, summary.at_start),
        total_text(first.total, first.band.as_deref(), locale),
        first.date
    );
    if series.points.len() > 1 {
        let latest = if ended {
            td_string!(locale, summary.at_end)
        } else {
            td_string!(locale, summary.latest)
        };
        let change = last.total - first.total;
        text.push_str(&format!(
            "; {} {} {}; {} {}{} ({} {})",
            latest.to_lowercase(),
            total_text(last.total, last.band.as_deref(), locale),
            last.date,
            td_string!(locale, summary.change).to_lowercase(),
            if change > 0 { "+" } else { "" },
            change,
            series.points.len(),
            td_string!(locale, summary.answers),
        ));
    }
    text
}

/// One flag's line: when, how urgent, why, and how it was handled.
pub(crate) fn flag_text(flag: &SummaryFlag, locale: Locale) -> String {
    // A flag raised by hand says by whom and why in their words.
    let note = match (&flag.raised_by, &flag.note) {
        (Some(by), Some(note)) => format!(" ({by}: {note})"),
        (None, Some(note)) => format!(" ({note})"),
        _ => String::new(),
    };
    let mut text = format!(
        "{} {}: {}{note}.",
        flag.raised_at,
        priority_label(flag.priority, locale),
        reason_label(&flag.reason, flag.questionnaire.as_deref(), locale)
    );
    if let Some(at) = &flag.escalated_at {
        text.push_str(&format!(" {} {at}.", td_string!(locale, summary.escalated)));
    }
    if let Some(ack) = &flag.acknowledged {
        text.push_str(&format!(
            " {} {} {} {}.",
            td_string!(locale, summary.acknowledged),
            ack.at,
            td_string!(locale, summary.by),
            ack.by
        ));
    }
    match &flag.resolved {
        Some(done) => text.push_str(&format!(
            " {} {} {} {}: {}",
            td_string!(locale, summary.resolved),
            done.at,
            td_string!(locale, summary.by),
            done.by,
            done.comment
        )),
        None => text.push_str(&format!(" {}.", td_string!(locale, summary.still_open))),
    }
    text
}

/// The summary as plain text for the record system: one fact a line, no markup.
pub fn summary_text(summary: &RecordSummary, locale: Locale) -> String {
    let mut lines = vec![
        td_string!(locale, summary.title).to_owned(),
        format!(
            "{}: {}, {}",
            td_string!(locale, summary.patient),
            summary.name,
            summary.personnummer
        ),
        format!(
            "{}: {}, {} {}",
            td_string!(locale, summary.program),
            summary.program,
            td_string!(locale, summary.version),
            summary.version
        ),
        format!(
            "{}: {}",
            td_string!(locale, summary.unit),
            summary.care_unit
        ),
        format!(
            "{}: {}",
            td_string!(locale, summary.period),
            period_text(summary, locale)
        ),
        format!(
            "{}: {}",
            td_string!(locale, summary.state),
            state_label(summary.state, locale)
        ),
    ];
    if let Some(from) = &summary.maintenance_from {
        lines.push(format!(
            "{}: {from}",
            td_string!(locale, summary.maintenance_from)
        ));
    }
    if let Some(reason) = summary.end_reason {
        lines.push(format!(
            "{}: {}",
            td_string!(locale, summary.end_reason),
            end_reason_label(reason, locale)
        ));
    }
    lines.push(format!(
        "{}: {}",
        td_string!(locale, summary.therapists),
        therapists_text(&summary.therapists, locale)
    ));
    let done: Vec<&str> = summary
        .modules
        .iter()
        .filter(|m| m.done)
        .map(|m| m.title.as_str())
        .collect();
    lines.push(format!(
        "{}: {} {} {}{}",
        td_string!(locale, summary.modules),
        done.len(),
        td_string!(locale, summary.of),
        summary.modules.len(),
        if done.is_empty() {
            String::new()
        } else {
            format!(" ({})", done.join(", "))
        }
    ));
    lines.push(format!("{}:", td_string!(locale, summary.scores)));
    if summary.scores.is_empty() {
        lines.push(format!("- {}", td_string!(locale, summary.no_scores)));
    }
    let ended = summary.ended.is_some();
    for series in &summary.scores {
        lines.push(format!("- {}", score_text(series, ended, locale)));
    }
    lines.push(format!("{}:", td_string!(locale, summary.flags)));
    if summary.flags.is_empty() {
        lines.push(format!("- {}", td_string!(locale, summary.no_flags)));
    }
    for flag in &summary.flags {
        lines.push(format!("- {}", flag_text(flag, locale)));
    }
    lines.push(format!(
        "{} {}",
        td_string!(locale, summary.made),
        summary.made_at
    ));
    lines.join("\n")
}

fn therapists_text(therapists: &[String], locale: Locale) -> String {
    if therapists.is_empty() {
        return td_string!(locale, clinic.no_therapist).to_owned();
    }
    therapists
        .iter()
        .enumerate()
        .map(|(i, name)| match i {
            0 => format!("{name} ({})", td_string!(locale, summary.responsible)),
            _ => name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The page's address for one treatment of a patient.
pub fn summary_href(patient_id: i64, enrolment_id: i64) -> String {
    format!("/mottagning/patient/{patient_id}/sammanfattning/{enrolment_id}")
}

/// `/mottagning/patient/:id/sammanfattning/:enrolment`.
#[component]
pub fn RecordSummaryPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let ids = move || {
        let params = params.read();
        let number = |key: &str| params.get(key).and_then(|v| v.parse::<i64>().ok());
        number("id").zip(number("enrolment"))
    };
    let summary = Resource::new(ids, |ids| async move {
        match ids {
            Some((patient_id, enrolment)) => super::get_record_summary(patient_id, enrolment).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=page_title(move || t_string!(i18n, summary.title).to_string()) />
        <p>
            {move || ids().map(|(id, _)| view! {
                <a href=format!("/mottagning/patient/{id}")>{t!(i18n, summary.back)}</a>
            })}
        </p>
        <h1>{t!(i18n, summary.title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(summary) => view! { <Summary summary /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Summary(summary: RecordSummary) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let text = summary_text(&summary, locale);
    let lines = text.lines().count();
    let done = summary.modules.iter().filter(|m| m.done).count();
    let ended = summary.ended.is_some();
    let modules = summary
        .modules
        .iter()
        .map(|m| {
            let status = if m.done {
                t_string!(i18n, summary.module_done)
            } else {
                t_string!(i18n, summary.module_not_done)
            };
            view! { <li>{m.title.clone()} " – " {status}</li> }
        })
        .collect_view();
    let scores = summary
        .scores
        .iter()
        .map(|series| view! { <li>{score_text(series, ended, locale)}</li> })
        .collect_view();
    let flags = summary
        .flags
        .iter()
        .map(|flag| view! { <li>{flag_text(flag, locale)}</li> })
        .collect_view();
    let charts = summary
        .scores
        .clone()
        .into_iter()
        .map(|series| view! { <ScaleResults series /> })
        .collect_view();
    view! {
        <p>{t!(i18n, summary.lead)}</p>
        <section class="card" aria-labelledby="summary-facts">
            <h2 id="summary-facts">{summary.program.clone()} " " {summary.version.clone()}</h2>
            <dl class="facts">
                <dt>{t!(i18n, summary.patient)}</dt>
                <dd>{summary.name.clone()} ", " {summary.personnummer.clone()}</dd>
                <dt>{t!(i18n, summary.unit)}</dt>
                <dd>{summary.care_unit.clone()}</dd>
                <dt>{t!(i18n, summary.period)}</dt>
                <dd>{period_text(&summary, locale)}</dd>
                <dt>{t!(i18n, summary.state)}</dt>
                <dd>
                    {state_label(summary.state, locale)}
                    {summary.end_reason.map(|r| format!(": {}", end_reason_label(r, locale)))}
                    {summary.maintenance_from.clone().map(|from| format!(" ({} {from})", t_string!(i18n, summary.maintenance_from).to_lowercase()))}
                </dd>
                <dt>{t!(i18n, summary.therapists)}</dt>
                <dd>{therapists_text(&summary.therapists, locale)}</dd>
            </dl>
            <h3>{t!(i18n, summary.modules)} ": " {done} " " {t!(i18n, summary.of)} " " {summary.modules.len()}</h3>
            <ol>{modules}</ol>
            <h3>{t!(i18n, summary.scores)}</h3>
            {summary.scores.is_empty().then(|| view! { <p>{t!(i18n, summary.no_scores)}</p> })}
            <ul>{scores}</ul>
            <h3>{t!(i18n, summary.flags)}</h3>
            {summary.flags.is_empty().then(|| view! { <p>{t!(i18n, summary.no_flags)}</p> })}
            <ul class="summary-flags">{flags}</ul>
        </section>
        <section class="card" aria-labelledby="summary-text-heading">
            <h2 id="summary-text-heading">{t!(i18n, summary.text_heading)}</h2>
            <label for="summary-text">{t!(i18n, summary.text_label)}</label>
            <textarea id="summary-text" class="summary-text" readonly=true rows=lines.max(8)>{text}</textarea>
        </section>
        {charts}
    }
}
