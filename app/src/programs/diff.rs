//! What changed between two versions of a program, as the publisher reads it, and whether the
//! change is minor or major.
//!
//! Minor: wording and media: what running enrolments may take without any answer, progress or
//! score changing its meaning. Major: everything else (pages, blocks or questionnaires added,
//! removed or moved; a block's kind, fields or condition; a questionnaire's items or scoring;
//! when modules unlock), which only new enrolments get.

use super::content::{
    Block, BlockBody, Media, Module, Program, QuestionnaireDef, Schedule, Section, Step,
};
use serde::{Deserialize, Serialize};

/// Where a change is: the chain from a module down, with each level's key and title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crumb {
    pub level: Level,
    pub key: String,
    /// The title (blocks: their position, from 1), from the newer version where it exists.
    pub title: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Module,
    Section,
    Page,
    Block,
    Questionnaire,
    Schedule,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub at: Vec<Crumb>,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum What {
    Added,
    Removed,
    /// Its position among its siblings (from 1) changed.
    Moved {
        from: usize,
        to: usize,
    },
    /// Wording or media: minor.
    Edited {
        part: Part,
        before: String,
        after: String,
    },
    /// Anything else about it: major.
    Restructured {
        part: Structure,
    },
}

/// The wording and media parts of content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Title,
    Description,
    Text,
    AltText,
    Caption,
    Transcript,
    Instructions,
    FieldLabel,
    ChoiceOption,
    LinkLabel,
    LinkAddress,
    Media,
    Tone,
    ItemText,
}

/// The structural parts of content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Structure {
    /// A block became another kind of block.
    Kind,
    /// The fields a patient fills in (keys, kinds, limits, whether required, how many options).
    Fields,
    /// The questionnaire a block shows.
    Questionnaire,
    /// The condition for showing it.
    Condition,
    /// When the module unlocks.
    Unlock,
    /// A questionnaire's items, scale, scoring, bands or alert rules.
    Scoring,
    /// When a scheduled questionnaire is asked, which one, for how long, whether it blocks.
    Schedule,
}

impl Change {
    pub fn is_major(&self) -> bool {
        !matches!(self.what, What::Edited { .. })
    }
}

/// Every change from `before` to `after`, in reading order.
pub fn diff(before: &Program, after: &Program) -> Vec<Change> {
    let mut out = Diff::default();
    out.edit(Part::Title, &before.title, &after.title);
    out.edit(Part::Description, &before.description, &after.description);
    out.list(
        Level::Module,
        &before.modules,
        &after.modules,
        |m: &Module| (m.key.as_str(), m.title.clone()),
        |d, b, a| {
            d.edit(Part::Title, &b.title, &a.title);
            d.structure(Structure::Unlock, b.unlock != a.unlock);
            d.list(
                Level::Section,
                &b.sections,
                &a.sections,
                |s: &Section| (s.key.as_str(), s.title.clone()),
                |d, b, a| {
                    d.edit(Part::Title, &b.title, &a.title);
                    d.structure(Structure::Condition, b.show_if != a.show_if);
                    d.list(
                        Level::Page,
                        &b.steps,
                        &a.steps,
                        |s: &Step| (s.key.as_str(), s.title.clone()),
                        |d, b, a| {
                            d.edit(Part::Title, &b.title, &a.title);
                            d.list(Level::Block, &b.blocks, &a.blocks, block_title, block);
                        },
                    );
                },
            );
        },
    );
    out.list(
        Level::Questionnaire,
        &before.questionnaires,
        &after.questionnaires,
        |q: &QuestionnaireDef| (q.key.as_str(), q.title.clone()),
        questionnaire,
    );
    out.list(
        Level::Schedule,
        &before.schedules,
        &after.schedules,
        |s: &Schedule| (s.key.as_str(), s.questionnaire.clone()),
        |d, b, a| d.structure(Structure::Schedule, b != a),
    );
    out.changes
}

/// Whether publishing `after` over `before` needs a new major version.
pub fn is_major(changes: &[Change]) -> bool {
    changes.iter().any(Change::is_major)
}

#[derive(Default)]
struct Diff {
    at: Vec<Crumb>,
    changes: Vec<Change>,
}

impl Diff {
    fn push(&mut self, what: What) {
        self.changes.push(Change {
            at: self.at.clone(),
            what,
        });
    }

    fn edit(&mut self, part: Part, before: &str, after: &str) {
        if before != after {
            self.push(What::Edited {
                part,
                before: before.to_owned(),
                after: after.to_owned(),
            });
        }
    }

    fn structure(&mut self, part: Structure, changed: bool) {
        if changed {
            self.push(What::Restructured { part });
        }
    }

    /// Siblings matched by key: added, removed, moved (position among those in both), and
    /// for those in both, what `inner` finds.
    fn list<T>(
        &mut self,
        level: Level,
        before: &[T],
        after: &[T],
        crumb: impl Fn(&T) -> (&str, String),
        mut inner: impl FnMut(&mut Self, &T, &T),
    ) {
        let key = |t: &T| crumb(t).0.to_owned();
        let kept_before: Vec<String> = before
            .iter()
            .map(key)
            .filter(|k| after.iter().any(|a| crumb(a).0 == k))
            .collect();
        let mut kept_after = 0;
        for (i, a) in after.iter().enumerate() {
            let (k, title) = crumb(a);
            self.at.push(Crumb {
                level,
                key: k.to_owned(),
                title: numbered(level, i, title),
            });
            match before.iter().find(|b| crumb(b).0 == k) {
                None => self.push(What::Added),
                Some(b) => {
                    let from = kept_before.iter().position(|x| x == k).unwrap_or(0);
                    if from != kept_after {
                        self.push(What::Moved {
                            from: from + 1,
                            to: kept_after + 1,
                        });
                    }
                    kept_after += 1;
                    inner(self, b, a);
                }
            }
            self.at.pop();
        }
        for (i, b) in before.iter().enumerate() {
            let (k, title) = crumb(b);
            if !after.iter().any(|a| crumb(a).0 == k) {
                self.at.push(Crumb {
                    level,
                    key: k.to_owned(),
                    title: numbered(level, i, title),
                });
                self.push(What::Removed);
                self.at.pop();
            }
        }
    }
}

