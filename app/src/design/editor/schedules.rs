//! The program's schedules in the editor: which questionnaire is asked, from when (enrolment,
//! a module opening or finished, the program's end), how often, for how many days, and
//! whether the pages wait for it.

use super::{Doc, fresh_key, remove_at, value};
use crate::i18n::*;
use crate::programs::{Program, Schedule, ScheduleStart};
use leptos::prelude::*;

/// The start as the select names it: `enrolment`, `opens:<module>`, `finished:<module>`, `end`.
fn start_code(start: &ScheduleStart) -> String {
    match start {
        ScheduleStart::Enrolment => "enrolment".to_owned(),
        ScheduleStart::ModuleOpens { module } => format!("opens:{module}"),
        ScheduleStart::ModuleFinished { module } => format!("finished:{module}"),
        ScheduleStart::ProgramFinished => "end".to_owned(),
    }
}

fn start_of(code: &str) -> ScheduleStart {
    match code.split_once(':') {
        Some(("opens", module)) => ScheduleStart::ModuleOpens {
            module: module.to_owned(),
        },
        Some(("finished", module)) => ScheduleStart::ModuleFinished {
            module: module.to_owned(),
        },
        _ if code == "end" => ScheduleStart::ProgramFinished,
        _ => ScheduleStart::Enrolment,
    }
}

/// Days as typed: a whole number (too many days stay too many, for the report to name), or
/// none for an empty field.
pub(super) fn days(text: &str) -> Option<u16> {
    text.trim()
        .parse::<u64>()
        .ok()
        .map(|d| u16::try_from(d).unwrap_or(u16::MAX))
}

fn with_schedule(doc: Doc, n: usize, change: impl FnOnce(&mut Schedule)) {
    doc.edit(|p: &mut Program| {
        if let Some(s) = p.schedules.get_mut(n) {
            change(s);
        }
    });
}

pub(super) fn schedules(doc: Doc) -> impl IntoView {
    let locale = doc.locale;
    let (list, questionnaires, modules) = doc.program.with_untracked(|p| {
        (
            p.schedules.clone(),
            p.questionnaires
                .iter()
                .map(|q| (q.key.clone(), q.title.clone()))
                .collect::<Vec<_>>(),
            p.modules
                .iter()
                .map(|m| (m.key.clone(), m.title.clone()))
                .collect::<Vec<_>>(),
        )
    });
    let rows = list
        .into_iter()
        .enumerate()
        .map(|(n, s)| {
            let label = |what: &str| format!("{} {}: {what}", td_string!(locale, design.schedule), n + 1);
            let chosen = s.questionnaire.clone();
            let start = start_code(&s.starts);
            let opens = td_string!(locale, design.schedule_module_opens);
            let finished = td_string!(locale, design.schedule_module_finished);
            let module_options = modules
                .iter()
                .flat_map(|(key, title)| {
                    [
                        (format!("opens:{key}"), format!("{opens} {title}")),
                        (format!("finished:{key}"), format!("{finished} {title}")),
                    ]
                })
                .map(|(code, text)| {
                    let selected = code == start;
                    view! { <option value=code selected=selected>{text}</option> }
                })
                .collect_view();
            view! {
                <li class="schedule-editor">
                    <div class="row">
                        <label>
                            {td_string!(locale, design.schedule_questionnaire)} " "
                            <select aria-label=label(td_string!(locale, design.schedule_questionnaire))
                                on:change=move |ev| { let v = value(&ev); with_schedule(doc, n, |s| s.questionnaire = v) }>
                                // A questionnaire since removed: shown as missing (the report names it).
                                {(!questionnaires.iter().any(|(key, _)| *key == chosen)).then(|| view! {
                                    <option value="" selected=true>"—"</option>
                                })}
                                {questionnaires.iter().map(|(key, title)| {
                                    let selected = *key == chosen;
                                    view! { <option value=key.clone() selected=selected>{title.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="button" aria-label=label(td_string!(locale, design.remove))
                            on:click=move |_| doc.restructure(|p| remove_at(&mut p.schedules, n))>"✕"</button>
                    </div>
                    <label>
                        {td_string!(locale, design.schedule_starts)} " "
                        <select aria-label=label(td_string!(locale, design.schedule_starts))
                            on:change=move |ev| { let v = value(&ev); with_schedule(doc, n, |s| s.starts = start_of(&v)) }>
                            {(start.contains(':') && !modules.iter().any(|(key, _)| start.ends_with(&format!(":{key}")))).then(|| view! {
                                <option value="" selected=true>"—"</option>
                            })}
                            <option value="enrolment" selected={start == "enrolment"}>{td_string!(locale, design.schedule_at_enrolment)}</option>
                            {module_options}
                            <option value="end" selected={start == "end"}>{td_string!(locale, design.schedule_at_end)}</option>
                        </select>
                    </label>
                    <label>
                        {td_string!(locale, design.schedule_every)} " "
                        <input type="number" min="1" max="365" inputmode="numeric"
                            aria-label=label(td_string!(locale, design.schedule_every))
                            value=s.every_days.map(|d| d.to_string()).unwrap_or_default()
                            on:input=move |ev| { let v = days(&value(&ev)); with_schedule(doc, n, |s| s.every_days = v) } />
                    </label>
                    <label>
                        {td_string!(locale, design.schedule_window)} " "
                        <input type="number" min="1" max="365" inputmode="numeric"
                            aria-label=label(td_string!(locale, design.schedule_window))
                            value=s.window_days.to_string()
                            on:input=move |ev| { let v = days(&value(&ev)).unwrap_or(0); with_schedule(doc, n, |s| s.window_days = v) } />
                    </label>
                    <label>
                        <input type="checkbox" checked=s.blocking
                            aria-label=label(td_string!(locale, design.schedule_blocking))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                with_schedule(doc, n, |s| s.blocking = on)
                            } />
                        " " {td_string!(locale, design.schedule_blocking)}
                    </label>
                </li>
            }
        })
        .collect_view();
    let nothing_to_ask = questionnaires.is_empty();
    view! {
        <ul class="schedule-list">{rows}</ul>
        <button type="button" disabled=nothing_to_ask on:click=move |_| doc.restructure(|p| {
            let Some(questionnaire) = p.questionnaires.first().map(|q| q.key.clone()) else { return };
            let key = fresh_key(p, "schema");
            p.schedules.push(Schedule {
                key,
                questionnaire,
                starts: ScheduleStart::Enrolment,
                every_days: Some(7),
                window_days: 7,
                blocking: false,
            });
        })>{td_string!(locale, design.add_schedule)}</button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_survives_the_select() {
        for start in [
            ScheduleStart::Enrolment,
            ScheduleStart::ModuleOpens {
                module: "m2".to_owned(),
            },
            ScheduleStart::ModuleFinished {
                module: "m-3".to_owned(),
            },
            ScheduleStart::ProgramFinished,
        ] {
            assert_eq!(start_of(&start_code(&start)), start);
        }
    }

    #[test]
    fn days_are_read_leniently_and_too_many_stay_too_many() {
        assert_eq!(days(" 7 "), Some(7));
        assert_eq!(days(""), None);
        assert_eq!(days("100000"), Some(u16::MAX));
        assert_eq!(days("-1"), None);
    }
}
