//! The frame around every page: skip link, header with the language switch, footer.

use crate::account::{PersonaSwitch, SiteSession};
use crate::demo::DemoBanner;
use crate::error::AppError;
use crate::i18n::*;
use leptos::either::Either;
use leptos::prelude::*;
use leptos::text_prop::TextProp;
use leptos_meta::Title;

/// A page's title, reactive in the browser. On the server it is computed once while the page
/// renders: the head is written after the body, when the page's signals may already be gone
/// (reading them then panics under load).
pub fn page_title(text: impl Fn() -> String + Send + Sync + 'static) -> TextProp {
    #[cfg(feature = "ssr")]
    {
        TextProp::from(text())
    }
    #[cfg(not(feature = "ssr"))]
    {
        TextProp::from(text)
    }
}

/// Demo or real mode and who is signed in, for the frame and the pages.
#[derive(Clone)]
struct SiteSessionContext(SiteSession);

/// Works out the site session once per page, on the server, before anything renders. It needs
/// no database (the server's middleware has resolved the session), so a page needs neither a
/// task of its own nor a suspense boundary for it. Pages render only on the server (islands):
/// the browser never runs this.
pub fn provide_site_session() {
    #[cfg(feature = "ssr")]
    provide_context(SiteSessionContext(crate::account::site_session()));
}

pub fn use_site_session() -> Option<SiteSession> {
    use_context::<SiteSessionContext>().map(|site| site.0)
}

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let site = use_site_session();
    let banner = site.as_ref().and_then(|site| {
        // Testing a program as a patient: no role switch until the test ends.
        if site.me.as_ref().is_some_and(|m| m.testing) {
            let demo = site.demo;
            return Some(Either::Left(view! {
                {demo.then(|| view! { <DemoBanner /> })}
                <TestBanner />
            }));
        }
        site.demo.then(|| {
            let persona = site.me.as_ref().and_then(|m| m.demo_persona.clone());
            let signed_in = site.me.is_some();
            Either::Right(view! {
                <DemoBanner />
                {signed_in.then(|| view! { <div class="wrap"><PersonaSwitch current=persona /></div> })}
            })
        })
    });
    let user = site.and_then(|site| {
        let Some(me) = site.me else {
            let offers = site.login.patient || site.login.staff;
            return offers.then(|| {
                Either::Left(view! { <a href="/logga-in">{t!(i18n, login.sign_in_link)}</a> })
            });
        };
        let home = home_of(&me);
        Some(Either::Right(view! {
            <a href=home>{t!(i18n, nav_home)}</a>
            <a href="/konto" class="user-name">{me.name}</a>
            <form method="post" action="/logga-ut">
                <button type="submit">{t!(i18n, account.sign_out)}</button>
            </form>
        }))
    });
    view! {
        <a class="skip-link" href="#main">{t!(i18n, skip_to_content)}</a>
        {banner}
        <header class="site-header">
            <div class="wrap header-row">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true"></span>
                    <span class="brand-name">"Lotsen"</span>
                    <span class="brand-tagline">{t!(i18n, brand_tagline)}</span>
                </a>
                <nav class="user-nav" aria-label=move || t_string!(i18n, nav_label)>
                    {user}
                    <LanguageSwitch />
                </nav>
            </div>
        </header>
        <main id="main" class="wrap" tabindex="-1">{children()}</main>
        <footer class="site-footer">
            <div class="wrap">
                <p>{t!(i18n, footer_emergency)}</p>
                <p>{t!(i18n, footer_free_software)}</p>
            </div>
        </footer>
    }
}

