//! The report a program must pass before it is published (and a package before it is
//! imported): every problem with the path to where it is.

use super::content::{
    Block, BlockBody, Field, FieldKind, Media, Program, ScheduleStart, ShowIf, UnlockRule,
};
use crate::instruments::{AlertRule, Instrument};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Limits and allow-lists for content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub max_title_chars: usize,
    pub max_text_chars: usize,
    /// Hosts external media may come from (HTTPS only).
    pub media_hosts: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            max_title_chars: 200,
            max_text_chars: 20_000,
            media_hosts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where: e.g. `modules[0].sections[1].steps[2].blocks[0]`.
    pub path: String,
    pub kind: ProblemKind,
    /// Errors stop publishing; warnings do not.
    pub blocking: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    MissingTitle,
    TooLong {
        max: usize,
    },
    /// More modules, sections, pages, blocks, questionnaires or items than a program may have
    /// (so that checking, review and comparing versions stay fast).
    TooMany {
        max: usize,
    },
    InvalidKey,
    DuplicateKey {
        key: String,
    },
    EmptyProgram,
    EmptyModule,
    EmptySection,
    EmptyPage,
    EmptyBlock,
    ImageWithoutAlt,
    /// Markdown with HTML in it: it would be shown as text, never run.
    HtmlInMarkdown,
    UnsafeLink,
    MediaNotAllowed,
    MediaType {
        mime: String,
    },
    MediaPath,
    /// An uploaded file the program names is not among the program's files (or is not the
    /// size or type it says).
    MediaMissing,
    NoFields,
    UnknownQuestionnaire {
        key: String,
    },
    UnknownScale {
        code: String,
    },
    NoInstrument,
    BrokenCondition,
    /// An item whose answers are not defined: a choice without values, or a number whose
    /// lowest allowed value is above its highest.
    BadItem,
    /// The condition reads a questionnaire that is not answered before this point (or is
    /// answered here: a circle).
    ConditionBeforeAnswer {
        questionnaire: String,
    },
    AlertsWithoutBands,
    BandsWithGaps,
    UnusedQuestionnaire {
        key: String,
    },
    /// A schedule names a module the program does not have.
    UnknownModule {
        key: String,
    },
    /// A number of days out of its range: a repeat of 1–365 days, a window of 1–365 days, a
    /// module opening at most 3650 days after enrolment, a follow-up flag after 0–365 days.
    BadDays,
}

impl ProblemKind {
    /// Input that not even a draft may hold: too long, malformed, unsafe, or a condition that
    /// can never be met. The rest (empty pages, a missing title) is merely unfinished, which a
    /// draft may be until it is published.
    pub fn refused_in_draft(&self) -> bool {
        matches!(
            self,
            Self::TooLong { .. }
                | Self::TooMany { .. }
                | Self::InvalidKey
                | Self::DuplicateKey { .. }
                | Self::UnsafeLink
                | Self::MediaNotAllowed
                | Self::MediaType { .. }
                | Self::MediaPath
                | Self::MediaMissing
                | Self::UnknownScale { .. }
                | Self::BrokenCondition
                | Self::ConditionBeforeAnswer { .. }
                | Self::BadDays
        )
    }
}

struct Check<'a> {
    rules: &'a Rules,
    problems: Vec<Problem>,
    keys: HashSet<String>,
}

