//! Versions of a program: the numbers MAJOR.MINOR, and the draft the design tool edits.
//! Shared by the server and the browser.

use super::{Problem, Program};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VersionNumber {
    pub major: i32,
    pub minor: i32,
}

impl std::fmt::Display for VersionNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Which number publishing gives: the next major, or the next minor of the current major.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bump {
    Major,
    Minor,
}

/// The draft the design tool edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub program_id: i64,
    /// Counts saves; a save names the revision it was made on.
    pub revision: i32,
    pub program: Program,
    /// The latest published version, which the draft started from (if any).
    pub based_on: Option<VersionNumber>,
    /// The validation report of this content (what stops publishing, and warnings).
    pub problems: Vec<Problem>,
}
