//! What server functions get from the server: the database connection, provided as Leptos
//! context by the axum integration for every server-function call and every SSR render.

use crate::error::AppError;
use leptos::prelude::use_context;
use sea_orm::DatabaseConnection;

/// The database connection of this request.
pub fn db() -> Result<DatabaseConnection, AppError> {
    use_context::<DatabaseConnection>().ok_or_else(|| {
        tracing::error!("no database connection in context");
        AppError::Unavailable
    })
}

/// Whether this server runs in demo mode (every visitor in a sandbox) or real mode. Never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoMode(pub bool);
