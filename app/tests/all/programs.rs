//! The content model and the validation report a program must pass before publishing.

#![allow(clippy::expect_used)]

use app::instruments::{AlertRule, Band, Instrument, Item, ItemKind, Priority};
use app::programs::{
    Block, BlockBody, Field, FieldKind, Media, Module, Problem, ProblemKind, Program,
    QuestionnaireDef, Rules, Schedule, ScheduleStart, Section, ShowIf, ShowOp, Step, Tone,
    UnlockRule, validate,
};

fn block(key: &str, body: BlockBody) -> Block {
    Block {
        key: key.to_owned(),
        show_if: None,
        body,
    }
}

fn text(key: &str, markdown: &str) -> Block {
    block(
        key,
        BlockBody::Text {
            markdown: markdown.to_owned(),
        },
    )
}

fn step(key: &str, blocks: Vec<Block>) -> Step {
    Step {
        key: key.to_owned(),
        title: format!("Sida {key}"),
        blocks,
    }
}

fn gad7_total_at_least(value: i32) -> ShowIf {
    ShowIf {
        questionnaire: "gad7".to_owned(),
        item: "total".to_owned(),
        op: ShowOp::AtLeast,
        value,
    }
}

/// A small, valid program: a text, an image, GAD-7, then advice shown when GAD-7 ≥ 10.
fn program() -> Program {
    let mut advice = text("extra-stod", "Kontakta din behandlare om oron tar över.");
    advice.show_if = Some(gad7_total_at_least(10));
    Program {
        title: "Hantera oro".to_owned(),
        description: "Ett program om oro.".to_owned(),
        modules: vec![Module {
            key: "modul-1".to_owned(),
            title: "Vad är oro?".to_owned(),
            unlock: UnlockRule::Open,
            sections: vec![Section {
                key: "sektion-1".to_owned(),
                title: "Början".to_owned(),
                show_if: None,
                steps: vec![
                    step(
                        "valkommen",
                        vec![
                            text("intro", "Välkommen! *Oro* är vanligt."),
                            block(
                                "bild",
                                BlockBody::Image {
                                    media: Media::File {
                                        path: "oro/kurva.png".to_owned(),
                                        mime: "image/png".to_owned(),
                                        bytes: 12_000,
                                    },
                                    alt: "En kurva som stiger och sedan sjunker.".to_owned(),
                                    caption: None,
                                },
                            ),
                        ],
                    ),
                    step(
                        "skattning",
                        vec![block(
                            "gad7-block",
                            BlockBody::Questionnaire {
                                questionnaire: "gad7".to_owned(),
                            },
                        )],
                    ),
                    step(
                        "ovning",
                        vec![
                            block(
                                "oro-dagbok",
                                BlockBody::Exercise {
                                    instructions: "Skriv ner din oro.".to_owned(),
                                    fields: vec![Field {
                                        key: "oro".to_owned(),
                                        label: "Vad oroade dig?".to_owned(),
                                        kind: FieldKind::Text { max_chars: 500 },
                                        required: true,
                                    }],
                                },
                            ),
                            block(
                                "tips",
                                BlockBody::InfoBox {
                                    tone: Tone::Tip,
                                    markdown: "Ta en paus.".to_owned(),
                                },
                            ),
                            block(
                                "lank",
                                BlockBody::Link {
                                    url: "https://www.1177.se".to_owned(),
                                    label: "1177".to_owned(),
                                },
                            ),
                            advice,
                        ],
                    ),
                ],
            }],
        }],
        questionnaires: vec![QuestionnaireDef {
            key: "gad7".to_owned(),
            title: "GAD-7".to_owned(),
            scale: Some("gad7".to_owned()),
            item_texts: Vec::new(),
            instrument: None,
        }],
        follow_up: Default::default(),
        schedules: Vec::new(),
    }
}

fn problems(program: &Program) -> Vec<Problem> {
    validate(program, &Rules::default())
}

