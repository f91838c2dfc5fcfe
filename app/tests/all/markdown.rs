//! The Markdown subset of text blocks: what it understands, and that nothing else gets through
//! as markup.

#![allow(clippy::expect_used)]
#![cfg(feature = "ssr")]

use app::programs::markdown::{Inline, Markdown, MdBlock, inlines, parse};
use leptos::prelude::*;

fn text(s: &str) -> Inline {
    Inline::Text(s.to_owned())
}

fn html(source: &str) -> String {
    let owner = Owner::new();
    owner.with(|| {
        let source = source.to_owned();
        view! { <Markdown source /> }.to_html()
    })
}

#[test]
fn blocks_of_the_subset() {
    let source = "# Sömn\n\nDu sover *bättre* när du\nhar **rutiner**.\n\n- Gå upp\n- Ljus\n  på morgonen\n\n1. Ett\n2. Två\n\n> Citat  \n> rad två";
    assert_eq!(
        parse(source),
        vec![
            MdBlock::Heading(2, vec![text("Sömn")]),
            MdBlock::Paragraph(vec![
                text("Du sover "),
                Inline::Emphasis(vec![text("bättre")]),
                text(" när du har "),
                Inline::Strong(vec![text("rutiner")]),
                text("."),
            ]),
            MdBlock::List {
                ordered: false,
                items: vec![vec![text("Gå upp")], vec![text("Ljus på morgonen")]],
            },
            MdBlock::List {
                ordered: true,
                items: vec![vec![text("Ett")], vec![text("Två")]],
            },
            MdBlock::Quote(vec![text("Citat"), Inline::LineBreak, text("rad två")]),
        ]
    );
}

#[test]
fn links_need_a_safe_address() {
    assert_eq!(
        inlines("Läs [1177](https://www.1177.se) nu"),
        vec![
            text("Läs "),
            Inline::Link {
                href: "https://www.1177.se".to_owned(),
                text: vec![text("1177")],
            },
            text(" nu"),
        ]
    );
    for unsafe_link in [
        "[x](javascript:alert(1))",
        "[x](data:text/html,hi)",
        "[x](/relative)",
        "[x](https://)",
    ] {
        assert_eq!(
            inlines(unsafe_link),
            vec![text(unsafe_link)],
            "{unsafe_link}"
        );
    }
}

#[test]
fn unmatched_marks_stay_text() {
    assert_eq!(inlines("2 * 3 = 6"), vec![text("2 * 3 = 6")]);
    assert_eq!(inlines("**halv"), vec![text("**halv")]);
    assert_eq!(
        inlines("snake_case_name"),
        vec![
            text("snake"),
            Inline::Emphasis(vec![text("case")]),
            text("name")
        ]
    );
}

#[test]
fn html_is_shown_never_interpreted() {
    let out = html(
        "Hej <script>alert(1)</script> och <img src=x onerror=alert(1)>\n\n[länk](https://www.1177.se)",
    );
    assert!(!out.contains("<script"), "{out}");
    assert!(!out.contains("<img"), "{out}");
    assert!(
        out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{out}"
    );
    // (`<!>` marks where dynamic text ends, for hydration.)
    assert!(
        out.contains(r#"<a href="https://www.1177.se" rel="noreferrer">länk"#),
        "{out}"
    );
    let heading = html("## Rubrik");
    assert!(heading.starts_with("<h3>Rubrik"), "{heading}");
}
