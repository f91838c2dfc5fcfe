//! The Markdown subset of text blocks, and its one renderer: the design tool's preview and the
//! patient's page both use [`Markdown`], so what the producer sees is what the patient gets.
//!
//! The subset: paragraphs, headings (`#`–`###`, shown one level below the page title), lists
//! (`-`, `*`, `1.`), quotes (`>`), **strong**, *emphasis* (or _emphasis_), links with an
//! `https`, `http`, `mailto` or `tel` address, and hard line breaks (two spaces at the end of a
//! line). Everything else is text: HTML is never interpreted, only shown.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MdBlock {
    Paragraph(Vec<Inline>),
    /// Level 2–4 (the page title is level 1).
    Heading(u8, Vec<Inline>),
    List {
        ordered: bool,
        items: Vec<Vec<Inline>>,
    },
    Quote(Vec<Inline>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Link { href: String, text: Vec<Inline> },
    LineBreak,
}

fn list_item(line: &str) -> Option<(bool, &str)> {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed
        .strip_prefix("- ")
        .or_else(|| trimmed.strip_prefix("* "))
    {
        return Some((false, rest));
    }
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        return trimmed[digits..]
            .strip_prefix(". ")
            .map(|rest| (true, rest));
    }
    None
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    if (1..=3).contains(&hashes) {
        line[hashes..]
            .strip_prefix(' ')
            .map(|rest| (hashes as u8 + 1, rest))
    } else {
        None
    }
}

/// Parses the subset. Never fails: what is not markup is text.
pub fn parse(source: &str) -> Vec<MdBlock> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut quote: Vec<&str> = Vec::new();
    let mut list: Option<(bool, Vec<String>)> = None;
    let flush = |blocks: &mut Vec<MdBlock>,
                 paragraph: &mut Vec<&str>,
                 quote: &mut Vec<&str>,
                 list: &mut Option<(bool, Vec<String>)>| {
        if !paragraph.is_empty() {
            blocks.push(MdBlock::Paragraph(inlines_of_lines(paragraph)));
            paragraph.clear();
        }
        if !quote.is_empty() {
            blocks.push(MdBlock::Quote(inlines_of_lines(quote)));
            quote.clear();
        }
        if let Some((ordered, items)) = list.take() {
            blocks.push(MdBlock::List {
                ordered,
                items: items.iter().map(|i| inlines(i.trim())).collect(),
            });
        }
    };
    for line in source.lines() {
        if line.trim().is_empty() {
            flush(&mut blocks, &mut paragraph, &mut quote, &mut list);
        } else if let Some((level, text)) = heading(line) {
            flush(&mut blocks, &mut paragraph, &mut quote, &mut list);
            blocks.push(MdBlock::Heading(level, inlines(text.trim())));
        } else if let Some((ordered, text)) = list_item(line) {
            if !paragraph.is_empty() || !quote.is_empty() {
                flush(&mut blocks, &mut paragraph, &mut quote, &mut list);
            }
            match &mut list {
                Some((kind, items)) if *kind == ordered => items.push(text.to_owned()),
                _ => {
                    flush(&mut blocks, &mut paragraph, &mut quote, &mut list);
                    list = Some((ordered, vec![text.to_owned()]));
                }
            }
        } else if let Some(text) = line.trim_start().strip_prefix('>') {
            if !paragraph.is_empty() || list.is_some() {
                flush(&mut blocks, &mut paragraph, &mut quote, &mut list);
            }
            quote.push(text.strip_prefix(' ').unwrap_or(text));
        } else if let Some((_, items)) = &mut list {
            // A continuation line of the last list item.
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        } else {
            if !quote.is_empty() {
                flush(&mut blocks, &mut paragraph, &mut quote, &mut list);
            }
            paragraph.push(line);
        }
    }
    flush(&mut blocks, &mut paragraph, &mut quote, &mut list);
    blocks
}

