//! The signed-in user's own account: who am I (for the page frame), my sessions (see them and
//! end the others), and signing out (a form the server answers, see the server's routes).

mod components;

pub use components::{AccountPage, PersonaSwitch, persona_text};

use crate::auth::Me;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use leptos::prelude::*;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// What every page's frame needs: demo or real mode, and who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSession {
    pub demo: bool,
    /// The ways of signing in that this server offers (none in demo mode).
    pub login: crate::login::LoginMethods,
    pub me: Option<Me>,
}

/// Public: anonymous callers get `me: None`.
#[endpoint]
pub async fn whoami() -> Result<SiteSession, AppError> {
    crate::auth::gate::public(ENDPOINT)?;
    Ok(site_session())
}

/// The same answer as [`whoami`], for the frame of a page that the server renders: the
/// request's session is already resolved, so it is worked out at once, without a task.
#[cfg(feature = "ssr")]
pub fn site_session() -> SiteSession {
    SiteSession {
        demo: use_context::<crate::server::DemoMode>().is_some_and(|m| m.0),
        login: use_context::<crate::login::LoginMethods>().unwrap_or_default(),
        me: crate::auth::gate::principal().map(|p| p.me()),
    }
}

/// One of the user's sessions. No tokens, no addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: i64,
    pub current: bool,
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub started: String,
    pub last_seen: String,
    pub device: String,
}

#[endpoint]
pub async fn my_sessions() -> Result<Vec<SessionInfo>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let format = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    Ok(crate::auth::session::of_same_user(&db, &principal)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            id: s.id,
            current: s.id == principal.session_id,
            started: format(s.created_at),
            last_seen: format(s.last_seen_at),
            device: s.user_agent.unwrap_or_default(),
        })
        .collect())
}

/// Ends one of the caller's own sessions. Another user's session answers "not found".
#[endpoint]
pub async fn end_session(session_id: i64) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let own = crate::auth::session::of_same_user(&db, &principal)
        .await?
        .into_iter()
        .any(|s| s.id == session_id);
    if !own {
        return Err(crate::auth::gate::refuse(AppError::NotFound));
    }
    crate::auth::session::end(&db, session_id).await?;
    Ok(())
}