/// The one problem the program has.
fn only(program: &Program) -> (String, ProblemKind) {
    let list = problems(program);
    assert_eq!(list.len(), 1, "{list:#?}");
    (list[0].path.clone(), list[0].kind.clone())
}

fn page(program: &mut Program, index: usize) -> &mut Step {
    &mut program.modules[0].sections[0].steps[index]
}

#[test]
fn a_complete_program_passes() {
    assert_eq!(problems(&program()), vec![]);
}

#[test]
fn empty_pages_sections_and_modules_are_reported() {
    let mut p = program();
    page(&mut p, 0).blocks.clear();
    assert_eq!(
        only(&p),
        (
            "modules[0].sections[0].steps[0]".to_owned(),
            ProblemKind::EmptyPage
        )
    );
    let mut p = program();
    p.modules[0].sections[0].steps.clear();
    let kinds: Vec<ProblemKind> = problems(&p).into_iter().map(|p| p.kind).collect();
    assert!(kinds.contains(&ProblemKind::EmptySection), "{kinds:?}");
    let mut p = program();
    p.modules.clear();
    assert!(
        problems(&p)
            .iter()
            .any(|x| x.kind == ProblemKind::EmptyProgram)
    );
}

#[test]
fn an_image_needs_alt_text() {
    let mut p = program();
    if let BlockBody::Image { alt, .. } = &mut page(&mut p, 0).blocks[1].body {
        *alt = "  ".to_owned();
    }
    assert_eq!(
        only(&p),
        (
            "modules[0].sections[0].steps[0].blocks[1]".to_owned(),
            ProblemKind::ImageWithoutAlt
        )
    );
}

#[test]
fn conditions_must_read_an_answer_given_earlier() {
    let advice = "modules[0].sections[0].steps[2].blocks[3]".to_owned();
    // Unknown questionnaire, unknown item.
    let mut p = program();
    page(&mut p, 2).blocks[3].show_if = Some(ShowIf {
        questionnaire: "phq9".to_owned(),
        ..gad7_total_at_least(10)
    });
    assert_eq!(only(&p), (advice.clone(), ProblemKind::BrokenCondition));
    let mut p = program();
    page(&mut p, 2).blocks[3].show_if = Some(ShowIf {
        item: "gad7_8".to_owned(),
        ..gad7_total_at_least(1)
    });
    assert_eq!(only(&p), (advice.clone(), ProblemKind::BrokenCondition));
    // A known item works.
    let mut p = program();
    page(&mut p, 2).blocks[3].show_if = Some(ShowIf {
        item: "gad7_7".to_owned(),
        ..gad7_total_at_least(2)
    });
    assert_eq!(problems(&p), vec![]);
    // Shown before the questionnaire is answered.
    let mut p = program();
    page(&mut p, 0).blocks[0].show_if = Some(gad7_total_at_least(10));
    let before = ProblemKind::ConditionBeforeAnswer {
        questionnaire: "gad7".to_owned(),
    };
    assert_eq!(
        only(&p),
        (
            "modules[0].sections[0].steps[0].blocks[0]".to_owned(),
            before.clone()
        )
    );
    // The questionnaire shown only after it is answered: a circle.
    let mut p = program();
    page(&mut p, 1).blocks[0].show_if = Some(gad7_total_at_least(10));
    assert_eq!(
        only(&p),
        (
            "modules[0].sections[0].steps[1].blocks[0]".to_owned(),
            before.clone()
        )
    );
    // A section conditioned on a questionnaire inside it.
    let mut p = program();
    p.modules[0].sections[0].show_if = Some(gad7_total_at_least(10));
    assert_eq!(only(&p), ("modules[0].sections[0]".to_owned(), before));
}

