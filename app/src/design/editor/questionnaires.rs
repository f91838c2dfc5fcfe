//! The program's questionnaires in the editor: library scales (added from the library, their
//! wording entered from the care provider's own copy) and the program's own forms (items of
//! every kind, scoring, severity bands and alert rules), scored live in the preview.

use super::{Doc, fresh_key, keys, remove_at, value};
use crate::i18n::*;
use crate::instruments::{AlertRule, Band, Instrument, Item, ItemKind, LIBRARY, Priority};
use crate::programs::{Program, QuestionnaireDef};
use leptos::prelude::*;

fn own(p: &mut Program, q: usize) -> Option<&mut Instrument> {
    p.questionnaires.get_mut(q)?.instrument.as_mut()
}

fn with_own(doc: Doc, q: usize, change: impl FnOnce(&mut Instrument)) {
    doc.edit(|p| {
        if let Some(instrument) = own(p, q) {
            change(instrument);
        }
    });
}

fn reshape_own(doc: Doc, q: usize, change: impl FnOnce(&mut Instrument)) {
    doc.restructure(|p| {
        if let Some(instrument) = own(p, q) {
            change(instrument);
        }
    });
}

/// Rules name items by position: after a removal they follow the items that stay.
fn remove_item(instrument: &mut Instrument, n: usize) {
    if n >= instrument.items.len() {
        return;
    }
    instrument.items.remove(n);
    let after = |i: &mut usize| {
        if *i > n {
            *i -= 1;
        }
    };
    instrument
        .alerts
        .retain(|a| !matches!(a, AlertRule::ItemAtLeast { item, .. } if *item == n));
    for alert in &mut instrument.alerts {
        if let AlertRule::ItemAtLeast { item, .. } = alert {
            after(item);
        }
    }
    instrument
        .skips
        .retain(|s| s.item != n && !s.skipped.contains(&n));
    for skip in &mut instrument.skips {
        after(&mut skip.item);
        skip.skipped.iter_mut().for_each(after);
    }
    for subscale in &mut instrument.subscales {
        subscale.items.retain(|i| *i != n);
        subscale.items.iter_mut().for_each(after);
    }
}

/// Two items trade places, and the rules follow them.
fn swap_items(instrument: &mut Instrument, a: usize, b: usize) {
    if a >= instrument.items.len() || b >= instrument.items.len() {
        return;
    }
    instrument.items.swap(a, b);
    let follow = |i: &mut usize| {
        if *i == a {
            *i = b;
        } else if *i == b {
            *i = a;
        }
    };
    for alert in &mut instrument.alerts {
        if let AlertRule::ItemAtLeast { item, .. } = alert {
            follow(item);
        }
    }
    for skip in &mut instrument.skips {
        follow(&mut skip.item);
        skip.skipped.iter_mut().for_each(follow);
    }
    for subscale in &mut instrument.subscales {
        subscale.items.iter_mut().for_each(follow);
    }
}

fn parse_values(text: &str) -> Vec<i32> {
    let mut values: Vec<i32> = text
        .split([',', ' ', ';'])
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    values.dedup();
    values
}

fn number(ev: &leptos::ev::Event) -> Option<i32> {
    value(ev).trim().parse().ok()
}

fn kind_code(kind: &ItemKind) -> &'static str {
    match kind {
        ItemKind::Choice { .. } => "choice",
        ItemKind::MultipleChoice { .. } => "multiple_choice",
        ItemKind::Number { .. } => "number",
        ItemKind::FreeText { .. } => "free_text",
        ItemKind::Date => "date",
        ItemKind::Time => "time",
    }
}

fn new_kind(code: &str) -> ItemKind {
    match code {
        "multiple_choice" => ItemKind::MultipleChoice {
            values: vec![1, 2, 3],
        },
        "number" => ItemKind::Number { min: 0, max: 10 },
        "free_text" => ItemKind::FreeText { max_chars: 1_000 },
        "date" => ItemKind::Date,
        "time" => ItemKind::Time,
        _ => ItemKind::Choice {
            values: vec![0, 1, 2, 3],
        },
    }
}

/// A new item, worded by the producer, coded `q<n>` (the first code free in the form).
fn new_item(instrument: &Instrument) -> Item {
    let code = (1..)
        .map(|n| format!("q{n}"))
        .find(|c| instrument.items.iter().all(|i| &i.code != c))
        .unwrap_or_default();
    Item {
        text: Some(String::new()),
        ..Item::scale(&code, [0, 1, 2, 3])
    }
}

