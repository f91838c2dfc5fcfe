//! Programs: the content model (program → modules → sections → steps, one step a page →
//! blocks, and the program's questionnaires) shared by the design tool, the patient's pages
//! and program packages, and the validation report a program must pass before publishing.

mod content;
pub mod diff;
pub mod markdown;
pub mod media;
#[cfg(feature = "package")]
pub mod package;
pub mod render;
#[cfg(feature = "ssr")]
pub mod store;
mod validate;
pub mod version;

pub use content::{
    Block, BlockBody, Field, FieldKind, FollowUp, Media, Module, Program, QuestionnaireDef,
    Schedule, ScheduleStart, Section, ShowIf, ShowOp, Step, Tone, UnlockRule,
};
pub use validate::{Problem, ProblemKind, Rules, caps, validate};
