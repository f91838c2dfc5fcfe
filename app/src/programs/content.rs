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
}

impl Program {
    /// A program with nothing in it yet.
    pub fn empty() -> Self {
        Self {
            title: String::new(),
            description: String::new(),
            modules: Vec::new(),
            questionnaires: Vec::new(),
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
