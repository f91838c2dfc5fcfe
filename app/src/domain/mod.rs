//! Shared domain types: typed ids and validated values. Pure Rust, compiled for the browser and
//! for the server alike.

mod care;
mod identifiers;
mod ids;

pub use care::EnrolmentState;
pub use identifiers::{HsaId, IdentifierError, OrgNumber, Personnummer};
pub use ids::*;