/// Where "my start page" leads: the page of the person's first work, by role.
fn home_of(me: &crate::auth::Me) -> &'static str {
    use crate::auth::{Role, UserKind};
    let has = |role: Role| me.roles.contains(&role);
    match me.kind {
        UserKind::Patient => "/mina-sidor",
        UserKind::Staff if me.roles.iter().any(|r| r.is_clinical()) => "/mottagning",
        UserKind::Staff if has(Role::Auditor) => "/granskning",
        UserKind::Staff if has(Role::AccessAdministrator) => "/behorigheter",
        UserKind::Staff if has(Role::CareProviderAdministrator) => "/vardgivare",
        UserKind::Staff if has(Role::Producer) || has(Role::Publisher) => "/program",
        UserKind::Staff => "/konto",
    }
}

/// Shown while a producer or publisher tests a program as a patient: what this is, the
/// therapist's side of the test, and the two ways out of it (start over, stop).
#[component]
fn TestBanner() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="test-banner" role="note">
            <div class="wrap test-banner-row">
                <p>
                    <strong>{t!(i18n, trial.banner_label)}</strong>
                    " "
                    {t!(i18n, trial.banner_text)}
                </p>
                <a class="button" href="/testa/behandlare">{t!(i18n, trial.as_therapist)}</a>
                <form method="post" action="/testa/borja-om">
                    <button type="submit" class="button">{t!(i18n, trial.restart)}</button>
                </form>
                <form method="post" action="/testa/avsluta">
                    <button type="submit" class="button">{t!(i18n, trial.stop)}</button>
                </form>
            </div>
        </div>
    }
}

/// Switches between Swedish and English: a form that the server answers by setting the
/// language cookie and sending the browser back to the same page.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let other = match i18n.get_locale_untracked() {
        Locale::sv => Locale::en,
        Locale::en => Locale::sv,
    };
    let location = leptos_router::hooks::use_location();
    view! {
        <form method="post" action="/sprak" class="lang-switch">
            <input type="hidden" name="lang" value=other.as_str() />
            <input type="hidden" name="next" value=location.pathname.get_untracked() />
            <button type="submit" lang=other.as_str()>
                {t!(i18n, switch_language)}
            </button>
        </form>
    }
}

/// The cookie that carries the chosen language; the server reads it for every render.
pub const LANGUAGE_COOKIE: &str = "i18n_pref_locale";

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <Title text=page_title(move || t_string!(i18n, not_found_title).to_string()) />
        <h1>{t!(i18n, not_found_title)}</h1>
        <p>{t!(i18n, not_found_body)}</p>
        <p>
            <a href="/">{t!(i18n, to_start)}</a>
        </p>
    }
}

