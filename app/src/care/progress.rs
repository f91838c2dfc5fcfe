//! How far a patient has come in a program, from what their record holds: which modules are
//! open, which pages and blocks they are shown, and when a module is finished. Pure: the
//! server decides with it what it serves (a locked module's pages are refused, not hidden), and
//! the tests state the rules with it.

use crate::instruments::Answer;
use crate::programs::{BlockBody, Module, Program, ShowIf, ShowOp, Step, UnlockRule};
use std::collections::{BTreeMap, BTreeSet};

/// A questionnaire's latest submitted answers in this enrolment: what `show_if` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latest {
    pub total: Option<i32>,
    /// Item code → the numeric value of its answer (a choice, a number, a sum of choices).
    pub values: BTreeMap<String, i32>,
}

/// What the patient's record says about their progress.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// (module key, page key) of every page opened.
    pub seen: BTreeSet<(String, String)>,
    /// Questionnaire key → its latest submitted answers.
    pub latest: BTreeMap<String, Latest>,
    /// Block keys of the worksheets submitted.
    pub worksheets_submitted: BTreeSet<String>,
    /// Module keys the therapist gave feedback on.
    pub feedback: BTreeSet<String>,
    /// Swedish calendar days since enrolment (the day of enrolment is 0).
    pub day: i64,
    /// Module keys the therapist opened before their rule would.
    pub unlocked: BTreeSet<String>,
    /// Module keys the therapist hid from the patient.
    pub hidden: BTreeSet<String>,
    /// The open due forms: (schedule key, instance number).
    pub due: Vec<(String, u32)>,
    /// The due forms answered: (schedule key, instance number).
    pub due_answered: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModuleStatus {
    /// Not open yet: its content is refused.
    Locked,
    Open,
    /// Open, its last page seen and its worksheets submitted.
    Finished,
    /// Hidden from the patient by the therapist: not shown, its content refused, and the
    /// module after it does not wait for it.
    Hidden,
}

impl ModuleStatus {
    pub fn is_open(self) -> bool {
        matches!(self, Self::Open | Self::Finished)
    }
}

/// Whether a condition holds on the latest answers. Unanswered means it does not: content
/// that depends on an answer stays hidden until there is one.
pub fn holds(show_if: &ShowIf, latest: &BTreeMap<String, Latest>) -> bool {
    let Some(answers) = latest.get(&show_if.questionnaire) else {
        return false;
    };
    let value = if show_if.item == "total" {
        answers.total
    } else {
        answers.values.get(&show_if.item).copied()
    };
    value.is_some_and(|v| match show_if.op {
        ShowOp::AtLeast => v >= show_if.value,
        ShowOp::AtMost => v <= show_if.value,
        ShowOp::Equals => v == show_if.value,
    })
}

fn shown(show_if: &Option<ShowIf>, record: &Record) -> bool {
    show_if.as_ref().is_none_or(|c| holds(c, &record.latest))
}

/// The module's pages the patient is shown, in order: those of the sections whose condition
/// holds, each with only the blocks whose condition holds.
pub fn visible_steps(module: &Module, record: &Record) -> Vec<Step> {
    module
        .sections
        .iter()
        .filter(|section| shown(&section.show_if, record))
        .flat_map(|section| &section.steps)
        .map(|step| Step {
            key: step.key.clone(),
            title: step.title.clone(),
            blocks: step
                .blocks
                .iter()
                .filter(|block| shown(&block.show_if, record))
                .cloned()
                .collect(),
        })
        .collect()
}

/// Last page seen and every worksheet shown submitted.
fn finished(module: &Module, record: &Record) -> bool {
    let steps = visible_steps(module, record);
    let last_seen = steps.last().is_none_or(|last| {
        record
            .seen
            .contains(&(module.key.clone(), last.key.clone()))
    });
    let worksheets_in = steps.iter().flat_map(|s| &s.blocks).all(|block| {
        !matches!(block.body, BlockBody::Worksheet { .. })
            || record.worksheets_submitted.contains(&block.key)
    });
    last_seen && worksheets_in
}