fn own_form(alerts: Vec<AlertRule>, bands: Vec<Band>) -> Program {
    let mut p = program();
    p.questionnaires.push(QuestionnaireDef {
        key: "vecka".to_owned(),
        title: "Veckoregistrering".to_owned(),
        scale: None,
        item_texts: Vec::new(),
        instrument: Some(Instrument {
            code: "vecka".to_owned(),
            name: "Veckoregistrering".to_owned(),
            items: vec![
                Item {
                    text: Some("Hur har du sovit?".to_owned()),
                    ..Item::scale("somn", 0..=3)
                },
                Item {
                    text: Some("Hur orolig har du varit?".to_owned()),
                    ..Item::scale("oro", 0..=3)
                },
            ],
            skips: vec![],
            subscales: vec![],
            bands,
            alerts,
            criteria: vec![],
            meaningful_change: None,
        }),
    });
    page(&mut p, 2).blocks.push(block(
        "vecka-block",
        BlockBody::Questionnaire {
            questionnaire: "vecka".to_owned(),
        },
    ));
    p
}

#[test]
fn alerts_on_totals_need_bands_and_bands_cover_the_range() {
    let alert = AlertRule::TotalAtLeast {
        code: "hog".to_owned(),
        value: 5,
        priority: Priority::Normal,
    };
    let band = |code: &str, from, to| Band {
        code: code.to_owned(),
        from,
        to,
    };
    assert_eq!(
        only(&own_form(vec![alert.clone()], vec![])),
        (
            "questionnaires[1]".to_owned(),
            ProblemKind::AlertsWithoutBands
        )
    );
    assert_eq!(
        problems(&own_form(
            vec![alert.clone()],
            vec![band("lag", 0, 3), band("hog", 4, 6)]
        )),
        vec![]
    );
    assert_eq!(
        only(&own_form(
            vec![alert],
            vec![band("lag", 0, 2), band("hog", 4, 6)]
        )),
        ("questionnaires[1]".to_owned(), ProblemKind::BandsWithGaps)
    );
}

#[test]
fn a_form_of_the_programs_own_is_worded_answerable_and_its_rules_name_its_items() {
    fn form(p: &mut Program) -> &mut Instrument {
        p.questionnaires[1].instrument.as_mut().expect("own form")
    }
    let band = |code: &str, from, to| Band {
        code: code.to_owned(),
        from,
        to,
    };
    let fine = own_form(vec![], vec![band("lag", 0, 6)]);
    assert_eq!(problems(&fine), vec![]);
    let at = |n: usize| format!("questionnaires[1].items[{n}]");

    let mut p = fine.clone();
    form(&mut p).items[0].text = None;
    assert_eq!(only(&p), (at(0), ProblemKind::MissingTitle));

    let mut p = fine.clone();
    form(&mut p).items[1].code = "somn".to_owned();
    assert_eq!(
        only(&p),
        (
            at(1),
            ProblemKind::DuplicateKey {
                key: "somn".to_owned()
            }
        )
    );

    let mut p = fine.clone();
    form(&mut p).items[1].kind = ItemKind::Number { min: 5, max: 1 };
    form(&mut p).items[1].scored = false;
    form(&mut p).bands = vec![band("lag", 0, 3)];
    assert_eq!(only(&p), (at(1), ProblemKind::BadItem));

    let mut p = fine.clone();
    form(&mut p).alerts.push(AlertRule::ItemAtLeast {
        code: "x".to_owned(),
        item: 2,
        value: 1,
        priority: Priority::Urgent,
    });
    assert_eq!(
        only(&p),
        ("questionnaires[1]".to_owned(), ProblemKind::BrokenCondition)
    );
    assert!(ProblemKind::BrokenCondition.refused_in_draft());
    assert!(!ProblemKind::BadItem.refused_in_draft());

    // Each alert rule raises its own flag, named by its code: two rules may not share one.
    let mut p = fine.clone();
    for value in [1, 2] {
        form(&mut p).alerts.push(AlertRule::ItemAtLeast {
            code: "oro".to_owned(),
            item: 0,
            value,
            priority: Priority::Normal,
        });
    }
    assert_eq!(
        only(&p),
        (
            "questionnaires[1]".to_owned(),
            ProblemKind::DuplicateKey {
                key: "oro".to_owned()
            }
        )
    );
}

