use super::Persona;
use crate::account::persona_text;
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

/// "Try as …" on the start page: a form with one button per persona, so it works without
/// JavaScript.
#[component]
pub fn TryDemo() -> impl IntoView {
    let i18n = use_i18n();
    let try_as = t_string!(i18n, demo.try_as);
    view! {
        <section class="try-demo card" aria-labelledby="try-heading">
            <h2 id="try-heading">{t!(i18n, demo.try_heading)}</h2>
            <p>{t!(i18n, demo.try_lead)}</p>
            // One form: the button pressed sends its persona.
            <form method="post" action="/demo/start" class="try-buttons">
                {Persona::ALL
                    .into_iter()
                    .map(|p| {
                        let label = format!("{try_as} {}", persona_text(p));
                        view! {
                            <button type="submit" class="button" name="persona" value=p.as_code()>
                                {label}
                            </button>
                        }
                    })
                    .collect_view()}
            </form>
        </section>
    }
}
