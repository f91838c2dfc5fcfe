//! Versions of a program: the numbers MAJOR.MINOR, and the draft the design tool edits.
//! Shared by the server and the browser.

use super::{Problem, Program};
#[cfg(feature = "ssr")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// Where a program version stands. Stored in `program_version.status` as its code; SeaORM
/// reads and writes it as this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")
)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// The producer's working copy (one per program).
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "draft"))]
    Draft,
    /// Published: may be activated and shared; never changes again.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "published"))]
    Published,
    /// Taken out of use by the publisher: no new activations; enrolments on it go on.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "unpublished"))]
    Unpublished,
}

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
