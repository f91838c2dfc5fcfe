//! The patient-data access log (Patient Data Act, 4 ch. 3 §): who read or changed which
//! patient's data, when, in which assignment and care unit, and whether it was allowed.
//!
//! Rows are hash-chained: `hash = sha256(prev_hash || canonical(row))`, one chain for real care
//! and one per demo sandbox. The application has no update or delete path for real rows, and on
//! PostgreSQL a trigger refuses them. [`verify`] walks every chain and names the first row whose
//! content or link does not match.

#[cfg(feature = "ssr")]
mod chain;

#[cfg(feature = "ssr")]
pub(crate) use chain::hex;
#[cfg(feature = "ssr")]
pub use chain::{Action, Broken, Entry, Outcome, VerifyReport, append, append_all, verify};
