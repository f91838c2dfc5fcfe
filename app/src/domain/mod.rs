//! Shared domain types: validated values and the states of care. Pure Rust, compiled for the
//! browser and for the server alike.

mod care;
mod identifiers;
#[cfg(feature = "ssr")]
pub mod time;
#[cfg(feature = "ssr")]
pub mod workdays;

pub use care::{
    EndReason, EnrolmentState, FlagKind, FlagPriority, ProviderKind, ResponseState, flag_reason,
};
pub use identifiers::{HsaId, IdentifierError, OrgNumber, Personnummer};

// Ids stay plain `i64`. Typed ids (`PatientId`, …) were defined here but used nowhere; what they
// would guard against — a patient query reached with the wrong id — is prevented by the scoping
// values instead (`auth::scope`): queries of patient data take the gate's decision, not an id.
