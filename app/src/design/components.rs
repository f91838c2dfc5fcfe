//! The design tool's pages: the provider's programs (`/program`), the editor
//! (`/program/:id`) and the publisher's review (`/program/:id/granska`).

use super::editor::{ProgramEditor, problem_text};
use super::{DesignHome, Review, my_programs, program_draft, review_program};
use crate::catalogue::PublisherControls;
use crate::error::AppError;
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title};
use crate::programs::diff::{Change, Level, Part, Structure, What};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn program_id() -> impl Fn() -> Option<i64> + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("id").and_then(|v| v.parse::<i64>().ok())
}

#[component]
pub fn ProgramsPage() -> impl IntoView {
    let i18n = use_i18n();
    let home = Resource::new(|| (), |_| my_programs());
    view! {
        <Title text=page_title(move || t_string!(i18n, design.programs_title).to_string()) />
        <h1>{t!(i18n, design.programs_title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => view! { <ProgramList home /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProgramList(home: DesignHome) -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<super::CreateProgram>::new();
    let rows = home
        .programs
        .into_iter()
        .map(|p| {
            let version = p
                .latest
                .map(|v| v.to_string())
                .unwrap_or_else(|| t_string!(i18n, design.not_published).to_owned());
            let edit = format!("/program/{}", p.id);
            let review = format!("/program/{}/granska", p.id);
            view! {
                <tr>
                    <th scope="row">
                        {if home.producer {
                            view! { <a href=edit>{p.title.clone()}</a> }.into_any()
                        } else {
                            view! { <span>{p.title.clone()}</span> }.into_any()
                        }}
                    </th>
                    <td>{version}</td>
                    <td>{if p.has_draft { t_string!(i18n, design.draft_changed) } else { "" }}</td>
                    <td>{home.publisher.then(|| view! { <a href=review>{t!(i18n, design.review)}</a> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <FormNotice action=create />
        <div class="table-scroll" tabindex="0"><table class="programs">
            <caption class="visually-hidden">{t!(i18n, design.programs_title)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, design.program_title)}</th>
                    <th scope="col">{t!(i18n, design.latest_version)}</th>
                    <th scope="col">{t!(i18n, design.draft)}</th>
                    <th scope="col"><span class="visually-hidden">{t!(i18n, design.review)}</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table></div>
        {home.producer.then(|| view! {
            <ActionForm action=create attr:class="card">
                <h2>{t!(i18n, design.new_program)}</h2>
                <label for="new-title">{t!(i18n, design.program_title)}</label>
                <input id="new-title" name="title" required=true maxlength="200" />
                <button type="submit">{t!(i18n, design.create)}</button>
            </ActionForm>
            <form method="post" action="/program/importera" enctype="multipart/form-data" class="card"
                aria-labelledby="import-heading">
                <h2 id="import-heading">{t!(i18n, design.import_title)}</h2>
                <p>{t!(i18n, design.import_lead)}</p>
                <ImportRefusal />
                <label for="package-file">{t!(i18n, design.package_file)}</label>
                <input id="package-file" type="file" name="package" accept=".zip,application/zip" required=true />
                <button type="submit">{t!(i18n, design.import)}</button>
            </form>
        })}
    }
}

/// A package problem in words, by its code.
#[cfg(feature = "ssr")]
fn import_problem_text(code: &str, locale: Locale) -> Option<&'static str> {
    Some(match code {
        "too_large" => td_string!(locale, design.import_problem.too_large),
        "not_zip" => td_string!(locale, design.import_problem.not_zip),
        "too_many_files" => td_string!(locale, design.import_problem.too_many_files),
        "unreadable" => td_string!(locale, design.import_problem.unreadable),
        "bad_name" => td_string!(locale, design.import_problem.bad_name),
        "leaves_package" => td_string!(locale, design.import_problem.leaves_package),
        "symlink" => td_string!(locale, design.import_problem.symlink),
        "unexpected_file" => td_string!(locale, design.import_problem.unexpected_file),
        "duplicate" => td_string!(locale, design.import_problem.duplicate),
        "entry_too_large" => td_string!(locale, design.import_problem.entry_too_large),
        "zip_bomb" => td_string!(locale, design.import_problem.zip_bomb),
        "size_mismatch" => td_string!(locale, design.import_problem.size_mismatch),
        "unpacks_too_large" => td_string!(locale, design.import_problem.unpacks_too_large),
        "missing" => td_string!(locale, design.import_problem.missing),
        "not_json" => td_string!(locale, design.import_problem.not_json),
        "wrong_format" => td_string!(locale, design.import_problem.wrong_format),
        "format_version" => td_string!(locale, design.import_problem.format_version),
        "schema" => td_string!(locale, design.import_problem.schema),
        "media_missing" => td_string!(locale, design.import_problem.media_missing),
        "media_size" => td_string!(locale, design.import_problem.media_size),
        "media_type" => td_string!(locale, design.import_problem.media_type),
        "media_unused" => td_string!(locale, design.import_problem.media_unused),
        "form" => td_string!(locale, design.import_problem.form),
        "no_file" => td_string!(locale, design.import_problem.no_file),
        _ => return None,
    })
}

/// What was wrong with a package just refused (the server renders the list with it). Only ever
/// rendered on the server: the page is not hydrated, so none of it goes into the browser's code.
#[cfg(not(feature = "ssr"))]
#[component]
fn ImportRefusal() -> impl IntoView {}

/// What was wrong with a package just refused (the server renders the list with it).
#[cfg(feature = "ssr")]
#[component]
fn ImportRefusal() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    use_context::<super::ImportProblems>().map(|refused| view! {
        <div class="error" role="alert">
            <p>{t!(i18n, design.import_refused)}</p>
            <ul>
                {refused.0.into_iter().map(|issue| {
                    // In the reader's language; the English details after it, where there are any.
                    let (text, detail) = match (&issue.kind, import_problem_text(&issue.code, locale)) {
                        (Some(kind), _) => (problem_text(kind, locale), None),
                        (None, Some(text)) => (text.to_owned(), Some(issue.reason.clone())),
                        (None, None) => (issue.reason.clone(), None),
                    };
                    view! {
                        <li>
                            {(!issue.path.is_empty()).then(|| view! { <code>{issue.path.clone()}</code> " " })}
                            {text}
                            {detail.map(|d| view! { " " <small lang="en">"(" {d} ")"</small> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    })
}

#[component]
pub fn DesignPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = program_id();
    let editing = Resource::new(id, |id| async move {
        match id {
            Some(id) => program_draft(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=page_title(move || t_string!(i18n, design.editor_title).to_string()) />
        <p><a href="/program">{t!(i18n, design.back)}</a></p>
        <h1>{t!(i18n, design.editor_title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match editing.await {
                    Ok(editing) => {
                        let english = i18n.get_locale_untracked() == Locale::en;
                        let program_id = editing.draft.program_id;
                        view! {
                            <ProgramEditor draft=editing.draft english media_hosts=editing.media_hosts />
                            <form method="post" action=format!("/program/{program_id}/testa") class="test-draft">
                                <input type="hidden" name="version" value="utkast" />
                                <button type="submit" class="button">{t!(i18n, trial.draft_button)}</button>
                            </form>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = program_id();
    let review = Resource::new(id, |id| async move {
        match id {
            Some(id) => review_program(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=page_title(move || t_string!(i18n, design.review_title).to_string()) />
        <p><a href="/program">{t!(i18n, design.back)}</a></p>
        <h1>{t!(i18n, design.review_title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match review.await {
                    Ok(review) => view! { <ReviewBody review /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ReviewBody(review: Review) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let blocking: Vec<_> = review
        .problems
        .iter()
        .filter(|p| p.blocking)
        .cloned()
        .collect();
    let since = review.based_on.map(|v| v.to_string());
    let nothing = review.changes.is_empty();
    let can_publish = blocking.is_empty() && !nothing;
    let (program_id, versions) = (review.program_id, review.versions.clone());
    let has_draft = review.revision >= 0;
    let publish = ServerAction::<super::PublishProgram>::new();
    view! {
        <h2>{review.title}</h2>
        <FormNotice action=publish />
        <p>{match since {
            Some(v) => format!("{} {v}", t_string!(i18n, design.changes_since)),
            None => t_string!(i18n, design.first_version).to_owned(),
        }}</p>
        {if nothing {
            view! { <p>{t!(i18n, design.no_changes)}</p> }.into_any()
        } else {
            view! { <ChangeList changes=review.changes /> }.into_any()
        }}
        {(!blocking.is_empty()).then(|| view! {
            <div class="error" role="alert">
                <p>{t!(i18n, design.blocking)}</p>
                <ul>
                    {blocking.into_iter().map(|p| view! {
                        <li><code>{p.path}</code> " " {problem_text(&p.kind, locale)}</li>
                    }).collect_view()}
                </ul>
            </div>
        })}
        {can_publish.then(|| view! {
            <ActionForm action=publish attr:class="card publish">
                <input type="hidden" name="program_id" value=review.program_id />
                <input type="hidden" name="revision" value=review.revision />
                <fieldset>
                    <legend>{t!(i18n, design.version_kind)}</legend>
                    <label>
                        <input type="radio" name="bump" value="major" checked=review.major />
                        " " {t!(i18n, design.major)}
                    </label>
                    <label>
                        <input type="radio" name="bump" value="minor" checked=!review.major disabled=review.major />
                        " " {t!(i18n, design.minor)}
                    </label>
                </fieldset>
                <label for="release-notes">{t!(i18n, design.release_notes)}</label>
                <textarea id="release-notes" name="release_notes" rows="3" maxlength="2000"></textarea>
                <button type="submit" class="primary">{t!(i18n, design.publish)}</button>
            </ActionForm>
        })}
        <TestAsPatient program_id draft=has_draft versions=versions.clone() />
        <PublisherControls program_id versions />
    }
}

/// "Test as a patient": a plain form (it works without JavaScript) that starts the caller's
/// test of the draft or of a version, and takes them to its treatment page.
#[component]
fn TestAsPatient(
    program_id: i64,
    draft: bool,
    versions: Vec<crate::catalogue::VersionState>,
) -> impl IntoView {
    let i18n = use_i18n();
    (draft || !versions.is_empty()).then(|| view! {
        <section class="card" aria-labelledby="test-heading">
            <h2 id="test-heading">{t!(i18n, trial.heading)}</h2>
            <p>{t!(i18n, trial.lead)}</p>
            <form method="post" action=format!("/program/{program_id}/testa")>
                <label for="test-version">{t!(i18n, trial.version)}</label>
                <select id="test-version" name="version">
                    {draft.then(|| view! { <option value="utkast">{t!(i18n, trial.draft)}</option> })}
                    {versions.into_iter().map(|v| {
                        let number = v.number.to_string();
                        view! { <option value=number.clone()>{number.clone()}</option> }
                    }).collect_view()}
                </select>
                <button type="submit" class="button">{t!(i18n, trial.start)}</button>
            </form>
        </section>
    })
}

/// The diff as the publisher reads it: where, and what changed.
#[component]
pub fn ChangeList(changes: Vec<Change>) -> impl IntoView {
    let i18n = use_i18n();
    let level = move |l: Level| match l {
        Level::Module => t_string!(i18n, design.level_module),
        Level::Section => t_string!(i18n, design.level_section),
        Level::Page => t_string!(i18n, design.level_page),
        Level::Block => t_string!(i18n, design.level_block),
        Level::Questionnaire => t_string!(i18n, design.level_questionnaire),
        Level::Schedule => t_string!(i18n, design.level_schedule),
    };
    let part = move |p: Part| match p {
        Part::Title => t_string!(i18n, design.part_title),
        Part::Description => t_string!(i18n, design.description),
        Part::Text | Part::Tone => t_string!(i18n, design.text),
        Part::AltText => t_string!(i18n, design.alt),
        Part::Caption => t_string!(i18n, design.caption),
        Part::Transcript => t_string!(i18n, design.transcript),
        Part::Instructions => t_string!(i18n, design.instructions),
        Part::FieldLabel | Part::ChoiceOption => t_string!(i18n, design.field_label),
        Part::LinkLabel => t_string!(i18n, design.link_label),
        Part::LinkAddress | Part::Media => t_string!(i18n, design.address),
        Part::ItemText => t_string!(i18n, design.part_item_text),
    };
    let structure = move |s: Structure| match s {
        Structure::Kind => t_string!(i18n, design.structure_kind),
        Structure::Fields => t_string!(i18n, design.structure_fields),
        Structure::Questionnaire => t_string!(i18n, design.kind_questionnaire),
        Structure::Condition => t_string!(i18n, design.structure_condition),
        Structure::Unlock => t_string!(i18n, design.unlock),
        Structure::Scoring => t_string!(i18n, design.structure_scoring),
        Structure::Schedule => t_string!(i18n, design.structure_schedule),
    };
    view! {
        <ul class="changes">
            {changes.into_iter().map(|change| {
                let major = change.is_major();
                let place = if change.at.is_empty() {
                    t_string!(i18n, design.level_program).to_owned()
                } else {
                    change.at.iter().map(|c| format!("{} {}", level(c.level), c.title)).collect::<Vec<_>>().join(" › ")
                };
                let what = match change.what {
                    What::Added => view! { <span>{t!(i18n, design.added)}</span> }.into_any(),
                    What::Removed => view! { <span>{t!(i18n, design.removed)}</span> }.into_any(),
                    What::Moved { from, to } => view! {
                        <span>{format!("{} {from} → {to}", t_string!(i18n, design.moved))}</span>
                    }.into_any(),
                    What::Edited { part: p, before, after } => view! {
                        <span>{part(p)} ": "</span>
                        <del>{before}</del> " " <ins>{after}</ins>
                    }.into_any(),
                    What::Restructured { part: s } => view! {
                        <span>{format!("{}: {}", structure(s), t_string!(i18n, design.changed))}</span>
                    }.into_any(),
                };
                view! {
                    <li class={if major { "change major" } else { "change minor" }}>
                        <strong>{place}</strong> " — " {what}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
