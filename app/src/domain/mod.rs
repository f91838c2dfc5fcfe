//! Shared domain types: typed ids and validated values. Pure Rust, compiled for the browser and
//! for the server alike.

mod ids;
mod identifiers;

pub use identifiers::{HsaId, IdentifierError, OrgNumber, Personnummer};
pub use ids::*;
