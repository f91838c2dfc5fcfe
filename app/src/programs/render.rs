//! The one renderer of program content: a page and its blocks as the patient sees them. The
//! design tool's preview and the patient's pages both use these components, so the two cannot
//! differ. They take the language as a value (they also run inside islands, where the page's
//! translation context does not reach).

use super::content::{Block, BlockBody, Field, FieldKind, Media, QuestionnaireDef, Step, Tone};
use super::markdown::Markdown;
use crate::i18n::*;
use crate::instruments::{Answer, AnswerError, Instrument, ItemKind, score};
use leptos::prelude::*;
use std::sync::Arc;

fn media_src(media: &Media, base: &str) -> String {
    match media {
        Media::File { path, .. } => format!("{base}{path}"),
        Media::External { url } => url.clone(),
    }
}

/// How the blocks a patient fills in are shown where the patient answers them. The patient's
/// pages give one (a questionnaire becomes a form that posts to the server); without one, as in
/// the design tool's preview, blocks are shown as they are, a questionnaire with its live
/// result.
#[derive(Clone)]
pub struct FormSlot(pub Arc<FormRenderer>);

/// Renders a block (with its questionnaire, for a questionnaire block) its own way, or leaves it
/// to the renderer (`None`).
pub type FormRenderer = dyn Fn(&Block, Option<&QuestionnaireDef>) -> Option<AnyView> + Send + Sync;

/// One page: its title and its blocks, in order.
#[component]
pub fn PageView(
    step: Step,
    /// The program's questionnaires, for the questionnaire blocks.
    questionnaires: Vec<QuestionnaireDef>,
    locale: Locale,
    /// Where the program's uploaded files are served (`media::url_base`).
    #[prop(into)]
    media_base: String,
    /// Distinguishes form controls when several pages are on one screen.
    #[prop(optional, into)]
    id_prefix: String,
    /// Questionnaires as the patient answers them.
    #[prop(optional)]
    form_slot: Option<FormSlot>,
) -> impl IntoView {
    let blocks = step
        .blocks
        .into_iter()
        .map(|block| {
            let id = format!("{id_prefix}{}-{}", step.key, block.key);
            let form_slot = form_slot.clone();
            view! { <BlockView block questionnaires=questionnaires.clone() locale media_base=media_base.clone() id form_slot /> }
        })
        .collect_view();
    view! {
        <article class="program-page">
            <h2>{step.title}</h2>
            {blocks}
        </article>
    }
}

#[component]
pub fn BlockView(
    block: Block,
    questionnaires: Vec<QuestionnaireDef>,
    locale: Locale,
    #[prop(into)] media_base: String,
    /// Unique on the screen: form controls are named after it.
    id: String,
    #[prop(default = None)] form_slot: Option<FormSlot>,
) -> impl IntoView {
    if let Some(FormSlot(slot)) = &form_slot {
        let def = match &block.body {
            BlockBody::Questionnaire { questionnaire } => {
                questionnaires.iter().find(|q| &q.key == questionnaire)
            }
            _ => None,
        };
        if let Some(shown) = slot(&block, def) {
            return shown;
        }
    }
    match block.body {
        BlockBody::Text { markdown } => view! {
            <div class="block text"><Markdown source=markdown /></div>
        }
        .into_any(),
        BlockBody::InfoBox { tone, markdown } => {
            let class = match tone {
                Tone::Info => "block info-box info",
                Tone::Tip => "block info-box tip",
                Tone::Warning => "block info-box warning",
            };
            view! { <aside class=class><Markdown source=markdown /></aside> }.into_any()
        }
        BlockBody::Link { url, label } => {
            // Links are checked when saved; a link that is not safe is shown, never followed.
            if super::validate::safe_link(&url) {
                view! {
                    <p class="block link"><a href=url rel="noopener noreferrer">{label}</a></p>
                }
                .into_any()
            } else {
                view! { <p class="block link">{label}</p> }.into_any()
            }
        }
        BlockBody::Image {
            media,
            alt,
            caption,
        } => view! {
            <figure class="block image">
                <img src=media_src(&media, &media_base) alt=alt loading="lazy" />
                {caption.map(|c| view! { <figcaption>{c}</figcaption> })}
            </figure>
        }
        .into_any(),
        BlockBody::Audio { media, transcript } => view! {
            <figure class="block audio">
                <audio controls=true preload="none" src=media_src(&media, &media_base)></audio>
                <Transcript text=transcript locale />
            </figure>
        }
        .into_any(),
        BlockBody::Video { media, transcript } => view! {
            <figure class="block video">
                <video controls=true preload="none" src=media_src(&media, &media_base)></video>
                <Transcript text=transcript locale />
            </figure>
        }
        .into_any(),
        BlockBody::Exercise {
            instructions,
            fields,
        }
        | BlockBody::Worksheet {
            instructions,
            fields,
        } => view! {
            <fieldset class="block exercise">
                <legend><Markdown source=instructions /></legend>
                {fields
                    .into_iter()
                    .map(|field| {
                        let id = format!("{id}-{}", field.key);
                        view! { <FieldInput field id /> }
                    })
                    .collect_view()}
            </fieldset>
        }
        .into_any(),
        BlockBody::Questionnaire { questionnaire } => {
            match questionnaires.into_iter().find(|q| q.key == questionnaire) {
                Some(def) => view! { <QuestionnaireView def locale id /> }.into_any(),
                None => view! {
                    <p class="block notice">{td_string!(locale, program.missing_questionnaire)}</p>
                }
                .into_any(),
            }
        }
    }
}

