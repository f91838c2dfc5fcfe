use super::{
    AccessSeen, ConfirmContactCode, ContactSettings, MyEnrolment, OwnData, RequestContactCode,
    SetNotifications, my_care, my_contact, my_data, who_read_my_data,
};
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PatientHome() -> impl IntoView {
    let i18n = use_i18n();
    let care = Resource::new(|| (), |_| my_care());
    let accesses = Resource::new(|| (), |_| who_read_my_data());
    let testing = crate::layout::use_site_session()
        .and_then(|s| s.me)
        .is_some_and(|m| m.testing);
    view! {
        <Title text=page_title(move || t_string!(i18n, patient.title).to_string()) />
        <h1>{t!(i18n, patient.title)}</h1>
        <p>
            <a href="/mina-sidor/mina-uppgifter">{t!(i18n, mydata.title)}</a>
            // A program being tested notifies no one: no settings to show.
            {(!testing).then(|| view! {
                " · " <a href="/mina-sidor/aviseringar">{t!(i18n, notify.title)}</a>
            })}
        </p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match (care.await, accesses.await) {
                    (Ok(care), Ok(accesses)) => view! {
                        <MyPrograms care />
                        <WhoReadMyData accesses />
                    }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MyPrograms(care: Vec<MyEnrolment>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section aria-labelledby="programs-heading">
            <h2 id="programs-heading">{t!(i18n, patient.programs_heading)}</h2>
            {if care.is_empty() {
                view! { <p>{t!(i18n, patient.no_programs)}</p> }.into_any()
            } else {
                view! {
                    <ul class="cards">
                        {care.into_iter().map(|e| view! {
                            <li class="card">
                                <h3><a href=crate::care::treatment_href(e.enrolment_id)>{e.program}</a></h3>
                                <p>{e.care_unit}</p>
                                {e.therapist.map(|t| view! {
                                    <p>{t!(i18n, patient.your_therapist)} ": " {t}</p>
                                })}
                                <p class="muted">{t!(i18n, patient.started)} " " {e.started} " · " {t!(i18n, patient.version)} " " {e.version}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn WhoReadMyData(accesses: Vec<AccessSeen>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section aria-labelledby="log-heading">
            <h2 id="log-heading">{t!(i18n, patient.log_heading)}</h2>
            <p>{t!(i18n, patient.log_lead)}</p>
            {if accesses.is_empty() {
                view! { <p class="log-empty">{t!(i18n, patient.log_empty)}</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll" tabindex="0"><table class="table log">
                        <thead>
                            <tr>
                                <th scope="col">{t!(i18n, patient.log_when)}</th>
                                <th scope="col">{t!(i18n, patient.log_unit)}</th>
                                <th scope="col">{t!(i18n, patient.log_who)}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {accesses.into_iter().map(|a| view! {
                                <tr>
                                    <td>{a.at}</td>
                                    <td>{a.care_unit}</td>
                                    <td>{a.staff_name.unwrap_or_else(|| "–".to_owned())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}

/// `/mina-sidor/mina-uppgifter`: everything Lotsen keeps about the patient that is theirs to
/// see, with a download of the same as a file.
#[component]
pub fn MyDataPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| my_data());
    view! {
        <Title text=page_title(move || t_string!(i18n, mydata.title).to_string()) />
        <p><a href="/mina-sidor">{t!(i18n, care.back_home)}</a></p>
        <h1>{t!(i18n, mydata.title)}</h1>
        <p>{t!(i18n, mydata.lead)}</p>
        <p>{t!(i18n, mydata.gdpr)}</p>
        <p><a href="/mina-sidor/mina-uppgifter.json" download="mina-uppgifter.json">{t!(i18n, mydata.download)}</a></p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <MyDataView data /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MyDataView(data: OwnData) -> impl IntoView {
    let i18n = use_i18n();
    let yes_no = move |on: bool| {
        if on {
            t_string!(i18n, mydata.yes)
        } else {
            t_string!(i18n, mydata.no)
        }
    };
    let none = move || t_string!(i18n, mydata.none);
    let treatments = data
        .treatments
        .into_iter()
        .enumerate()
        .map(|(index, t)| {
            let heading = format!("treatment-{index}");
            let labelled_by = heading.clone();
            let answers = t
                .answers
                .into_iter()
                .map(|a| {
                    let mut summary = format!("{} · {}", a.questionnaire, a.at);
                    if !a.submitted {
                        summary.push_str(&format!(" ({})", t_string!(i18n, mydata.draft)));
                    }
                    if let Some(total) = a.total {
                        summary.push_str(&format!(" · {} {total}", t_string!(i18n, program.total)));
                    }
                    view! {
                        <details>
                            <summary>{summary}</summary>
                            <dl>{a.items.into_iter().map(|(q, v)| view! { <dt>{q}</dt><dd>{v}</dd> }).collect_view()}</dl>
                        </details>
                    }
                })
                .collect_view();
            let homework = t
                .homework
                .into_iter()
                .map(|h| {
                    let mut summary = format!("{} · {}", h.page, h.at);
                    if !h.submitted {
                        summary.push_str(&format!(" ({})", t_string!(i18n, mydata.draft)));
                    }
                    view! {
                        <details>
                            <summary>{summary}</summary>
                            <dl>{h.fields.into_iter().map(|(q, v)| view! { <dt>{q}</dt><dd class="message-body">{v}</dd> }).collect_view()}</dl>
                        </details>
                    }
                })
                .collect_view();
            let feedback = t
                .feedback
                .into_iter()
                .map(|(module, f)| view! {
                    <li><strong>{module}</strong> " · " {f.given_at} <p class="message-body">{f.body}</p></li>
                })
                .collect_view();
            let messages = t
                .messages
                .into_iter()
                .map(|m| {
                    let from = if m.from_patient {
                        t_string!(i18n, messages.you).to_owned()
                    } else {
                        m.author.unwrap_or_else(|| t_string!(i18n, messages.care_team).to_owned())
                    };
                    view! { <li><strong>{from}</strong> " · " {m.sent_at} <p class="message-body">{m.body}</p></li> }
                })
                .collect_view();
            let pages = t
                .pages_seen
                .into_iter()
                .map(|(module, page, at)| view! { <li>{module} " – " {page} " · " {at}</li> })
                .collect_view();
            view! {
                <section class="card" aria-labelledby=labelled_by>
                    <h2 id=heading>{t.program} " " {t.version}</h2>
                    <p class="muted">{t.care_unit} " · " {t.care_provider} " · " {t!(i18n, patient.started)} " " {t.started}</p>
                    <h3>{t!(i18n, mydata.answers)}</h3>
                    {answers}
                    <h3>{t!(i18n, mydata.homework)}</h3>
                    {homework}
                    <h3>{t!(i18n, mydata.feedback)}</h3>
                    <ul>{feedback}</ul>
                    <h3>{t!(i18n, messages.title)}</h3>
                    <ul class="plain">{messages}</ul>
                    <h3>{t!(i18n, mydata.pages)}</h3>
                    <ul>{pages}</ul>
                </section>
            }
        })
        .collect_view();
    let email = data.email.unwrap_or_else(|| none().to_owned());
    let phone = data.phone.unwrap_or_else(|| none().to_owned());
    view! {
        <section aria-labelledby="details-heading">
            <h2 id="details-heading">{t!(i18n, mydata.details)}</h2>
            <dl>
                <dt>{t!(i18n, mydata.name)}</dt><dd>{data.name}</dd>
                <dt>{t!(i18n, clinic.personnummer)}</dt><dd>{data.personnummer}</dd>
                <dt>{t!(i18n, clinic.enrol_email)}</dt><dd>{email}</dd>
                <dt>{t!(i18n, clinic.enrol_phone)}</dt><dd>{phone}</dd>
                <dt>{t!(i18n, mydata.notify_email)}</dt><dd>{yes_no(data.notify_by_email)}</dd>
                <dt>{t!(i18n, mydata.notify_sms)}</dt><dd>{yes_no(data.notify_by_sms)}</dd>
            </dl>
            <p class="muted">{t!(i18n, mydata.made_at)} " " {data.made_at} " " {t!(i18n, care.utc)}</p>
        </section>
        {treatments}
        <WhoReadMyData accesses=data.accesses />
    }
}

/// `/mina-sidor/aviseringar`: whether and how the patient is notified, and a new address or
/// number confirmed with a code.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let i18n = use_i18n();
    let consent = ServerAction::<SetNotifications>::new();
    let request = ServerAction::<RequestContactCode>::new();
    let confirm = ServerAction::<ConfirmContactCode>::new();
    let settings = Resource::new(
        move || {
            (
                consent.version().get(),
                request.version().get(),
                confirm.version().get(),
            )
        },
        |_| my_contact(),
    );
    view! {
        <Title text=page_title(move || t_string!(i18n, notify.title).to_string()) />
        <p><a href="/mina-sidor">{t!(i18n, patient.title)}</a></p>
        <h1>{t!(i18n, notify.title)}</h1>
        <p>{t!(i18n, notify.lead)}</p>
        <FormNotice action=consent />
        <FormNotice action=request />
        <FormNotice action=confirm />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <Settings settings consent request confirm /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Settings(
    settings: ContactSettings,
    consent: ServerAction<SetNotifications>,
    request: ServerAction<RequestContactCode>,
    confirm: ServerAction<ConfirmContactCode>,
) -> impl IntoView {
    let i18n = use_i18n();
    let none = move || t_string!(i18n, notify.none).to_owned();
    let email = settings.email.clone().unwrap_or_else(none);
    let phone = settings.phone.clone().unwrap_or_else(none);
    view! {
        <section class="card" aria-labelledby="contact-heading">
            <h2 id="contact-heading">{t!(i18n, notify.current)}</h2>
            <dl>
                <dt>{t!(i18n, notify.email)}</dt><dd>{email}</dd>
                <dt>{t!(i18n, notify.phone)}</dt><dd>{phone}</dd>
            </dl>
        </section>
        {settings.can_change.then(|| view! {
                <ActionForm action=consent attr:class="card">
                    <fieldset>
                        <legend>{t!(i18n, notify.consent_heading)}</legend>
                        <label>
                            <input type="checkbox" name="notify_by_email" value="on"
                                checked=settings.notify_by_email disabled=settings.email.is_none() />
                            " " {t!(i18n, notify.by_email)}
                        </label>
                        <label>
                            <input type="checkbox" name="notify_by_sms" value="on"
                                checked=settings.notify_by_sms disabled=settings.phone.is_none() />
                            " " {t!(i18n, notify.by_sms)}
                        </label>
                    </fieldset>
                    <button type="submit">{t!(i18n, notify.save)}</button>
                </ActionForm>
        })}
        {if settings.can_confirm {
            view! {
                <ActionForm action=request attr:class="card">
                    <h2>{t!(i18n, notify.change_heading)}</h2>
                    <p>{t!(i18n, notify.change_lead)}</p>
                    <fieldset>
                        <legend>{t!(i18n, notify.channel)}</legend>
                        <label><input type="radio" name="channel" value="email" checked=true />
                            " " {t!(i18n, notify.email)}</label>
                        <label><input type="radio" name="channel" value="sms" />
                            " " {t!(i18n, notify.phone)}</label>
                    </fieldset>
                    <label for="contact-address">{t!(i18n, notify.address)}</label>
                    <input id="contact-address" name="address" required=true maxlength="254"
                        autocomplete="email" />
                    <button type="submit">{t!(i18n, notify.send_code)}</button>
                </ActionForm>
                {settings.waiting.into_iter().map(|(channel, address)| {
                    let id = format!("code-{channel}");
                    view! {
                        <ActionForm action=confirm attr:class="card">
                            <h2>{t!(i18n, notify.code_heading)}</h2>
                            <p>{t!(i18n, notify.code_sent_to)} " " <strong>{address}</strong></p>
                            <input type="hidden" name="channel" value=channel />
                            <label for=id.clone()>{t!(i18n, notify.code)}</label>
                            <input id=id name="code" required=true inputmode="numeric"
                                pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" />
                            <button type="submit" class="primary">{t!(i18n, notify.confirm)}</button>
                        </ActionForm>
                    }
                }).collect_view()}
            }.into_any()
        } else {
            view! { <p class="notice">{t!(i18n, notify.off)}</p> }.into_any()
        }}
    }
}