#[test]
fn a_library_scales_wording_is_the_care_providers_and_is_shown() {
    let mut p = program();
    p.questionnaires[0].item_texts = vec!["Känt dig nervös?".to_owned(), String::new()];
    assert_eq!(problems(&p), vec![]);
    let worded = p.questionnaires[0].worded().expect("gad7");
    assert_eq!(worded.items[0].text.as_deref(), Some("Känt dig nervös?"));
    assert_eq!(worded.items[1].text, None);
    // Scoring is the library's, whatever the wording.
    assert_eq!(
        worded.bands,
        p.questionnaires[0].instrument().expect("gad7").bands
    );
    p.questionnaires[0].item_texts = vec!["x".repeat(201)];
    assert_eq!(
        only(&p),
        (
            "questionnaires[0].item_texts[0]".to_owned(),
            ProblemKind::TooLong { max: 200 }
        )
    );
    p.questionnaires[0].item_texts = vec![String::new(); 8];
    assert_eq!(
        only(&p),
        ("questionnaires[0]".to_owned(), ProblemKind::BrokenCondition)
    );
}

#[test]
fn keys_links_media_and_text_are_checked() {
    let first = "modules[0].sections[0].steps[0].blocks[0]".to_owned();
    let mut p = program();
    page(&mut p, 0).blocks[0].key = "bild".to_owned();
    assert_eq!(
        only(&p),
        (
            "modules[0].sections[0].steps[0].blocks[1]".to_owned(),
            ProblemKind::DuplicateKey {
                key: "bild".to_owned()
            }
        )
    );
    let mut p = program();
    page(&mut p, 0).blocks[0].key = "Intro 1".to_owned();
    assert_eq!(only(&p), (first.clone(), ProblemKind::InvalidKey));

    let mut p = program();
    page(&mut p, 2).blocks[2].body = BlockBody::Link {
        url: "javascript:alert(1)".to_owned(),
        label: "Klicka".to_owned(),
    };
    assert_eq!(only(&p).1, ProblemKind::UnsafeLink);

    // Script in Markdown is shown as text, never run: a warning that does not block.
    let mut p = program();
    page(&mut p, 0).blocks[0] = text("intro", "Hej <script>alert(1)</script>");
    let list = problems(&p);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].kind, ProblemKind::HtmlInMarkdown);
    assert!(!list[0].blocking);

    let mut p = program();
    page(&mut p, 0).blocks[0] = text("intro", &"å".repeat(20_001));
    assert_eq!(only(&p), (first, ProblemKind::TooLong { max: 20_000 }));

    let image = |media: Media| {
        let mut p = program();
        if let BlockBody::Image { media: m, .. } = &mut page(&mut p, 0).blocks[1].body {
            *m = media;
        }
        p
    };
    let file = |path: &str, mime: &str| Media::File {
        path: path.to_owned(),
        mime: mime.to_owned(),
        bytes: 1,
    };
    assert_eq!(
        only(&image(file("../../etc/passwd", "image/png"))).1,
        ProblemKind::MediaPath
    );
    assert_eq!(
        only(&image(file("/abs.png", "image/png"))).1,
        ProblemKind::MediaPath
    );
    assert_eq!(
        only(&image(file("a.html", "text/html"))).1,
        ProblemKind::MediaType {
            mime: "text/html".to_owned()
        }
    );
    let external = image(Media::External {
        url: "https://media.example.se/bild.png".to_owned(),
    });
    assert_eq!(only(&external).1, ProblemKind::MediaNotAllowed);
    let allowed = Rules {
        media_hosts: vec!["example.se".to_owned()],
        ..Rules::default()
    };
    assert_eq!(validate(&external, &allowed), vec![]);
    let plain_http = image(Media::External {
        url: "http://media.example.se/bild.png".to_owned(),
    });
    assert_eq!(validate(&plain_http, &allowed).len(), 1);
    // Links a browser would take elsewhere than the allowed host they seem to name.
    for tricky in [
        "https://evil.test\\.media.example.se/bild.png",
        "https://evil.test\\@media.example.se/bild.png",
        "https://media.example.se@evil.test/bild.png",
        "https://media.example.se:8443/bild.png",
        "https://media.example.se /bild.png",
    ] {
        let link = image(Media::External {
            url: tricky.to_owned(),
        });
        assert_eq!(
            validate(&link, &allowed)
                .into_iter()
                .map(|p| p.kind)
                .collect::<Vec<_>>(),
            vec![ProblemKind::MediaNotAllowed],
            "{tricky}"
        );
    }
    // A link not filled in yet is unfinished: it stops publishing, but a draft may hold it.
    let empty = image(Media::External { url: String::new() });
    let (_, kind) = only(&empty);
    assert_eq!(kind, ProblemKind::EmptyBlock);
    assert!(!kind.refused_in_draft());
    assert!(ProblemKind::MediaNotAllowed.refused_in_draft());
}

