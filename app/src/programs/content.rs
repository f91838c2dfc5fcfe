use crate::instruments::Instrument;
use serde::{Deserialize, Serialize};

/// A program's content as one document: what a version freezes at publication, what the
/// design tool edits, and what a program package carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub title: String,
    pub description: String,
    pub modules: Vec<Module>,
    pub questionnaires: Vec<QuestionnaireDef>,
    /// The questionnaires asked on a schedule, apart from the pages (absent from packages of
    /// format version 1: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    /// When the server raises a flag for the care team by itself (absent: the defaults).
    #[serde(default, skip_serializing_if = "FollowUp::is_default")]
    pub follow_up: FollowUp,
}

/// A program's rules for the flags the server raises when a patient falls behind. A day count
/// of 0 turns that flag off. Days are Swedish calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FollowUp {
    /// A patient who has done nothing in the program (no page opened, nothing answered or
    /// sent) for this many days is flagged as inactive.
    pub inactive_days: u16,
    /// A module's worksheets not all sent this many days after the patient first opened the
    /// module are flagged as overdue homework.
    pub homework_days: u16,
}

impl FollowUp {
    /// The most days either may be set to (a year).
    pub const MAX_DAYS: u16 = 365;

    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for FollowUp {
    /// Two weeks without activity; a week for a module's homework.
    fn default() -> Self {
        Self {
            inactive_days: 14,
            homework_days: 7,
        }
    }
}

impl Program {
    /// A program with nothing in it yet.
    pub fn empty() -> Self {
        Self {
            title: String::new(),
            description: String::new(),
            modules: Vec::new(),
            questionnaires: Vec::new(),
            schedules: Vec::new(),
            follow_up: FollowUp::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    /// Stable within the program (survives reordering and minor versions).
    pub key: String,
    pub title: String,
    pub unlock: UnlockRule,
    pub sections: Vec<Section>,
}

/// When a module opens for the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockRule {
    Open,
    /// When the previous module is finished.
    AfterPrevious,
    /// When the therapist has given feedback on the previous module.
    AfterFeedback,
    /// On the `days`-th day after enrolment (the day of enrolment is day 0), counted in
    /// Swedish calendar days, whatever came before.
    AfterDays {
        days: u16,
    },
}

/// A questionnaire the patient is asked to answer on a schedule: at enrolment, when a module
/// opens or is finished, or at the end of the program; once, or again every so many days; open
/// for a window of days. Each time it is asked is its own instance (a due form), answered once.
///
/// A questionnaire block on a page and a scheduled form are never the same instance: the block
/// is answered once, where it stands on its page; a schedule asks anew each time it falls due.
/// Both feed the same results and the same `show_if` conditions (the latest submitted answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Stable within the program.
    pub key: String,
    /// The questionnaire asked, by key.
    pub questionnaire: String,
    pub starts: ScheduleStart,
    /// Asked again every this many days after the first time; `None`: asked once.
    pub every_days: Option<u16>,
    /// How many days each instance stays open (from the day it falls due), and never past the
    /// day the next one falls due. A patient away longer meets only the newest instance.
    pub window_days: u16,
    /// Shown before the content: the program's pages wait until it is answered. Otherwise the
    /// patient may leave it and it lapses when its window closes.
    pub blocking: bool,
}

/// When a schedule is first due: `"enrolment"`, `{"module_opens": {"module": "m1"}}`, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleStart {
    /// The day of enrolment.
    Enrolment,
    /// The day a module opens for the patient.
    ModuleOpens { module: String },
    /// The day the patient finishes a module.
    ModuleFinished { module: String },
    /// The day the patient finishes the program's last module.
    ProgramFinished,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub key: String,
    pub title: String,
    pub show_if: Option<ShowIf>,
    pub steps: Vec<Step>,
}

/// One page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub key: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub key: String,
    pub show_if: Option<ShowIf>,
    pub body: BlockBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockBody {
    /// A Markdown subset, rendered safely (never raw HTML).
    Text {
        markdown: String,
    },
    Image {
        media: Media,
        /// Required: what the image shows, for those who cannot see it.
        alt: String,
        caption: Option<String>,
    },
    Audio {
        media: Media,
        transcript: Option<String>,
    },
    Video {
        media: Media,
        transcript: Option<String>,
    },
    /// Structured fields the patient fills in and may save.
    Exercise {
        instructions: String,
        fields: Vec<Field>,
    },
    /// A worksheet: like an exercise, and the therapist sees it.
    Worksheet {
        instructions: String,
        fields: Vec<Field>,
    },
    /// One of the program's questionnaires, by key.
    Questionnaire {
        questionnaire: String,
    },
    InfoBox {
        tone: Tone,
        markdown: String,
    },
    Link {
        url: String,
        label: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Info,
    Tip,
    Warning,
}

/// An uploaded file in the media directory, or an external link from the allow-list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Media {
    File {
        /// Relative to the media directory, e.g. `sleep/diary.png`.
        path: String,
        mime: String,
        bytes: u64,
    },
    External {
        url: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    Text { max_chars: u32 },
    Number { min: i32, max: i32 },
    Date,
    Time,
    Choice { options: Vec<String> },
}

/// A program questionnaire: a built-in scale (`scale`, scored by the library) or the
/// program's own instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireDef {
    pub key: String,
    pub title: String,
    pub scale: Option<String>,
    pub instrument: Option<Instrument>,
    /// For a library scale: the items' wording, in order, as the care provider entered it
    /// from its own (licensed or official) copy. The library ships scoring, not wording.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_texts: Vec<String>,
}

/// Show a section or block only when an earlier answer meets a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowIf {
    pub questionnaire: String,
    /// An item's code, or `total` for the questionnaire's total.
    pub item: String,
    pub op: ShowOp,
    pub value: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShowOp {
    AtLeast,
    AtMost,
    Equals,
}

impl QuestionnaireDef {
    /// The instrument that scores this questionnaire.
    pub fn instrument(&self) -> Option<&Instrument> {
        match &self.scale {
            Some(code) => crate::instruments::by_code(code),
            None => self.instrument.as_ref(),
        }
    }

    /// The instrument as the patient sees it: a library scale with the wording entered for it.
    pub fn worded(&self) -> Option<Instrument> {
        let mut instrument = self.instrument()?.clone();
        if self.scale.is_some() {
            for (item, text) in instrument.items.iter_mut().zip(&self.item_texts) {
                if !text.trim().is_empty() {
                    item.text = Some(text.clone());
                }
            }
        }
        Some(instrument)
    }
}
