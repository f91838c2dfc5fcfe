use super::text::{MAX_CHARS, Piece, pieces};
use super::{MessageView, ReplyMessage, SendMessage, Thread, my_messages};
use crate::error::AppError;
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// A message's text: addresses as links, the rest as text (escaped), line breaks kept by CSS.
#[component]
fn Body(text: String) -> impl IntoView {
    pieces(&text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(t) => t.into_any(),
            Piece::Link(url) => {
                let href = url.clone();
                view! { <a href=href rel="noopener noreferrer nofollow" target="_blank">{url}</a> }
                    .into_any()
            }
        })
        .collect_view()
}

/// The messages of a thread, oldest first, as the patient (`patient_reads`) or staff see them.
#[component]
fn Messages(messages: Vec<MessageView>, patient_reads: bool) -> impl IntoView {
    let i18n = use_i18n();
    if messages.is_empty() {
        return view! { <p class="muted">{t!(i18n, messages.none)}</p> }.into_any();
    }
    view! {
        <ol class="messages">
            {messages.into_iter().map(|m| {
                let mine = m.from_patient == patient_reads;
                let class = if mine { "message mine" } else { "message theirs" };
                let from = match (m.from_patient, patient_reads) {
                    (true, true) => t_string!(i18n, messages.you).to_owned(),
                    (true, false) => t_string!(i18n, messages.patient).to_owned(),
                    (false, _) => m.author.clone().unwrap_or_else(|| t_string!(i18n, messages.care_team).to_owned()),
                };
                let state = (m.from_patient && patient_reads).then(|| if m.read {
                    t_string!(i18n, messages.read_by_team)
                } else {
                    t_string!(i18n, messages.not_read_yet)
                });
                view! {
                    <li class=class>
                        <p class="meta"><strong>{from}</strong> " · " <time>{m.sent_at}</time>
                            {state.map(|s| view! { " · " <span>{s}</span> })}
                        </p>
                        <p class="body"><Body text=m.body /></p>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}

/// `/mina-sidor/behandling/:enrolment/meddelanden`: the patient's messages with the care team.
#[component]
pub fn MessagesPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let enrolment = move || {
        params
            .read()
            .get("enrolment")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let thread = Resource::new(enrolment, |id| async move {
        match id {
            Some(id) => my_messages(id).await,
            None => Err(AppError::NotFound),
        }
    });
    let send = ServerAction::<SendMessage>::new();
    view! {
        <Title text=page_title(move || t_string!(i18n, messages.title).to_string()) />
        <p>
            {move || enrolment().map(|id| view! {
                <a href=crate::care::treatment_href(id)>{t!(i18n, care.back_treatment)}</a>
            })}
        </p>
        <h1>{t!(i18n, messages.title)}</h1>
        <p class="notice">{t!(i18n, messages.lead)}</p>
        <FormNotice action=send />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match thread.await {
                    Ok(thread) => view! { <PatientThread thread send /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PatientThread(thread: Thread, send: ServerAction<SendMessage>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="muted">{thread.program} " · " {thread.care_unit}</p>
        <Messages messages=thread.messages patient_reads=true />
        {if thread.open {
            view! {
                <ActionForm action=send attr:class="card message-form">
                    <input type="hidden" name="enrolment" value=thread.enrolment_id />
                    <input type="hidden" name="submit_key" value=thread.submit_key />
                    <label for="message-body">{t!(i18n, messages.write)}</label>
                    <textarea id="message-body" name="body" rows="5" maxlength=MAX_CHARS required=true></textarea>
                    <button type="submit" class="primary">{t!(i18n, messages.send)}</button>
                </ActionForm>
            }.into_any()
        } else {
            view! { <p class="notice">{t!(i18n, messages.closed)}</p> }.into_any()
        }}
    }
}

/// One treatment's thread on the patient's record, for staff of the unit, with a form to answer
/// while the treatment is going on.
#[component]
pub fn StaffThread(
    patient_id: i64,
    enrolment_id: i64,
    messages: Vec<MessageView>,
    /// A key for the answer form, or `None` when no answer may be written.
    reply_key: Option<String>,
    reply: ServerAction<ReplyMessage>,
) -> impl IntoView {
    let i18n = use_i18n();
    let field = format!("reply-{enrolment_id}");
    let heading = format!("{field}-heading");
    let labelled_by = heading.clone();
    view! {
        <section class="thread" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, messages.title)}</h4>
            <Messages messages patient_reads=false />
            {reply_key.map(|key| view! {
                <ActionForm action=reply attr:class="message-form">
                    <input type="hidden" name="patient_id" value=patient_id />
                    <input type="hidden" name="enrolment" value=enrolment_id />
                    <input type="hidden" name="submit_key" value=key />
                    <label for=field.clone()>{t!(i18n, messages.reply)}</label>
                    <textarea id=field.clone() name="body" rows="4" maxlength=MAX_CHARS required=true></textarea>
                    <button type="submit" class="primary">{t!(i18n, messages.send)}</button>
                </ActionForm>
            })}
        </section>
    }
}