impl Check<'_> {
    fn error(&mut self, path: &str, kind: ProblemKind) {
        self.problems.push(Problem {
            path: path.to_owned(),
            kind,
            blocking: true,
        });
    }

    fn warn(&mut self, path: &str, kind: ProblemKind) {
        self.problems.push(Problem {
            path: path.to_owned(),
            kind,
            blocking: false,
        });
    }

    fn title(&mut self, path: &str, title: &str) {
        if title.trim().is_empty() {
            self.error(path, ProblemKind::MissingTitle);
        } else if title.chars().count() > self.rules.max_title_chars {
            self.error(
                path,
                ProblemKind::TooLong {
                    max: self.rules.max_title_chars,
                },
            );
        }
    }

    /// A program's own instrument: items worded, answerable and uniquely coded; its rules
    /// name items it has.
    fn instrument(&mut self, path: &str, instrument: &Instrument) {
        use crate::instruments::{AlertRule, ItemKind};
        if instrument.items.is_empty() {
            self.error(path, ProblemKind::NoInstrument);
        }
        let mut codes = HashSet::new();
        for (n, item) in instrument.items.iter().enumerate() {
            let here = format!("{path}.items[{n}]");
            self.title(&here, item.text.as_deref().unwrap_or_default());
            if !well_formed_key(&item.code) {
                self.error(&here, ProblemKind::InvalidKey);
            } else if !codes.insert(item.code.as_str()) {
                self.error(
                    &here,
                    ProblemKind::DuplicateKey {
                        key: item.code.clone(),
                    },
                );
            }
            let answerable = match &item.kind {
                ItemKind::Choice { values } | ItemKind::MultipleChoice { values } => {
                    !values.is_empty()
                }
                ItemKind::Number { min, max } => min <= max,
                ItemKind::FreeText { max_chars } => *max_chars > 0,
                ItemKind::Date | ItemKind::Time => true,
            };
            if !answerable {
                self.error(&here, ProblemKind::BadItem);
            }
        }
        let items = instrument.items.len();
        let bad_index = instrument
            .alerts
            .iter()
            .any(|a| matches!(a, AlertRule::ItemAtLeast { item, .. } if *item >= items))
            || instrument
                .skips
                .iter()
                .any(|s| s.item >= items || s.skipped.iter().any(|i| *i >= items))
            || instrument
                .subscales
                .iter()
                .any(|s| s.items.iter().any(|i| *i >= items));
        if bad_index {
            self.error(path, ProblemKind::BrokenCondition);
        }
        // Each alert rule raises its own flag, named by its code: two rules with one code
        // would share one flag.
        let mut codes = std::collections::BTreeSet::new();
        for alert in &instrument.alerts {
            let code = match alert {
                AlertRule::ItemAtLeast { code, .. }
                | AlertRule::TotalAtLeast { code, .. }
                | AlertRule::WorsenedBy { code, .. } => code,
            };
            if !codes.insert(code.as_str()) {
                self.error(path, ProblemKind::DuplicateKey { key: code.clone() });
            }
        }
    }

    /// Keys: 1–64 of `a-z`, `0-9`, `-`, `_`, unique in the program.
    fn key(&mut self, path: &str, key: &str) {
        if !well_formed_key(key) {
            self.error(path, ProblemKind::InvalidKey);
        } else if !self.keys.insert(key.to_owned()) {
            self.error(
                path,
                ProblemKind::DuplicateKey {
                    key: key.to_owned(),
                },
            );
        }
    }

    fn markdown(&mut self, path: &str, text: &str) {
        if text.chars().count() > self.rules.max_text_chars {
            self.error(
                path,
                ProblemKind::TooLong {
                    max: self.rules.max_text_chars,
                },
            );
        }
        if looks_like_html(text) {
            self.warn(path, ProblemKind::HtmlInMarkdown);
        }
    }

    fn media(&mut self, path: &str, media: &Media, kind: &str) {
        match media {
            Media::File {
                path: file, mime, ..
            } => {
                let safe = super::media::safe_path(file);
                if !safe {
                    self.error(path, ProblemKind::MediaPath);
                }
                if !allowed_mime(kind, mime) {
                    self.error(path, ProblemKind::MediaType { mime: mime.clone() });
                }
            }
            // Not filled in yet: unfinished (stops publishing), not bad input.
            Media::External { url } if url.trim().is_empty() => {
                self.error(path, ProblemKind::EmptyBlock);
            }
            Media::External { url } => {
                let allowed = media_host(url).is_some_and(|h| {
                    self.rules
                        .media_hosts
                        .iter()
                        .any(|a| h == *a || h.ends_with(&format!(".{a}")))
                });
                if !allowed {
                    self.error(path, ProblemKind::MediaNotAllowed);
                }
            }
        }
    }

    fn fields(&mut self, path: &str, fields: &[Field]) {
        if fields.is_empty() {
            self.error(path, ProblemKind::NoFields);
        }
        let mut seen = HashSet::new();
        for (i, field) in fields.iter().enumerate() {
            let here = format!("{path}.fields[{i}]");
            self.title(&here, &field.label);
            if !seen.insert(field.key.as_str()) {
                self.error(
                    &here,
                    ProblemKind::DuplicateKey {
                        key: field.key.clone(),
                    },
                );
            }
            if let FieldKind::Choice { options } = &field.kind
                && options.is_empty()
            {
                self.error(&here, ProblemKind::NoFields);
            }
        }
    }
}

