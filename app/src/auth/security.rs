//! The security log: events that are not patient data (those go to the access log), as log
//! lines with one fixed schema under the target `security`. With `--log-format json` each is
//! one JSON object: `timestamp` (UTC), `target`, and the fields `event`, `outcome`, `actor`,
//! `session`, `address` and `detail`.
//!
//! - `actor`: a staff member's HSA-ID, `patient:<internal id>` (`staff:<person id>` for a
//!   staff sign-in before the assignment is chosen), or `-` for nobody signed in; never a
//!   personal identity number.
//! - `session`: the first 16 hex digits of the session token's sha256, or `-`.
//! - `address`: the client's address as the rate limits count it (IPv6 by its /64), or `-`.
//! - `detail`: a code (a role, a refusal reason, an endpoint), never clinical text.

use super::{ClientAddress, Principal};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    SignIn,
    DemoSignIn,
    /// A server function or route refused the caller (401, 403 or 404).
    Refused,
    RoleGranted,
    RoleRevoked,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::DemoSignIn => "demo_sign_in",
            Self::Refused => "authorization_refused",
            Self::RoleGranted => "role_granted",
            Self::RoleRevoked => "role_revoked",
        }
    }
}

/// Writes one security event.
pub fn record(
    event: Event,
    outcome: &str,
    principal: Option<&Principal>,
    address: Option<ClientAddress>,
    detail: &str,
) {
    let actor = principal.map_or_else(|| "-".to_owned(), Principal::actor);
    let session = principal.map_or("-", |p| p.session_tag.as_str());
    write(event, outcome, &actor, session, address, detail);
}

/// Writes one security event for someone who has no session yet: one who just signed in
/// (`patient:<id>`, or `staff:<person id>` until an assignment is chosen).
pub fn record_actor(
    event: Event,
    outcome: &str,
    actor: &str,
    address: Option<ClientAddress>,
    detail: &str,
) {
    write(event, outcome, actor, "-", address, detail);
}

fn write(
    event: Event,
    outcome: &str,
    actor: &str,
    session: &str,
    address: Option<ClientAddress>,
    detail: &str,
) {
    let address = address.map_or_else(|| "-".to_owned(), |a| a.0.to_string());
    tracing::info!(
        target: "security",
        event = event.as_str(),
        outcome,
        actor,
        session,
        address = address.as_str(),
        detail,
        "security event"
    );
}

/// Writes one security event about the request that a server function is answering.
pub fn record_here(event: Event, outcome: &str, detail: &str) {
    let written = leptos::prelude::with_context::<http::request::Parts, _>(|parts| {
        let principal = parts.extensions.get::<Principal>();
        let address = parts.extensions.get::<ClientAddress>().copied();
        record(event, outcome, principal, address, detail);
    });
    if written.is_none() {
        record(event, outcome, None, None, detail);
    }
}