/// Lines of one paragraph: joined by spaces, or by a line break after two trailing spaces.
fn inlines_of_lines(lines: &[&str]) -> Vec<Inline> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let hard = line.ends_with("  ");
        out.extend(inlines(line.trim()));
        if i + 1 < lines.len() {
            if hard {
                out.push(Inline::LineBreak);
            } else {
                out.push(Inline::Text(" ".to_owned()));
            }
        }
    }
    merge_text(out)
}

fn merge_text(list: Vec<Inline>) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::with_capacity(list.len());
    for item in list {
        match (out.last_mut(), item) {
            (Some(Inline::Text(a)), Inline::Text(b)) => a.push_str(&b),
            (_, item) => out.push(item),
        }
    }
    out
}

fn safe_href(href: &str) -> bool {
    let lower = href.to_ascii_lowercase();
    ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .any(|s| lower.starts_with(s) && lower.len() > s.len())
        && !href.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Inline markup of one line.
pub fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let parsed = match c {
            '*' if rest.starts_with("**") => {
                delimited(rest, "**").map(|(inner, after)| (Inline::Strong(inlines(inner)), after))
            }
            '*' | '_' => {
                let mark = if c == '*' { "*" } else { "_" };
                delimited(rest, mark)
                    .map(|(inner, after)| (Inline::Emphasis(inlines(inner)), after))
            }
            '[' => link(rest),
            _ => None,
        };
        match parsed {
            Some((inline, after)) => {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                out.push(inline);
                rest = after;
            }
            None => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

/// `mark inner mark` at the start of `text`, inner not empty and not starting with a space.
fn delimited<'a>(text: &'a str, mark: &str) -> Option<(&'a str, &'a str)> {
    let body = text.strip_prefix(mark)?;
    if body.starts_with(' ') {
        return None;
    }
    let end = body.find(mark)?;
    (end > 0).then(|| (&body[..end], &body[end + mark.len()..]))
}

/// `[text](href)` at the start of `text`, with a safe address.
fn link(text: &str) -> Option<(Inline, &str)> {
    let close = text.find("](")?;
    let label = &text[1..close];
    let after = &text[close + 2..];
    let end = after.find(')')?;
    let href = after[..end].trim();
    if label.is_empty() || !safe_href(href) {
        return None;
    }
    Some((
        Inline::Link {
            href: href.to_owned(),
            text: inlines(label),
        },
        &after[end + 1..],
    ))
}

fn render_inlines(list: Vec<Inline>) -> AnyView {
    list.into_iter()
        .map(|inline| match inline {
            Inline::Text(text) => text.into_any(),
            Inline::Strong(inner) => view! { <strong>{render_inlines(inner)}</strong> }.into_any(),
            Inline::Emphasis(inner) => view! { <em>{render_inlines(inner)}</em> }.into_any(),
            Inline::Link { href, text } => {
                view! { <a href=href rel="noreferrer">{render_inlines(text)}</a> }.into_any()
            }
            Inline::LineBreak => view! { <br /> }.into_any(),
        })
        .collect_view()
        .into_any()
}

/// Renders Markdown of a text block. Text is always escaped: no HTML gets through.
#[component]
pub fn Markdown(#[prop(into)] source: String) -> impl IntoView {
    parse(&source)
        .into_iter()
        .map(|block| match block {
            MdBlock::Paragraph(inner) => view! { <p>{render_inlines(inner)}</p> }.into_any(),
            MdBlock::Heading(2, inner) => view! { <h2>{render_inlines(inner)}</h2> }.into_any(),
            MdBlock::Heading(3, inner) => view! { <h3>{render_inlines(inner)}</h3> }.into_any(),
            MdBlock::Heading(_, inner) => view! { <h4>{render_inlines(inner)}</h4> }.into_any(),
            MdBlock::List { ordered, items } => {
                let items = items
                    .into_iter()
                    .map(|item| view! { <li>{render_inlines(item)}</li> })
                    .collect_view();
                if ordered {
                    view! { <ol>{items}</ol> }.into_any()
                } else {
                    view! { <ul>{items}</ul> }.into_any()
                }
            }
            MdBlock::Quote(inner) => {
                view! { <blockquote><p>{render_inlines(inner)}</p></blockquote> }.into_any()
            }
        })
        .collect_view()
}