/// Keys and item codes: 1–64 of `a-z`, `0-9`, `-`, `_`.
fn well_formed_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn looks_like_html(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
}

fn allowed_mime(kind: &str, mime: &str) -> bool {
    super::media::allowed_types(kind).contains(&mime)
}

pub(crate) fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
}

/// Whether an instrument's bands cover its range without gaps or overlaps.
fn bands_cover(instrument: &Instrument) -> bool {
    let (lo, hi) = instrument.range();
    let bands = &instrument.bands;
    bands.first().is_some_and(|b| b.from == lo)
        && bands.last().is_some_and(|b| b.to == hi)
        && bands.windows(2).all(|p| p[0].to + 1 == p[1].from)
        && bands.iter().all(|b| b.from <= b.to)
}

/// Checks a program; an empty list means it may be published.
/// How large a program's structure may be.
pub mod caps {
    pub const MODULES: usize = 50;
    pub const SECTIONS_PER_MODULE: usize = 50;
    pub const PAGES_PER_SECTION: usize = 100;
    pub const BLOCKS_PER_PAGE: usize = 100;
    /// Blocks in the whole program.
    pub const BLOCKS: usize = 3_000;
    pub const QUESTIONNAIRES: usize = 50;
    pub const ITEMS_PER_QUESTIONNAIRE: usize = 200;
    pub const SCHEDULES: usize = 50;
}

/// Parts of the structure beyond [`caps`], each with its path; a program with any is checked no
/// further.
fn oversized(program: &Program) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut over = |path: String, count: usize, max: usize| {
        if count > max {
            problems.push(Problem {
                path,
                kind: ProblemKind::TooMany { max },
                blocking: true,
            });
        }
    };
    over("modules".to_owned(), program.modules.len(), caps::MODULES);
    over(
        "questionnaires".to_owned(),
        program.questionnaires.len(),
        caps::QUESTIONNAIRES,
    );
    over(
        "schedules".to_owned(),
        program.schedules.len(),
        caps::SCHEDULES,
    );
    let mut blocks = 0;
    for (m, module) in program.modules.iter().enumerate() {
        let path = format!("modules[{m}]");
        over(
            format!("{path}.sections"),
            module.sections.len(),
            caps::SECTIONS_PER_MODULE,
        );
        for (s, section) in module.sections.iter().enumerate() {
            let path = format!("{path}.sections[{s}]");
            over(
                format!("{path}.steps"),
                section.steps.len(),
                caps::PAGES_PER_SECTION,
            );
            for (g, step) in section.steps.iter().enumerate() {
                blocks += step.blocks.len();
                over(
                    format!("{path}.steps[{g}].blocks"),
                    step.blocks.len(),
                    caps::BLOCKS_PER_PAGE,
                );
            }
        }
    }
    over("modules".to_owned(), blocks, caps::BLOCKS);
    for (q, questionnaire) in program.questionnaires.iter().enumerate() {
        if let Some(instrument) = &questionnaire.instrument {
            over(
                format!("questionnaires[{q}].instrument.items"),
                instrument.items.len(),
                caps::ITEMS_PER_QUESTIONNAIRE,
            );
        }
        over(
            format!("questionnaires[{q}].item_texts"),
            questionnaire.item_texts.len(),
            caps::ITEMS_PER_QUESTIONNAIRE,
        );
    }
    problems
}

