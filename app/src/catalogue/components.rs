//! The care-provider administrator's catalogue (`/katalog`), and the publisher's sharing and
//! unpublishing on the review page. `ActionForm`s: they work without JavaScript.

use super::{Catalogue, CatalogueEntry, get_catalogue, program_partners};
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title};
use crate::programs::version::VersionNumber;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The catalogue's views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    All,
    Available,
    Active,
    Unpublished,
}

impl View {
    const ALL: [View; 4] = [View::All, View::Available, View::Active, View::Unpublished];

    fn code(self) -> &'static str {
        match self {
            View::All => "alla",
            View::Available => "tillgangliga",
            View::Active => "aktiva",
            View::Unpublished => "avpublicerade",
        }
    }

    fn shows(self, entry: &CatalogueEntry) -> bool {
        match self {
            View::All => true,
            View::Available => entry.available() && !entry.is_active(),
            View::Active => entry.is_active(),
            View::Unpublished => entry.unpublished(),
        }
    }
}

#[component]
pub fn CataloguePage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let view = move || {
        let code = query.read().get("visa").unwrap_or_default();
        View::ALL
            .into_iter()
            .find(|v| v.code() == code)
            .unwrap_or(View::All)
    };
    let catalogue = Resource::new(|| (), |_| get_catalogue());
    let actions = CatalogueActions {
        activate: ServerAction::new(),
        deactivate: ServerAction::new(),
        upgrade: ServerAction::new(),
    };
    let label = move |v: View| match v {
        View::All => t_string!(i18n, catalogue.all),
        View::Available => t_string!(i18n, catalogue.available),
        View::Active => t_string!(i18n, catalogue.active),
        View::Unpublished => t_string!(i18n, catalogue.unpublished),
    };
    view! {
        <Title text=page_title(move || t_string!(i18n, catalogue.title).to_string()) />
        <h1>{t!(i18n, catalogue.title)}</h1>
        <p>{t!(i18n, catalogue.lead)}</p>
        <nav class="views" aria-label=move || t_string!(i18n, catalogue.views)>
            <ul class="row">
                {View::ALL.into_iter().map(|v| view! {
                    <li>
                        <a href=format!("/katalog?visa={}", v.code())
                            aria-current=move || (view() == v).then_some("page")>{move || label(v)}</a>
                    </li>
                }).collect_view()}
            </ul>
        </nav>
        <FormNotice action=actions.activate />
        <FormNotice action=actions.deactivate />
        <FormNotice action=actions.upgrade />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match catalogue.await {
                    Ok(catalogue) => view! { <Entries catalogue shown=view() actions /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The catalogue page's forms.
#[derive(Clone, Copy)]
struct CatalogueActions {
    activate: ServerAction<super::ActivateProgram>,
    deactivate: ServerAction<super::DeactivateProgram>,
    upgrade: ServerAction<super::UpgradeEnrolments>,
}

#[component]
fn Entries(catalogue: Catalogue, shown: View, actions: CatalogueActions) -> impl IntoView {
    let i18n = use_i18n();
    let entries: Vec<_> = catalogue
        .entries
        .into_iter()
        .filter(|e| shown.shows(e))
        .collect();
    if entries.is_empty() {
        return view! { <p>{t!(i18n, catalogue.empty)}</p> }.into_any();
    }
    let units = catalogue.units;
    entries
        .into_iter()
        .map(|entry| view! { <EntryCard entry units=units.clone() actions /> })
        .collect_view()
        .into_any()
}

#[component]
fn EntryCard(
    entry: CatalogueEntry,
    units: Vec<(i64, String)>,
    actions: CatalogueActions,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("program-{}", entry.program_id);
    let labelled = heading.clone();
    let published: Vec<VersionNumber> = entry
        .versions
        .iter()
        .filter(|v| v.published)
        .map(|v| v.number)
        .collect();
    let versions = entry
        .versions
        .iter()
        .map(|v| {
            let state = if v.published {
                t_string!(i18n, catalogue.state_published)
            } else {
                t_string!(i18n, catalogue.state_unpublished)
            };
            format!("{} ({state})", v.number)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let title = entry.title.clone();
    let version_select = format!("version-{}", entry.program_id);
    let unit_select = format!("unit-{}", entry.program_id);
    view! {
        <section class="card" aria-labelledby=labelled>
            <h2 id=heading>{entry.title}</h2>
            <p>{t!(i18n, catalogue.owner)} ": " {entry.owner}</p>
            <p>{t!(i18n, catalogue.versions)} ": " {versions}</p>
            {if entry.active.is_empty() {
                view! { <p>{t!(i18n, catalogue.not_active)}</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {entry.active.into_iter().map(|a| {
                            let label = format!("{} {} {}", t_string!(i18n, catalogue.deactivate), title, a.unit_name);
                            view! {
                                <li class="row">
                                    <span>{format!("{} {} {}", t_string!(i18n, catalogue.active_at), a.unit_name, a.number)}</span>
                                    <ActionForm action=actions.deactivate>
                                        <input type="hidden" name="activation_id" value=a.id />
                                        <button type="submit" aria-label=label>{t!(i18n, catalogue.deactivate)}</button>
                                    </ActionForm>
                                </li>
                                {(a.behind > 0).then(|| {
                                    let upgrade = format!("{} {} ({})", t_string!(i18n, catalogue.upgrade_to), a.number, a.unit_name);
                                    view! {
                                        <li class="row behind">
                                            <span>{format!("{} {} {}.x", a.behind, t_string!(i18n, catalogue.behind), a.number.major)}</span>
                                            <ActionForm action=actions.upgrade>
                                                <input type="hidden" name="activation_id" value=a.id />
                                                <button type="submit" aria-label=upgrade>{format!("{} {}", t_string!(i18n, catalogue.upgrade_to), a.number)}</button>
                                            </ActionForm>
                                        </li>
                                    }
                                })}
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!published.is_empty() && !units.is_empty()).then(|| {
                let program_id = entry.program_id;
                view! {
                    <ActionForm action=actions.activate attr:class="row activate">
                        <input type="hidden" name="program_id" value=program_id />
                        <label for=version_select.clone()>{t!(i18n, catalogue.version)}</label>
                        <select id=version_select name="version">
                            {published.iter().map(|n| view! {
                                <option value=format!("{}.{}", n.major, n.minor)>{n.to_string()}</option>
                            }).collect_view()}
                        </select>
                        <label for=unit_select.clone()>{t!(i18n, catalogue.unit)}</label>
                        <select id=unit_select name="unit_id">
                            {units.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                        </select>
                        <button type="submit">{t!(i18n, catalogue.activate)}</button>
                    </ActionForm>
                }
            })}
        </section>
    }
}

/// On the publisher's review page: the program's versions (unpublish the published ones) and
/// the care providers it is shared with.
#[component]
pub fn PublisherControls(program_id: i64, versions: Vec<super::VersionState>) -> impl IntoView {
    let i18n = use_i18n();
    let partners = Resource::new(move || program_id, program_partners);
    let unpublish = ServerAction::<super::UnpublishVersion>::new();
    let share = ServerAction::<super::ShareProgram>::new();
    view! {
        <FormNotice action=unpublish />
        <FormNotice action=share />
        <section class="card" aria-labelledby="versions-heading">
            <h2 id="versions-heading">{t!(i18n, catalogue.versions)}</h2>
            {if versions.is_empty() {
                view! { <p>{t!(i18n, catalogue.no_versions)}</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {versions.into_iter().map(|v| {
                            let number = v.number.to_string();
                            let label = format!("{} {number}", t_string!(i18n, catalogue.unpublish));
                            let download = format!("/program/{program_id}/paket/{number}");
                            let download_label = format!("{} {number}", t_string!(i18n, catalogue.download_package));
                            view! {
                                <li class="row">
                                    <span>{number.clone()} " "
                                        {if v.published { t_string!(i18n, catalogue.state_published) } else { t_string!(i18n, catalogue.state_unpublished) }}
                                    </span>
                                    <a href=download download="">{download_label}</a>
                                    {v.published.then(|| view! {
                                        <ActionForm action=unpublish>
                                            <input type="hidden" name="program_id" value=program_id />
                                            <input type="hidden" name="major" value=v.number.major />
                                            <input type="hidden" name="minor" value=v.number.minor />
                                            <button type="submit" aria-label=label>{t!(i18n, catalogue.unpublish)}</button>
                                        </ActionForm>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="sharing-heading">
            <h2 id="sharing-heading">{t!(i18n, catalogue.sharing)}</h2>
            <p>{t!(i18n, catalogue.sharing_lead)}</p>
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match partners.await {
                        Ok(list) => view! {
                            <ul>
                                {list.into_iter().map(|p| {
                                    let (text, label) = if p.shared {
                                        (t_string!(i18n, catalogue.stop_sharing), format!("{} {}", t_string!(i18n, catalogue.stop_sharing), p.name))
                                    } else {
                                        (t_string!(i18n, catalogue.share), format!("{} {}", t_string!(i18n, catalogue.share), p.name))
                                    };
                                    view! {
                                        <li class="row">
                                            <span>{p.name.clone()} " "
                                                {p.shared.then(|| t_string!(i18n, catalogue.shared))}
                                            </span>
                                            <ActionForm action=share>
                                                <input type="hidden" name="program_id" value=program_id />
                                                <input type="hidden" name="provider_id" value=p.provider_id />
                                                <input type="hidden" name="share" value=(!p.shared).to_string() />
                                                <button type="submit" aria-label=label>{text}</button>
                                            </ActionForm>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
