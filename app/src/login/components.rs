use super::{Choice, Failure, login_choices};
use crate::i18n::*;
use crate::layout::{page_title, use_site_session};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/logga-in`: one form per way of signing in that this server offers.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let offers = use_site_session().map(|s| s.login).unwrap_or_default();
    view! {
        <Title text=page_title(move || t_string!(i18n, login.title).to_string()) />
        <h1>{t!(i18n, login.title)}</h1>
        {if !offers.patient && !offers.staff {
            view! { <p>{t!(i18n, login.none)}</p> }.into_any()
        } else {
            view! {
                <div class="audiences">
                    {offers.patient.then(|| view! {
                        <LoginChoice
                            audience="patient"
                            heading=t_string!(i18n, login.patient_heading)
                            lead=t_string!(i18n, login.patient_lead)
                            button=t_string!(i18n, login.patient_button)
                        />
                    })}
                    {offers.staff.then(|| view! {
                        <LoginChoice
                            audience="staff"
                            heading=t_string!(i18n, login.staff_heading)
                            lead=t_string!(i18n, login.staff_lead)
                            button=t_string!(i18n, login.staff_button)
                        />
                    })}
                </div>
            }
            .into_any()
        }}
    }
}

/// One way of signing in: a form that starts it at the audience's identity provider.
#[component]
fn LoginChoice(
    audience: &'static str,
    heading: &'static str,
    lead: &'static str,
    button: &'static str,
) -> impl IntoView {
    let heading_id = || format!("{audience}-login-heading");
    view! {
        <section class="card" aria-labelledby=heading_id()>
            <h2 id=heading_id()>{heading}</h2>
            <p>{lead}</p>
            <form method="post" action=format!("/login/{audience}")>
                <button type="submit" class="button">{button}</button>
            </form>
        </section>
    }
}

/// `/logga-in/fel?orsak=…`: why signing in failed, and that nothing was kept.
#[component]
pub fn LoginFailedPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = leptos_router::hooks::use_query_map();
    let failure = move || {
        query
            .read()
            .get("orsak")
            .and_then(|code| Failure::from_code(&code))
    };
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::UNAUTHORIZED);
    }
    let reason = move || match failure() {
        Some(Failure::State) => t_string!(i18n, login.failure_state),
        Some(Failure::Code) => t_string!(i18n, login.failure_code),
        Some(Failure::Nonce) => t_string!(i18n, login.failure_nonce),
        Some(Failure::Expired) => t_string!(i18n, login.failure_expired),
        Some(Failure::Issuer) => t_string!(i18n, login.failure_issuer),
        Some(Failure::Token) => t_string!(i18n, login.failure_token),
        Some(Failure::Personnummer) => t_string!(i18n, login.failure_personnummer),
        Some(Failure::HsaId) => t_string!(i18n, login.failure_hsa_id),
        Some(Failure::Claims) => t_string!(i18n, login.failure_claims),
        Some(Failure::Assurance) => t_string!(i18n, login.failure_assurance),
        Some(Failure::AuthAge) => t_string!(i18n, login.failure_auth_age),
        Some(Failure::NoUnit) => t_string!(i18n, login.failure_no_unit),
        Some(Failure::Purpose) => t_string!(i18n, login.failure_purpose),
        Some(Failure::Cancelled) => t_string!(i18n, login.failure_cancelled),
        Some(Failure::Stale) => t_string!(i18n, login.failure_stale),
        Some(Failure::Unavailable) => t_string!(i18n, login.failure_unavailable),
        None => t_string!(i18n, login.failure_unknown),
    };
    view! {
        <Title text=page_title(move || t_string!(i18n, login.failed_title).to_string()) />
        <h1>{t!(i18n, login.failed_title)}</h1>
        <p class="error" role="alert">{reason}</p>
        <p>{t!(i18n, login.failed_nothing_kept)}</p>
        <p><a href="/logga-in">{t!(i18n, login.try_again)}</a></p>
    }
}

/// `/logga-in/uppdrag`: a staff member picks the assignment to work in.
#[component]
pub fn ChooseAssignmentPage() -> impl IntoView {
    let i18n = use_i18n();
    let choices = Resource::new(|| (), |_| login_choices());
    view! {
        <Title text=page_title(move || t_string!(i18n, login.choose_title).to_string()) />
        <h1>{t!(i18n, login.choose_title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(Some(choices)) => view! {
                        <p class="who">
                            {t!(i18n, login.choose_signed_in_as)} " " <strong>{choices.name}</strong>
                            " (" {choices.hsa_id} ")"
                        </p>
                        <form method="post" action="/logga-in/uppdrag" class="form">
                            <fieldset>
                                <legend>{t!(i18n, login.choose_legend)}</legend>
                                {choices.assignments.into_iter().enumerate().map(|(i, c)| view! {
                                    <ChoiceOption choice=c first=i == 0 />
                                }).collect_view()}
                            </fieldset>
                            <button type="submit" class="button">{t!(i18n, login.choose_button)}</button>
                        </form>
                    }.into_any(),
                    Ok(None) => view! {
                        <p class="error" role="alert">{t!(i18n, login.failure_stale)}</p>
                        <p><a href="/logga-in">{t!(i18n, login.try_again)}</a></p>
                    }.into_any(),
                    Err(error) => view! { <crate::layout::ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ChoiceOption(choice: Choice, first: bool) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("assignment-{}", choice.id);
    let hint = format!("assignment-{}-hint", choice.id);
    view! {
        <div class="choice">
            <input type="radio" name="assignment" id=id.clone() value=choice.id checked=first
                aria-describedby=hint.clone() />
            <label for=id>
                {choice.care_unit} ", " {choice.care_provider} " – " {choice.commission_name}
            </label>
            <p class="hint" id=hint>
                {t!(i18n, login.choose_purpose)} " " {choice.purpose} ". "
                {if choice.for_care {
                    t_string!(i18n, login.choose_for_care)
                } else {
                    t_string!(i18n, login.choose_not_for_care)
                }}
            </p>
        </div>
    }
}