pub fn validate(program: &Program, rules: &Rules) -> Vec<Problem> {
    let oversized = oversized(program);
    if !oversized.is_empty() {
        return oversized;
    }
    let mut check = Check {
        rules,
        problems: Vec::new(),
        keys: HashSet::new(),
    };
    check.title("title", &program.title);

    // The questionnaires and the codes their conditions may read.
    let mut instruments: HashMap<&str, Option<&Instrument>> = HashMap::new();
    for (i, q) in program.questionnaires.iter().enumerate() {
        let path = format!("questionnaires[{i}]");
        check.key(&path, &q.key);
        check.title(&path, &q.title);
        let instrument = q.instrument();
        match (&q.scale, instrument) {
            (Some(code), None) => {
                check.error(&path, ProblemKind::UnknownScale { code: code.clone() })
            }
            (None, None) => check.error(&path, ProblemKind::NoInstrument),
            (_, Some(instrument)) => {
                if q.scale.is_some() {
                    if q.item_texts.len() > instrument.items.len() {
                        check.error(&path, ProblemKind::BrokenCondition);
                    }
                    for (n, text) in q.item_texts.iter().enumerate() {
                        if !text.trim().is_empty() {
                            check.title(&format!("{path}.item_texts[{n}]"), text);
                        }
                    }
                } else {
                    check.instrument(&path, instrument);
                }
                let needs_bands = instrument.alerts.iter().any(|a| {
                    matches!(
                        a,
                        AlertRule::TotalAtLeast { .. } | AlertRule::WorsenedBy { .. }
                    )
                });
                if instrument.bands.is_empty() && needs_bands {
                    check.error(&path, ProblemKind::AlertsWithoutBands);
                } else if !instrument.bands.is_empty() && !bands_cover(instrument) {
                    check.error(&path, ProblemKind::BandsWithGaps);
                }
            }
        }
        instruments.insert(q.key.as_str(), instrument);
    }

    // Walk the pages in the order the patient meets them; note where each questionnaire is
    // first answered.
    let mut order = 0usize;
    let mut answered_at: HashMap<&str, usize> = HashMap::new();
    // A form asked at enrolment is answered before any page is shown (it may block them): a
    // condition anywhere may read it. Forms asked later are counted from no page.
    for schedule in &program.schedules {
        if schedule.starts == ScheduleStart::Enrolment {
            answered_at.insert(schedule.questionnaire.as_str(), 0);
        }
    }
    let mut conditions: Vec<(String, &ShowIf, usize)> = Vec::new();
    if program.modules.is_empty() {
        check.error("modules", ProblemKind::EmptyProgram);
    }
    let follow_up = program.follow_up;
    if follow_up.inactive_days.max(follow_up.homework_days) > crate::programs::FollowUp::MAX_DAYS {
        check.error("follow_up", ProblemKind::BadDays);
    }
    for (m, module) in program.modules.iter().enumerate() {
        let path = format!("modules[{m}]");
        check.key(&path, &module.key);
        check.title(&path, &module.title);
        if let UnlockRule::AfterDays { days } = module.unlock
            && days > 3650
        {
            check.error(&format!("{path}.unlock"), ProblemKind::BadDays);
        }
        if module.sections.is_empty() {
            check.error(&path, ProblemKind::EmptyModule);
        }
        for (s, section) in module.sections.iter().enumerate() {
            let path = format!("modules[{m}].sections[{s}]");
            check.key(&path, &section.key);
            check.title(&path, &section.title);
            if section.steps.is_empty() {
                check.error(&path, ProblemKind::EmptySection);
            }
            if let Some(show_if) = &section.show_if {
                conditions.push((path.clone(), show_if, order));
            }
            for (p, step) in section.steps.iter().enumerate() {
                let path = format!("{path}.steps[{p}]");
                check.key(&path, &step.key);
                check.title(&path, &step.title);
                if step.blocks.is_empty() {
                    check.error(&path, ProblemKind::EmptyPage);
                }
                for (b, block) in step.blocks.iter().enumerate() {
                    let path = format!("{path}.blocks[{b}]");
                    order += 1;
                    if let Some(show_if) = &block.show_if {
                        conditions.push((path.clone(), show_if, order));
                    }
                    block_problems(&mut check, &path, block, &instruments);
                    if let BlockBody::Questionnaire { questionnaire } = &block.body {
                        answered_at.entry(questionnaire.as_str()).or_insert(order);
                    }
                }
            }
        }
    }

    for (path, show_if, at) in conditions {
        let Some(instrument) = instruments.get(show_if.questionnaire.as_str()) else {
            check.error(&path, ProblemKind::BrokenCondition);
            continue;
        };
        let item_known = show_if.item == "total"
            || instrument.is_some_and(|i| i.items.iter().any(|item| item.code == show_if.item));
        if !item_known {
            check.error(&path, ProblemKind::BrokenCondition);
            continue;
        }
        // A block's own questionnaire is answered at `at`: not before it.
        let before = answered_at
            .get(show_if.questionnaire.as_str())
            .is_some_and(|first| *first < at);
        if !before {
            check.error(
                &path,
                ProblemKind::ConditionBeforeAnswer {
                    questionnaire: show_if.questionnaire.clone(),
                },
            );
        }
    }
    for (i, schedule) in program.schedules.iter().enumerate() {
        let path = format!("schedules[{i}]");
        check.key(&path, &schedule.key);
        if !instruments.contains_key(schedule.questionnaire.as_str()) {
            check.error(
                &path,
                ProblemKind::UnknownQuestionnaire {
                    key: schedule.questionnaire.clone(),
                },
            );
        }
        if let ScheduleStart::ModuleOpens { module } | ScheduleStart::ModuleFinished { module } =
            &schedule.starts
            && !program.modules.iter().any(|m| &m.key == module)
        {
            check.error(
                &path,
                ProblemKind::UnknownModule {
                    key: module.clone(),
                },
            );
        }
        let in_range = |days: u16| (1..=365).contains(&days);
        if !in_range(schedule.window_days) || schedule.every_days.is_some_and(|d| !in_range(d)) {
            check.error(&path, ProblemKind::BadDays);
        }
        answered_at
            .entry(schedule.questionnaire.as_str())
            .or_insert(usize::MAX);
    }
    for (i, q) in program.questionnaires.iter().enumerate() {
        if !answered_at.contains_key(q.key.as_str()) {
            check.warn(
                &format!("questionnaires[{i}]"),
                ProblemKind::UnusedQuestionnaire { key: q.key.clone() },
            );
        }
    }
    check.problems
}