/// What an error says to the person who met it.
fn error_text(error: &AppError) -> &'static str {
    let i18n = use_i18n();
    match error {
        AppError::Unauthenticated => t_string!(i18n, error_unauthenticated),
        AppError::Forbidden => t_string!(i18n, error_forbidden),
        AppError::NotFound => t_string!(i18n, error_not_found),
        AppError::Invalid { reason, .. } => match reason.as_str() {
            "own_roles" => t_string!(i18n, error_own_roles),
            "closed" => t_string!(i18n, error_unit_closed),
            "unpublished" => t_string!(i18n, error_version_unpublished),
            "deactivated" => t_string!(i18n, error_activation_ended),
            "missing_answer" => t_string!(i18n, error_missing_answer),
            "treatment_ended" => t_string!(i18n, error_treatment_ended),
            "urgent_flags_open" => t_string!(i18n, error_urgent_flags_open),
            "end_reason_unknown" => t_string!(i18n, error_end_reason_unknown),
            "responsible_needed" => t_string!(i18n, error_responsible_needed),
            "extra_form_open" => t_string!(i18n, error_extra_form_open),
            "extra_form_days" => t_string!(i18n, error_extra_form_days),
            "unknown_questionnaire" => t_string!(i18n, error_unknown_questionnaire),
            "unknown_module" => t_string!(i18n, error_unknown_module),
            "unknown_change" => t_string!(i18n, error_unknown_change),
            "not_a_handover_unit" => t_string!(i18n, error_not_a_handover_unit),
            "handed_over" => t_string!(i18n, error_handed_over),
            "not_a_number" | "not_allowed" | "out_of_range" | "too_long" | "unknown_item"
            | "invalid_answer" | "not_a_date" | "not_a_time" | "unknown_field" | "no_draft" => {
                t_string!(i18n, error_answer_invalid)
            }
            "module_locked" => t_string!(i18n, error_module_locked),
            "invalid_personnummer" => t_string!(i18n, error_invalid_personnummer),
            "duplicate_line" => t_string!(i18n, error_duplicate_line),
            "already_enrolled" => t_string!(i18n, error_already_enrolled),
            "name_too_long" => t_string!(i18n, error_name_too_long),
            "too_many_patients" => t_string!(i18n, error_too_many_patients),
            "no_patients" => t_string!(i18n, error_no_patients),
            "version_not_active" => t_string!(i18n, error_version_not_active),
            "not_a_therapist" => t_string!(i18n, error_not_a_therapist),
            "invalid_email" => t_string!(i18n, error_invalid_email),
            "invalid_phone" => t_string!(i18n, error_invalid_phone),
            "consent_without_contact" => t_string!(i18n, error_consent_without_contact),
            "contact_for_one_only" => t_string!(i18n, error_contact_for_one_only),
            "too_many_entries" => t_string!(i18n, error_too_many_entries),
            "message_empty" => t_string!(i18n, error_message_empty),
            "comment_empty" => t_string!(i18n, error_comment_empty),
            "flag_note_empty" => t_string!(i18n, error_flag_note_empty),
            "flag_reason_unknown" => t_string!(i18n, error_flag_reason_unknown),
            "flag_priority_unknown" => t_string!(i18n, error_flag_priority_unknown),
            "flag_already_open" => t_string!(i18n, error_flag_already_open),
            "message_too_long" => t_string!(i18n, error_message_too_long),
            "rate_limited" => t_string!(i18n, error_rate_limited),
            "notifications_off" | "not_in_demo" => t_string!(i18n, error_notifications_off),
            "code_not_sent" => t_string!(i18n, error_code_not_sent),
            "too_many_codes" => t_string!(i18n, error_too_many_codes),
            "code_malformed" | "code_wrong" => t_string!(i18n, error_code_wrong),
            "code_expired" => t_string!(i18n, error_code_expired),
            "code_too_many_tries" => t_string!(i18n, error_code_too_many_tries),
            "no_address" => t_string!(i18n, error_no_address),
            _ => t_string!(i18n, error_invalid),
        },
        AppError::Conflict => t_string!(i18n, error_already_submitted),
        AppError::Unavailable | AppError::Request => t_string!(i18n, error_unavailable),
    }
}

/// What an error says, with the line of a form's list it is about (`line:<n>`) named first.
fn error_message(error: &AppError) -> String {
    let text = error_text(error);
    match error {
        AppError::Invalid { field, .. } => match field.strip_prefix("line:") {
            Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => {
                let i18n = use_i18n();
                format!("{} {n}: {text}", t_string!(i18n, error_line))
            }
            _ => text.to_owned(),
        },
        _ => text.to_owned(),
    }
}

/// A refusal or failure, said plainly.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    let text = move || error_message(&error);
    view! {
        <p class="error" role="alert">{text}</p>
        <p><a href="/">{t!(i18n, to_start)}</a></p>
    }
}

/// How a form shows that its server function said no. Forms are `ActionForm`s of a
/// `ServerAction`; without JavaScript the browser posts the form, and a refusal comes back as a
/// redirect to the same page with the error in its address (`?__path=…&__err=…`, which carries
/// only the error's kind and a field code, never what was typed). `ServerAction::new()` reads it,
/// and this notice, placed once above the page's forms, says it. With JavaScript the action's
/// value holds the same error.
#[component]
pub fn FormNotice<S>(action: ServerAction<S>) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    move || {
        action.value().with(|value| match value {
            Some(Err(error)) => {
                let text = error_message(error);
                Some(view! { <p class="error" role="alert">{text}</p> })
            }
            _ => None,
        })
    }
}
