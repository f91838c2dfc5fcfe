use super::{SessionInfo, my_sessions};
use crate::demo::Persona;
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title, use_site_session};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let end = ServerAction::<super::EndSession>::new();
    let sessions = Resource::new(move || end.version().get(), |_| my_sessions());
    let me = use_site_session().and_then(|s| s.me);
    view! {
        <Title text=page_title(move || t_string!(i18n, account.title).to_string()) />
        <h1>{t!(i18n, account.title)}</h1>
        <FormNotice action=end />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || {
                let me = me.clone();
                Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! {
                            {me.map(|me| view! {
                                <p class="who">
                                    {t!(i18n, account.signed_in_as)} " " <strong>{me.name}</strong>
                                    {me.unit.map(|u| view! { ", " {u} })}
                                </p>
                            })}
                            <SessionList list end />
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
        <form method="post" action="/logga-ut">
            <button type="submit" class="button">{t!(i18n, account.sign_out)}</button>
        </form>
    }
}

#[component]
fn SessionList(list: Vec<SessionInfo>, end: ServerAction<super::EndSession>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h2>{t!(i18n, account.sessions_heading)}</h2>
        <div class="table-scroll" tabindex="0"><table class="table">
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, account.started)}</th>
                    <th scope="col">{t!(i18n, account.last_seen)}</th>
                    <th scope="col">{t!(i18n, account.device)}</th>
                    <th scope="col"><span class="visually-hidden">{t!(i18n, account.actions)}</span></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|s| {
                        view! {
                            <tr>
                                <td>{s.started}</td>
                                <td>{s.last_seen}</td>
                                <td>{s.device}</td>
                                <td>
                                    {if s.current {
                                        view! { <span>{t!(i18n, account.this_session)}</span> }.into_any()
                                    } else {
                                        view! {
                                            <ActionForm action=end>
                                                <input type="hidden" name="session_id" value=s.id />
                                                <button type="submit">{t!(i18n, account.end_session)}</button>
                                            </ActionForm>
                                        }.into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
}

/// The demo persona switch: a plain form, so it works without JavaScript.
#[component]
pub fn PersonaSwitch(current: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="post" action="/demo/start" class="persona-switch">
            <label for="persona">{t!(i18n, demo.switch_label)}</label>
            <select id="persona" name="persona">
                {Persona::ALL
                    .into_iter()
                    .map(|p| {
                        let selected = current.as_deref() == Some(p.as_code());
                        view! { <option value=p.as_code() selected=selected>{persona_text(p)}</option> }
                    })
                    .collect_view()}
            </select>
            <button type="submit">{t!(i18n, demo.switch_button)}</button>
        </form>
    }
}

/// A persona's name in the page's language. Pages render once, on the server: the language
/// does not change while they do.
pub fn persona_text(persona: Persona) -> &'static str {
    let i18n = use_i18n();
    match persona {
        Persona::Patient => t_string!(i18n, demo.persona_patient),
        Persona::Therapist => t_string!(i18n, demo.persona_therapist),
        Persona::AccessAdministrator => t_string!(i18n, demo.persona_access_admin),
        Persona::CareProviderAdministrator => t_string!(i18n, demo.persona_provider_admin),
        Persona::Auditor => t_string!(i18n, demo.persona_auditor),
        Persona::Producer => t_string!(i18n, demo.persona_producer),
        Persona::Publisher => t_string!(i18n, demo.persona_publisher),
        Persona::NeighbourProviderAdministrator => t_string!(i18n, demo.persona_neighbour_admin),
    }
}