#[component]
fn Transcript(text: Option<String>, locale: Locale) -> impl IntoView {
    text.map(|text| {
        view! {
            <details class="transcript">
                <summary>{td_string!(locale, program.transcript)}</summary>
                <Markdown source=text />
            </details>
        }
    })
}

#[component]
fn FieldInput(field: Field, id: String) -> impl IntoView {
    let label = view! { <label for=id.clone()>{field.label}</label> };
    let input = match field.kind {
        FieldKind::Text { max_chars } => view! {
            <textarea id=id name=field.key maxlength=max_chars required=field.required rows="3"></textarea>
        }
        .into_any(),
        FieldKind::Number { min, max } => view! {
            <input id=id name=field.key type="number" min=min max=max required=field.required />
        }
        .into_any(),
        FieldKind::Date => view! {
            <input id=id name=field.key type="date" required=field.required />
        }
        .into_any(),
        FieldKind::Time => view! {
            <input id=id name=field.key type="time" required=field.required />
        }
        .into_any(),
        FieldKind::Choice { options } => view! {
            <select id=id name=field.key required=field.required>
                <option value="">"—"</option>
                {options.into_iter().map(|o| view! { <option>{o}</option> }).collect_view()}
            </select>
        }
        .into_any(),
    };
    view! { <div class="field">{label}{input}</div> }
}

