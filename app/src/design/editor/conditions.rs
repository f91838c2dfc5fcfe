//! Conditions in the editor: show a section or a block only when an earlier answer (an item
//! of a questionnaire, or its total) is at least, at most or exactly a value. The report
//! says when a condition reads an answer not given before it.

use super::{Doc, block_mut, value};
use crate::i18n::*;
use crate::programs::{Program, QuestionnaireDef, ShowIf, ShowOp};
use leptos::prelude::*;

/// What a condition belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Section(usize, usize),
    Block(usize, usize, usize, usize),
}

fn slot(p: &mut Program, target: Target) -> Option<&mut Option<ShowIf>> {
    match target {
        Target::Section(m, s) => Some(&mut p.modules.get_mut(m)?.sections.get_mut(s)?.show_if),
        Target::Block(m, s, g, b) => Some(&mut block_mut(p, (m, s, g, b))?.show_if),
    }
}

fn set(doc: Doc, target: Target, reshape: bool, change: impl FnOnce(&mut Option<ShowIf>)) {
    let apply = |p: &mut Program| {
        if let Some(slot) = slot(p, target) {
            change(slot);
        }
    };
    if reshape {
        doc.restructure(apply);
    } else {
        doc.edit(apply);
    }
}

/// The items a condition may read: the total, then each item by number and wording.
fn readable(def: &QuestionnaireDef, locale: Locale) -> Vec<(String, String)> {
    let mut out = vec![(
        "total".to_owned(),
        td_string!(locale, design.condition_total).to_owned(),
    )];
    if let Some(instrument) = def.worded() {
        out.extend(instrument.items.iter().enumerate().map(|(n, item)| {
            let text = item.text.clone().unwrap_or_default();
            (
                item.code.clone(),
                format!("{} {} {text}", td_string!(locale, design.item_n), n + 1)
                    .trim_end()
                    .to_owned(),
            )
        }));
    }
    out
}

pub(super) fn condition_editor(
    doc: Doc,
    target: Target,
    current: Option<ShowIf>,
    questionnaires: &[QuestionnaireDef],
    name: String,
) -> impl IntoView {
    let locale = doc.locale;
    let Some(rule) = current else {
        let first = questionnaires.first().map(|q| q.key.clone());
        let label = format!("{} ({name})", td_string!(locale, design.add_condition));
        return view! {
            <p class="condition">
                {td_string!(locale, design.condition_none)} " "
                <button type="button" aria-label=label disabled=first.is_none() on:click=move |_| {
                    let Some(key) = first.clone() else { return };
                    set(doc, target, true, |slot| {
                        *slot = Some(ShowIf { questionnaire: key, item: "total".to_owned(), op: ShowOp::AtLeast, value: 1 })
                    })
                }>{td_string!(locale, design.add_condition)}</button>
            </p>
        }
        .into_any();
    };
    let items = questionnaires
        .iter()
        .find(|q| q.key == rule.questionnaire)
        .map(|q| readable(q, locale))
        .unwrap_or_default();
    let label = |what: &str| format!("{what} ({name})");
    let ops = [
        (
            ShowOp::AtLeast,
            "at_least",
            td_string!(locale, design.op_at_least),
        ),
        (
            ShowOp::AtMost,
            "at_most",
            td_string!(locale, design.op_at_most),
        ),
        (
            ShowOp::Equals,
            "equals",
            td_string!(locale, design.op_equals),
        ),
    ];
    view! {
        <fieldset class="condition">
            <legend>{td_string!(locale, design.condition)}</legend>
            <select aria-label=label(td_string!(locale, design.kind_questionnaire)) on:change=move |ev| {
                let key = value(&ev);
                set(doc, target, true, |slot| if let Some(rule) = slot {
                    rule.questionnaire = key;
                    rule.item = "total".to_owned();
                })
            }>
                {questionnaires.iter().map(|q| view! {
                    <option value=q.key.clone() selected={q.key == rule.questionnaire}>{q.title.clone()}</option>
                }).collect_view()}
            </select>
            <select aria-label=label(td_string!(locale, design.condition_item)) on:change=move |ev| {
                let item = value(&ev);
                set(doc, target, false, |slot| if let Some(rule) = slot { rule.item = item })
            }>
                {items.into_iter().map(|(code, text)| {
                    let selected = code == rule.item;
                    view! { <option value=code selected=selected>{text}</option> }
                }).collect_view()}
            </select>
            <select aria-label=label(td_string!(locale, design.condition_op)) on:change=move |ev| {
                let op = match value(&ev).as_str() {
                    "at_most" => ShowOp::AtMost,
                    "equals" => ShowOp::Equals,
                    _ => ShowOp::AtLeast,
                };
                set(doc, target, false, |slot| if let Some(rule) = slot { rule.op = op })
            }>
                {ops.into_iter().map(|(op, code, text)| view! {
                    <option value=code selected={op == rule.op}>{text}</option>
                }).collect_view()}
            </select>
            <input type="number" class="bound" aria-label=label(td_string!(locale, design.alert_value)) value=rule.value
                on:input=move |ev| {
                    let parsed: Result<i32, _> = value(&ev).trim().parse();
                    if let Ok(v) = parsed {
                        set(doc, target, false, |slot| if let Some(rule) = slot { rule.value = v })
                    }
                } />
            <button type="button" aria-label=label(td_string!(locale, design.remove_condition))
                on:click=move |_| set(doc, target, true, |slot| *slot = None)>"✕"</button>
        </fieldset>
    }
    .into_any()
}