pub(super) fn questionnaires(doc: Doc) -> impl IntoView {
    let locale = doc.locale;
    let list = doc.program.with_untracked(|p| p.questionnaires.clone());
    let chosen = RwSignal::new(LIBRARY.first().map(|i| i.code.clone()).unwrap_or_default());
    view! {
        <ul class="questionnaire-list">
            {list.into_iter().enumerate().map(|(q, def)| {
                let remove = format!("{} {}", td_string!(locale, design.remove), def.title);
                let body = match (&def.scale, &def.instrument) {
                    (Some(_), _) => scale_wording(doc, q, &def).into_any(),
                    (None, Some(instrument)) => own_form(doc, q, instrument.clone()).into_any(),
                    (None, None) => ().into_any(),
                };
                view! {
                    <li class="questionnaire-editor">
                        <div class="row">
                            <input aria-label=td_string!(locale, design.questionnaire_title) value=def.title
                                on:input=move |ev| { let v = value(&ev); doc.edit(|p| p.questionnaires[q].title = v) } />
                            <code>{def.scale.clone().unwrap_or_else(|| def.key.clone())}</code>
                            <button type="button" aria-label=remove on:click=move |_| doc.restructure(|p| remove_at(&mut p.questionnaires, q))>"✕"</button>
                        </div>
                        {body}
                    </li>
                }
            }).collect_view()}
        </ul>
        <div class="add-block">
            <label for="scale">{td_string!(locale, design.scale)}</label>
            <select id="scale" on:change=move |ev| chosen.set(value(&ev))>
                {LIBRARY.iter().map(|i| view! { <option value=i.code.clone()>{i.name.clone()}</option> }).collect_view()}
            </select>
            <button type="button" on:click=move |_| doc.restructure(|p| {
                let code = chosen.get_untracked();
                let Some(instrument) = crate::instruments::by_code(&code) else { return };
                let key = if keys(p).contains(&code.as_str()) { fresh_key(p, &format!("{code}-")) } else { code.clone() };
                p.questionnaires.push(QuestionnaireDef {
                    key,
                    title: instrument.name.clone(),
                    scale: Some(code),
                    instrument: None,
                    item_texts: Vec::new(),
                });
            })>{td_string!(locale, design.add_scale)}</button>
        </div>
        <button type="button" on:click=move |_| doc.restructure(|p| {
            let key = fresh_key(p, "formular");
            let mut instrument = Instrument {
                code: key.clone(),
                name: String::new(),
                items: Vec::new(),
                skips: Vec::new(),
                subscales: Vec::new(),
                bands: Vec::new(),
                alerts: Vec::new(),
                criteria: Vec::new(),
                meaningful_change: None,
            };
            instrument.items.push(new_item(&instrument));
            p.questionnaires.push(QuestionnaireDef {
                key,
                title: String::new(),
                scale: None,
                instrument: Some(instrument),
                item_texts: Vec::new(),
            });
        })>{td_string!(locale, design.new_own_questionnaire)}</button>
    }
}

/// A library scale's wording, one field an item.
fn scale_wording(doc: Doc, q: usize, def: &QuestionnaireDef) -> impl IntoView {
    let locale = doc.locale;
    let count = def.instrument().map(|i| i.items.len()).unwrap_or(0);
    let texts = def.item_texts.clone();
    view! {
        <details class="wording">
            <summary>{td_string!(locale, design.q_wording)}</summary>
            <p class="hint">{td_string!(locale, design.q_wording_lead)}</p>
            <ol>
                {(0..count).map(|n| {
                    let label = format!("{} {} {}", def.title, td_string!(locale, design.item_n), n + 1);
                    view! {
                        <li>
                            <input aria-label=label value=texts.get(n).cloned().unwrap_or_default()
                                on:input=move |ev| {
                                    let v = value(&ev);
                                    doc.edit(|p| {
                                        let texts = &mut p.questionnaires[q].item_texts;
                                        if texts.len() < count {
                                            texts.resize(count, String::new());
                                        }
                                        texts[n] = v;
                                        while texts.last().is_some_and(|t| t.trim().is_empty()) {
                                            texts.pop();
                                        }
                                    })
                                } />
                        </li>
                    }
                }).collect_view()}
            </ol>
        </details>
    }
}