/// Each module's status, in order. A module opens by its rule: `Open` at once;
/// `AfterPrevious` when the module before it is finished; `AfterFeedback` when the therapist
/// has given feedback on the module before it; `AfterDays(n)` on the n-th day after enrolment.
/// The first module has nothing before it (but waits for its day under `AfterDays`). The
/// therapist may open a module early (it is open whatever its rule) or hide it (the module
/// after it then looks past it, to the one before).
pub fn statuses(program: &Program, record: &Record) -> Vec<ModuleStatus> {
    let mut out: Vec<ModuleStatus> = Vec::with_capacity(program.modules.len());
    for (index, module) in program.modules.iter().enumerate() {
        if record.hidden.contains(&module.key) {
            out.push(ModuleStatus::Hidden);
            continue;
        }
        // The nearest module before it that the patient is shown.
        let previous = (0..index)
            .rev()
            .find(|&i| out[i] != ModuleStatus::Hidden)
            .map(|i| (&program.modules[i], out[i]));
        let open = record.unlocked.contains(&module.key)
            || match (module.unlock, previous) {
                (UnlockRule::AfterDays { days }, _) => record.day >= i64::from(days),
                (UnlockRule::Open, _) | (_, None) => true,
                (UnlockRule::AfterPrevious, Some((_, status))) => status == ModuleStatus::Finished,
                (UnlockRule::AfterFeedback, Some((before, status))) => {
                    status.is_open() && record.feedback.contains(&before.key)
                }
            };
        out.push(match open {
            false => ModuleStatus::Locked,
            true if finished(module, record) => ModuleStatus::Finished,
            true => ModuleStatus::Open,
        });
    }
    out
}

