//! The standard scales, scored exactly by their published rules (see
//! `shared/domain/instruments.md` for the rules and their sources).
//!
//! Item wording is not shipped yet: PHQ-9, GAD-7, MADRS-S and AUDIT may carry their official
//! Swedish wording once it is added from the publishers' versions; ISI is licensed and never
//! will (the licensee enters it). Items are numbered from 0 in the rules below, so "item 9"
//! of a scale is index 8.

use super::model::{
    AlertRule, Band, Condition, Criterion, Instrument, Item, Priority, Skip, Subscale,
};
use std::sync::LazyLock;

pub static LIBRARY: LazyLock<Vec<Instrument>> =
    LazyLock::new(|| vec![phq9(), gad7(), madrs_s(), audit(), isi()]);

/// A built-in scale by its code.
pub fn by_code(code: &str) -> Option<&'static Instrument> {
    LIBRARY.iter().find(|i| i.code == code)
}

fn items(prefix: &str, count: usize, values: std::ops::RangeInclusive<i32>) -> Vec<Item> {
    (1..=count)
        .map(|n| Item::scale(&format!("{prefix}_{n}"), values.clone()))
        .collect()
}

fn bands(list: &[(&str, i32, i32)]) -> Vec<Band> {
    list.iter()
        .map(|(code, from, to)| Band {
            code: (*code).to_owned(),
            from: *from,
            to: *to,
        })
        .collect()
}

fn urgent_item(code: &str, item: usize, value: i32) -> AlertRule {
    AlertRule::ItemAtLeast {
        code: code.to_owned(),
        item,
        value,
        priority: Priority::Urgent,
    }
}

/// The total at least `points` worse than the previous answer: a flag to look at within the
/// working day, not an emergency.
fn worsened(code: &str, points: i32) -> AlertRule {
    AlertRule::WorsenedBy {
        code: code.to_owned(),
        points,
        priority: Priority::Normal,
    }
}

fn base(code: &str, name: &str, items: Vec<Item>, band_list: &[(&str, i32, i32)]) -> Instrument {
    Instrument {
        code: code.to_owned(),
        name: name.to_owned(),
        items,
        skips: Vec::new(),
        subscales: Vec::new(),
        bands: bands(band_list),
        alerts: Vec::new(),
        criteria: Vec::new(),
        meaningful_change: None,
    }
}

/// PHQ-9: nine items 0–3 (last two weeks), total 0–27, and an unscored tenth question on how
/// difficult the problems made things (asked when the total is above 0).
fn phq9() -> Instrument {
    let mut items = items("phq9", 9, 0..=3);
    items.push(Item {
        required: false,
        scored: false,
        ..Item::scale("phq9_difficulty", 0..=3)
    });
    let mut scale = base(
        "phq9",
        "PHQ-9",
        items,
        &[
            ("minimal", 0, 4),
            ("mild", 5, 9),
            ("moderate", 10, 14),
            ("moderately_severe", 15, 19),
            ("severe", 20, 27),
        ],
    );
    // Thoughts of death or self-harm, any answer above "not at all".
    scale.alerts.push(urgent_item("phq9_item9", 8, 1));
    // Five points: the minimal clinically important difference (Löwe et al., Monitoring
    // depression treatment outcomes with the PHQ-9, Med Care 2004;42:1194–1201). Five points
    // worse than the previous answer is flagged for the care team.
    scale.meaningful_change = Some(5);
    scale.alerts.push(worsened("phq9_worsened", 5));
    // Major depressive syndrome: item 1 or 2 at ≥ 2, and ≥ 5 of the nine at ≥ 2 (item 9 at ≥ 1).
    let mut five_of: Vec<(usize, i32)> = (0..8).map(|i| (i, 2)).collect();
    five_of.push((8, 1));
    scale.criteria.push(Criterion {
        code: "major_depressive_syndrome".to_owned(),
        all_of: vec![
            Condition::CountAtLeast {
                items: vec![(0, 2), (1, 2)],
                count: 1,
            },
            Condition::CountAtLeast {
                items: five_of,
                count: 5,
            },
        ],
    });
    scale
}

/// GAD-7: seven items 0–3, total 0–21; 10 or more suggests generalised anxiety disorder.
fn gad7() -> Instrument {
    let mut scale = base(
        "gad7",
        "GAD-7",
        items("gad7", 7, 0..=3),
        &[
            ("minimal", 0, 4),
            ("mild", 5, 9),
            ("moderate", 10, 14),
            ("severe", 15, 21),
        ],
    );
    scale.criteria.push(Criterion {
        code: "suggests_gad".to_owned(),
        all_of: vec![Condition::TotalAtLeast { value: 10 }],
    });
    // Four points: the minimal clinically important difference (Toussaint et al., Sensitivity
    // to change and minimal clinically important difference of the GAD-7, J Affect Disord
    // 2020;265:395–401). Four points worse than the previous answer is flagged.
    scale.meaningful_change = Some(4);
    scale.alerts.push(worsened("gad7_worsened", 4));
    scale
}

/// MADRS-S: nine items 0–6 (last three days), total 0–54. Item 9 (zest for life) at 4 or more
/// is urgent.
fn madrs_s() -> Instrument {
    let mut scale = base(
        "madrs_s",
        "MADRS-S",
        items("madrs_s", 9, 0..=6),
        &[
            ("minimal", 0, 12),
            ("mild", 13, 19),
            ("moderate", 20, 34),
            ("severe", 35, 54),
        ],
    );
    scale.alerts.push(urgent_item("madrs_s_item9", 8, 4));
    scale
}

/// AUDIT: items 1–8 scored 0–4, items 9–10 only 0, 2 or 4; total 0–40, WHO risk zones I–IV.
/// Item 1 answered "never" (0) skips items 2–8, which then score 0; items 9–10 are still
/// asked. Swedish risk cut-offs: 6 for women, 8 for men.
fn audit() -> Instrument {
    let mut items = items("audit", 8, 0..=4);
    items.push(Item::scale("audit_9", [0, 2, 4]));
    items.push(Item::scale("audit_10", [0, 2, 4]));
    let mut scale = base(
        "audit",
        "AUDIT",
        items,
        &[
            ("zone_i", 0, 7),
            ("zone_ii", 8, 15),
            ("zone_iii", 16, 19),
            ("zone_iv", 20, 40),
        ],
    );
    scale.skips.push(Skip {
        item: 0,
        equals: 0,
        skipped: (1..=7).collect(),
    });
    // Consumption (items 1–3) and harm (4–10), as the WHO manual reads them.
    scale.subscales = vec![
        Subscale {
            code: "consumption".to_owned(),
            items: vec![0, 1, 2],
        },
        Subscale {
            code: "dependence_and_harm".to_owned(),
            items: (3..10).collect(),
        },
    ];
    for (code, value) in [("risk_women", 6), ("risk_men", 8)] {
        scale.criteria.push(Criterion {
            code: code.to_owned(),
            all_of: vec![Condition::TotalAtLeast { value }],
        });
    }
    scale
}

/// ISI: seven items 0–4, total 0–28. Licensed: scoring only, no wording.
fn isi() -> Instrument {
    base(
        "isi",
        "ISI",
        items("isi", 7, 0..=4),
        &[
            ("none", 0, 7),
            ("subthreshold", 8, 14),
            ("moderate", 15, 21),
            ("severe", 22, 28),
        ],
    )
}