#[test]
fn questionnaires_must_exist_and_be_used() {
    let mut p = program();
    p.questionnaires[0].scale = Some("phq10".to_owned());
    assert!(problems(&p).iter().any(|x| x.kind
        == ProblemKind::UnknownScale {
            code: "phq10".to_owned()
        }));
    let mut p = program();
    page(&mut p, 1).blocks[0].body = BlockBody::Questionnaire {
        questionnaire: "saknas".to_owned(),
    };
    let list = problems(&p);
    assert!(list.iter().any(|x| x.kind
        == ProblemKind::UnknownQuestionnaire {
            key: "saknas".to_owned()
        }));
    // GAD-7 is now never placed: the condition cannot be met, and the scale is unused.
    assert!(list.iter().any(|x| !x.blocking
        && x.kind
            == ProblemKind::UnusedQuestionnaire {
                key: "gad7".to_owned()
            }));
}

fn weekly(questionnaire: &str, starts: ScheduleStart) -> Schedule {
    Schedule {
        key: "varje-vecka".to_owned(),
        questionnaire: questionnaire.to_owned(),
        starts,
        every_days: Some(7),
        window_days: 7,
        blocking: true,
    }
}

#[test]
fn schedules_name_what_exists_and_days_in_range() {
    let mut p = program();
    p.schedules.push(weekly("gad7", ScheduleStart::Enrolment));
    assert_eq!(problems(&p), vec![]);
    // Another questionnaire, another module: named.
    p.schedules[0] = weekly(
        "saknas",
        ScheduleStart::ModuleOpens {
            module: "modul-9".to_owned(),
        },
    );
    let kinds: Vec<ProblemKind> = problems(&p).into_iter().map(|x| x.kind).collect();
    assert!(kinds.contains(&ProblemKind::UnknownQuestionnaire {
        key: "saknas".to_owned()
    }));
    assert!(kinds.contains(&ProblemKind::UnknownModule {
        key: "modul-9".to_owned()
    }));
    // No day's window, a repeat beyond a year, a module a lifetime away: refused, also in a draft.
    for (every, window, unlock) in [
        (Some(7), 0, UnlockRule::Open),
        (Some(366), 7, UnlockRule::Open),
        (None, 7, UnlockRule::AfterDays { days: 3651 }),
    ] {
        let mut p = program();
        p.schedules.push(weekly("gad7", ScheduleStart::Enrolment));
        p.schedules[0].every_days = every;
        p.schedules[0].window_days = window;
        p.modules[0].unlock = unlock;
        let (_, kind) = only(&p);
        assert_eq!(kind, ProblemKind::BadDays);
        assert!(kind.refused_in_draft());
    }
    // A schedule's key is a key like any other: unique in the program.
    let mut p = program();
    p.schedules.push(weekly("gad7", ScheduleStart::Enrolment));
    p.schedules[0].key = "modul-1".to_owned();
    assert_eq!(
        only(&p).1,
        ProblemKind::DuplicateKey {
            key: "modul-1".to_owned()
        }
    );
}