/// A form of the program's own: items, bands and alerts.
fn own_form(doc: Doc, q: usize, instrument: Instrument) -> impl IntoView {
    let locale = doc.locale;
    let count = instrument.items.len();
    let items = instrument
        .items
        .iter()
        .enumerate()
        .map(|(n, item)| item_form(doc, q, n, count, item.clone()))
        .collect_view();
    let item_names: Vec<(usize, String)> = instrument
        .items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            (
                n,
                format!(
                    "{} {}: {}",
                    td_string!(locale, design.item_n),
                    n + 1,
                    item.text.clone().unwrap_or_default()
                ),
            )
        })
        .collect();
    let bands = instrument
        .bands
        .iter()
        .enumerate()
        .map(|(n, band)| band_form(doc, q, n, band.clone()))
        .collect_view();
    let alerts = instrument
        .alerts
        .iter()
        .enumerate()
        .map(|(n, alert)| alert_form(doc, q, n, alert.clone(), item_names.clone()))
        .collect_view();
    view! {
        <div class="own-form">
            <h3>{td_string!(locale, design.items)}</h3>
            <ol class="items">{items}</ol>
            <button type="button" on:click=move |_| reshape_own(doc, q, |i| {
                let item = new_item(i);
                i.items.push(item);
            })>{td_string!(locale, design.add_item)}</button>
            <h3>{td_string!(locale, design.bands)}</h3>
            <ul class="bands">{bands}</ul>
            <button type="button" on:click=move |_| reshape_own(doc, q, |i| {
                let (lo, hi) = i.range();
                let from = i.bands.last().map(|b| b.to + 1).unwrap_or(lo);
                i.bands.push(Band { code: String::new(), from, to: hi.max(from) });
            })>{td_string!(locale, design.add_band)}</button>
            <h3>{td_string!(locale, design.alerts)}</h3>
            <ul class="alerts">{alerts}</ul>
            <button type="button" on:click=move |_| reshape_own(doc, q, |i| {
                let code = format!("larm{}", i.alerts.len() + 1);
                i.alerts.push(AlertRule::TotalAtLeast { code, value: i.range().1, priority: Priority::Normal });
            })>{td_string!(locale, design.add_alert)}</button>
        </div>
    }
}

fn item_form(doc: Doc, q: usize, n: usize, count: usize, item: Item) -> impl IntoView {
    let locale = doc.locale;
    let name = format!("{} {}", td_string!(locale, design.item_n), n + 1);
    let kind = kind_code(&item.kind);
    let kinds = [
        ("choice", td_string!(locale, design.item_choice)),
        ("multiple_choice", td_string!(locale, design.item_multiple)),
        ("number", td_string!(locale, design.field_number)),
        ("free_text", td_string!(locale, design.field_text)),
        ("date", td_string!(locale, design.field_date)),
        ("time", td_string!(locale, design.field_time)),
    ];
    let limits = match item.kind.clone() {
        ItemKind::Choice { values } | ItemKind::MultipleChoice { values } => {
            let shown = values.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
            view! {
                <input class="values" aria-label=format!("{} {name}", td_string!(locale, design.values)) value=shown
                    on:change=move |ev| {
                        let list = parse_values(&value(&ev));
                        reshape_own(doc, q, |i| match &mut i.items[n].kind {
                            ItemKind::Choice { values } | ItemKind::MultipleChoice { values } => *values = list,
                            _ => {}
                        })
                    } />
            }
            .into_any()
        }
        ItemKind::Number { min, max } => view! {
            <input type="number" class="bound" aria-label=format!("{} {name}", td_string!(locale, design.lowest)) value=min
                on:input=move |ev| if let Some(v) = number(&ev) {
                    with_own(doc, q, |i| if let ItemKind::Number { min, .. } = &mut i.items[n].kind { *min = v })
                } />
            <input type="number" class="bound" aria-label=format!("{} {name}", td_string!(locale, design.highest)) value=max
                on:input=move |ev| if let Some(v) = number(&ev) {
                    with_own(doc, q, |i| if let ItemKind::Number { max, .. } = &mut i.items[n].kind { *max = v })
                } />
        }
        .into_any(),
        ItemKind::FreeText { max_chars } => view! {
            <input type="number" class="bound" aria-label=format!("{} {name}", td_string!(locale, design.max_chars)) value=max_chars
                on:input=move |ev| if let Some(v) = number(&ev) {
                    with_own(doc, q, |i| if let ItemKind::FreeText { max_chars } = &mut i.items[n].kind {
                        *max_chars = u32::try_from(v).unwrap_or(0)
                    })
                } />
        }
        .into_any(),
        ItemKind::Date | ItemKind::Time => ().into_any(),
    };
    let scorable = matches!(kind, "choice" | "multiple_choice" | "number");
    let up = format!("{} {name}", td_string!(locale, design.move_up));
    let down = format!("{} {name}", td_string!(locale, design.move_down));
    let remove = format!("{} {name}", td_string!(locale, design.remove));
    view! {
        <li class="item-editor">
            <div class="row">
                <input class="item-text" aria-label=format!("{} {name}", td_string!(locale, design.item_text))
                    value=item.text.clone().unwrap_or_default()
                    on:input=move |ev| { let v = value(&ev); with_own(doc, q, |i| i.items[n].text = Some(v)) } />
                <span class="item-buttons">
                    <button type="button" aria-label=up disabled={n == 0}
                        on:click=move |_| reshape_own(doc, q, |i| swap_items(i, n, n.saturating_sub(1)))>"↑"</button>
                    <button type="button" aria-label=down disabled={n + 1 >= count}
                        on:click=move |_| reshape_own(doc, q, |i| swap_items(i, n, n + 1))>"↓"</button>
                    <button type="button" aria-label=remove
                        on:click=move |_| reshape_own(doc, q, |i| remove_item(i, n))>"✕"</button>
                </span>
            </div>
            <div class="row">
                <select aria-label=format!("{} {name}", td_string!(locale, design.item_kind)) on:change=move |ev| {
                    let kind = new_kind(&value(&ev));
                    reshape_own(doc, q, |i| {
                        let item = &mut i.items[n];
                        item.scored = matches!(kind, ItemKind::Choice { .. } | ItemKind::MultipleChoice { .. } | ItemKind::Number { .. });
                        item.kind = kind;
                    })
                }>
                    {kinds.into_iter().map(|(k, label)| view! { <option value=k selected={k == kind}>{label}</option> }).collect_view()}
                </select>
                {limits}
                <label><input type="checkbox" checked=item.required
                    on:change=move |ev| { let on = event_target_checked(&ev); with_own(doc, q, |i| i.items[n].required = on) } />
                    " " {td_string!(locale, design.required)}</label>
                {scorable.then(|| view! {
                    <label><input type="checkbox" checked=item.scored
                        on:change=move |ev| { let on = event_target_checked(&ev); reshape_own(doc, q, |i| i.items[n].scored = on) } />
                        " " {td_string!(locale, design.scored)}</label>
                    <label><input type="checkbox" checked=item.reverse
                        on:change=move |ev| { let on = event_target_checked(&ev); with_own(doc, q, |i| i.items[n].reverse = on) } />
                        " " {td_string!(locale, design.reverse)}</label>
                })}
            </div>
        </li>
    }
}

