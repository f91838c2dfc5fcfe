//! Questionnaires and rating scales: how an instrument is defined (items, allowed answers,
//! scoring, severity bands, alert rules), how answers are checked and scored, and the built-in
//! library of standard scales.
//!
//! This is shared Rust: the browser may show a live total, the server is the authority and
//! checks every answer before it scores it.

mod library;
mod model;
mod score;

pub use library::{LIBRARY, by_code};
pub use model::{
    AlertRule, Answer, Band, Condition, Criterion, Instrument, Item, ItemKind, Priority, Skip,
    Subscale,
};
pub use score::{Alert, AnswerError, Scored, score};