#[test]
fn a_form_asked_at_enrolment_is_answered_before_every_page() {
    // Without its page, GAD-7 is asked only by the schedule: the condition may read it when
    // it is asked at enrolment, not when it is first asked as a module ends.
    let mut p = program();
    page(&mut p, 1).blocks[0] = text("ersatt", "Veckans skattning kommer som formulär.");
    p.schedules.push(weekly("gad7", ScheduleStart::Enrolment));
    assert_eq!(problems(&p), vec![]);
    p.schedules[0].starts = ScheduleStart::ModuleFinished {
        module: "modul-1".to_owned(),
    };
    assert_eq!(
        only(&p).1,
        ProblemKind::ConditionBeforeAnswer {
            questionnaire: "gad7".to_owned()
        }
    );
}

#[test]
fn a_program_survives_json_unchanged() {
    let p = own_form(vec![], vec![]);
    let json = serde_json::to_string(&p).expect("serialise");
    let back: Program = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, p);
    assert!(json.contains("\"kind\":\"questionnaire\""), "{json}");
}

#[test]
fn a_program_larger_than_the_caps_is_refused_at_once() {
    use app::programs::caps;
    let mut p = program();
    let module = p.modules[0].clone();
    p.modules = vec![module; caps::MODULES + 1];
    let problems = validate(&p, &Rules::default());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "modules");
    assert_eq!(
        problems[0].kind,
        ProblemKind::TooMany { max: caps::MODULES }
    );
    assert!(problems[0].kind.refused_in_draft());

    // Blocks on one page, and in the whole program.
    let mut p = program();
    let block = p.modules[0].sections[0].steps[0].blocks[0].clone();
    p.modules[0].sections[0].steps[0].blocks = vec![block; caps::BLOCKS_PER_PAGE + 1];
    let problems = validate(&p, &Rules::default());
    assert_eq!(
        problems.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
        vec!["modules[0].sections[0].steps[0].blocks"]
    );
    // At the caps exactly: checked as usual.
    let mut p = program();
    let module = p.modules[0].clone();
    p.modules = vec![module; caps::MODULES];
    assert!(
        validate(&p, &Rules::default())
            .iter()
            .all(|problem| problem.kind != ProblemKind::TooMany { max: caps::MODULES })
    );
}

#[test]
fn follow_up_days_are_a_year_at_most_and_absent_means_the_defaults() {
    let mut p = program();
    p.follow_up.inactive_days = 366;
    assert_eq!(only(&p), ("follow_up".to_owned(), ProblemKind::BadDays));
    p.follow_up.inactive_days = 0;
    p.follow_up.homework_days = 365;
    assert_eq!(problems(&p), Vec::new());

    // A program stored before the setting existed reads with the defaults (two weeks, one
    // week), and the defaults are left out of the stored document, so its content (and hash)
    // is what it was.
    let stored = app::programs::store::canonical(&program()).expect("canonical");
    assert!(!stored.contains("follow_up"), "{stored}");
    let read: Program = serde_json::from_str(&stored).expect("reads");
    assert_eq!(read.follow_up.inactive_days, 14);
    assert_eq!(read.follow_up.homework_days, 7);
    let set = app::programs::store::canonical(&p).expect("canonical");
    assert!(
        set.contains(r#""follow_up":{"inactive_days":0,"homework_days":365}"#),
        "{set}"
    );
}
