use serde::{Deserialize, Serialize};

/// A questionnaire that can be scored: the standard scales of the library, and the forms a
/// program defines itself (a weekly registration, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// Short stable code, e.g. `phq9`.
    pub code: String,
    pub name: String,
    pub items: Vec<Item>,
    /// Items skipped (and scored 0) when an earlier answer says so.
    pub skips: Vec<Skip>,
    pub subscales: Vec<Subscale>,
    /// Severity bands of the total, in ascending order, covering its whole range.
    pub bands: Vec<Band>,
    pub alerts: Vec<AlertRule>,
    /// Named findings besides the band (e.g. PHQ-9's major depressive syndrome).
    pub criteria: Vec<Criterion>,
}

/// One item. Item numbers in rules are positions in `Instrument::items`, from 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    /// The wording, where we may ship it; `None` for licensed instruments (the licensee enters
    /// it).
    pub text: Option<String>,
    /// The answers allowed, as the values the respondent chooses, in display order.
    pub values: Vec<i32>,
    /// Whether an answer is needed (unless the item is skipped).
    pub required: bool,
    /// Whether the item counts towards the total.
    pub scored: bool,
    /// Scored as (min + max − value).
    pub reverse: bool,
    /// Multiplies the (possibly reversed) value.
    pub weight: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    /// When this item's answer equals `equals` …
    pub item: usize,
    pub equals: i32,
    /// … these items are not asked and score 0.
    pub skipped: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscale {
    pub code: String,
    pub items: Vec<usize>,
}

/// A range of the total, both ends included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub code: String,
    pub from: i32,
    pub to: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal,
    /// To the responsible therapist at once; the patient is shown crisis information.
    Urgent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertRule {
    /// An item answered at or above a value.
    ItemAtLeast {
        code: String,
        item: usize,
        value: i32,
        priority: Priority,
    },
    /// The total at or above a value.
    TotalAtLeast {
        code: String,
        value: i32,
        priority: Priority,
    },
    /// The total at least `points` worse (higher) than the previous time.
    WorsenedBy {
        code: String,
        points: i32,
        priority: Priority,
    },
}

/// A finding that holds when all its conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub code: String,
    pub all_of: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// At least `count` of these (item, minimum answer) pairs are met.
    CountAtLeast {
        items: Vec<(usize, i32)>,
        count: usize,
    },
    TotalAtLeast {
        value: i32,
    },
}

impl Item {
    /// An item answered with one of `values`, required, scored, plain.
    pub fn scale(code: &str, values: impl IntoIterator<Item = i32>) -> Self {
        Self {
            code: code.to_owned(),
            text: None,
            values: values.into_iter().collect(),
            required: true,
            scored: true,
            reverse: false,
            weight: 1,
        }
    }

    pub fn min(&self) -> i32 {
        self.values.iter().copied().min().unwrap_or(0)
    }

    pub fn max(&self) -> i32 {
        self.values.iter().copied().max().unwrap_or(0)
    }

    /// The points this answer gives.
    pub fn points(&self, value: i32) -> i32 {
        let value = if self.reverse {
            self.min() + self.max() - value
        } else {
            value
        };
        value * self.weight
    }
}

impl Instrument {
    /// The lowest and highest total the items allow.
    pub fn range(&self) -> (i32, i32) {
        self.items
            .iter()
            .filter(|i| i.scored)
            .fold((0, 0), |(lo, hi), item| {
                let (a, b) = (item.points(item.min()), item.points(item.max()));
                (lo + a.min(b), hi + a.max(b))
            })
    }
}
