//! The scale library scored by its published rules: every band boundary, every alert rule,
//! the criteria, and the answers that must be refused.

#![allow(clippy::expect_used)]

use app::instruments::{
    AlertRule, Answer, AnswerError, Band, Instrument, Item, ItemKind, Priority, Scored, Subscale,
    by_code, score,
};

/// Scores answers given as plain values.
fn score_values(
    instrument: &Instrument,
    answers: &[Option<i32>],
    previous: Option<i32>,
) -> Result<Scored, AnswerError> {
    let answers: Vec<Option<Answer>> = answers.iter().map(|a| a.map(Answer::Value)).collect();
    score(instrument, &answers, previous)
}

fn scale(code: &str) -> &'static Instrument {
    by_code(code).expect("in the library")
}

/// Answers (asked items only) that add up to `total`, largest values first.
fn answers_for(instrument: &Instrument, total: i32) -> Vec<Option<i32>> {
    let items = &instrument.items;
    // reachable[i]: the totals items i.. can still make.
    let mut reachable = vec![std::collections::BTreeSet::from([0]); items.len() + 1];
    for i in (0..items.len()).rev() {
        let mut next = reachable[i + 1].clone();
        if items[i].scored {
            for v in items[i].choices() {
                for rest in &reachable[i + 1] {
                    next.insert(items[i].points(*v) + rest);
                }
            }
        }
        reachable[i] = next;
    }
    assert!(
        reachable[0].contains(&total),
        "{} cannot total {total}",
        instrument.code
    );
    let mut left = total;
    let mut answers = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if !item.scored {
            answers.push(None);
            continue;
        }
        let mut values = item.choices().to_vec();
        values.sort_unstable_by(|a, b| b.cmp(a));
        let value = values
            .into_iter()
            .find(|v| reachable[i + 1].contains(&(left - item.points(*v))))
            .expect("a value that still reaches the total");
        left -= item.points(value);
        answers.push(Some(value));
    }
    for skip in &instrument.skips {
        if answers[skip.item] == Some(skip.equals) {
            for &i in &skip.skipped {
                answers[i] = None;
            }
        }
    }
    answers
}

fn band_at(code: &str, total: i32) -> String {
    let instrument = scale(code);
    let scored = score_values(instrument, &answers_for(instrument, total), None).expect("valid");
    assert_eq!(scored.total, total);
    scored.band.expect("every total has a band")
}

#[test]
fn ranges_and_bands_cover_each_scale_without_gaps() {
    for (code, max) in [
        ("phq9", 27),
        ("gad7", 21),
        ("madrs_s", 54),
        ("audit", 40),
        ("isi", 28),
    ] {
        let instrument = scale(code);
        assert_eq!(instrument.range(), (0, max), "{code}");
        let bands: &[Band] = &instrument.bands;
        assert_eq!(bands.first().map(|b| b.from), Some(0), "{code}");
        assert_eq!(bands.last().map(|b| b.to), Some(max), "{code}");
        for pair in bands.windows(2) {
            assert_eq!(pair[0].to + 1, pair[1].from, "{code}: {pair:?}");
        }
    }
}