fn block_problems(
    check: &mut Check<'_>,
    path: &str,
    block: &Block,
    instruments: &HashMap<&str, Option<&Instrument>>,
) {
    check.key(path, &block.key);
    match &block.body {
        BlockBody::Text { markdown } | BlockBody::InfoBox { markdown, .. } => {
            if markdown.trim().is_empty() {
                check.error(path, ProblemKind::EmptyBlock);
            }
            check.markdown(path, markdown);
        }
        BlockBody::Image {
            media,
            alt,
            caption,
        } => {
            check.media(path, media, "image");
            if alt.trim().is_empty() {
                check.error(path, ProblemKind::ImageWithoutAlt);
            }
            if let Some(caption) = caption {
                check.markdown(path, caption);
            }
        }
        BlockBody::Audio { media, transcript } | BlockBody::Video { media, transcript } => {
            let kind = if matches!(block.body, BlockBody::Audio { .. }) {
                "audio"
            } else {
                "video"
            };
            check.media(path, media, kind);
            if let Some(text) = transcript {
                check.markdown(path, text);
            }
        }
        BlockBody::Exercise {
            instructions,
            fields,
        }
        | BlockBody::Worksheet {
            instructions,
            fields,
        } => {
            check.markdown(path, instructions);
            check.fields(path, fields);
        }
        BlockBody::Questionnaire { questionnaire } => {
            if !instruments.contains_key(questionnaire.as_str()) {
                check.error(
                    path,
                    ProblemKind::UnknownQuestionnaire {
                        key: questionnaire.clone(),
                    },
                );
            }
        }
        BlockBody::Link { url, label } => {
            check.title(path, label);
            if !safe_link(url) {
                check.error(path, ProblemKind::UnsafeLink);
            }
        }
    }
}

/// The host of an external media link, lower case, if the link is plain `https://host/…`.
/// Browsers read a backslash as a slash and drop what comes before an `@`, so a link with
/// either (or a port, spaces, or anything but letters, digits, dots and hyphens in the host)
/// could go elsewhere than it seems to: it has no host that an allow-list could match.
pub fn media_host(url: &str) -> Option<String> {
    if url
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let host = url
        .strip_prefix("https://")?
        .split(['/', '?', '#'])
        .next()?;
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    plain.then(|| host.to_ascii_lowercase())
}