/// The numeric value of an answer, as scoring sees it.
pub fn numeric(answer: &Answer) -> Option<i32> {
    match answer {
        Answer::Value(v) => Some(*v),
        Answer::Values(vs) => Some(vs.iter().sum()),
        Answer::Text(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programs::{Block, Section};

    fn step(key: &str, blocks: Vec<Block>) -> Step {
        Step {
            key: key.to_owned(),
            title: key.to_owned(),
            blocks,
        }
    }

    fn text(key: &str, show_if: Option<ShowIf>) -> Block {
        Block {
            key: key.to_owned(),
            show_if,
            body: BlockBody::Text {
                markdown: "x".to_owned(),
            },
        }
    }

    fn worksheet(key: &str) -> Block {
        Block {
            key: key.to_owned(),
            show_if: None,
            body: BlockBody::Worksheet {
                instructions: String::new(),
                fields: Vec::new(),
            },
        }
    }

    fn module(key: &str, unlock: UnlockRule, sections: Vec<Section>) -> Module {
        Module {
            key: key.to_owned(),
            title: key.to_owned(),
            unlock,
            sections,
        }
    }

    fn section(key: &str, show_if: Option<ShowIf>, steps: Vec<Step>) -> Section {
        Section {
            key: key.to_owned(),
            title: key.to_owned(),
            show_if,
            steps,
        }
    }

    fn high_worry() -> ShowIf {
        ShowIf {
            questionnaire: "gad7".to_owned(),
            item: "total".to_owned(),
            op: ShowOp::AtLeast,
            value: 10,
        }
    }

    fn program() -> Program {
        Program {
            title: "P".to_owned(),
            description: String::new(),
            questionnaires: Vec::new(),
            follow_up: Default::default(),
            schedules: Vec::new(),
            modules: vec![
                module(
                    "m1",
                    UnlockRule::Open,
                    vec![
                        section("s1", None, vec![step("p1", vec![]), step("p2", vec![])]),
                        section("s2", Some(high_worry()), vec![step("p3", vec![])]),
                    ],
                ),
                module(
                    "m2",
                    UnlockRule::AfterPrevious,
                    vec![section(
                        "s3",
                        None,
                        vec![step(
                            "p4",
                            vec![
                                text("t1", None),
                                text("t2", Some(high_worry())),
                                worksheet("w1"),
                            ],
                        )],
                    )],
                ),
                module(
                    "m3",
                    UnlockRule::AfterFeedback,
                    vec![section("s4", None, vec![step("p5", vec![])])],
                ),
            ],
        }
    }

    fn seen(record: &mut Record, module: &str, step: &str) {
        record.seen.insert((module.to_owned(), step.to_owned()));
    }

    #[test]
    fn a_module_opens_by_its_rule() {
        use ModuleStatus::*;
        let program = program();
        let mut record = Record::default();
        assert_eq!(statuses(&program, &record), [Open, Locked, Locked]);
        seen(&mut record, "m1", "p1");
        assert_eq!(statuses(&program, &record), [Open, Locked, Locked]);
        // The last page shown finishes it; the hidden section's page is not asked for.
        seen(&mut record, "m1", "p2");
        assert_eq!(statuses(&program, &record), [Finished, Open, Locked]);
        // The last page seen is not enough while the worksheet is not submitted.
        seen(&mut record, "m2", "p4");
        assert_eq!(statuses(&program, &record), [Finished, Open, Locked]);
        record.worksheets_submitted.insert("w1".to_owned());
        assert_eq!(statuses(&program, &record), [Finished, Finished, Locked]);
        record.feedback.insert("m2".to_owned());
        assert_eq!(statuses(&program, &record), [Finished, Finished, Open]);
    }

    #[test]
    fn a_module_after_days_opens_on_its_day_whatever_came_before() {
        let mut program = program();
        program.modules[2].unlock = UnlockRule::AfterDays { days: 7 };
        let mut record = Record {
            day: 6,
            ..Record::default()
        };
        assert_eq!(statuses(&program, &record)[2], ModuleStatus::Locked);
        record.day = 7;
        assert_eq!(statuses(&program, &record)[2], ModuleStatus::Open);
        // Also the first module waits for its day.
        program.modules[0].unlock = UnlockRule::AfterDays { days: 1 };
        record.day = 0;
        assert_eq!(statuses(&program, &record)[0], ModuleStatus::Locked);
    }

    #[test]
    fn the_therapist_opens_a_module_early_or_hides_one_that_the_next_then_skips() {
        use ModuleStatus::*;
        let program = program();
        let mut record = Record::default();
        // m3 waits for feedback on m2; opened early it is open at once, whatever came before.
        record.unlocked.insert("m3".to_owned());
        assert_eq!(statuses(&program, &record), [Open, Locked, Open]);
        record.unlocked.clear();
        // m2 hidden: m3 waits for feedback on m1 instead (the module before it that is shown).
        record.hidden.insert("m2".to_owned());
        assert_eq!(statuses(&program, &record), [Open, Hidden, Locked]);
        record.feedback.insert("m1".to_owned());
        assert_eq!(statuses(&program, &record), [Open, Hidden, Open]);
        // Hidden beats opened early, and a hidden module is not open.
        record.unlocked.insert("m2".to_owned());
        assert_eq!(statuses(&program, &record)[1], Hidden);
        assert!(!Hidden.is_open());
    }

    #[test]
    fn feedback_on_a_locked_module_opens_nothing() {
        let program = program();
        let mut record = Record::default();
        record.feedback.insert("m2".to_owned());
        assert_eq!(statuses(&program, &record)[2], ModuleStatus::Locked);
    }

    #[test]
    fn show_if_reads_the_latest_answer_and_unanswered_hides() {
        let program = program();
        let mut record = Record::default();
        let keys = |steps: Vec<Step>| steps.into_iter().map(|s| s.key).collect::<Vec<_>>();
        assert_eq!(
            keys(visible_steps(&program.modules[0], &record)),
            ["p1", "p2"]
        );
        record.latest.insert(
            "gad7".to_owned(),
            Latest {
                total: Some(9),
                values: BTreeMap::new(),
            },
        );
        assert_eq!(
            keys(visible_steps(&program.modules[0], &record)),
            ["p1", "p2"]
        );
        if let Some(latest) = record.latest.get_mut("gad7") {
            latest.total = Some(10);
        }
        assert_eq!(
            keys(visible_steps(&program.modules[0], &record)),
            ["p1", "p2", "p3"]
        );
        // With the section shown, its page is now the last one and must be seen.
        seen(&mut record, "m1", "p1");
        seen(&mut record, "m1", "p2");
        assert_eq!(statuses(&program, &record)[0], ModuleStatus::Open);
        let blocks: Vec<String> = visible_steps(&program.modules[1], &record)[0]
            .blocks
            .iter()
            .map(|b| b.key.clone())
            .collect();
        assert_eq!(blocks, ["t1", "t2", "w1"]);
    }

    #[test]
    fn an_item_condition_compares_the_items_value() {
        let mut latest = BTreeMap::new();
        latest.insert(
            "week".to_owned(),
            Latest {
                total: None,
                values: [("tired".to_owned(), 3)].into_iter().collect(),
            },
        );
        let at = |op, value| ShowIf {
            questionnaire: "week".to_owned(),
            item: "tired".to_owned(),
            op,
            value,
        };
        assert!(holds(&at(ShowOp::AtLeast, 3), &latest));
        assert!(!holds(&at(ShowOp::AtLeast, 4), &latest));
        assert!(holds(&at(ShowOp::AtMost, 3), &latest));
        assert!(holds(&at(ShowOp::Equals, 3), &latest));
        assert!(!holds(&at(ShowOp::Equals, 2), &latest));
        let mut other = at(ShowOp::AtLeast, 0);
        other.item = "missing".to_owned();
        assert!(!holds(&other, &latest));
    }
}
