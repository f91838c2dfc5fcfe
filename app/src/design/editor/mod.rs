//! The design tool's editor: an island that holds the draft in the browser, edits it, shows
//! the page being edited through the patient's own renderer and the validation report as it
//! changes, and saves the whole draft on the revision it was read at.
//!
//! Text edits change the document without re-rendering the forms (so the cursor stays where
//! it is); adding, removing and moving things re-renders the outline and the page.

use super::{Saved, save_program_draft, upload_media};
use crate::error::AppError;
use crate::i18n::*;
use crate::programs::render::PageView;
use crate::programs::version::Draft;
use crate::programs::{
    Block, BlockBody, Field, FieldKind, Media, Module, Problem, ProblemKind, Program,
    QuestionnaireDef, Rules, Section, Step, Tone, UnlockRule, validate,
};
use leptos::prelude::*;

mod conditions;
mod questionnaires;
mod schedules;

use conditions::{Target, condition_editor};
use questionnaires::questionnaires;

/// Where something is in the outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Module(usize),
    Section(usize, usize),
    Page(usize, usize, usize),
    Block(usize, usize, usize, usize),
}

impl At {
    /// Items with the same parent can trade places.
    fn same_list(self, other: At) -> bool {
        match (self, other) {
            (At::Module(_), At::Module(_)) => true,
            (At::Section(m, _), At::Section(n, _)) => m == n,
            (At::Page(m, s, _), At::Page(n, t, _)) => (m, s) == (n, t),
            (At::Block(m, s, g, _), At::Block(n, t, h, _)) => (m, s, g) == (n, t, h),
            _ => false,
        }
    }

    fn index(self) -> usize {
        match self {
            At::Module(i) | At::Section(_, i) | At::Page(_, _, i) | At::Block(_, _, _, i) => i,
        }
    }
}

fn shift<T>(list: &mut Vec<T>, from: usize, to: usize) {
    if from < list.len() && to < list.len() {
        let item = list.remove(from);
        list.insert(to, item);
    }
}

fn remove_at<T>(list: &mut Vec<T>, at: usize) {
    if at < list.len() {
        list.remove(at);
    }
}

fn move_item(p: &mut Program, at: At, to: usize) {
    match at {
        At::Module(m) => shift(&mut p.modules, m, to),
        At::Section(m, s) => shift(&mut p.modules[m].sections, s, to),
        At::Page(m, s, g) => shift(&mut p.modules[m].sections[s].steps, g, to),
        At::Block(m, s, g, b) => shift(&mut p.modules[m].sections[s].steps[g].blocks, b, to),
    }
}

fn remove_item(p: &mut Program, at: At) {
    match at {
        At::Module(m) => remove_at(&mut p.modules, m),
        At::Section(m, s) => remove_at(&mut p.modules[m].sections, s),
        At::Page(m, s, g) => remove_at(&mut p.modules[m].sections[s].steps, g),
        At::Block(m, s, g, b) => remove_at(&mut p.modules[m].sections[s].steps[g].blocks, b),
    }
}

fn block_mut(p: &mut Program, (m, s, g, b): (usize, usize, usize, usize)) -> Option<&mut Block> {
    p.modules
        .get_mut(m)?
        .sections
        .get_mut(s)?
        .steps
        .get_mut(g)?
        .blocks
        .get_mut(b)
}

/// Every key in the program (modules, sections, pages, blocks, questionnaires).
fn keys(p: &Program) -> Vec<&str> {
    let mut out: Vec<&str> = p.questionnaires.iter().map(|q| q.key.as_str()).collect();
    out.extend(p.schedules.iter().map(|s| s.key.as_str()));
    for m in &p.modules {
        out.push(&m.key);
        for s in &m.sections {
            out.push(&s.key);
            for g in &s.steps {
                out.push(&g.key);
                out.extend(g.blocks.iter().map(|b| b.key.as_str()));
            }
        }
    }
    out
}

/// A key not used yet: the prefix and the first free number.
fn fresh_key(p: &Program, prefix: &str) -> String {
    let used = keys(p);
    (1..)
        .map(|n| format!("{prefix}{n}"))
        .find(|k| !used.contains(&k.as_str()))
        .unwrap_or_default()
}

fn find_page(p: &Program, key: &str) -> Option<(usize, usize, usize)> {
    for (m, module) in p.modules.iter().enumerate() {
        for (s, section) in module.sections.iter().enumerate() {
            if let Some(g) = section.steps.iter().position(|g| g.key == key) {
                return Some((m, s, g));
            }
        }
    }
    None
}

fn first_page(p: &Program) -> Option<String> {
    p.modules
        .iter()
        .flat_map(|m| &m.sections)
        .flat_map(|s| &s.steps)
        .map(|g| g.key.clone())
        .next()
}

/// The kinds of block the editor adds, by code.
const BLOCK_KINDS: [&str; 9] = [
    "text",
    "info_box",
    "image",
    "video",
    "audio",
    "exercise",
    "worksheet",
    "questionnaire",
    "link",
];

