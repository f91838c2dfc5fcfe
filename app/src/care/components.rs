use super::homework::HomeworkKind;
use super::progress::ModuleStatus;
use super::results::ScaleResults;
use super::{
    AnswerForm, Autosave, DueFormLink, DueFormPage, FeedbackView, FormState, HomeworkState,
    ModuleView, PatientPage, SaveHomework, StaffModule, Treatment, my_due_form, my_page,
    my_results, my_treatment,
};
use crate::error::AppError;
use crate::i18n::*;
use crate::instruments::ItemKind;
use crate::layout::{ErrorNotice, FormNotice, page_title};
use crate::programs::markdown::Markdown;
use crate::programs::render::{FormSlot, PageView, band_name};
use crate::programs::{Block, BlockBody, Field, FieldKind, QuestionnaireDef};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use std::sync::Arc;

fn enrolment_param() -> impl Fn() -> Option<i64> + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || {
        params
            .read()
            .get("enrolment")
            .and_then(|v| v.parse::<i64>().ok())
    }
}

/// `/mina-sidor/behandling/:enrolment`: the modules of one treatment, open or locked, with
/// their pages.
#[component]
pub fn TreatmentPage() -> impl IntoView {
    let i18n = use_i18n();
    let enrolment = enrolment_param();
    let treatment = Resource::new(enrolment, |id| async move {
        match id {
            Some(id) => my_treatment(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <p><a href="/mina-sidor">{t!(i18n, care.back_home)}</a></p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match treatment.await {
                    Ok(treatment) => view! { <Modules treatment /> }.into_any(),
                    Err(error) => view! {
                        <Title text=page_title(move || t_string!(i18n, care.title).to_string()) />
                        <h1>{t!(i18n, care.title)}</h1>
                        <ErrorNotice error />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Modules(treatment: Treatment) -> impl IntoView {
    let i18n = use_i18n();
    let title = treatment.program.clone();
    let enrolment = treatment.enrolment_id;
    view! {
        <Title text=page_title(move || title.clone()) />
        <h1>{treatment.program}</h1>
        <p class="muted">{treatment.care_unit}</p>
        {(!treatment.ongoing).then(|| view! { <p class="notice">{t!(i18n, care.ended)}</p> })}
        <p class="card results-link">
            <a href=super::results_href(enrolment)>{t!(i18n, results.title)}</a>
        </p>
        <p class="card messages-link">
            <a href=super::messages_href(enrolment)>{t!(i18n, messages.link)}</a>
            {(treatment.unread_messages > 0).then(|| {
                let unread = format!("({} {})", treatment.unread_messages, t_string!(i18n, messages.unread));
                view! { " " <strong>{unread}</strong> }
            })}
        </p>
        {(!treatment.due_forms.is_empty()).then(|| view! {
            <section class="card due-forms" aria-labelledby="due-heading">
                <h2 id="due-heading">{t!(i18n, care.due_heading)}</h2>
                <ul>
                    {treatment.due_forms.into_iter().map(|due| view! { <DueItem due enrolment /> }).collect_view()}
                </ul>
            </section>
        })}
        <ol class="modules">
            {treatment.modules.into_iter().map(|m| view! { <ModuleItem module=m enrolment /> }).collect_view()}
        </ol>
    }
}

/// A scheduled questionnaire to answer: its link, until when, and whether the pages wait for it.
#[component]
fn DueItem(due: DueFormLink, enrolment: i64) -> impl IntoView {
    let i18n = use_i18n();
    let href = due.href(enrolment);
    view! {
        <li>
            <a href=href>{due.title}</a>
            " · " {t!(i18n, care.due_until)} " " {due.last_day}
            {due.blocking.then(|| view! { " · " <strong>{t!(i18n, care.due_blocking)}</strong> })}
        </li>
    }
}

/// `/mina-sidor/formular/:enrolment/:schedule`: a scheduled questionnaire to answer, or the
/// one just sent.
#[component]
pub fn DueFormView() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let enrolment = enrolment_param();
    let key = move || {
        (
            enrolment(),
            params.read().get("schedule").unwrap_or_default(),
        )
    };
    let due = Resource::new(key, |(id, schedule)| async move {
        match id {
            Some(id) => my_due_form(id, schedule).await,
            None => Err(AppError::NotFound),
        }
    });
    let action = ServerAction::<AnswerForm>::new();
    view! {
        <p>
            {move || enrolment().map(|id| view! {
                <a href=super::treatment_href(id)>{t!(i18n, care.back_treatment)}</a>
            })}
        </p>
        <FormNotice action />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match due.await {
                    Ok(page) => view! { <DueForm page action /> }.into_any(),
                    Err(error) => view! {
                        <Title text=page_title(move || t_string!(i18n, care.due_heading).to_string()) />
                        <h1>{t!(i18n, care.due_heading)}</h1>
                        <ErrorNotice error />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DueForm(page: DueFormPage, action: ServerAction<AnswerForm>) -> impl IntoView {
    let i18n = use_i18n();
    let title = format!("{} – {}", page.due.title, page.program);
    let urgent = page.form.urgent;
    let sent = page.form.submitted;
    let enrolment = page.enrolment_id;
    view! {
        <Title text=page_title(move || title.clone()) />
        <h1>{page.due.title.clone()}</h1>
        <p class="muted">
            {page.program.clone()} " · " {t!(i18n, care.due_until)} " " {page.due.last_day.clone()}
        </p>
        {(page.due.blocking && !sent).then(|| view! { <p class="notice">{t!(i18n, care.due_blocking_lead)}</p> })}
        {urgent.then(|| view! { <CrisisInfo unit=page.crisis_info.clone() /> })}
        <QuestionnaireForm form=page.form def=page.questionnaire enrolment ongoing=page.ongoing action own_page=true />
        {sent.then(|| view! {
            <p><a href=super::treatment_href(enrolment)>{t!(i18n, care.due_continue)}</a></p>
        })}
    }
}

#[component]
fn ModuleItem(module: ModuleView, enrolment: i64) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("module-{}", module.key);
    let labelled_by = heading.clone();
    let status = match module.status {
        // (A hidden module is not listed to the patient.)
        ModuleStatus::Locked | ModuleStatus::Hidden => t_string!(i18n, care.status_locked),
        ModuleStatus::Open => t_string!(i18n, care.status_open),
        ModuleStatus::Finished => t_string!(i18n, care.status_finished),
    };
    let class = match module.status {
        ModuleStatus::Locked | ModuleStatus::Hidden => "card module locked",
        ModuleStatus::Open => "card module open",
        ModuleStatus::Finished => "card module finished",
    };
    let seen_label = t_string!(i18n, care.seen);
    view! {
        <li class=class aria-labelledby=labelled_by>
            <h2 id=heading>{module.title}</h2>
            <p class="module-status">{status}</p>
            {(!module.pages.is_empty()).then(|| view! {
                <ol class="pages">
                    {module.pages.into_iter().map(|page| {
                        let href = page.href(enrolment);
                        view! {
                            <li>
                                <a href=href>{page.title}</a>
                                {page.seen.then(|| view! { " " <span class="seen">"✓ " {seen_label}</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            })}
            {module.feedback.map(|feedback| view! { <Feedback feedback /> })}
        </li>
    }
}

/// The therapist's feedback on a module, under a heading one level below the module's.
#[component]
pub fn Feedback(
    feedback: FeedbackView,
    /// On the staff record (module headings are `h5` there, `h2` on the patient's pages).
    #[prop(optional)]
    staff: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading = t_string!(i18n, care.feedback_heading);
    let by = feedback.author.map(|author| format!("{author} · "));
    view! {
        <section class="feedback">
            {if staff {
                view! { <h6>{heading}</h6> }.into_any()
            } else {
                view! { <h3>{heading}</h3> }.into_any()
            }}
            <p class="muted">{by} {feedback.given_at} " " {t!(i18n, care.utc)}</p>
            <p class="message-body">{feedback.body}</p>
        </section>
    }
}

/// `/mina-sidor/behandling/:enrolment/:module/:step`: one page of the treatment.
#[component]
pub fn TreatmentStepPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let enrolment = enrolment_param();
    let key = move || {
        let p = params.read();
        (
            enrolment(),
            p.get("module").unwrap_or_default(),
            p.get("step").unwrap_or_default(),
        )
    };
    let page = Resource::new(key, |(id, module, step)| async move {
        match id {
            Some(id) => my_page(id, module, step).await,
            None => Err(AppError::NotFound),
        }
    });
    let action = ServerAction::<AnswerForm>::new();
    let homework = ServerAction::<SaveHomework>::new();
    view! {
        <p>
            {move || enrolment().map(|id| view! {
                <a href=super::treatment_href(id)>{t!(i18n, care.back_treatment)}</a>
            })}
        </p>
        <FormNotice action />
        <FormNotice action=homework />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <StepView page action homework /> }.into_any(),
                    Err(error) => view! {
                        <Title text=page_title(move || t_string!(i18n, care.title).to_string()) />
                        <h1>{t!(i18n, care.title)}</h1>
                        <ErrorNotice error />
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StepView(
    page: PatientPage,
    action: ServerAction<AnswerForm>,
    homework: ServerAction<SaveHomework>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let title = format!("{} – {}", page.step.title, page.program);
    if let Some(due) = page.blocked_by {
        let href = due.href(page.enrolment_id);
        return view! {
            <Title text=page_title(move || title.clone()) />
            <h1>{page.module_title}</h1>
            <section class="notice due-first" aria-labelledby="due-first-heading">
                <h2 id="due-first-heading">{t!(i18n, care.due_first)}</h2>
                <p>{t!(i18n, care.due_blocking_lead)}</p>
                <p><a href=href class="button primary">{due.title}</a></p>
            </section>
        }
        .into_any();
    }
    let urgent = page.forms.iter().any(|f| f.urgent);
    let crisis = page.crisis_info.clone();
    let slot = {
        let forms = Arc::new(page.forms.clone());
        let tasks = Arc::new(page.homework.clone());
        let (enrolment, ongoing) = (page.enrolment_id, page.ongoing);
        FormSlot(Arc::new(
            move |block: &Block, def: Option<&QuestionnaireDef>| match &block.body {
                BlockBody::Questionnaire { .. } => {
                    let form = forms.iter().find(|f| f.block_key == block.key)?;
                    let def = def?.clone();
                    Some(view! { <QuestionnaireForm form=form.clone() def enrolment ongoing action /> }.into_any())
                }
                BlockBody::Exercise {
                    instructions,
                    fields,
                }
                | BlockBody::Worksheet {
                    instructions,
                    fields,
                } => {
                    let state = tasks.iter().find(|t| t.block_key == block.key)?.clone();
                    Some(view! {
                            <HomeworkForm state instructions=instructions.clone() fields=fields.clone() enrolment ongoing action=homework />
                        }.into_any())
                }
                _ => None,
            },
        ))
    };
    let position = format!(
        "{} {} / {}",
        t_string!(i18n, care.page),
        page.number,
        page.count
    );
    let enrolment_id = page.enrolment_id;
    view! {
        <Title text=page_title(move || title.clone()) />
        <h1>{page.module_title}</h1>
        <p class="muted">{page.program.clone()} " · " {position}</p>
        {urgent.then(|| view! { <CrisisInfo unit=crisis /> })}
        <PageView step=page.step questionnaires=page.questionnaires locale media_base=page.media_base form_slot=slot />
        <nav class="page-nav" aria-label=t_string!(i18n, care.page_nav)>
            {page.previous.map(|p| {
                let href = p.href(enrolment_id);
                view! { <a rel="prev" href=href>"← " {p.title}</a> }
            })}
            {page.next.map(|p| {
                let href = p.href(enrolment_id);
                view! { <a rel="next" href=href>{p.title} " →"</a> }
            })}
        </nav>
    }
    .into_any()
}

/// What to do at once when an answer says the patient may be in danger: the unit's own crisis
/// contacts, 112 and 1177.
#[component]
fn CrisisInfo(unit: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="crisis" role="alert" aria-labelledby="crisis-heading">
            <h2 id="crisis-heading">{t!(i18n, care.crisis_heading)}</h2>
            <p>{t!(i18n, care.crisis_lead)}</p>
            {unit.map(|text| view! { <div class="crisis-unit"><Markdown source=text /></div> })}
            <ul>
                <li>{t!(i18n, care.crisis_112)}</li>
                <li>{t!(i18n, care.crisis_1177)}</li>
            </ul>
        </section>
    }
}

/// A questionnaire on a patient's page: a form that saves a draft or submits, or, once
/// submitted, what was sent with the server's total.
#[component]
fn QuestionnaireForm(
    form: FormState,
    def: QuestionnaireDef,
    enrolment: i64,
    ongoing: bool,
    action: ServerAction<AnswerForm>,
    /// The form is the page's own content (a scheduled form): its heading is an `h2`, under
    /// the page's `h1`, not an `h3` under a page's section.
    #[prop(optional)]
    own_page: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let heading_of = move |id: String, title: String| {
        if own_page {
            view! { <h2 id=id>{title}</h2> }.into_any()
        } else {
            view! { <h3 id=id>{title}</h3> }.into_any()
        }
    };
    let Some(instrument) = def.worded() else {
        return view! { <p class="block notice">{t!(i18n, program.missing_questionnaire)}</p> }
            .into_any();
    };
    let heading = format!("form-{}", form.block_key);
    let labelled_by = heading.clone();
    let title = def.title.clone();
    if form.submitted {
        let total = form.total.map(|total| {
            let band = form
                .band
                .as_deref()
                .map(|b| format!(" ({})", band_name(b, locale)));
            format!(
                "{}: {total}{}",
                t_string!(i18n, program.total),
                band.unwrap_or_default()
            )
        });
        return view! {
            <section class="block questionnaire sent" aria-labelledby=labelled_by>
                {heading_of(heading, title)}
                <p class="confirmation">{t!(i18n, care.form_sent)} " " {form.saved_at} " " {t!(i18n, care.utc)}</p>
                {total.map(|t| view! { <p class="score">{t}</p> })}
            </section>
        }
        .into_any();
    }
    let items = instrument
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let code = item.code.clone();
            let text = item
                .text
                .clone()
                .unwrap_or_else(|| format!("{} {}", t_string!(i18n, program.item), index + 1));
            let value = form.values.get(&code).cloned().unwrap_or_default();
            let field = format!("answers[{code}]");
            let id = format!("{}-{code}", form.block_key);
            let control = match item.kind.clone() {
                ItemKind::Choice { values } => values
                    .into_iter()
                    .map(|v| {
                        let input_id = format!("{id}-{v}");
                        let checked = value == v.to_string();
                        view! {
                            <span class="choice">
                                <input type="radio" id=input_id.clone() name=field.clone() value=v checked=checked disabled=!ongoing />
                                <label for=input_id>{v}</label>
                            </span>
                        }
                    })
                    .collect_view()
                    .into_any(),
                ItemKind::MultipleChoice { values } => values
                    .into_iter()
                    .map(|v| {
                        let input_id = format!("{id}-{v}");
                        let checked = form.values.contains_key(&format!("{code}.{v}"));
                        view! {
                            <span class="choice">
                                <input type="checkbox" id=input_id.clone() name=format!("answers[{code}.{v}]") value="on" checked=checked disabled=!ongoing />
                                <label for=input_id>{v}</label>
                            </span>
                        }
                    })
                    .collect_view()
                    .into_any(),
                ItemKind::Number { min, max } => view! {
                    <input type="number" id=id.clone() name=field min=min max=max value=value disabled=!ongoing />
                }
                .into_any(),
                ItemKind::FreeText { max_chars } => view! {
                    <textarea id=id.clone() name=field maxlength=max_chars rows="3" disabled=!ongoing>{value}</textarea>
                }
                .into_any(),
                ItemKind::Date | ItemKind::Time => {
                    let kind = if matches!(item.kind, ItemKind::Date) { "date" } else { "time" };
                    view! { <input type=kind id=id.clone() name=field value=value disabled=!ongoing /> }.into_any()
                }
            };
            // A single control is labelled by the item's text; a group of choices by its legend.
            let single = matches!(
                item.kind,
                ItemKind::Number { .. } | ItemKind::FreeText { .. } | ItemKind::Date | ItemKind::Time
            );
            view! {
                <fieldset class="item">
                    <legend>{
                        if single {
                            view! { <label for=id>{text}</label> }.into_any()
                        } else {
                            view! { <span>{text}</span> }.into_any()
                        }
                    }</legend>
                    {control}
                </fieldset>
            }
        })
        .collect_view();
    let saved = form.saved_at.map(|at| {
        view! { <p class="saved muted">{t!(i18n, care.draft_saved)} " " {at} " " {t!(i18n, care.utc)}</p> }
    });
    let form = view! {
            <ActionForm action>
                <input type="hidden" name="enrolment" value=enrolment />
                <input type="hidden" name="place" value=form.place />
                <input type="hidden" name="submit_key" value=form.submit_key />
                {items}
                {saved}
                {ongoing.then(|| view! {
                    <div class="actions">
                        // The first button is what Enter in a field presses: it keeps a draft and
                        // never sends for good.
                        <button type="submit" name="intent" value="save">{t!(i18n, care.save_draft)}</button>
                        <button type="submit" name="intent" value="submit" class="primary">{t!(i18n, care.submit)}</button>
                    </div>
                    <p class="muted">{t!(i18n, care.submit_note)}</p>
                })}
            </ActionForm>
    };
    // With JavaScript, the draft is also saved as it is written.
    let form = if ongoing {
        view! { <Autosave>{form}</Autosave> }.into_any()
    } else {
        form.into_any()
    };
    view! {
        <section class="block questionnaire" aria-labelledby=labelled_by>
            {heading_of(heading, title)}
            {form}
        </section>
    }
    .into_any()
}

/// A worksheet (saved as a draft, then submitted and locked) or an exercise (an entry added each
/// time, the earlier ones listed) on a patient's page.
#[component]
fn HomeworkForm(
    state: HomeworkState,
    instructions: String,
    fields: Vec<Field>,
    enrolment: i64,
    ongoing: bool,
    action: ServerAction<SaveHomework>,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("homework-{}", state.block_key);
    let labelled_by = heading.clone();
    let worksheet = state.kind == HomeworkKind::Worksheet;
    let title = match state.kind {
        HomeworkKind::Worksheet => t_string!(i18n, care.worksheet),
        HomeworkKind::Exercise => t_string!(i18n, care.exercise),
    };
    let labels: Vec<(String, String)> = fields
        .iter()
        .map(|f| (f.key.clone(), f.label.clone()))
        .collect();
    if worksheet && state.submitted {
        let answers = fields
            .iter()
            .filter_map(|f| {
                state
                    .values
                    .get(&f.key)
                    .map(|v| (f.label.clone(), v.clone()))
            })
            .map(|(label, value)| view! { <dt>{label}</dt><dd class="message-body">{value}</dd> })
            .collect_view();
        return view! {
            <section class="block homework sent" aria-labelledby=labelled_by>
                <h3 id=heading>{title}</h3>
                <Markdown source=instructions />
                <p class="confirmation">{t!(i18n, care.homework_sent)} " " {state.saved_at} " " {t!(i18n, care.utc)}</p>
                <dl>{answers}</dl>
            </section>
        }
        .into_any();
    }
    let prefix = state.block_key.clone();
    let inputs = fields
        .into_iter()
        .map(|field| {
            let value = if worksheet {
                state.values.get(&field.key).cloned().unwrap_or_default()
            } else {
                String::new()
            };
            let id = format!("{prefix}-{}", field.key);
            view! { <HomeworkField field id value disabled=!ongoing /> }
        })
        .collect_view();
    let saved = (worksheet)
        .then_some(state.saved_at)
        .flatten()
        .map(|at| view! { <p class="saved muted">{t!(i18n, care.draft_saved)} " " {at} " " {t!(i18n, care.utc)}</p> });
    let entries = (!state.entries.is_empty()).then(|| {
        let caption = t_string!(i18n, care.entries);
        let head = labels.iter().map(|(_, label)| view! { <th scope="col">{label.clone()}</th> }).collect_view();
        let rows = state
            .entries
            .iter()
            .map(|entry| {
                let cells = labels
                    .iter()
                    .map(|(key, _)| view! { <td>{entry.values.get(key).cloned().unwrap_or_default()}</td> })
                    .collect_view();
                view! { <tr><th scope="row">{entry.at.clone()}</th>{cells}</tr> }
            })
            .collect_view();
        view! {
            <div class="table-scroll">
                <div class="table-scroll" tabindex="0"><table class="entries">
                    <caption>{caption}</caption>
                    <thead><tr><th scope="col">{t!(i18n, care.entry_saved)}</th>{head}</tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            </div>
        }
    });
    let autosave = ongoing && worksheet;
    let form = view! {
            <ActionForm action>
                <input type="hidden" name="enrolment" value=enrolment />
                <input type="hidden" name="place" value=state.place />
                <input type="hidden" name="submit_key" value=state.submit_key />
                {inputs}
                {saved}
                {ongoing.then(|| if worksheet {
                    view! {
                        <div class="actions">
                            // A draft may leave required fields empty: the browser does not check it.
                            <button type="submit" name="intent" value="save" formnovalidate=true>{t!(i18n, care.save_draft)}</button>
                            <button type="submit" name="intent" value="submit" class="primary">{t!(i18n, care.submit_homework)}</button>
                        </div>
                        <p class="muted">{t!(i18n, care.homework_note)}</p>
                    }.into_any()
                } else {
                    view! {
                        <div class="actions">
                            <button type="submit" name="intent" value="submit" class="primary">{t!(i18n, care.add_entry)}</button>
                        </div>
                    }.into_any()
                })}
            </ActionForm>
    };
    // With JavaScript, a worksheet's draft is also saved as it is written.
    let form = if autosave {
        view! { <Autosave>{form}</Autosave> }.into_any()
    } else {
        form.into_any()
    };
    view! {
        <section class="block homework" aria-labelledby=labelled_by>
            <h3 id=heading>{title}</h3>
            <Markdown source=instructions />
            {form}
            {entries}
        </section>
    }
    .into_any()
}

/// One field of a worksheet or exercise, posted as `fields[<key>]`.
#[component]
fn HomeworkField(field: Field, id: String, value: String, disabled: bool) -> impl IntoView {
    let name = format!("fields[{}]", field.key);
    let label = view! { <label for=id.clone()>{field.label}</label> };
    let input = match field.kind {
        FieldKind::Text { max_chars } => view! {
            <textarea id=id name=name maxlength=max_chars rows="3" required=field.required disabled=disabled>{value}</textarea>
        }
        .into_any(),
        FieldKind::Number { min, max } => view! {
            <input id=id name=name type="number" min=min max=max value=value required=field.required disabled=disabled />
        }
        .into_any(),
        FieldKind::Date => view! {
            <input id=id name=name type="date" value=value required=field.required disabled=disabled />
        }
        .into_any(),
        FieldKind::Time => view! {
            <input id=id name=name type="time" value=value required=field.required disabled=disabled />
        }
        .into_any(),
        FieldKind::Choice { options } => view! {
            <select id=id name=name required=field.required disabled=disabled>
                <option value="">"—"</option>
                {options.into_iter().map(|o| {
                    let selected = o == value;
                    view! { <option selected=selected>{o}</option> }
                }).collect_view()}
            </select>
        }
        .into_any(),
    };
    view! { <div class="field">{label}{input}</div> }
}

/// `/testa/behandlare`: the producer's or publisher's test from the therapist's side.
#[component]
pub fn TestTherapistPage() -> impl IntoView {
    let i18n = use_i18n();
    let seen = Resource::new(|| (), |_| super::test_as_therapist());
    view! {
        <Title text=page_title(move || t_string!(i18n, trial.therapist_title).to_string()) />
        <h1>{t!(i18n, trial.therapist_title)}</h1>
        <p>{t!(i18n, trial.therapist_lead)}</p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match seen.await {
                    Ok(seen) => view! { <TestTherapist seen /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TestTherapist(seen: super::TestTherapistView) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let give = ServerAction::<super::GiveFeedback>::new();
    let set = ServerAction::<super::SetModule>::new();
    let request = ServerAction::<super::RequestForm>::new();
    let withdraw = ServerAction::<super::WithdrawForm>::new();
    let super::TestTherapistView {
        patient_id,
        enrolment_id,
        program,
        modules,
        feedback_key,
        results,
        flags,
        extra,
    } = seen;
    let no_flags = flags.is_empty();
    let flags = flags
        .iter()
        .map(|flag| view! { <li>{crate::clinic::summary::flag_text(flag, locale)}</li> })
        .collect_view();
    view! {
        <FormNotice action=give />
        <FormNotice action=set />
        <FormNotice action=request />
        <FormNotice action=withdraw />
        <p><a href=super::treatment_href(enrolment_id)>{t!(i18n, trial.back_to_patient)}</a></p>
        <section class="card" aria-labelledby="test-therapist-program">
            <h2 id="test-therapist-program">{program}</h2>
            <h3>{t!(i18n, summary.flags)}</h3>
            {no_flags.then(|| view! { <p>{t!(i18n, summary.no_flags)}</p> })}
            <ul class="summary-flags">{flags}</ul>
            <StaffModules patient_id enrolment_id modules feedback_key give set />
            <ExtraFormsSection patient_id enrolment_id extra request withdraw />
            {results.into_iter().map(|series| view! { <ScaleResults series /> }).collect_view()}
        </section>
    }
}

/// A treatment's extra forms on the patient's record: those asked for, newest first, with a
/// button to withdraw one still open, and for a therapist on the care team the form to ask for
/// another. Nothing is shown when there is nothing for the caller.
#[component]
pub fn ExtraFormsSection(
    patient_id: i64,
    enrolment_id: i64,
    extra: super::ExtraForms,
    request: ServerAction<super::RequestForm>,
    withdraw: ServerAction<super::WithdrawForm>,
) -> impl IntoView {
    use super::ExtraFormState;
    let i18n = use_i18n();
    if extra.forms.is_empty() && extra.choices.is_empty() {
        return ().into_any();
    }
    let may_ask = !extra.choices.is_empty();
    let heading = format!("extra-{enrolment_id}");
    let labelled_by = heading.clone();
    let hidden = move || {
        view! {
            <input type="hidden" name="patient_id" value=patient_id />
            <input type="hidden" name="enrolment" value=enrolment_id />
        }
    };
    let items = extra
        .forms
        .into_iter()
        .map(|form| {
            let state = match form.state {
                ExtraFormState::Open => format!(
                    "{} {}",
                    t_string!(i18n, care.extra_open_until),
                    form.last_day
                ),
                ExtraFormState::Answered => t_string!(i18n, care.extra_answered).to_owned(),
                ExtraFormState::Closed => t_string!(i18n, care.extra_closed).to_owned(),
            };
            let control = (may_ask && form.state == ExtraFormState::Open).then(|| {
                let label = format!("{}: {}", t_string!(i18n, care.extra_withdraw), form.title);
                view! {
                    <ActionForm action=withdraw attr:class="inline-form">
                        {hidden()}
                        <input type="hidden" name="schedule" value=form.schedule.clone() />
                        <button type="submit" aria-label=label>{t!(i18n, care.extra_withdraw)}</button>
                    </ActionForm>
                }
            });
            view! {
                <li class="extra-form">
                    <strong>{form.title}</strong> " · " {t!(i18n, care.extra_asked)} " " {form.asked_on}
                    " · " <span class="extra-state">{state}</span> " " {control}
                </li>
            }
        })
        .collect_view();
    let ask = may_ask.then(|| {
        let questionnaire = format!("extra-q-{enrolment_id}");
        let days = format!("extra-days-{enrolment_id}");
        let options = extra
            .choices
            .into_iter()
            .map(|c| view! { <option value=c.key>{c.title}</option> })
            .collect_view();
        view! {
            <ActionForm action=request attr:class="extra-form-request">
                {hidden()}
                <label for=questionnaire.clone()>{t!(i18n, care.extra_questionnaire)}</label>
                <select id=questionnaire name="questionnaire" required=true>{options}</select>
                <label for=days.clone()>{t!(i18n, care.extra_days)}</label>
                <input id=days type="number" name="days" inputmode="numeric"
                    min=*super::EXTRA_DAYS.start() max=*super::EXTRA_DAYS.end()
                    value=super::EXTRA_DAYS_DEFAULT required=true />
                <button type="submit">{t!(i18n, care.extra_request)}</button>
            </ActionForm>
        }
    });
    view! {
        <section class="extra-forms" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, care.extra_heading)}</h4>
            <p class="muted">{t!(i18n, care.extra_lead)}</p>
            <ul>{items}</ul>
            {ask}
        </section>
    }
    .into_any()
}

/// A treatment's modules on the patient's record at the unit: how far the patient has come, the
/// homework they submitted, and the feedback given or a form to give it.
#[component]
pub fn StaffModules(
    patient_id: i64,
    enrolment_id: i64,
    modules: Vec<StaffModule>,
    /// A key for the feedback forms, for a therapist while feedback may be given.
    feedback_key: Option<String>,
    give: ServerAction<super::GiveFeedback>,
    set: ServerAction<super::SetModule>,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("modules-{enrolment_id}");
    let labelled_by = heading.clone();
    let items = modules
        .into_iter()
        .map(|module| {
            let status = match module.status {
                ModuleStatus::Locked => t_string!(i18n, care.staff_locked),
                ModuleStatus::Open => t_string!(i18n, care.status_open),
                ModuleStatus::Finished => t_string!(i18n, care.status_finished),
                ModuleStatus::Hidden => t_string!(i18n, care.staff_hidden),
            };
            // Open now (when locked), hide (when shown), back to the program's rule (when hidden
            // or opened early: "reset" is also how an early opening is taken back).
            let controls = module.may_set.then(|| {
                let actions: Vec<(&'static str, &'static str)> = match module.status {
                    ModuleStatus::Hidden => vec![("reset", t_string!(i18n, care.module_show))],
                    ModuleStatus::Locked => vec![
                        ("unlock", t_string!(i18n, care.module_unlock)),
                        ("hide", t_string!(i18n, care.module_hide)),
                    ],
                    _ => vec![("hide", t_string!(i18n, care.module_hide))],
                };
                actions
                    .into_iter()
                    .map(|(action, label)| {
                        let key = module.key.clone();
                        let name = format!("{label}: {}", module.title);
                        view! {
                            <ActionForm action=set attr:class="inline-form">
                                <input type="hidden" name="patient_id" value=patient_id />
                                <input type="hidden" name="enrolment" value=enrolment_id />
                                <input type="hidden" name="module" value=key />
                                <input type="hidden" name="action" value=action />
                                <button type="submit" aria-label=name>{label}</button>
                            </ActionForm>
                        }
                    })
                    .collect_view()
            });
            let homework = module
                .homework
                .into_iter()
                .map(|answer| {
                    let kind = match answer.kind {
                        HomeworkKind::Worksheet => t_string!(i18n, care.worksheet),
                        HomeworkKind::Exercise => t_string!(i18n, care.exercise),
                    };
                    let fields = answer
                        .fields
                        .into_iter()
                        .map(|(label, value)| view! { <dt>{label}</dt><dd class="message-body">{value}</dd> })
                        .collect_view();
                    view! {
                        <div class="homework-answer">
                            <p><strong>{kind} ": " {answer.page}</strong> " · " {answer.at} " " {t!(i18n, care.utc)}</p>
                            <dl>{fields}</dl>
                        </div>
                    }
                })
                .collect_view();
            let form = feedback_key
                .clone()
                .filter(|_| module.may_give_feedback)
                .map(|key| {
                    let field = format!("feedback-{enrolment_id}-{}", module.key);
                    view! {
                        <ActionForm action=give attr:class="feedback-form">
                            <input type="hidden" name="patient_id" value=patient_id />
                            <input type="hidden" name="enrolment" value=enrolment_id />
                            <input type="hidden" name="module" value=module.key.clone() />
                            <input type="hidden" name="submit_key" value=key />
                            <label for=field.clone()>{t!(i18n, care.give_feedback)}</label>
                            <textarea id=field.clone() name="body" rows="4" maxlength=crate::messages::text::MAX_CHARS required=true></textarea>
                            <button type="submit" class="primary">{t!(i18n, care.send_feedback)}</button>
                        </ActionForm>
                    }
                });
            view! {
                <li class="staff-module">
                    <h5>{module.title.clone()} " – " <span class="module-status">{status}</span></h5>
                    {controls}
                    {homework}
                    {module.feedback.map(|feedback| view! { <Feedback feedback staff=true /> })}
                    {form}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="modules" aria-labelledby=labelled_by>
            <h4 id=heading>{t!(i18n, care.modules_heading)}</h4>
            <ol class="staff-modules">{items}</ol>
        </section>
    }
}

/// `/mina-sidor/behandling/:enrolment/resultat`: the patient's results over time.
#[component]
pub fn ResultsPage() -> impl IntoView {
    let i18n = use_i18n();
    let enrolment = enrolment_param();
    let results = Resource::new(enrolment, |id| async move {
        match id {
            Some(id) => my_results(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=page_title(move || t_string!(i18n, results.title).to_string()) />
        <p>
            {move || enrolment().map(|id| view! {
                <a href=super::treatment_href(id)>{t!(i18n, care.back_treatment)}</a>
            })}
        </p>
        <h1>{t!(i18n, results.title)}</h1>
        <p>{t!(i18n, results.lead)}</p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(list) if list.is_empty() => view! { <p>{t!(i18n, results.none)}</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|series| view! { <ScaleResults series /> }).collect_view().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