fn band_form(doc: Doc, q: usize, n: usize, band: Band) -> impl IntoView {
    let locale = doc.locale;
    let name = format!("{} {}", td_string!(locale, design.band), n + 1);
    let remove = format!("{} {name}", td_string!(locale, design.remove));
    view! {
        <li class="row band-editor">
            <input aria-label=format!("{} {name}", td_string!(locale, design.band_label)) value=band.code
                on:input=move |ev| { let v = value(&ev); with_own(doc, q, |i| i.bands[n].code = v) } />
            <input type="number" class="bound" aria-label=format!("{} {name}", td_string!(locale, design.from)) value=band.from
                on:input=move |ev| if let Some(v) = number(&ev) { with_own(doc, q, |i| i.bands[n].from = v) } />
            <input type="number" class="bound" aria-label=format!("{} {name}", td_string!(locale, design.to)) value=band.to
                on:input=move |ev| if let Some(v) = number(&ev) { with_own(doc, q, |i| i.bands[n].to = v) } />
            <button type="button" aria-label=remove on:click=move |_| reshape_own(doc, q, |i| remove_at(&mut i.bands, n))>"✕"</button>
        </li>
    }
}

fn alert_form(
    doc: Doc,
    q: usize,
    n: usize,
    alert: AlertRule,
    items: Vec<(usize, String)>,
) -> impl IntoView {
    let locale = doc.locale;
    let name = format!("{} {}", td_string!(locale, design.alert), n + 1);
    let remove = format!("{} {name}", td_string!(locale, design.remove));
    let (kind, item, amount, priority) = match &alert {
        AlertRule::ItemAtLeast {
            item,
            value,
            priority,
            ..
        } => ("item", Some(*item), *value, *priority),
        AlertRule::TotalAtLeast {
            value, priority, ..
        } => ("total", None, *value, *priority),
        AlertRule::WorsenedBy {
            points, priority, ..
        } => ("worse", None, *points, *priority),
    };
    let code = match &alert {
        AlertRule::ItemAtLeast { code, .. }
        | AlertRule::TotalAtLeast { code, .. }
        | AlertRule::WorsenedBy { code, .. } => code.clone(),
    };
    let set_amount = move |v: i32| {
        with_own(doc, q, |i| match &mut i.alerts[n] {
            AlertRule::ItemAtLeast { value, .. } | AlertRule::TotalAtLeast { value, .. } => {
                *value = v
            }
            AlertRule::WorsenedBy { points, .. } => *points = v,
        })
    };
    let kinds = [
        ("item", td_string!(locale, design.alert_item)),
        ("total", td_string!(locale, design.alert_total)),
        ("worse", td_string!(locale, design.alert_worse)),
    ];
    view! {
        <li class="row alert-editor">
            <select aria-label=format!("{} {name}", td_string!(locale, design.alert_kind)) on:change=move |ev| {
                let chosen = value(&ev);
                let code = code.clone();
                reshape_own(doc, q, |i| {
                    i.alerts[n] = match chosen.as_str() {
                        "item" => AlertRule::ItemAtLeast { code, item: 0, value: amount, priority },
                        "worse" => AlertRule::WorsenedBy { code, points: amount, priority },
                        _ => AlertRule::TotalAtLeast { code, value: amount, priority },
                    }
                })
            }>
                {kinds.into_iter().map(|(k, label)| view! { <option value=k selected={k == kind}>{label}</option> }).collect_view()}
            </select>
            {item.map(|chosen| view! {
                <select aria-label=format!("{} {name}", td_string!(locale, design.item_n)) on:change=move |ev| {
                    let parsed: Result<usize, _> = value(&ev).parse();
                    let Ok(index) = parsed else { return };
                    with_own(doc, q, |i| if let AlertRule::ItemAtLeast { item, .. } = &mut i.alerts[n] { *item = index })
                }>
                    {items.into_iter().map(|(index, label)| view! {
                        <option value=index selected={index == chosen}>{label}</option>
                    }).collect_view()}
                </select>
            })}
            <input type="number" class="bound" aria-label=format!("{} {name}", td_string!(locale, design.alert_value)) value=amount
                on:input=move |ev| if let Some(v) = number(&ev) { set_amount(v) } />
            <select aria-label=format!("{} {name}", td_string!(locale, design.priority)) on:change=move |ev| {
                let chosen = if value(&ev) == "urgent" { Priority::Urgent } else { Priority::Normal };
                with_own(doc, q, |i| match &mut i.alerts[n] {
                    AlertRule::ItemAtLeast { priority, .. }
                    | AlertRule::TotalAtLeast { priority, .. }
                    | AlertRule::WorsenedBy { priority, .. } => *priority = chosen,
                })
            }>
                <option value="normal" selected={priority == Priority::Normal}>{td_string!(locale, design.priority_normal)}</option>
                <option value="urgent" selected={priority == Priority::Urgent}>{td_string!(locale, design.priority_urgent)}</option>
            </select>
            <button type="button" aria-label=remove on:click=move |_| reshape_own(doc, q, |i| remove_at(&mut i.alerts, n))>"✕"</button>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Instrument {
        Instrument {
            code: "f".into(),
            name: "F".into(),
            items: vec![
                Item::scale("a", [0, 1]),
                Item::scale("b", [0, 1]),
                Item::scale("c", [0, 1]),
            ],
            skips: Vec::new(),
            subscales: Vec::new(),
            bands: Vec::new(),
            alerts: vec![
                AlertRule::ItemAtLeast {
                    code: "x".into(),
                    item: 1,
                    value: 1,
                    priority: Priority::Urgent,
                },
                AlertRule::ItemAtLeast {
                    code: "y".into(),
                    item: 2,
                    value: 1,
                    priority: Priority::Normal,
                },
            ],
            criteria: Vec::new(),
            meaningful_change: None,
        }
    }

    #[test]
    fn alerts_follow_their_items() {
        let mut f = form();
        swap_items(&mut f, 0, 1);
        assert_eq!(f.items[0].code, "b");
        assert!(matches!(
            f.alerts[0],
            AlertRule::ItemAtLeast { item: 0, .. }
        ));
        remove_item(&mut f, 0);
        // The alert on the removed item goes; the other follows its item down.
        assert_eq!(f.alerts.len(), 1);
        assert!(
            matches!(&f.alerts[0], AlertRule::ItemAtLeast { item: 1, code, .. } if code == "y")
        );
        assert_eq!(f.items[1].code, "c");
    }

    #[test]
    fn values_are_read_leniently() {
        assert_eq!(parse_values("0, 1,2 ; 3 x"), vec![0, 1, 2, 3]);
        assert_eq!(parse_values(""), Vec::<i32>::new());
    }
}