fn new_block(p: &Program, kind: &str) -> Block {
    // Empty until the producer fills it in: unfinished, which a draft may be.
    let external = || Media::External { url: String::new() };
    let fields = || {
        vec![Field {
            key: "f1".to_owned(),
            label: String::new(),
            kind: FieldKind::Text { max_chars: 2_000 },
            required: false,
        }]
    };
    let body = match kind {
        "info_box" => BlockBody::InfoBox {
            tone: Tone::Info,
            markdown: String::new(),
        },
        "image" => BlockBody::Image {
            media: external(),
            alt: String::new(),
            caption: None,
        },
        "video" => BlockBody::Video {
            media: external(),
            transcript: None,
        },
        "audio" => BlockBody::Audio {
            media: external(),
            transcript: None,
        },
        "exercise" => BlockBody::Exercise {
            instructions: String::new(),
            fields: fields(),
        },
        "worksheet" => BlockBody::Worksheet {
            instructions: String::new(),
            fields: fields(),
        },
        "questionnaire" => BlockBody::Questionnaire {
            questionnaire: p
                .questionnaires
                .first()
                .map(|q| q.key.clone())
                .unwrap_or_default(),
        },
        "link" => BlockBody::Link {
            url: "https://".to_owned(),
            label: String::new(),
        },
        _ => BlockBody::Text {
            markdown: String::new(),
        },
    };
    Block {
        key: fresh_key(p, "b"),
        show_if: None,
        body,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Saved,
    Unsaved,
    Saving,
    Conflict,
    Refused(Vec<Problem>),
    TooLarge,
    Failed,
}

/// The document and what the screen shows of it.
#[derive(Clone, Copy)]
struct Doc {
    program: RwSignal<Program>,
    /// Bumped when the outline changes shape: the forms are rendered again.
    shape: RwSignal<u32>,
    /// Bumped when a page is renamed: only the outline is rendered again (it names pages).
    renamed: RwSignal<u32>,
    /// The key of the page being edited.
    page: RwSignal<Option<String>>,
    status: RwSignal<Status>,
    dragging: RwSignal<Option<At>>,
    locale: Locale,
    program_id: i64,
}

impl Doc {
    /// A change of text or setting: the forms stay.
    fn edit(&self, change: impl FnOnce(&mut Program)) {
        self.program.update(change);
        self.status.set(Status::Unsaved);
    }

    /// A change of shape: the forms are rendered again.
    fn restructure(&self, change: impl FnOnce(&mut Program)) {
        self.edit(change);
        self.shape.update(|n| *n += 1);
    }

    fn drop_on(&self, target: At) {
        if let Some(from) = self.dragging.get_untracked()
            && from.same_list(target)
            && from != target
        {
            self.restructure(|p| move_item(p, from, target.index()));
        }
        self.dragging.set(None);
    }
}

fn value(ev: &leptos::ev::Event) -> String {
    event_target_value(ev)
}

/// Lazy: its code is split into its own WASM file, loaded only on the editor's page, so that
/// patients' pages do not carry the design tool.
#[island(lazy)]
pub fn ProgramEditor(draft: Draft, english: bool, media_hosts: Vec<String>) -> impl IntoView {
    let locale = if english { Locale::en } else { Locale::sv };
    let program_id = draft.program_id;
    let revision = RwSignal::new(draft.revision);
    let doc = Doc {
        page: RwSignal::new(first_page(&draft.program)),
        program: RwSignal::new(draft.program),
        shape: RwSignal::new(0),
        renamed: RwSignal::new(0),
        status: RwSignal::new(Status::Saved),
        dragging: RwSignal::new(None),
        locale,
        program_id,
    };
    let media_base = crate::programs::media::url_base(program_id);
    let rules = Rules {
        media_hosts,
        ..Rules::default()
    };
    let problems = Memo::new(move |_| doc.program.with(|p| validate(p, &rules)));
    // Effects run only in the browser: "ready" says the editor has hydrated and responds.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));

    let save = move |_| {
        doc.status.set(Status::Saving);
        let program = doc.program.get_untracked();
        let at = revision.get_untracked();
        leptos::task::spawn_local(async move {
            let status = match save_program_draft(program_id, at, program).await {
                Ok(Saved::Saved(saved)) => {
                    revision.set(saved.revision);
                    Status::Saved
                }
                Ok(Saved::Conflict) => Status::Conflict,
                Ok(Saved::Refused(problems)) => Status::Refused(problems),
                Ok(Saved::TooLarge { .. }) => Status::TooLarge,
                Err(_) => Status::Failed,
            };
            doc.status.set(status);
        });
    };
    let status_line = move || match doc.status.get() {
        Status::Saved => format!("{} {}", td_string!(locale, design.saved), revision.get()),
        Status::Unsaved => td_string!(locale, design.unsaved).to_owned(),
        Status::Saving => td_string!(locale, design.saving).to_owned(),
        Status::Conflict => td_string!(locale, design.conflict).to_owned(),
        Status::Refused(list) => format!(
            "{} {}",
            td_string!(locale, design.refused),
            list.iter()
                .map(|p| format!("{}: {}", p.path, problem_text(&p.kind, locale)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Status::TooLarge => td_string!(locale, design.too_large).to_owned(),
        Status::Failed => td_string!(locale, design.failed).to_owned(),
    };

    let (title, description, follow_up) = doc
        .program
        .with_untracked(|p| (p.title.clone(), p.description.clone(), p.follow_up));
    view! {
        <div class="editor" data-editor=move || if ready.get() { "ready" } else { "loading" }>
            // Until the editor runs in the browser (and for good, without JavaScript).
            {move || (!ready.get()).then(|| view! {
                <p class="notice">{td_string!(locale, design.needs_javascript)}</p>
            })}
            <div class="editor-bar">
                <button type="button" class="primary" on:click=save>{td_string!(locale, design.save)}</button>
                <p class="save-status" role="status" aria-live="polite">{status_line}</p>
            </div>
            <div class="field">
                <label for="program-title">{td_string!(locale, design.program_title)}</label>
                <input id="program-title" value=title
                    on:input=move |ev| { let v = value(&ev); doc.edit(|p| p.title = v) } />
            </div>
            <div class="field">
                <label for="program-description">{td_string!(locale, design.description)}</label>
                <textarea id="program-description" rows="2"
                    on:input=move |ev| { let v = value(&ev); doc.edit(|p| p.description = v) }>{description}</textarea>
            </div>
            <div class="editor-columns">
                <section class="outline" aria-labelledby="outline-heading">
                    <h2 id="outline-heading">{td_string!(locale, design.outline)}</h2>
                    {move || { doc.shape.track(); doc.renamed.track(); doc.page.track(); outline(doc) }}
                    <button type="button" on:click=move |_| doc.restructure(|p| {
                        let key = fresh_key(p, "m");
                        p.modules.push(Module { key, title: String::new(), unlock: UnlockRule::Open, sections: Vec::new() });
                    })>{td_string!(locale, design.add_module)}</button>
                </section>
                <section class="page-editor" aria-labelledby="page-heading">
                    <h2 id="page-heading">{td_string!(locale, design.page)}</h2>
                    {move || { doc.shape.track(); page_editor(doc, doc.page.get()) }}
                </section>
                <section class="preview" aria-labelledby="preview-heading">
                    <h2 id="preview-heading">{td_string!(locale, design.preview)}</h2>
                    {move || {
                        let key = doc.page.get()?;
                        doc.program.with(|p| {
                            let (m, s, g) = find_page(p, &key)?;
                            let step = p.modules[m].sections[s].steps[g].clone();
                            Some(view! { <PageView step questionnaires=p.questionnaires.clone() locale media_base=media_base.clone() id_prefix="preview-" /> })
                        })
                    }}
                </section>
            </div>
            <section class="questionnaires" aria-labelledby="questionnaires-heading">
                <h2 id="questionnaires-heading">{td_string!(locale, design.questionnaires)}</h2>
                {move || { doc.shape.track(); questionnaires(doc) }}
            </section>
            <section class="schedules" aria-labelledby="schedules-heading">
                <h2 id="schedules-heading">{td_string!(locale, design.schedules)}</h2>
                <p class="hint">{td_string!(locale, design.schedules_lead)}</p>
                {move || { doc.shape.track(); schedules::schedules(doc) }}
            </section>
            <section class="follow-up" aria-labelledby="follow-up-heading">
                <h2 id="follow-up-heading">{td_string!(locale, design.follow_up)}</h2>
                <p class="hint">{td_string!(locale, design.follow_up_lead)}</p>
                <div class="field">
                    <label for="follow-up-inactive">{td_string!(locale, design.follow_up_inactive)}</label>
                    <input id="follow-up-inactive" type="number" min="0" max="365" inputmode="numeric"
                        value=follow_up.inactive_days.to_string()
                        on:input=move |ev| { let v = schedules::days(&value(&ev)).unwrap_or(0); doc.edit(|p| p.follow_up.inactive_days = v) } />
                </div>
                <div class="field">
                    <label for="follow-up-homework">{td_string!(locale, design.follow_up_homework)}</label>
                    <input id="follow-up-homework" type="number" min="0" max="365" inputmode="numeric"
                        value=follow_up.homework_days.to_string()
                        on:input=move |ev| { let v = schedules::days(&value(&ev)).unwrap_or(0); doc.edit(|p| p.follow_up.homework_days = v) } />
                </div>
            </section>
            <section class="report" aria-labelledby="report-heading">
                <h2 id="report-heading">{td_string!(locale, design.report)}</h2>
                {move || {
                    let list = problems.get();
                    if list.is_empty() {
                        view! { <p>{td_string!(locale, design.report_clean)}</p> }.into_any()
                    } else {
                        view! {
                            <ul>
                                {list.into_iter().map(|p| view! {
                                    <li class={if p.blocking { "problem blocking" } else { "problem" }}>
                                        <code>{p.path.clone()}</code> " " {problem_text(&p.kind, locale)}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
            </section>
        </div>
    }
}

/// Up, down and remove for one item; the buttons name what they act on.
fn item_buttons(doc: Doc, at: At, count: usize, name: String) -> impl IntoView {
    let locale = doc.locale;
    let i = at.index();
    let up = format!("{} {name}", td_string!(locale, design.move_up));
    let down = format!("{} {name}", td_string!(locale, design.move_down));
    let remove = format!("{} {name}", td_string!(locale, design.remove));
    view! {
        <span class="item-buttons">
            <button type="button" aria-label=up disabled={i == 0}
                on:click=move |_| doc.restructure(|p| move_item(p, at, i.saturating_sub(1)))>"↑"</button>
            <button type="button" aria-label=down disabled={i + 1 >= count}
                on:click=move |_| doc.restructure(|p| move_item(p, at, i + 1))>"↓"</button>
            <button type="button" aria-label=remove
                on:click=move |_| doc.restructure(|p| remove_item(p, at))>"✕"</button>
        </span>
    }
}

/// Drag and drop among siblings: the item dragged lands where it is dropped.
fn draggable(doc: Doc, at: At) -> impl Fn(leptos::ev::DragEvent) + Copy {
    move |ev: leptos::ev::DragEvent| {
        ev.stop_propagation();
        doc.dragging.set(Some(at));
    }
}

fn drop_target(doc: Doc, at: At) -> impl Fn(leptos::ev::DragEvent) + Copy {
    move |ev: leptos::ev::DragEvent| {
        ev.stop_propagation();
        ev.prevent_default();
        doc.drop_on(at);
    }
}

fn allow_drop(ev: leptos::ev::DragEvent) {
    ev.prevent_default();
}

fn title_or(title: &str, fallback: &str) -> String {
    if title.trim().is_empty() {
        fallback.to_owned()
    } else {
        title.to_owned()
    }
}

fn outline(doc: Doc) -> impl IntoView {
    let locale = doc.locale;
    let selected = doc.page.get_untracked();
    let program = doc.program.get_untracked();
    let module_count = program.modules.len();
    let modules = program
        .modules
        .into_iter()
        .enumerate()
        .map(|(m, module)| {
            let at = At::Module(m);
            let name = title_or(&module.title, td_string!(locale, design.untitled_module));
            let section_count = module.sections.len();
            let sections = module
                .sections
                .into_iter()
                .enumerate()
                .map(|(s, section)| {
                    let at = At::Section(m, s);
                    let name = title_or(&section.title, td_string!(locale, design.untitled_section));
                    let page_count = section.steps.len();
                    let pages = section
                        .steps
                        .into_iter()
                        .enumerate()
                        .map(|(g, step)| {
                            let at = At::Page(m, s, g);
                            let name = title_or(&step.title, td_string!(locale, design.untitled_page));
                            let current = selected.as_deref() == Some(step.key.as_str());
                            let key = step.key.clone();
                            view! {
                                <li class="outline-page" draggable="true"
                                    on:dragstart=draggable(doc, at) on:dragover=allow_drop on:drop=drop_target(doc, at)>
                                    <span class="drag-handle" aria-hidden="true">"⠿"</span>
                                    <button type="button" class="select-page" aria-current=current.then_some("page")
                                        on:click=move |_| doc.page.set(Some(key.clone()))>{name.clone()}</button>
                                    {item_buttons(doc, at, page_count, name)}
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <li class="outline-section" draggable="true"
                            on:dragstart=draggable(doc, at) on:dragover=allow_drop on:drop=drop_target(doc, at)>
                            <div class="row">
                                <span class="drag-handle" aria-hidden="true">"⠿"</span>
                                <input aria-label=td_string!(locale, design.section_title) value=section.title
                                    on:input=move |ev| { let v = value(&ev); doc.edit(|p| p.modules[m].sections[s].title = v) } />
                                {item_buttons(doc, at, section_count, name)}
                            </div>
                            <ol class="pages">{pages}</ol>
                            <button type="button" class="add" on:click=move |_| {
                                let mut added = String::new();
                                doc.restructure(|p| {
                                    added = fresh_key(p, "p");
                                    p.modules[m].sections[s].steps.push(Step { key: added.clone(), title: String::new(), blocks: Vec::new() });
                                });
                                doc.page.set(Some(added));
                            }>{td_string!(locale, design.add_page)}</button>
                        </li>
                    }
                })
                .collect_view();
            let unlock = module.unlock;
            view! {
                <li class="outline-module" draggable="true"
                    on:dragstart=draggable(doc, at) on:dragover=allow_drop on:drop=drop_target(doc, at)>
                    <div class="row">
                        <span class="drag-handle" aria-hidden="true">"⠿"</span>
                        <input aria-label=td_string!(locale, design.module_title) value=module.title
                            on:input=move |ev| { let v = value(&ev); doc.edit(|p| p.modules[m].title = v) } />
                        {item_buttons(doc, at, module_count, name)}
                    </div>
                    <label class="unlock">
                        {td_string!(locale, design.unlock)} " "
                        <select on:change=move |ev| {
                            let rule = match value(&ev).as_str() {
                                "after_previous" => UnlockRule::AfterPrevious,
                                "after_feedback" => UnlockRule::AfterFeedback,
                                "after_days" => UnlockRule::AfterDays { days: 7 },
                                _ => UnlockRule::Open,
                            };
                            // The day field appears or goes: the outline is drawn again.
                            doc.restructure(|p| p.modules[m].unlock = rule)
                        }>
                            <option value="open" selected={unlock == UnlockRule::Open}>{td_string!(locale, design.unlock_open)}</option>
                            <option value="after_previous" selected={unlock == UnlockRule::AfterPrevious}>{td_string!(locale, design.unlock_after_previous)}</option>
                            <option value="after_feedback" selected={unlock == UnlockRule::AfterFeedback}>{td_string!(locale, design.unlock_after_feedback)}</option>
                            <option value="after_days" selected={matches!(unlock, UnlockRule::AfterDays { .. })}>{td_string!(locale, design.unlock_after_days)}</option>
                        </select>
                    </label>
                    {match unlock {
                        UnlockRule::AfterDays { days } => Some(view! {
                            <label class="unlock">
                                {td_string!(locale, design.unlock_day)} " "
                                <input type="number" min="0" max="3650" inputmode="numeric" value=days.to_string()
                                    on:input=move |ev| {
                                        let days = schedules::days(&value(&ev)).unwrap_or(0);
                                        doc.edit(|p| p.modules[m].unlock = UnlockRule::AfterDays { days })
                                    } />
                            </label>
                        }),
                        _ => None,
                    }}
                    <ol class="sections">{sections}</ol>
                    <button type="button" class="add" on:click=move |_| doc.restructure(|p| {
                        let key = fresh_key(p, "s");
                        p.modules[m].sections.push(Section { key, title: String::new(), show_if: None, steps: Vec::new() });
                    })>{td_string!(locale, design.add_section)}</button>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="modules">{modules}</ol> }
}

fn page_editor(doc: Doc, page: Option<String>) -> AnyView {
    let locale = doc.locale;
    let found = page.and_then(|key| {
        doc.program.with_untracked(|p| {
            let (m, s, g) = find_page(p, &key)?;
            let section = &p.modules[m].sections[s];
            Some((
                m,
                s,
                g,
                section.steps[g].clone(),
                p.questionnaires.clone(),
                (section.title.clone(), section.show_if.clone()),
            ))
        })
    });
    let Some((m, s, g, step, questionnaires, (section_title, section_rule))) = found else {
        return view! { <p>{td_string!(locale, design.no_page)}</p> }.into_any();
    };
    let count = step.blocks.len();
    let blocks = step
        .blocks
        .into_iter()
        .enumerate()
        .map(|(b, block)| {
            let at = At::Block(m, s, g, b);
            let name = format!("{} {}", td_string!(locale, design.block), b + 1);
            view! {
                <li class="block-editor" draggable="true"
                    on:dragstart=draggable(doc, at) on:dragover=allow_drop on:drop=drop_target(doc, at)>
                    <div class="row">
                        <span class="drag-handle" aria-hidden="true">"⠿"</span>
                        <strong>{name.clone()} " · " {kind_name(&block.body, locale)}</strong>
                        {item_buttons(doc, at, count, name.clone())}
                    </div>
                    {block_form(doc, (m, s, g, b), block.body, &questionnaires)}
                    {condition_editor(doc, Target::Block(m, s, g, b), block.show_if, &questionnaires, name.clone())}
                </li>
            }
        })
        .collect_view();
    let kind = RwSignal::new("text".to_owned());
    let section_name = format!(
        "{} {}",
        td_string!(locale, design.section),
        title_or(&section_title, td_string!(locale, design.untitled_section))
    );
    view! {
        <div class="section-condition">
            <p><strong>{section_name.clone()}</strong></p>
            {condition_editor(doc, Target::Section(m, s), section_rule, &questionnaires, section_name)}
        </div>
        <div class="field">
            <label for="page-title">{td_string!(locale, design.page_title)}</label>
            <input id="page-title" value=step.title
                on:input=move |ev| {
                    let v = value(&ev);
                    doc.edit(|p| p.modules[m].sections[s].steps[g].title = v);
                    doc.renamed.update(|n| *n += 1);
                } />
        </div>
        <ol class="blocks">{blocks}</ol>
        <div class="add-block">
            <label for="block-kind">{td_string!(locale, design.block_kind)}</label>
            <select id="block-kind" on:change=move |ev| kind.set(value(&ev))>
                {BLOCK_KINDS.into_iter().map(|k| view! { <option value=k>{kind_label(k, locale)}</option> }).collect_view()}
            </select>
            <button type="button" on:click=move |_| doc.restructure(|p| {
                let block = new_block(p, &kind.get_untracked());
                p.modules[m].sections[s].steps[g].blocks.push(block);
            })>{td_string!(locale, design.add_block)}</button>
        </div>
    }
    .into_any()
}

fn kind_label(kind: &str, locale: Locale) -> &'static str {
    match kind {
        "info_box" => td_string!(locale, design.kind_info_box),
        "image" => td_string!(locale, design.kind_image),
        "video" => td_string!(locale, design.kind_video),
        "audio" => td_string!(locale, design.kind_audio),
        "exercise" => td_string!(locale, design.kind_exercise),
        "worksheet" => td_string!(locale, design.kind_worksheet),
        "questionnaire" => td_string!(locale, design.kind_questionnaire),
        "link" => td_string!(locale, design.kind_link),
        _ => td_string!(locale, design.kind_text),
    }
}

fn kind_name(body: &BlockBody, locale: Locale) -> &'static str {
    kind_label(
        match body {
            BlockBody::Text { .. } => "text",
            BlockBody::InfoBox { .. } => "info_box",
            BlockBody::Image { .. } => "image",
            BlockBody::Video { .. } => "video",
            BlockBody::Audio { .. } => "audio",
            BlockBody::Exercise { .. } => "exercise",
            BlockBody::Worksheet { .. } => "worksheet",
            BlockBody::Questionnaire { .. } => "questionnaire",
            BlockBody::Link { .. } => "link",
        },
        locale,
    )
}

/// A labelled text input or text area that writes one part of a block.
fn text_field(
    doc: Doc,
    at: (usize, usize, usize, usize),
    label: &'static str,
    current: String,
    multiline: bool,
    write: fn(&mut BlockBody, String),
) -> impl IntoView {
    let id = format!("block-{}-{}-{}-{}-{label}", at.0, at.1, at.2, at.3)
        .replace(' ', "-")
        .to_lowercase();
    let on_input = move |ev: leptos::ev::Event| {
        let v = value(&ev);
        doc.edit(|p| {
            if let Some(block) = block_mut(p, at) {
                write(&mut block.body, v);
            }
        })
    };
    let input = if multiline {
        view! { <textarea id=id.clone() rows="4" on:input=on_input>{current}</textarea> }.into_any()
    } else {
        view! { <input id=id.clone() value=current on:input=on_input /> }.into_any()
    };
    view! { <div class="field"><label for=id>{label}</label>{input}</div> }
}

fn media_url(media: &Media) -> String {
    match media {
        Media::External { url } => url.clone(),
        Media::File { .. } => String::new(),
    }
}

fn set_block_media(body: &mut BlockBody, new: Media) {
    if let BlockBody::Image { media, .. }
    | BlockBody::Audio { media, .. }
    | BlockBody::Video { media, .. } = body
    {
        *media = new;
    }
}

/// The block's uploaded file (if it has one), and a file input to upload another: the
/// server decides its type from its content, and the block then shows it.
fn upload_field(
    doc: Doc,
    at: (usize, usize, usize, usize),
    kind: &'static str,
    media: &Media,
) -> impl IntoView {
    let locale = doc.locale;
    let program_id = doc.program_id;
    let id = format!("upload-{}-{}-{}-{}", at.0, at.1, at.2, at.3);
    let message = RwSignal::new(None::<String>);
    let current = match media {
        Media::File { path, bytes, .. } => Some(format!(
            "{}: {path} ({} kB)",
            td_string!(locale, design.uploaded_file),
            bytes.div_ceil(1024)
        )),
        Media::External { .. } => None,
    };
    let on_change = move |ev: leptos::ev::Event| {
        use leptos::wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|list| list.get(0)) else {
            return;
        };
        let Ok(form) = web_sys::FormData::new() else {
            return;
        };
        // The server reads the fields in this order: the program and kind before the file.
        let _ = form.append_with_str("program_id", &program_id.to_string());
        let _ = form.append_with_str("kind", kind);
        let _ = form.append_with_blob_and_filename("file", &file, &file.name());
        message.set(Some(td_string!(locale, design.uploading).to_owned()));
        leptos::task::spawn_local(async move {
            match upload_media(form.into()).await {
                Ok(media) => doc.restructure(|p| {
                    if let Some(block) = block_mut(p, at) {
                        set_block_media(&mut block.body, media);
                    }
                }),
                Err(error) => {
                    let why = match &error {
                        AppError::Invalid { reason, .. } => match reason.as_str() {
                            "too_large" => td_string!(locale, design.upload_too_large),
                            "type" => td_string!(locale, design.upload_type),
                            "mismatch" => td_string!(locale, design.upload_mismatch),
                            "empty" => td_string!(locale, design.upload_empty),
                            "too_many" => td_string!(locale, design.upload_too_many),
                            _ => td_string!(locale, design.upload_other),
                        },
                        _ => td_string!(locale, design.upload_other),
                    };
                    message.set(Some(format!(
                        "{} {why}",
                        td_string!(locale, design.upload_failed)
                    )));
                }
            }
        });
    };
    view! {
        {current.map(|text| view! { <p class="uploaded">{text}</p> })}
        <div class="field">
            <label for=id.clone()>{td_string!(locale, design.upload)}</label>
            <input type="file" id=id accept=crate::programs::media::allowed_types(kind).join(",")
                on:change=on_change />
            <p class="upload-status" role="status" aria-live="polite">{move || message.get()}</p>
        </div>
    }
}

fn set_media(media: &mut Media, url: String) {
    *media = Media::External { url };
}

fn block_form(
    doc: Doc,
    at: (usize, usize, usize, usize),
    body: BlockBody,
    questionnaires: &[QuestionnaireDef],
) -> AnyView {
    let locale = doc.locale;
    let body_kind = match &body {
        BlockBody::Video { .. } => "video",
        _ => "audio",
    };
    match body {
        BlockBody::Text { markdown } => text_field(doc, at, td_string!(locale, design.text), markdown, true, |b, v| {
            if let BlockBody::Text { markdown } = b {
                *markdown = v;
            }
        })
        .into_any(),
        BlockBody::InfoBox { tone, markdown } => view! {
            <label>{td_string!(locale, design.tone)} " "
                <select on:change=move |ev| {
                    let tone = match value(&ev).as_str() { "tip" => Tone::Tip, "warning" => Tone::Warning, _ => Tone::Info };
                    doc.edit(|p| if let Some(Block { body: BlockBody::InfoBox { tone: t, .. }, .. }) = block_mut(p, at) { *t = tone })
                }>
                    <option value="info" selected={tone == Tone::Info}>{td_string!(locale, design.tone_info)}</option>
                    <option value="tip" selected={tone == Tone::Tip}>{td_string!(locale, design.tone_tip)}</option>
                    <option value="warning" selected={tone == Tone::Warning}>{td_string!(locale, design.tone_warning)}</option>
                </select>
            </label>
            {text_field(doc, at, td_string!(locale, design.text), markdown, true, |b, v| {
                if let BlockBody::InfoBox { markdown, .. } = b { *markdown = v; }
            })}
        }
        .into_any(),
        BlockBody::Link { url, label } => view! {
            {text_field(doc, at, td_string!(locale, design.link_label), label, false, |b, v| {
                if let BlockBody::Link { label, .. } = b { *label = v; }
            })}
            {text_field(doc, at, td_string!(locale, design.address), url, false, |b, v| {
                if let BlockBody::Link { url, .. } = b { *url = v; }
            })}
        }
        .into_any(),
        BlockBody::Image { media, alt, caption } => view! {
            {upload_field(doc, at, "image", &media)}
            {text_field(doc, at, td_string!(locale, design.address), media_url(&media), false, |b, v| {
                if let BlockBody::Image { media, .. } = b { set_media(media, v); }
            })}
            {text_field(doc, at, td_string!(locale, design.alt), alt, false, |b, v| {
                if let BlockBody::Image { alt, .. } = b { *alt = v; }
            })}
            {text_field(doc, at, td_string!(locale, design.caption), caption.unwrap_or_default(), false, |b, v| {
                if let BlockBody::Image { caption, .. } = b { *caption = (!v.is_empty()).then_some(v); }
            })}
        }
        .into_any(),
        BlockBody::Audio { media, transcript } | BlockBody::Video { media, transcript } => view! {
            {upload_field(doc, at, if matches!(body_kind, "video") { "video" } else { "audio" }, &media)}
            {text_field(doc, at, td_string!(locale, design.address), media_url(&media), false, |b, v| {
                if let BlockBody::Audio { media, .. } | BlockBody::Video { media, .. } = b { set_media(media, v); }
            })}
            {text_field(doc, at, td_string!(locale, design.transcript), transcript.unwrap_or_default(), true, |b, v| {
                if let BlockBody::Audio { transcript, .. } | BlockBody::Video { transcript, .. } = b {
                    *transcript = (!v.is_empty()).then_some(v);
                }
            })}
        }
        .into_any(),
        BlockBody::Exercise { instructions, fields } | BlockBody::Worksheet { instructions, fields } => {
            let count = fields.len();
            view! {
                {text_field(doc, at, td_string!(locale, design.instructions), instructions, true, |b, v| {
                    if let BlockBody::Exercise { instructions, .. } | BlockBody::Worksheet { instructions, .. } = b {
                        *instructions = v;
                    }
                })}
                <ol class="fields">
                    {fields.into_iter().enumerate().map(|(f, field)| field_form(doc, at, f, field)).collect_view()}
                </ol>
                <button type="button" on:click=move |_| doc.restructure(|p| {
                    if let Some(Block { body: BlockBody::Exercise { fields, .. } | BlockBody::Worksheet { fields, .. }, .. }) = block_mut(p, at) {
                        fields.push(Field {
                            key: format!("f{}", count + 1),
                            label: String::new(),
                            kind: FieldKind::Text { max_chars: 2_000 },
                            required: false,
                        });
                    }
                })>{td_string!(locale, design.add_field)}</button>
            }
            .into_any()
        }
        BlockBody::Questionnaire { questionnaire } => {
            let options = questionnaires
                .iter()
                .map(|q| {
                    let selected = q.key == questionnaire;
                    view! { <option value=q.key.clone() selected=selected>{q.title.clone()}</option> }
                })
                .collect_view();
            view! {
                <label>{td_string!(locale, design.kind_questionnaire)} " "
                    <select on:change=move |ev| {
                        let key = value(&ev);
                        doc.edit(|p| if let Some(Block { body: BlockBody::Questionnaire { questionnaire }, .. }) = block_mut(p, at) {
                            *questionnaire = key
                        })
                    }>
                        <option value="">"—"</option>
                        {options}
                    </select>
                </label>
            }
            .into_any()
        }
    }
}

fn with_field(
    p: &mut Program,
    at: (usize, usize, usize, usize),
    f: usize,
    change: impl FnOnce(&mut Field),
) {
    if let Some(Block {
        body: BlockBody::Exercise { fields, .. } | BlockBody::Worksheet { fields, .. },
        ..
    }) = block_mut(p, at)
        && let Some(field) = fields.get_mut(f)
    {
        change(field);
    }
}

fn field_form(doc: Doc, at: (usize, usize, usize, usize), f: usize, field: Field) -> impl IntoView {
    let locale = doc.locale;
    let kind = match &field.kind {
        FieldKind::Text { .. } => "text",
        FieldKind::Number { .. } => "number",
        FieldKind::Date => "date",
        FieldKind::Time => "time",
        FieldKind::Choice { .. } => "choice",
    };
    let options = match &field.kind {
        FieldKind::Choice { options } => options.join(", "),
        _ => String::new(),
    };
    let kinds = [
        ("text", td_string!(locale, design.field_text)),
        ("number", td_string!(locale, design.field_number)),
        ("date", td_string!(locale, design.field_date)),
        ("time", td_string!(locale, design.field_time)),
        ("choice", td_string!(locale, design.field_choice)),
    ];
    view! {
        <li class="field-editor">
            <input aria-label=td_string!(locale, design.field_label) value=field.label
                on:input=move |ev| { let v = value(&ev); doc.edit(|p| with_field(p, at, f, |x| x.label = v)) } />
            <select aria-label=td_string!(locale, design.field_kind) on:change=move |ev| {
                let kind = match value(&ev).as_str() {
                    "number" => FieldKind::Number { min: 0, max: 100 },
                    "date" => FieldKind::Date,
                    "time" => FieldKind::Time,
                    "choice" => FieldKind::Choice { options: Vec::new() },
                    _ => FieldKind::Text { max_chars: 2_000 },
                };
                doc.restructure(|p| with_field(p, at, f, |x| x.kind = kind))
            }>
                {kinds.into_iter().map(|(k, label)| view! { <option value=k selected={k == kind}>{label}</option> }).collect_view()}
            </select>
            <label><input type="checkbox" checked=field.required
                on:change=move |ev| { let on = event_target_checked(&ev); doc.edit(|p| with_field(p, at, f, |x| x.required = on)) } />
                " " {td_string!(locale, design.required)}</label>
            {(kind == "choice").then(|| view! {
                <input aria-label=td_string!(locale, design.field_options) value=options
                    on:input=move |ev| {
                        let list: Vec<String> = value(&ev).split(',').map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
                        doc.edit(|p| with_field(p, at, f, |x| x.kind = FieldKind::Choice { options: list }))
                    } />
            })}
        </li>
    }
}

/// What a problem in the report means, in words.
pub fn problem_text(kind: &ProblemKind, locale: Locale) -> String {
    let text = match kind {
        ProblemKind::MissingTitle => td_string!(locale, design.problem.missing_title),
        ProblemKind::TooLong { max } => {
            return format!("{} {max}", td_string!(locale, design.problem.too_long));
        }
        ProblemKind::TooMany { max } => {
            return format!("{} {max}", td_string!(locale, design.problem.too_many));
        }
        ProblemKind::InvalidKey => td_string!(locale, design.problem.invalid_key),
        ProblemKind::DuplicateKey { key } => {
            return format!("{} {key}", td_string!(locale, design.problem.duplicate_key));
        }
        ProblemKind::EmptyProgram => td_string!(locale, design.problem.empty_program),
        ProblemKind::EmptyModule => td_string!(locale, design.problem.empty_module),
        ProblemKind::EmptySection => td_string!(locale, design.problem.empty_section),
        ProblemKind::EmptyPage => td_string!(locale, design.problem.empty_page),
        ProblemKind::EmptyBlock => td_string!(locale, design.problem.empty_block),
        ProblemKind::ImageWithoutAlt => td_string!(locale, design.problem.image_without_alt),
        ProblemKind::HtmlInMarkdown => td_string!(locale, design.problem.html_in_markdown),
        ProblemKind::UnsafeLink => td_string!(locale, design.problem.unsafe_link),
        ProblemKind::MediaNotAllowed => td_string!(locale, design.problem.media_not_allowed),
        ProblemKind::MediaType { .. } => td_string!(locale, design.problem.media_type),
        ProblemKind::MediaPath => td_string!(locale, design.problem.media_path),
        ProblemKind::MediaMissing => td_string!(locale, design.problem.media_missing),
        ProblemKind::NoFields => td_string!(locale, design.problem.no_fields),
        ProblemKind::UnknownQuestionnaire { .. } => {
            td_string!(locale, design.problem.unknown_questionnaire)
        }
        ProblemKind::UnknownScale { .. } => td_string!(locale, design.problem.unknown_scale),
        ProblemKind::NoInstrument => td_string!(locale, design.problem.no_instrument),
        ProblemKind::BrokenCondition => td_string!(locale, design.problem.broken_condition),
        ProblemKind::BadItem => td_string!(locale, design.problem.bad_item),
        ProblemKind::ConditionBeforeAnswer { .. } => {
            td_string!(locale, design.problem.condition_before_answer)
        }
        ProblemKind::AlertsWithoutBands => td_string!(locale, design.problem.alerts_without_bands),
        ProblemKind::BandsWithGaps => td_string!(locale, design.problem.bands_with_gaps),
        ProblemKind::UnusedQuestionnaire { .. } => {
            td_string!(locale, design.problem.unused_questionnaire)
        }
        ProblemKind::UnknownModule { .. } => td_string!(locale, design.problem.unknown_module),
        ProblemKind::BadDays => td_string!(locale, design.problem.bad_days),
    };
    text.to_owned()
}
