use super::{AuditFilter, AuditRow, audit_search};
use crate::i18n::*;
use crate::layout::{ErrorNotice, page_title};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The filter from the address: `?patient=ID&anvandare=HSA-ID&fran=YYYY-MM-DD&till=…&uppfoljning=1`.
fn filter_from_query(query: &leptos_router::params::ParamsMap) -> AuditFilter {
    let text = |key: &str| query.get(key).filter(|v| !v.trim().is_empty());
    AuditFilter {
        patient_id: text("patient").and_then(|v| v.parse().ok()),
        user_hsa_id: text("anvandare"),
        from: text("fran"),
        to: text("till"),
        follow_up_only: query.get("uppfoljning").is_some(),
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filter = move || filter_from_query(&query.read());
    let rows = Resource::new(filter, audit_search);
    let export = move || {
        let q = query.read();
        let pairs: Vec<String> = ["patient", "anvandare", "fran", "till", "uppfoljning"]
            .iter()
            .filter_map(|k| q.get(k).map(|v| format!("{k}={}", urlencode(&v))))
            .collect();
        format!("/granskning/logg.csv?{}", pairs.join("&"))
    };
    let current = filter();
    view! {
        <Title text=page_title(move || t_string!(i18n, audit.title).to_string()) />
        <h1>{t!(i18n, audit.title)}</h1>
        <p>{t!(i18n, audit.lead)}</p>
        <form method="get" action="/granskning" class="audit-filter">
            {current.patient_id.map(|id| view! { <input type="hidden" name="patient" value=id /> })}
            <label for="anvandare">{t!(i18n, audit.user)}</label>
            <input id="anvandare" name="anvandare" value=current.user_hsa_id.clone().unwrap_or_default() maxlength="64" />
            <label for="fran">{t!(i18n, audit.from)}</label>
            <input id="fran" name="fran" type="date" value=current.from.clone().unwrap_or_default() />
            <label for="till">{t!(i18n, audit.to)}</label>
            <input id="till" name="till" type="date" value=current.to.clone().unwrap_or_default() />
            <label>
                <input type="checkbox" name="uppfoljning" value="1" checked=current.follow_up_only />
                " " {t!(i18n, audit.follow_up_only)}
            </label>
            <button type="submit" class="button">{t!(i18n, audit.search)}</button>
        </form>
        {current.patient_id.map(|_| view! { <p><a href="/granskning">{t!(i18n, audit.all_patients)}</a></p> })}
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(rows) => view! {
                        <p><a href=export()>{t!(i18n, audit.export)}</a></p>
                        <AuditTable rows />
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    let i18n = use_i18n();
    if rows.is_empty() {
        return view! { <p>{t!(i18n, audit.none)}</p> }.into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0"><table class="table audit">
            <caption>{t!(i18n, audit.caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, audit.when)}</th>
                    <th scope="col">{t!(i18n, audit.user)}</th>
                    <th scope="col">{t!(i18n, audit.unit)}</th>
                    <th scope="col">{t!(i18n, audit.patient)}</th>
                    <th scope="col">{t!(i18n, audit.action)}</th>
                    <th scope="col">{t!(i18n, audit.reason)}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let patient = r.patient_id.map(|id| {
                        let label = r.patient.clone().unwrap_or_else(|| id.to_string());
                        view! { <a href=format!("/granskning?patient={id}")>{label}</a> }
                    });
                    let flagged = r.needs_follow_up;
                    view! {
                        <tr class:follow-up=flagged>
                            <td>{r.at}</td>
                            <td>{r.user_name.unwrap_or_default()} " " <span class="muted">{r.user_hsa_id}</span></td>
                            <td>{r.care_unit.unwrap_or_default()}</td>
                            <td>{patient}</td>
                            <td>{r.action} " · " {r.outcome}</td>
                            <td>{r.reason.unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }.into_any()
}
