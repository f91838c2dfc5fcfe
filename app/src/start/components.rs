use super::{ServiceOverview, StatusNotice, get_service_overview};
use crate::demo::TryDemo;
use crate::i18n::*;
use crate::layout::{page_title, use_site_session};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StartPage() -> impl IntoView {
    let i18n = use_i18n();
    let site = use_site_session();
    // Everyone sees the same figures. While the server's copy is fresh (nearly every request
    // under load) the page shows it at once: no task, no suspense boundary.
    #[cfg(feature = "ssr")]
    let kept = use_context::<super::queries::OverviewCache>().and_then(|cache| cache.fresh());
    #[cfg(not(feature = "ssr"))]
    let kept: Option<ServiceOverview> = None;
    let now = match kept {
        Some(overview) => Either::Left(view! { <Overview overview /> }),
        None => Either::Right(view! { <OverviewLoading /> }),
    };

    view! {
        <Title text=page_title(move || t_string!(i18n, start.title).to_string()) />
        <section class="hero" aria-labelledby="hero-heading">
            <h1 id="hero-heading">{t!(i18n, start.hero_heading)}</h1>
            <p class="lead">{t!(i18n, start.hero_lead)}</p>
        </section>
        {site.and_then(|site| {
            if site.demo {
                return Some(Either::Left(view! { <TryDemo /> }));
            }
            (site.login.patient || site.login.staff).then(|| Either::Right(view! {
                <p class="login-cta">
                    <a class="button" href="/logga-in">{t!(i18n, login.title)}</a>
                </p>
            }))
        })}

        <div class="audiences">
            <section class="card" aria-labelledby="patients-heading">
                <h2 id="patients-heading">{t!(i18n, start.patients_heading)}</h2>
                <ol class="steps">
                    <li>{t!(i18n, start.patients_1)}</li>
                    <li>{t!(i18n, start.patients_2)}</li>
                    <li>{t!(i18n, start.patients_3)}</li>
                </ol>
            </section>
            <section class="card" aria-labelledby="staff-heading">
                <h2 id="staff-heading">{t!(i18n, start.staff_heading)}</h2>
                <ul>
                    <li>{t!(i18n, start.staff_1)}</li>
                    <li>{t!(i18n, start.staff_2)}</li>
                    <li>{t!(i18n, start.staff_3)}</li>
                </ul>
            </section>
            <section class="card" aria-labelledby="providers-heading">
                <h2 id="providers-heading">{t!(i18n, start.providers_heading)}</h2>
                <ul>
                    <li>{t!(i18n, start.providers_1)}</li>
                    <li>{t!(i18n, start.providers_2)}</li>
                    <li>{t!(i18n, start.providers_3)}</li>
                </ul>
            </section>
        </div>

        <section class="now" aria-labelledby="now-heading">
            <h2 id="now-heading">{t!(i18n, start.now_heading)}</h2>
            {now}
        </section>
    }
}

/// The figures and notices read from the database (the kept copy was stale or missing).
#[component]
fn OverviewLoading() -> impl IntoView {
    let i18n = use_i18n();
    let overview = Resource::new(|| (), |_| get_service_overview());
    view! {
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview /> }.into_any(),
                    Err(_) => {
                        view! {
                            <p class="error" role="alert">{t!(i18n, error_unavailable)}</p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(overview: ServiceOverview) -> impl IntoView {
    let i18n = use_i18n();
    let ServiceOverview {
        active_care_units,
        published_programs,
        ongoing_enrolments,
        notices,
    } = overview;
    let status = if notices.is_empty() {
        view! { <p class="status status-ok">{t!(i18n, start.status_ok)}</p> }.into_any()
    } else {
        view! {
            <ul class="notices">
                {notices.into_iter().map(|notice| view! { <Notice notice /> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <ul class="figures" data-testid="figures">
            <li>
                <span class="figure">{active_care_units}</span>
                <span>{t!(i18n, start.stat_units)}</span>
            </li>
            <li>
                <span class="figure">{published_programs}</span>
                <span>{t!(i18n, start.stat_programs)}</span>
            </li>
            <li>
                <span class="figure">{ongoing_enrolments}</span>
                <span>{t!(i18n, start.stat_enrolments)}</span>
            </li>
        </ul>
        <h3>{t!(i18n, start.status_heading)}</h3>
        {status}
    }
}

#[component]
fn Notice(notice: StatusNotice) -> impl IntoView {
    let i18n = use_i18n();
    let class = format!("notice notice-{}", notice.severity.as_code());
    let english = move || i18n.get_locale() == Locale::en;
    let StatusNotice {
        title_sv,
        title_en,
        body_sv,
        body_en,
        since,
        ..
    } = notice;
    view! {
        <li class=class>
            <strong>{move || if english() { title_en.clone() } else { title_sv.clone() }}</strong>
            <p>{move || if english() { body_en.clone() } else { body_sv.clone() }}</p>
            <p class="since">{t!(i18n, start.status_since)} " " <time datetime=since.clone()>{since.clone()}</time></p>
        </li>
    }
}
