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
    /// The smallest change of the total that counts as a real change for the patient (the
    /// minimal clinically important difference), where one is published: the care team sees
    /// a change at least this large from the first answer or the previous one marked as such.
    /// Higher totals are worse on every scale that has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaningful_change: Option<i32>,
}

/// One item. Item numbers in rules are positions in `Instrument::items`, from 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    /// The wording, where we may ship it; `None` for licensed instruments (the licensee enters
    /// it).
    pub text: Option<String>,
    pub kind: ItemKind,
    /// Whether an answer is needed (unless the item is skipped).
    pub required: bool,
    /// Whether the item counts towards the total (choices and numbers only).
    pub scored: bool,
    /// Scored as (min + max − value).
    pub reverse: bool,
    /// Multiplies the (possibly reversed) value.
    pub weight: i32,
}

/// What kind of answer an item takes, and its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemKind {
    /// One of the listed values: a single choice, or a step on a scale.
    Choice { values: Vec<i32> },
    /// Any of the listed values, each at most once; scored as their sum.
    MultipleChoice { values: Vec<i32> },
    /// A whole number within bounds (a number field or a slider).
    Number { min: i32, max: i32 },
    /// Text of at most `max_chars` characters; never scored.
    FreeText { max_chars: u32 },
    /// A date, `YYYY-MM-DD`; never scored.
    Date,
    /// A time of day, `HH:MM`; never scored.
    Time,
}

/// One answer, of the kind its item takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Value(i32),
    Values(Vec<i32>),
    Text(String),
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
    /// A required, scored item answered with one of `values`.
    pub fn scale(code: &str, values: impl IntoIterator<Item = i32>) -> Self {
        Self::of(
            code,
            ItemKind::Choice {
                values: values.into_iter().collect(),
            },
        )
    }

    /// A required item of this kind, scored if its kind can be.
    pub fn of(code: &str, kind: ItemKind) -> Self {
        let scored = matches!(
            kind,
            ItemKind::Choice { .. } | ItemKind::MultipleChoice { .. } | ItemKind::Number { .. }
        );
        Self {
            code: code.to_owned(),
            text: None,
            kind,
            required: true,
            scored,
            reverse: false,
            weight: 1,
        }
    }

    /// The values a choice item offers.
    pub fn choices(&self) -> &[i32] {
        match &self.kind {
            ItemKind::Choice { values } | ItemKind::MultipleChoice { values } => values,
            _ => &[],
        }
    }

    /// The lowest and highest value one answer can carry.
    fn bounds(&self) -> (i32, i32) {
        match &self.kind {
            ItemKind::Choice { values } => (
                values.iter().copied().min().unwrap_or(0),
                values.iter().copied().max().unwrap_or(0),
            ),
            ItemKind::MultipleChoice { values } => (
                values.iter().filter(|v| **v < 0).sum(),
                values.iter().filter(|v| **v > 0).sum(),
            ),
            ItemKind::Number { min, max } => (*min, *max),
            _ => (0, 0),
        }
    }

    /// The points a value (or the sum of chosen values) gives.
    pub fn points(&self, value: i32) -> i32 {
        let value = if self.reverse {
            let (min, max) = self.bounds();
            min + max - value
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
                let (min, max) = item.bounds();
                let (a, b) = (item.points(min), item.points(max));
                (lo + a.min(b), hi + a.max(b))
            })
    }
}
