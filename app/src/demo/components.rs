use super::Persona;
use crate::account::persona_name;
use crate::i18n::*;
use leptos::prelude::*;

/// Shown on every page in demo mode.
#[component]
pub fn DemoBanner() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="demo-banner" role="note">
            <strong>{t!(i18n, demo.banner_label)}</strong>
            " "
            {t!(i18n, demo.banner_text)}
        </div>
    }
}

/// "Try as …" on the start page: one form button per persona, so it works without JavaScript.
#[component]
pub fn TryDemo() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="try-demo card" aria-labelledby="try-heading">
            <h2 id="try-heading">{t!(i18n, demo.try_heading)}</h2>
            <p>{t!(i18n, demo.try_lead)}</p>
            <div class="try-buttons">
                {Persona::ALL
                    .into_iter()
                    .map(|p| view! {
                        <form method="post" action="/demo/start">
                            <input type="hidden" name="persona" value=p.as_code() />
                            <button type="submit" class="button">
                                {t!(i18n, demo.try_as)} " " {persona_name(p)}
                            </button>
                        </form>
                    })
                    .collect_view()}
            </div>
        </section>
    }
}