fn numbered(level: Level, index: usize, title: String) -> String {
    match level {
        Level::Block => (index + 1).to_string(),
        _ => title,
    }
}

fn block_title(b: &Block) -> (&str, String) {
    (b.key.as_str(), String::new())
}

fn block(d: &mut Diff, before: &Block, after: &Block) {
    d.structure(Structure::Condition, before.show_if != after.show_if);
    if std::mem::discriminant(&before.body) != std::mem::discriminant(&after.body) {
        d.push(What::Restructured {
            part: Structure::Kind,
        });
        return;
    }
    let (mut b, mut a) = (before.body.clone(), after.body.clone());
    let (wb, wa) = (wording(&mut b), wording(&mut a));
    // Same kind: the parts are listed in the same order, except where fields or options
    // were added or removed, which the structure comparison below reports.
    if wb.len() == wa.len() {
        for ((part, x), (_, y)) in wb.iter().zip(&wa) {
            d.edit(*part, x, y);
        }
    }
    let structure = match (&before.body, &after.body) {
        (BlockBody::Questionnaire { .. }, _) => Structure::Questionnaire,
        _ => Structure::Fields,
    };
    d.structure(structure, b != a);
}

/// Takes the wording and media out of a block, leaving its structure: what was taken, in a
/// fixed order, and the body with those parts emptied.
fn wording(body: &mut BlockBody) -> Vec<(Part, String)> {
    let mut out = Vec::new();
    let mut take = |part, s: &mut String| out.push((part, std::mem::take(s)));
    let optional = |part, s: &mut Option<String>, take: &mut dyn FnMut(Part, &mut String)| {
        let mut text = s.take().unwrap_or_default();
        take(part, &mut text);
    };
    match body {
        BlockBody::Text { markdown } => take(Part::Text, markdown),
        BlockBody::Image {
            media,
            alt,
            caption,
        } => {
            take(Part::Media, &mut media_name(media));
            take(Part::AltText, alt);
            optional(Part::Caption, caption, &mut take);
        }
        BlockBody::Audio { media, transcript } | BlockBody::Video { media, transcript } => {
            take(Part::Media, &mut media_name(media));
            optional(Part::Transcript, transcript, &mut take);
        }
        BlockBody::Exercise {
            instructions,
            fields,
        }
        | BlockBody::Worksheet {
            instructions,
            fields,
        } => {
            take(Part::Instructions, instructions);
            for field in fields {
                take(Part::FieldLabel, &mut field.label);
                if let super::content::FieldKind::Choice { options } = &mut field.kind {
                    for option in options {
                        take(Part::ChoiceOption, option);
                    }
                }
            }
        }
        BlockBody::Questionnaire { .. } => {}
        BlockBody::InfoBox { tone, markdown } => {
            take(Part::Tone, &mut format!("{tone:?}").to_lowercase());
            *tone = super::content::Tone::Info;
            take(Part::Text, markdown);
        }
        BlockBody::Link { url, label } => {
            take(Part::LinkLabel, label);
            take(Part::LinkAddress, url);
        }
    }
    if let BlockBody::Image { media, .. }
    | BlockBody::Audio { media, .. }
    | BlockBody::Video { media, .. } = body
    {
        *media = Media::External { url: String::new() };
    }
    out
}

/// How a media reference reads in the diff: the file's path or the link.
fn media_name(media: &Media) -> String {
    match media {
        Media::File { path, .. } => path.clone(),
        Media::External { url } => url.clone(),
    }
}

fn questionnaire(d: &mut Diff, before: &QuestionnaireDef, after: &QuestionnaireDef) {
    d.edit(Part::Title, &before.title, &after.title);
    let (mut b, mut a) = (before.clone(), after.clone());
    // The instrument's name and item texts are wording; the title was compared above.
    let texts = |q: &mut QuestionnaireDef| -> Vec<String> {
        q.title.clear();
        if q.scale.is_some() {
            // A library scale's wording: as many texts as the scale has items.
            let items = q.instrument().map(|i| i.items.len()).unwrap_or(0);
            let mut texts = std::mem::take(&mut q.item_texts);
            texts.resize(items.max(texts.len()), String::new());
            return std::iter::once(String::new()).chain(texts).collect();
        }
        match &mut q.instrument {
            Some(instrument) => std::iter::once(std::mem::take(&mut instrument.name))
                .chain(
                    instrument
                        .items
                        .iter_mut()
                        .map(|item| item.text.take().unwrap_or_default()),
                )
                .collect(),
            None => Vec::new(),
        }
    };
    let (tb, ta) = (texts(&mut b), texts(&mut a));
    if tb.len() == ta.len() {
        for (i, (x, y)) in tb.iter().zip(&ta).enumerate() {
            d.edit(if i == 0 { Part::Title } else { Part::ItemText }, x, y);
        }
    }
    d.structure(Structure::Scoring, b != a);
}