/// A questionnaire, answerable, with the total, band and alerts shown as the answers come in
/// (computed by the same scoring code as the server's).
#[component]
pub fn QuestionnaireView(def: QuestionnaireDef, locale: Locale, id: String) -> impl IntoView {
    let Some(instrument) = def.worded() else {
        return view! {
            <p class="block notice">{td_string!(locale, program.missing_questionnaire)}</p>
        }
        .into_any();
    };
    let answers = RwSignal::new(vec![None::<Answer>; instrument.items.len()]);
    let items = instrument
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let name = format!("{id}-{}", item.code);
            let text = item
                .text
                .clone()
                .unwrap_or_else(|| format!("{} {}", td_string!(locale, program.item), index + 1));
            let set = move |answer: Option<Answer>| answers.update(|a| a[index] = answer);
            let control = match item.kind.clone() {
                ItemKind::Choice { values } => values
                    .into_iter()
                    .map(|value| {
                        let input_id = format!("{name}-{value}");
                        view! {
                            <span class="choice">
                                <input type="radio" id=input_id.clone() name=name.clone() value=value
                                    on:change=move |_| set(Some(Answer::Value(value))) />
                                <label for=input_id>{value}</label>
                            </span>
                        }
                    })
                    .collect_view()
                    .into_any(),
                ItemKind::MultipleChoice { values } => values
                    .into_iter()
                    .map(|value| {
                        let input_id = format!("{name}-{value}");
                        let toggle = move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            answers.update(|a| {
                                let mut chosen = match a[index].take() {
                                    Some(Answer::Values(v)) => v,
                                    _ => Vec::new(),
                                };
                                chosen.retain(|v| *v != value);
                                if on {
                                    chosen.push(value);
                                }
                                a[index] = Some(Answer::Values(chosen));
                            });
                        };
                        view! {
                            <span class="choice">
                                <input type="checkbox" id=input_id.clone() name=name.clone() value=value on:change=toggle />
                                <label for=input_id>{value}</label>
                            </span>
                        }
                    })
                    .collect_view()
                    .into_any(),
                ItemKind::Number { min, max } => view! {
                    <input type="number" name=name.clone() min=min max=max aria-label=text.clone()
                        on:input=move |ev| set(event_target_value(&ev).trim().parse().ok().map(Answer::Value)) />
                }
                .into_any(),
                ItemKind::FreeText { max_chars } => view! {
                    <textarea name=name.clone() maxlength=max_chars rows="3" aria-label=text.clone()
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            set((!v.is_empty()).then_some(Answer::Text(v)))
                        }></textarea>
                }
                .into_any(),
                ItemKind::Date | ItemKind::Time => {
                    let kind = if matches!(item.kind, ItemKind::Date) { "date" } else { "time" };
                    view! {
                        <input type=kind name=name.clone() aria-label=text.clone()
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                set((!v.is_empty()).then_some(Answer::Text(v)))
                            } />
                    }
                    .into_any()
                }
            };
            view! {
                <fieldset class="item">
                    <legend>{text}</legend>
                    {control}
                </fieldset>
            }
        })
        .collect_view();
    let result = move || answers.with(|a| live_result(&instrument, a, locale));
    let title = def.title;
    let label = title.clone();
    view! {
        <section class="block questionnaire" aria-label=label>
            <h3>{title}</h3>
            {items}
            <p class="score" role="status" aria-live="polite">{result}</p>
        </section>
    }
    .into_any()
}

/// The words for the library's severity bands; a program's own bands show their code.
pub fn band_name(code: &str, locale: Locale) -> String {
    let name = match code {
        "none" => td_string!(locale, program.band.none),
        "minimal" => td_string!(locale, program.band.minimal),
        "subthreshold" => td_string!(locale, program.band.subthreshold),
        "mild" => td_string!(locale, program.band.mild),
        "moderate" => td_string!(locale, program.band.moderate),
        "moderately_severe" => td_string!(locale, program.band.moderately_severe),
        "severe" => td_string!(locale, program.band.severe),
        "zone_i" => td_string!(locale, program.band.zone_i),
        "zone_ii" => td_string!(locale, program.band.zone_ii),
        "zone_iii" => td_string!(locale, program.band.zone_iii),
        "zone_iv" => td_string!(locale, program.band.zone_iv),
        other => other,
    };
    name.to_owned()
}

/// The live line under a questionnaire: how many are answered, or the total with its band
/// and alerts.
fn live_result(instrument: &Instrument, answers: &[Option<Answer>], locale: Locale) -> String {
    let answered = answers.iter().filter(|a| a.is_some()).count();
    match score(instrument, answers, None) {
        Ok(scored) => {
            let mut line = format!("{}: {}", td_string!(locale, program.total), scored.total);
            if let Some(band) = scored.band {
                line.push_str(&format!(" ({})", band_name(&band, locale)));
            }
            if !scored.alerts.is_empty() {
                let codes: Vec<&str> = scored.alerts.iter().map(|a| a.code.as_str()).collect();
                line.push_str(&format!(
                    ". {}: {}",
                    td_string!(locale, program.alerts),
                    codes.join(", ")
                ));
            }
            line
        }
        Err(AnswerError::Missing { .. }) => format!(
            "{} {answered} / {}",
            td_string!(locale, program.answered),
            answers.len()
        ),
        Err(_) => td_string!(locale, program.answer_invalid).to_owned(),
    }
}