/// A band's code and its first and last total.
type BandRow = (&'static str, i32, i32);

#[test]
fn every_band_boundary() {
    let table: &[(&str, &[BandRow])] = &[
        (
            "phq9",
            &[
                ("minimal", 0, 4),
                ("mild", 5, 9),
                ("moderate", 10, 14),
                ("moderately_severe", 15, 19),
                ("severe", 20, 27),
            ],
        ),
        (
            "gad7",
            &[
                ("minimal", 0, 4),
                ("mild", 5, 9),
                ("moderate", 10, 14),
                ("severe", 15, 21),
            ],
        ),
        (
            "madrs_s",
            &[
                ("minimal", 0, 12),
                ("mild", 13, 19),
                ("moderate", 20, 34),
                ("severe", 35, 54),
            ],
        ),
        (
            "audit",
            &[
                ("zone_i", 0, 7),
                ("zone_ii", 8, 15),
                ("zone_iii", 16, 19),
                ("zone_iv", 20, 40),
            ],
        ),
        (
            "isi",
            &[
                ("none", 0, 7),
                ("subthreshold", 8, 14),
                ("moderate", 15, 21),
                ("severe", 22, 28),
            ],
        ),
    ];
    for (code, bands) in table {
        for (band, from, to) in *bands {
            assert_eq!(band_at(code, *from), *band, "{code} at {from}");
            assert_eq!(band_at(code, *to), *band, "{code} at {to}");
        }
    }
}

/// PHQ-9 answers: the nine items, then the difficulty question.
fn phq9(nine: [i32; 9]) -> Vec<Option<i32>> {
    let mut answers: Vec<Option<i32>> = nine.iter().map(|v| Some(*v)).collect();
    answers.push(None);
    answers
}

#[test]
fn phq9_item_9_at_1_or_more_raises_an_urgent_alert() {
    for (item9, alert) in [(0, false), (1, true), (2, true), (3, true)] {
        let scored = score_values(scale("phq9"), &phq9([0, 0, 0, 0, 0, 0, 0, 0, item9]), None)
            .expect("valid");
        let urgent = scored
            .alerts
            .iter()
            .any(|a| a.code == "phq9_item9" && a.priority == Priority::Urgent);
        assert_eq!(urgent, alert, "item 9 = {item9}");
    }
}

#[test]
fn madrs_s_item_9_at_4_or_more_raises_an_urgent_alert() {
    for (item9, alert) in [(0, false), (3, false), (4, true), (6, true)] {
        let mut answers = vec![Some(0); 8];
        answers.push(Some(item9));
        let scored = score_values(scale("madrs_s"), &answers, None).expect("valid");
        assert_eq!(
            scored.alerts.iter().any(|a| a.code == "madrs_s_item9"),
            alert,
            "item 9 = {item9}"
        );
    }
}

#[test]
fn phq9_major_depressive_syndrome() {
    let mdd = |nine| {
        score_values(scale("phq9"), &phq9(nine), None)
            .expect("valid")
            .criteria
            .contains(&"major_depressive_syndrome".to_owned())
    };
    // Item 1 at 2 and four more at 2: five.
    assert!(mdd([2, 0, 2, 2, 2, 2, 0, 0, 0]));
    // Only four at 2.
    assert!(!mdd([2, 0, 2, 2, 2, 0, 0, 0, 0]));
    // Item 9 counts from 1.
    assert!(mdd([2, 0, 2, 2, 2, 0, 0, 0, 1]));
    // Neither item 1 nor item 2 at 2, however many others.
    assert!(!mdd([1, 1, 3, 3, 3, 3, 3, 3, 3]));
    // Item 2 suffices.
    assert!(mdd([0, 3, 2, 2, 2, 2, 0, 0, 0]));
}

#[test]
fn phq9_difficulty_question_is_optional_and_unscored() {
    let mut answers = phq9([1, 1, 1, 1, 1, 0, 0, 0, 0]);
    assert_eq!(
        score_values(scale("phq9"), &answers, None)
            .expect("valid")
            .total,
        5
    );
    answers[9] = Some(3);
    assert_eq!(
        score_values(scale("phq9"), &answers, None)
            .expect("valid")
            .total,
        5
    );
}

#[test]
fn gad7_suggests_gad_from_10() {
    for (total, suggests) in [(9, false), (10, true), (21, true)] {
        let instrument = scale("gad7");
        let scored =
            score_values(instrument, &answers_for(instrument, total), None).expect("valid");
        assert_eq!(
            scored.criteria.contains(&"suggests_gad".to_owned()),
            suggests
        );
    }
}

#[test]
fn audit_scoring_skip_and_risk_cut_offs() {
    let audit = scale("audit");
    // Items 9 and 10 allow only 0, 2 and 4.
    let mut answers = vec![Some(1); 8];
    answers.extend([Some(1), Some(0)]);
    assert_eq!(
        score_values(audit, &answers, None),
        Err(AnswerError::NotAllowed { item: 8, value: 1 })
    );
    // "Never" on item 1 skips items 2–8: answering them is refused, leaving them out scores 0.
    let mut never = vec![Some(0), Some(2)];
    never.extend(vec![None; 6]);
    never.extend([Some(4), Some(4)]);
    assert_eq!(
        score_values(audit, &never, None),
        Err(AnswerError::NotAsked { item: 1 })
    );
    never[1] = None;
    let scored = score_values(audit, &never, None).expect("valid");
    assert_eq!((scored.total, scored.band.as_deref()), (8, Some("zone_ii")));
    assert_eq!(scored.subscales[0], ("consumption".to_owned(), 0));
    assert_eq!(scored.subscales[1], ("dependence_and_harm".to_owned(), 8));
    // Swedish risk cut-offs: 6 for women, 8 for men.
    for (total, women, men) in [
        (5, false, false),
        (6, true, false),
        (7, true, false),
        (8, true, true),
    ] {
        let scored = score_values(audit, &answers_for(audit, total), None).expect("valid");
        assert_eq!(
            scored.criteria.contains(&"risk_women".to_owned()),
            women,
            "{total}"
        );
        assert_eq!(
            scored.criteria.contains(&"risk_men".to_owned()),
            men,
            "{total}"
        );
    }
}

#[test]
fn answers_that_cannot_be_scored_are_refused() {
    let phq = scale("phq9");
    assert_eq!(
        score_values(phq, &[Some(0); 3], None),
        Err(AnswerError::Count {
            expected: 10,
            got: 3
        })
    );
    let mut missing = phq9([0; 9]);
    missing[4] = None;
    assert_eq!(
        score_values(phq, &missing, None),
        Err(AnswerError::Missing { item: 4 })
    );
    for bad in [-1, 4] {
        let mut answers = phq9([0; 9]);
        answers[2] = Some(bad);
        assert_eq!(
            score_values(phq, &answers, None),
            Err(AnswerError::NotAllowed {
                item: 2,
                value: bad
            })
        );
    }
    // ISI ships scoring, never wording.
    assert!(scale("isi").items.iter().all(|i| i.text.is_none()));
}

#[test]
fn a_programs_own_form_reverse_scores_weights_subscales_and_alerts_on_worsening() {
    let mut reversed = Item::scale("calm", 0..=4);
    reversed.reverse = true;
    let mut weighted = Item::scale("sleep", 0..=3);
    weighted.weight = 2;
    let form = Instrument {
        code: "weekly".to_owned(),
        name: "Veckoregistrering".to_owned(),
        items: vec![reversed, weighted, Item::scale("worry", 0..=3)],
        skips: vec![],
        subscales: vec![Subscale {
            code: "rest".to_owned(),
            items: vec![0, 1],
        }],
        bands: vec![],
        alerts: vec![AlertRule::WorsenedBy {
            code: "worse".to_owned(),
            points: 5,
            priority: Priority::Normal,
        }],
        criteria: vec![],
        meaningful_change: None,
    };
    assert_eq!(form.range(), (0, 13));
    // calm 1 → 3 points; sleep 2 × 2 = 4; worry 3.
    let scored = score_values(&form, &[Some(1), Some(2), Some(3)], Some(6)).expect("valid");
    assert_eq!(scored.total, 10);
    assert_eq!(scored.subscales, vec![("rest".to_owned(), 7)]);
    assert_eq!(scored.band, None);
    assert!(scored.alerts.is_empty(), "4 points worse is not 5");
    let scored = score_values(&form, &[Some(1), Some(2), Some(3)], Some(5)).expect("valid");
    assert_eq!(scored.alerts.len(), 1, "5 points worse");
    let first = score_values(&form, &[Some(1), Some(2), Some(3)], None).expect("valid");
    assert!(
        first.alerts.is_empty(),
        "no previous answer, nothing to compare"
    );
}

#[test]
fn every_kind_of_item_is_checked() {
    let mut note = Item::of("note", ItemKind::FreeText { max_chars: 10 });
    note.required = false;
    let form = Instrument {
        code: "kinds".to_owned(),
        name: "Alla sorter".to_owned(),
        items: vec![
            Item::of(
                "symptoms",
                ItemKind::MultipleChoice {
                    values: vec![1, 2, 4],
                },
            ),
            Item::of("hours", ItemKind::Number { min: 0, max: 24 }),
            note,
            Item::of("day", ItemKind::Date),
            Item::of("bedtime", ItemKind::Time),
        ],
        skips: vec![],
        subscales: vec![],
        bands: vec![],
        alerts: vec![],
        criteria: vec![],
        meaningful_change: None,
    };
    assert_eq!(form.range(), (0, 31));
    let good = || {
        vec![
            Some(Answer::Values(vec![1, 4])),
            Some(Answer::Value(7)),
            Some(Answer::Text("Sov dåligt".to_owned())),
            Some(Answer::Text("2024-02-29".to_owned())),
            Some(Answer::Text("23:30".to_owned())),
        ]
    };
    assert_eq!(score(&form, &good(), None).expect("valid").total, 12);
    let refused = |i: usize, answer: Option<Answer>| {
        let mut answers = good();
        answers[i] = answer;
        score(&form, &answers, None).err()
    };
    let text = |t: &str| Some(Answer::Text(t.to_owned()));
    assert_eq!(
        refused(0, Some(Answer::Values(vec![1, 1]))),
        Some(AnswerError::Repeated { item: 0, value: 1 })
    );
    assert_eq!(
        refused(0, Some(Answer::Values(vec![3]))),
        Some(AnswerError::NotAllowed { item: 0, value: 3 })
    );
    assert_eq!(
        refused(0, Some(Answer::Values(vec![]))),
        Some(AnswerError::Missing { item: 0 })
    );
    assert_eq!(
        refused(1, Some(Answer::Value(25))),
        Some(AnswerError::NotAllowed { item: 1, value: 25 })
    );
    assert_eq!(
        refused(1, text("7")),
        Some(AnswerError::WrongKind { item: 1 })
    );
    assert_eq!(
        refused(2, text("elva tecken")),
        Some(AnswerError::TooLong { item: 2, max: 10 })
    );
    assert_eq!(refused(2, None), None, "the note may be left out");
    for day in ["2023-02-29", "2024-13-01", "24-01-01", "2024-1-01", "idag"] {
        assert_eq!(
            refused(3, text(day)),
            Some(AnswerError::Invalid { item: 3 }),
            "{day}"
        );
    }
    for time in ["24:00", "23:60", "7:30", "19.30"] {
        assert_eq!(
            refused(4, text(time)),
            Some(AnswerError::Invalid { item: 4 }),
            "{time}"
        );
    }
    assert_eq!(
        refused(4, text("  ")),
        Some(AnswerError::Missing { item: 4 })
    );
}
