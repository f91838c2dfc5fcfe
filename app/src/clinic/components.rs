use super::arrange::{
    Caseload, Filter, FlagChoice, Order, Whose, arrange, caseloads, dashboard_href,
};
use super::summary::{end_reason_label, state_label, summary_href};
use super::{
    AcknowledgeFlag, Dashboard, DashboardPatient, EnrolChoices, EnrolPatients, OpenFlag,
    PatientRecord, ResolveFlag, ScoreChange, enrolment_choices, get_patient_record, unit_dashboard,
};
use super::{AddNote, ChangeCareTeam, ChangeTreatment, HandOver, RaiseFlag};
use crate::care::results::ScaleResults;
use crate::care::{ExtraFormsSection, StaffModules};
use crate::domain::{FlagPriority, flag_reason};
use crate::error::AppError;
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title};
use crate::messages::StaffThread;
use crate::programs::render::band_name;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ClinicHome() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let (order, filter, whose, flag_choice) = query.with_untracked(|q| {
        (
            Order::from_query(q.get("ordning").as_deref()),
            Filter::from_query(q.get("visa").as_deref()),
            Whose::from_query(q.get("vems").as_deref()),
            FlagChoice::from_query(q.get("flaggor").as_deref()),
        )
    });
    let data = Resource::new(|| (), move |_| unit_dashboard(whose == Whose::Mine));
    view! {
        <Title text=page_title(move || t_string!(i18n, clinic.title).to_string()) />
        <h1>{t!(i18n, clinic.title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    // Enrolment is offered to those who may list the unit's patients; a live
                    // refresh takes the live region alone, so it is not read again for it.
                    Ok(dashboard) => view! {
                        <DashboardView dashboard order filter whose flag_choice />
                        {(!live_refresh()).then(|| view! { <EnrolSection /> })}
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The dashboard: who needs the care team now. Whole HTML from the server; with JavaScript,
/// `public/live.js` listens to the unit's care events and fetches the dashboard again when one
/// arrives (the region marked `data-live-region`), without a reload.
#[component]
fn DashboardView(
    dashboard: Dashboard,
    order: Order,
    filter: Filter,
    whose: Whose,
    flag_choice: FlagChoice,
) -> impl IntoView {
    let i18n = use_i18n();
    let acknowledge = ServerAction::<AcknowledgeFlag>::new();
    let resolve = ServerAction::<ResolveFlag>::new();
    let Dashboard {
        patients,
        flags,
        live_after,
        handles_flags,
    } = dashboard;
    let total = patients.len();
    let loads = caseloads(&patients);
    let patients = arrange(patients, order, filter);
    // The refresh link keeps the order and selection chosen.
    let here = dashboard_href(order, filter, whose, flag_choice);
    let flag_choices: Vec<FlagChoiceLink> = FlagChoice::ALL
        .into_iter()
        .map(|choice| FlagChoiceLink {
            choice,
            href: dashboard_href(order, filter, whose, choice),
            count: flags.iter().filter(|f| choice.keeps(f)).count(),
            chosen: choice == flag_choice,
        })
        .collect();
    let flags: Vec<OpenFlag> = flags.into_iter().filter(|f| flag_choice.keeps(f)).collect();
    view! {
        <div class="dashboard" data-live-events=LIVE_EVENTS_PATH data-live-after=live_after.to_string()
            data-text-live=move || t_string!(i18n, clinic.live_on).to_string()
            data-text-retry=move || t_string!(i18n, clinic.live_retry).to_string()
            data-text-stopped=move || t_string!(i18n, clinic.live_stopped).to_string()
            data-text-updated=move || t_string!(i18n, clinic.live_updated).to_string()>
            <p class="live-status muted">
                <span data-live-status role="status">{t!(i18n, clinic.live_off)}</span>
                " "
                <a href=here>{t!(i18n, clinic.refresh)}</a>
            </p>
            <FormNotice action=acknowledge />
            <FormNotice action=resolve />
            // Outside the live region: a choice being made is never replaced by a refresh.
            <PatientView order filter whose flag_choice therapist=handles_flags />
            <div data-live-region>
                <FlagList flags flag_choices handles_flags acknowledge resolve />
                <PatientList list=patients total />
                <CaseloadTable loads />
            </div>
        </div>
        <script type="module" src="/live.js" nonce=leptos::nonce::use_nonce()></script>
    }
}

/// Whether this rendering is a dashboard's live refresh (`public/live.js` sends `Lotsen-Live`
/// and keeps only the page's `[data-live-region]`).
fn live_refresh() -> bool {
    #[cfg(feature = "ssr")]
    {
        with_context::<http::request::Parts, _>(|parts| parts.headers.contains_key("lotsen-live"))
            .unwrap_or(false)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// Where a dashboard's browser listens for the unit's care events.
pub const LIVE_EVENTS_PATH: &str = "/mottagning/handelser";

/// What raised a flag, as the care team reads it: a follow-up rule by name, an answer's alert
/// rule by its code and questionnaire.
fn reason_text(flag: &OpenFlag, locale: Locale) -> String {
    reason_label(&flag.reason, flag.questionnaire.as_deref(), locale)
}

/// A flag's reason code (and the questionnaire whose answer raised it) in words.
pub(crate) fn reason_label(reason: &str, questionnaire: Option<&str>, locale: Locale) -> String {
    if let Some(q) = questionnaire
        && flag_reason::ALL.contains(&reason)
    {
        // A program's own alert rule that happens to share a follow-up reason's code.
        return format!("{q}: {reason}");
    }
    match reason {
        flag_reason::INACTIVE => td_string!(locale, clinic.reason_inactive).to_owned(),
        flag_reason::OVERDUE_HOMEWORK => {
            td_string!(locale, clinic.reason_overdue_homework).to_owned()
        }
        flag_reason::UNANSWERED_MESSAGE => {
            td_string!(locale, clinic.reason_unanswered_message).to_owned()
        }
        "phq9_item9" => td_string!(locale, clinic.reason_phq9_item9).to_owned(),
        flag_reason::MANUAL_RISK => td_string!(locale, clinic.reason_manual_risk).to_owned(),
        flag_reason::MANUAL_CONTACT => td_string!(locale, clinic.reason_manual_contact).to_owned(),
        flag_reason::MANUAL_OTHER => td_string!(locale, clinic.reason_manual_other).to_owned(),
        "madrs_s_item9" => td_string!(locale, clinic.reason_madrs_s_item9).to_owned(),
        "phq9_worsened" => td_string!(locale, clinic.reason_phq9_worsened).to_owned(),
        "gad7_worsened" => td_string!(locale, clinic.reason_gad7_worsened).to_owned(),
        code => match questionnaire {
            Some(q) => format!("{q}: {code}"),
            None => code.to_owned(),
        },
    }
}

/// A flag's priority in words.
pub(crate) fn priority_label(priority: FlagPriority, locale: Locale) -> &'static str {
    match priority {
        FlagPriority::Urgent => td_string!(locale, clinic.priority_urgent),
        FlagPriority::Warning => td_string!(locale, clinic.priority_warning),
        FlagPriority::Info => td_string!(locale, clinic.priority_info),
    }
}

/// One of the flag list's choices: all open flags, those not acknowledged, those escalated.
#[derive(Clone)]
struct FlagChoiceLink {
    choice: FlagChoice,
    href: String,
    count: usize,
    chosen: bool,
}

#[component]
fn FlagList(
    flags: Vec<OpenFlag>,
    flag_choices: Vec<FlagChoiceLink>,
    handles_flags: bool,
    acknowledge: ServerAction<AcknowledgeFlag>,
    resolve: ServerAction<ResolveFlag>,
) -> impl IntoView {
    let i18n = use_i18n();
    let open = flag_choices
        .iter()
        .find(|c| c.choice == FlagChoice::Open)
        .map_or(0, |c| c.count);
    let choice_name = move |choice: FlagChoice| match choice {
        FlagChoice::Open => t_string!(i18n, clinic.flags_open).to_string(),
        FlagChoice::Unhandled => t_string!(i18n, clinic.flags_unhandled).to_string(),
        FlagChoice::Escalated => t_string!(i18n, clinic.flags_escalated).to_string(),
    };
    view! {
        <section class="flags" aria-labelledby="flags-heading">
            <h2 id="flags-heading">{t!(i18n, clinic.flags_heading)} " (" {open} ")"</h2>
            // Who follows up the flags (a patient administrator, the care team) sees at once
            // how many nobody has acknowledged and how many were escalated, and lists them.
            {(open > 0).then(|| view! {
                <nav class="flag-choice" aria-label=move || t_string!(i18n, clinic.flags_choice).to_string()>
                    <ul>
                        {flag_choices.into_iter().map(|link| view! {
                            <li>
                                // An id: a live refresh gives focus back to it.
                                <a id=format!("flag-choice-{}", link.choice.code()) href=link.href
                                    aria-current=link.chosen.then_some("page")>
                                    {format!("{} ({})", choice_name(link.choice), link.count)}
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                </nav>
            })}
            {if open == 0 {
                view! { <p>{t!(i18n, clinic.no_flags)}</p> }.into_any()
            } else if flags.is_empty() {
                view! { <p>{t!(i18n, clinic.no_flags_chosen)}</p> }.into_any()
            } else {
                view! {
                    <ul class="flag-list">
                        {flags.into_iter().map(|flag| {
                            let id = flag.flag_id;
                            let priority = flag.priority;
                            let label = move || match priority {
                                FlagPriority::Urgent => t_string!(i18n, clinic.priority_urgent).to_string(),
                                FlagPriority::Warning => t_string!(i18n, clinic.priority_warning).to_string(),
                                FlagPriority::Info => t_string!(i18n, clinic.priority_info).to_string(),
                            };
                            let class = match priority {
                                FlagPriority::Urgent => "card flag urgent",
                                FlagPriority::Warning => "card flag warning",
                                FlagPriority::Info => "card flag info",
                            };
                            let reason = reason_text(&flag, i18n.get_locale_untracked());
                            // Where to see what raised it: the thread, the modules, the record.
                            let source = match flag.reason.as_str() {
                                flag_reason::UNANSWERED_MESSAGE => format!("#reply-{}-heading", flag.enrolment_id),
                                _ => String::new(),
                            };
                            let record = format!("/mottagning/patient/{}{source}", flag.patient_id);
                            let escalated = flag.escalated_at.clone();
                            let acknowledged = flag.acknowledged.clone();
                            view! {
                                <li class=class data-key=format!("flag-{id}")>
                                    <p>
                                        <strong class="priority">{label}</strong> " · "
                                        <a href=format!("/mottagning/patient/{}", flag.patient_id)>{flag.patient}</a>
                                    </p>
                                    <p>{t!(i18n, clinic.flag_reason)} ": " <a class="reason" href=record>{reason}</a></p>
                                    {flag.note.map(|note| view! { <p class="flag-note">{note}</p> })}
                                    <p class="muted">
                                        {t!(i18n, clinic.flag_raised)} " " {flag.raised_at}
                                        {flag.raised_by.map(|by| view! { " " {t!(i18n, clinic.flag_raised_by)} " " {by} })}
                                    </p>
                                    {escalated.map(|at| view! {
                                        <p class="escalated"><strong>{t!(i18n, clinic.flag_escalated)}</strong> " " {at}</p>
                                    })}
                                    {match acknowledged {
                                        Some(ack) => view! {
                                            <p class="acknowledged">{t!(i18n, clinic.flag_acknowledged_by)} " " {ack.by} ", " {ack.at}</p>
                                        }.into_any(),
                                        None => view! {
                                            <p class="not-acknowledged"><strong>{t!(i18n, clinic.flag_new)}</strong></p>
                                        }.into_any(),
                                    }}
                                    {handles_flags.then(|| view! {
                                        <div class="flag-actions">
                                            {flag.acknowledged.is_none().then(|| view! {
                                                <ActionForm action=acknowledge>
                                                    <input type="hidden" name="flag_id" value=id />
                                                    <button type="submit" class="primary">{t!(i18n, clinic.flag_acknowledge)}</button>
                                                </ActionForm>
                                            })}
                                            <details>
                                                <summary>{t!(i18n, clinic.flag_resolve)}</summary>
                                                <ActionForm action=resolve>
                                                    <input type="hidden" name="flag_id" value=id />
                                                    <label for=format!("resolve-{id}")>{t!(i18n, clinic.flag_comment)}</label>
                                                    <textarea id=format!("resolve-{id}") name="comment" rows="3" required=true maxlength="4000"></textarea>
                                                    <button type="submit" class="button">{t!(i18n, clinic.flag_resolve_submit)}</button>
                                                </ActionForm>
                                            </details>
                                        </div>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Enrolment: one patient, or a group with one personal identity number a line.
#[component]
fn EnrolSection() -> impl IntoView {
    let i18n = use_i18n();
    let choices = Resource::new(|| (), |_| enrolment_choices());
    let enrol = ServerAction::<EnrolPatients>::new();
    view! {
        <section class="card enrol" aria-labelledby="enrol-heading">
            <h2 id="enrol-heading">{t!(i18n, clinic.enrol_heading)}</h2>
            <FormNotice action=enrol />
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(choices) if choices.versions.is_empty() || choices.therapists.is_empty() => {
                            view! { <p>{t!(i18n, clinic.enrol_nothing_active)}</p> }.into_any()
                        }
                        Ok(choices) => view! { <EnrolForm choices enrol /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn EnrolForm(choices: EnrolChoices, enrol: ServerAction<EnrolPatients>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ActionForm action=enrol attr:class="enrol-form">
            <label for="enrol-patients">{t!(i18n, clinic.enrol_patients)}</label>
            <p id="enrol-patients-hint" class="muted">{t!(i18n, clinic.enrol_patients_hint)}</p>
            <textarea id="enrol-patients" name="patients" rows="4" required=true autocomplete="off"
                aria-describedby="enrol-patients-hint"></textarea>
            <label for="enrol-version">{t!(i18n, clinic.program)}</label>
            <select id="enrol-version" name="version_id" required=true>
                {choices.versions.into_iter().map(|v| view! {
                    <option value=v.version_id>{v.label}</option>
                }).collect_view()}
            </select>
            <label for="enrol-responsible">{t!(i18n, clinic.enrol_responsible)}</label>
            <select id="enrol-responsible" name="responsible_staff_id" required=true>
                {choices.therapists.into_iter().map(|t| view! {
                    <option value=t.staff_person_id>{t.name}</option>
                }).collect_view()}
            </select>
            <fieldset>
                <legend>{t!(i18n, clinic.enrol_contact)}</legend>
                <p class="muted">{t!(i18n, clinic.enrol_contact_hint)}</p>
                <label for="enrol-email">{t!(i18n, clinic.enrol_email)}</label>
                <input id="enrol-email" name="email" type="email" autocomplete="off" />
                <label for="enrol-phone">{t!(i18n, clinic.enrol_phone)}</label>
                <input id="enrol-phone" name="phone" type="tel" autocomplete="off" />
                <span class="choice">
                    <input id="enrol-notify-email" name="notify_by_email" type="checkbox" value="on" />
                    <label for="enrol-notify-email">{t!(i18n, clinic.enrol_notify_email)}</label>
                </span>
                <span class="choice">
                    <input id="enrol-notify-sms" name="notify_by_sms" type="checkbox" value="on" />
                    <label for="enrol-notify-sms">{t!(i18n, clinic.enrol_notify_sms)}</label>
                </span>
            </fieldset>
            <button type="submit" class="primary">{t!(i18n, clinic.enrol_submit)}</button>
        </ActionForm>
    }
}

/// The unit's caseloads: each therapist's patients, and how many need them.
#[component]
fn CaseloadTable(loads: Vec<Caseload>) -> impl IntoView {
    let i18n = use_i18n();
    (!loads.is_empty()).then(|| {
        view! {
            <section class="caseloads" aria-labelledby="caseloads-heading">
                <h2 id="caseloads-heading">{t!(i18n, clinic.caseloads_heading)}</h2>
                <div class="table-scroll" tabindex="0"><table class="table">
                    <caption class="visually-hidden">{t!(i18n, clinic.caseloads_heading)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, clinic.col_therapist)}</th>
                            <th scope="col">{t!(i18n, clinic.col_patients)}</th>
                            <th scope="col">{t!(i18n, clinic.col_flagged)}</th>
                            <th scope="col">{t!(i18n, clinic.col_urgent)}</th>
                            <th scope="col">{t!(i18n, clinic.col_with_unread)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {loads.into_iter().map(|c| view! {
                            <tr>
                                <th scope="row">{match c.therapist {
                                    Some(name) => name.into_any(),
                                    None => t!(i18n, clinic.no_therapist).into_any(),
                                }}</th>
                                <td>{c.patients}</td>
                                <td>{c.flagged}</td>
                                <td>{c.urgent}</td>
                                <td>{c.unread}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            </section>
        }
    })
}

/// How the patients are ordered and which are shown: a plain GET form.
#[component]
fn PatientView(
    order: Order,
    filter: Filter,
    whose: Whose,
    flag_choice: FlagChoice,
    therapist: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let order_name = move |o: Order| match o {
        Order::Need => td_string!(locale, clinic.order_need),
        Order::Name => td_string!(locale, clinic.order_name),
        Order::Activity => td_string!(locale, clinic.order_activity),
    };
    let filter_name = move |f: Filter| match f {
        Filter::All => td_string!(locale, clinic.filter_all),
        Filter::Flags => td_string!(locale, clinic.filter_flags),
        Filter::Unread => td_string!(locale, clinic.filter_unread),
        Filter::Feedback => td_string!(locale, clinic.filter_feedback),
    };
    let whose_name = move |w: Whose| match w {
        Whose::Unit => td_string!(locale, clinic.whose_unit),
        Whose::Mine => td_string!(locale, clinic.whose_mine),
    };
    view! {
        <form method="get" action="/mottagning" class="patient-view">
            // The flags chosen stay chosen.
            {(flag_choice != FlagChoice::Open).then(|| view! {
                <input type="hidden" name="flaggor" value=flag_choice.code() />
            })}
            // A therapist's own caseload, or the whole unit (a patient administrator is on no
            // care team: the unit is theirs).
            {therapist.then(|| view! {
                <label for="patient-whose">{t!(i18n, clinic.whose)}</label>
                <select id="patient-whose" name="vems">
                    {Whose::ALL.into_iter().map(|w| view! {
                        <option value=w.code() selected=w == whose>{whose_name(w)}</option>
                    }).collect_view()}
                </select>
            })}
            <label for="patient-order">{t!(i18n, clinic.order)}</label>
            <select id="patient-order" name="ordning">
                {Order::ALL.into_iter().map(|o| view! {
                    <option value=o.code() selected=o == order>{order_name(o)}</option>
                }).collect_view()}
            </select>
            <label for="patient-filter">{t!(i18n, clinic.filter)}</label>
            <select id="patient-filter" name="visa">
                {Filter::ALL.into_iter().map(|f| view! {
                    <option value=f.code() selected=f == filter>{filter_name(f)}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="button">{t!(i18n, clinic.show)}</button>
        </form>
    }
}

#[component]
fn PatientList(list: Vec<DashboardPatient>, total: usize) -> impl IntoView {
    let i18n = use_i18n();
    if total == 0 {
        return view! { <p>{t!(i18n, clinic.no_patients)}</p> }.into_any();
    }
    let shown = list.len();
    if shown == 0 {
        return view! { <p>{t!(i18n, clinic.none_chosen)}</p> }.into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0"><table class="table patients">
            <caption>
                {t!(i18n, clinic.patients_caption)}
                {(shown < total).then(|| view! {
                    " (" {t!(i18n, clinic.showing)} " " {shown} " " {t!(i18n, clinic.showing_of)} " " {total} ")"
                })}
            </caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, clinic.name)}</th>
                    <th scope="col">{t!(i18n, clinic.personnummer)}</th>
                    <th scope="col">{t!(i18n, clinic.program)}</th>
                    <th scope="col">{t!(i18n, clinic.col_therapist)}</th>
                    <th scope="col">{t!(i18n, clinic.col_flags)}</th>
                    <th scope="col">{t!(i18n, clinic.col_unread)}</th>
                    <th scope="col">{t!(i18n, clinic.col_feedback)}</th>
                    <th scope="col">{t!(i18n, clinic.col_scores)}</th>
                    <th scope="col">{t!(i18n, clinic.col_activity)}</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|p| {
                    let urgent = p.urgent_flags;
                    view! {
                        <tr data-key=format!("patient-{}", p.enrolment_id) class:needs-attention={urgent > 0}>
                            <td><a href=format!("/mottagning/patient/{}", p.patient_id)>{p.name}</a></td>
                            <td>{p.personnummer}</td>
                            <td>
                                {p.program}
                                {p.module.map(|m| view! { <br /><span class="muted module">{m}</span> })}
                            </td>
                            <td>{p.therapist.unwrap_or_else(|| "–".to_owned())}</td>
                            <td class="flags-cell">
                                {(urgent > 0).then(|| view! {
                                    <strong class="urgent">{urgent} " " {t!(i18n, clinic.urgent_short)}</strong>
                                })}
                                {(p.other_flags > 0).then(|| view! { " " <span>{p.other_flags}</span> })}
                                {(urgent == 0 && p.other_flags == 0).then_some("–")}
                            </td>
                            <td>{p.unread}</td>
                            <td>{p.awaiting_feedback}</td>
                            <td class="scores-cell"><Scores scores=p.scores /></td>
                            <td>{p.last_activity.unwrap_or_else(|| "–".to_owned())}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

/// A patient's latest scores: total and band, and the change from the first and the previous
/// answer, each said in words when it reaches the scale's meaningful change (never by colour
/// alone).
#[component]
fn Scores(scores: Vec<ScoreChange>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    if scores.is_empty() {
        return view! { "–" }.into_any();
    }
    let change = move |score: &ScoreChange, delta: Option<i32>, since: &'static str| {
        delta.map(|d| {
            let judged = match (score.is_meaningful(d), d > 0) {
                (true, true) => Some(("change worse", td_string!(locale, clinic.meaningful_worse))),
                (true, false) => Some((
                    "change better",
                    td_string!(locale, clinic.meaningful_better),
                )),
                (false, _) => None,
            };
            let class = judged.map_or("change", |(c, _)| c);
            view! {
                <span class=class>
                    {format!("{d:+} {since}")}
                    {judged.map(|(_, words)| view! { " (" <strong>{words}</strong> ")" })}
                </span>
            }
        })
    };
    view! {
        <ul class="scores">
            {scores.into_iter().map(|score| {
                let band = score.band.as_deref().map(|b| format!(" ({})", band_name(b, locale)));
                let first = change(&score, score.from_first, td_string!(locale, clinic.since_first));
                let previous = change(&score, score.from_previous, td_string!(locale, clinic.since_previous));
                view! {
                    <li>
                        <span class="score">{score.title.clone()} " " <strong>{score.total}</strong> {band}</span>
                        {first.map(|f| view! { " · " {f} })}
                        {previous.map(|p| view! { " · " {p} })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn PatientRecordPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    let record = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_patient_record(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=page_title(move || t_string!(i18n, clinic.record_title).to_string()) />
        <p><a href="/mottagning">{t!(i18n, clinic.back)}</a></p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Ok(record) => view! { <Record record /> }.into_any(),
                    Err(error) => {
                        // Emergency access is a therapist's step (the server refuses it to
                        // anyone else): the form is offered to therapists only.
                        let therapist = crate::layout::use_site_session()
                            .and_then(|site| site.me)
                            .is_some_and(|me| me.roles.contains(&crate::auth::Role::Therapist));
                        let emergency =
                            (error == AppError::Forbidden && therapist).then(id).flatten();
                        view! {
                            <h1>{t!(i18n, clinic.record_title)}</h1>
                            <ErrorNotice error />
                            {emergency.map(|id| view! { <EmergencyAccessForm patient_id=id /> })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Record(record: PatientRecord) -> impl IntoView {
    let i18n = use_i18n();
    let reply = ServerAction::<crate::messages::ReplyMessage>::new();
    let give = ServerAction::<crate::care::GiveFeedback>::new();
    let change = ServerAction::<ChangeTreatment>::new();
    let team = ServerAction::<ChangeCareTeam>::new();
    let note = ServerAction::<AddNote>::new();
    let set = ServerAction::<crate::care::SetModule>::new();
    let request = ServerAction::<crate::care::RequestForm>::new();
    let withdraw = ServerAction::<crate::care::WithdrawForm>::new();
    let hand = ServerAction::<HandOver>::new();
    let raise = ServerAction::<RaiseFlag>::new();
    let patient_id = record.patient_id;
    let locale = i18n.get_locale_untracked();
    view! {
        <FormNotice action=reply />
        <FormNotice action=give />
        <FormNotice action=change />
        <FormNotice action=team />
        <FormNotice action=note />
        <FormNotice action=set />
        <FormNotice action=request />
        <FormNotice action=withdraw />
        <FormNotice action=hand />
        <FormNotice action=raise />
        <h1>{record.name}</h1>
        <p>{t!(i18n, clinic.personnummer)} ": " {record.personnummer}</p>
        <h2>{t!(i18n, clinic.enrolments)}</h2>
        <ul class="cards">
            {record.enrolments.into_iter().map(|e| view! {
                <li class="card">
                    <h3>{e.program}</h3>
                    <p>
                        {e.care_unit} " · " {e.started} " – " {e.ended.clone().unwrap_or_else(|| t_string!(i18n, summary.ongoing).to_owned())}
                        " · " <span class="treatment-state">{state_label(e.state, locale)}
                        {e.end_reason.map(|r| format!(": {}", end_reason_label(r, locale)))}</span>
                        {e.maintenance_from.clone().map(|from| format!(" ({} {from})", t_string!(i18n, summary.maintenance_from).to_lowercase()))}
                    </p>
                    <p><a href=summary_href(patient_id, e.enrolment_id)>{t!(i18n, summary.link)}</a></p>
                    {e.handed_to.clone().map(|to| view! {
                        <p class="handed-over">{t!(i18n, clinic.handed_to)} " " {to} ". " {t!(i18n, clinic.handed_to_read_only)}</p>
                    })}
                    <CareTeamSection patient_id enrolment_id=e.enrolment_id team=e.team.clone() may_manage=e.may_manage_team take_as=e.take_as action=team />
                    {e.may_note.then(|| view! { <RaiseFlagForm patient_id enrolment_id=e.enrolment_id action=raise /> })}
                    <InternalNotes patient_id enrolment_id=e.enrolment_id legacy=e.internal_note notes=e.notes may_note=e.may_note action=note />
                    <StaffModules patient_id enrolment_id=e.enrolment_id modules=e.modules feedback_key=e.feedback_key give set />
                    <ExtraFormsSection patient_id enrolment_id=e.enrolment_id extra=e.extra request withdraw />
                    <StaffThread patient_id enrolment_id=e.enrolment_id messages=e.messages reply_key=e.reply_key reply />
                    {e.results.into_iter().map(|series| view! { <ScaleResults series /> }).collect_view()}
                    {e.may_change.then(|| view! {
                        <TreatmentPhase patient_id enrolment_id=e.enrolment_id state=e.state change />
                    })}
                    <Handover patient_id enrolment_id=e.enrolment_id units=e.handover_units action=hand />
                </li>
            }).collect_view()}
        </ul>
    }
}

/// The form to hand the treatment over to another unit of the care provider, for whoever may.
#[component]
fn Handover(
    patient_id: i64,
    enrolment_id: i64,
    units: Vec<super::UnitChoice>,
    action: ServerAction<HandOver>,
) -> impl IntoView {
    let i18n = use_i18n();
    if units.is_empty() {
        return ().into_any();
    }
    let heading = format!("handover-{enrolment_id}");
    let labelled_by = heading.clone();
    let field = format!("handover-unit-{enrolment_id}");
    let options = units
        .into_iter()
        .map(|u| view! { <option value=u.unit_id>{u.name}</option> })
        .collect_view();
    view! {
        <section class="handover" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, clinic.handover_heading)}</h4>
            <p class="muted">{t!(i18n, clinic.handover_lead)}</p>
            <ActionForm action attr:class="handover-form">
                <input type="hidden" name="patient_id" value=patient_id />
                <input type="hidden" name="enrolment" value=enrolment_id />
                <label for=field.clone()>{t!(i18n, clinic.handover_unit)}</label>
                <select id=field name="unit_id" required=true>{options}</select>
                <button type="submit">{t!(i18n, clinic.handover_button)}</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

/// The form to flag the treatment by hand (a therapist on the care team, while it goes on):
/// a reason from the fixed list, a priority, and a note the care team sees on the dashboard.
#[component]
fn RaiseFlagForm(
    patient_id: i64,
    enrolment_id: i64,
    action: ServerAction<RaiseFlag>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let heading = format!("raise-flag-{enrolment_id}");
    let labelled_by = heading.clone();
    let (reason_field, priority_field, note_field) = (
        format!("flag-reason-{enrolment_id}"),
        format!("flag-priority-{enrolment_id}"),
        format!("flag-note-{enrolment_id}"),
    );
    let reasons = flag_reason::MANUAL
        .into_iter()
        .map(|r| view! { <option value=r>{reason_label(r, None, locale)}</option> })
        .collect_view();
    // No priority is chosen for the therapist: how urgent it is, is theirs to say.
    let priorities = [
        (
            FlagPriority::Urgent,
            td_string!(locale, clinic.priority_urgent),
        ),
        (
            FlagPriority::Warning,
            td_string!(locale, clinic.priority_warning),
        ),
        (FlagPriority::Info, td_string!(locale, clinic.priority_info)),
    ]
    .into_iter()
    .map(|(p, label)| {
        let value = match p {
            FlagPriority::Urgent => "urgent",
            FlagPriority::Warning => "warning",
            FlagPriority::Info => "info",
        };
        view! { <option value=value>{label}</option> }
    })
    .collect_view();
    view! {
        <section class="raise-flag" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, clinic.raise_flag_heading)}</h4>
            <p class="muted">{t!(i18n, clinic.raise_flag_lead)}</p>
            <ActionForm action attr:class="raise-flag-form">
                <input type="hidden" name="patient_id" value=patient_id />
                <input type="hidden" name="enrolment" value=enrolment_id />
                <label for=reason_field.clone()>{t!(i18n, clinic.flag_reason)}</label>
                <select id=reason_field name="reason" required=true>{reasons}</select>
                <label for=priority_field.clone()>{t!(i18n, clinic.raise_flag_priority)}</label>
                <select id=priority_field name="priority" required=true>
                    <option value="">{t!(i18n, clinic.raise_flag_choose)}</option>
                    {priorities}
                </select>
                <label for=note_field.clone()>{t!(i18n, clinic.raise_flag_note)}</label>
                <textarea id=note_field name="note" rows="2" maxlength=crate::messages::text::MAX_CHARS required=true></textarea>
                <button type="submit">{t!(i18n, clinic.raise_flag_button)}</button>
            </ActionForm>
        </section>
    }
}

/// Therapist-internal notes (the one written at enrolment first, then the dated ones, newest
/// first) and the form for a new one. Nothing is shown when there is nothing for the caller.
#[component]
fn InternalNotes(
    patient_id: i64,
    enrolment_id: i64,
    legacy: String,
    notes: Vec<super::Note>,
    may_note: bool,
    action: ServerAction<AddNote>,
) -> impl IntoView {
    let i18n = use_i18n();
    if legacy.is_empty() && notes.is_empty() && !may_note {
        return ().into_any();
    }
    let heading = format!("notes-{enrolment_id}");
    let labelled_by = heading.clone();
    let field = format!("note-{enrolment_id}");
    let items = notes
        .into_iter()
        .map(|n| {
            view! {
                <li class="internal-note">
                    <p class="muted">{n.written_at} " · " {n.author}</p>
                    <p class="message-body">{n.body}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="internal-notes" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, clinic.internal_notes)}</h4>
            <p class="muted">{t!(i18n, clinic.internal_notes_lead)}</p>
            {(!legacy.is_empty()).then(|| view! {
                <p class="internal-note">
                    <strong>{t!(i18n, clinic.internal_note)} ": "</strong>
                    {legacy}
                </p>
            })}
            <ul class="notes">{items}</ul>
            {may_note.then(|| view! {
                <ActionForm action attr:class="note-form">
                    <input type="hidden" name="patient_id" value=patient_id />
                    <input type="hidden" name="enrolment" value=enrolment_id />
                    <label for=field.clone()>{t!(i18n, clinic.new_note)}</label>
                    <textarea id=field.clone() name="body" rows="3" maxlength=crate::messages::text::MAX_CHARS required=true></textarea>
                    <button type="submit">{t!(i18n, clinic.save_note)}</button>
                </ActionForm>
            })}
        </section>
    }
    .into_any()
}

/// The treatment's care team, and for whoever may change it, the forms to do so.
#[component]
fn CareTeamSection(
    patient_id: i64,
    enrolment_id: i64,
    team: super::CareTeam,
    may_manage: bool,
    /// The caller's staff id, when they may take the treatment on (it has no responsible
    /// therapist).
    take_as: Option<i64>,
    action: ServerAction<ChangeCareTeam>,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("team-{enrolment_id}");
    let take = take_as.filter(|_| !may_manage).map(|me| {
        view! {
            <ActionForm action attr:class="inline-form">
                <input type="hidden" name="patient_id" value=patient_id />
                <input type="hidden" name="enrolment" value=enrolment_id />
                <input type="hidden" name="action" value="responsible" />
                <input type="hidden" name="staff_person_id" value=me />
                <button type="submit">{t!(i18n, team.take)}</button>
            </ActionForm>
        }
    });
    let labelled_by = heading.clone();
    let hidden = move |what: &'static str| {
        view! {
            <input type="hidden" name="patient_id" value=patient_id />
            <input type="hidden" name="enrolment" value=enrolment_id />
            <input type="hidden" name="action" value=what />
        }
    };
    let members = team
        .members
        .iter()
        .map(|m| {
            let role = if m.responsible {
                t_string!(i18n, team.responsible)
            } else {
                t_string!(i18n, team.co_therapist)
            };
            let remove = (may_manage && !m.responsible).then(|| {
                let label = format!("{} {}", t_string!(i18n, team.remove), m.name);
                let id = m.staff_person_id;
                view! {
                    <ActionForm action attr:class="inline-form">
                        {hidden("remove")}
                        <input type="hidden" name="staff_person_id" value=id />
                        <button type="submit" aria-label=label>{t!(i18n, team.remove_short)}</button>
                    </ActionForm>
                }
            });
            view! { <li>{m.name.clone()} " (" {role} ") " {remove}</li> }
        })
        .collect_view();
    let no_responsible = !team.members.iter().any(|m| m.responsible);
    // Who could become responsible: the co-therapists and the unit's other therapists.
    let responsible_options = team
        .members
        .iter()
        .filter(|m| !m.responsible)
        .map(|m| (m.staff_person_id, m.name.clone()))
        .chain(
            team.candidates
                .iter()
                .map(|c| (c.staff_person_id, c.name.clone())),
        )
        .map(|(id, name)| view! { <option value=id>{name}</option> })
        .collect_view();
    let add_options = team
        .candidates
        .iter()
        .map(|c| view! { <option value=c.staff_person_id>{c.name.clone()}</option> })
        .collect_view();
    let responsible_field = format!("responsible-{enrolment_id}");
    let add_field = format!("co-therapist-{enrolment_id}");
    let manage = may_manage.then(|| {
        view! {
            <ActionForm action attr:class="team-form">
                {hidden("responsible")}
                <label for=responsible_field.clone()>{t!(i18n, team.new_responsible)}</label>
                <select id=responsible_field name="staff_person_id" required=true>
                    <option value="">{t!(i18n, team.choose)}</option>
                    {responsible_options}
                </select>
                <button type="submit">{t!(i18n, team.make_responsible)}</button>
            </ActionForm>
            {(!team.candidates.is_empty()).then(|| view! {
                <ActionForm action attr:class="team-form">
                    {hidden("add")}
                    <label for=add_field.clone()>{t!(i18n, team.add_label)}</label>
                    <select id=add_field.clone() name="staff_person_id" required=true>
                        <option value="">{t!(i18n, team.choose)}</option>
                        {add_options}
                    </select>
                    <button type="submit">{t!(i18n, team.add)}</button>
                </ActionForm>
            })}
        }
    });
    view! {
        <section class="care-team" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, team.heading)}</h4>
            {no_responsible.then(|| view! { <p>{t!(i18n, clinic.no_therapist)}</p> })}
            <ul class="team-members">{members}</ul>
            {take}
            {manage}
        </section>
    }
}

/// Moving a treatment on: to the maintenance phase, or to its end with a reason.
#[component]
fn TreatmentPhase(
    patient_id: i64,
    enrolment_id: i64,
    state: crate::domain::EnrolmentState,
    change: ServerAction<ChangeTreatment>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let heading = format!("phase-{enrolment_id}");
    let labelled_by = heading.clone();
    let reason_field = format!("end-reason-{enrolment_id}");
    let options = crate::domain::EndReason::ALL
        .into_iter()
        .map(|r| view! { <option value=r.code()>{end_reason_label(r, locale)}</option> })
        .collect_view();
    view! {
        <section class="treatment-phase" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, summary.phase_heading)}</h4>
            {(state == crate::domain::EnrolmentState::Active).then(|| view! {
                <ActionForm action=change attr:class="phase-form">
                    <input type="hidden" name="patient_id" value=patient_id />
                    <input type="hidden" name="enrolment" value=enrolment_id />
                    <input type="hidden" name="to" value="maintenance" />
                    <p>{t!(i18n, summary.maintenance_hint)}</p>
                    <button type="submit">{t!(i18n, summary.to_maintenance)}</button>
                </ActionForm>
            })}
            <ActionForm action=change attr:class="phase-form">
                <input type="hidden" name="patient_id" value=patient_id />
                <input type="hidden" name="enrolment" value=enrolment_id />
                <input type="hidden" name="to" value="ended" />
                <p>{t!(i18n, summary.end_hint)}</p>
                <label for=reason_field.clone()>{t!(i18n, summary.end_reason)}</label>
                <select id=reason_field name="reason" required=true>
                    <option value="">{t!(i18n, summary.choose_reason)}</option>
                    {options}
                </select>
                <button type="submit" class="danger">{t!(i18n, summary.end_submit)}</button>
            </ActionForm>
        </section>
    }
}

/// Emergency access outside the care relationship: a stated reason, logged and followed up.
#[component]
fn EmergencyAccessForm(patient_id: i64) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card emergency" aria-labelledby="emergency-heading">
            <h2 id="emergency-heading">{t!(i18n, clinic.emergency_heading)}</h2>
            <p>{t!(i18n, clinic.emergency_lead)}</p>
            <form method="post" action=format!("/mottagning/patient/{patient_id}/nodatkomst")>
                <label for="reason">{t!(i18n, clinic.emergency_reason)}</label>
                <textarea id="reason" name="reason" required minlength="10" maxlength="1000" rows="3"></textarea>
                <button type="submit" class="button">{t!(i18n, clinic.emergency_submit)}</button>
            </form>
        </section>
    }
}
