//! The error that server functions return to the browser: a short, stable code that the page
//! shows translated. Internal details (database messages, paths) are logged on the server and
//! never sent.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Nobody is signed in, or the session has ended.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but not allowed to do this.
    #[error("forbidden")]
    Forbidden,
    /// No such thing, or it belongs to another tenant.
    #[error("not found")]
    NotFound,
    /// Bad input: which field, and a stable code for why.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The thing was changed in a way that cannot be undone, and this request would change it
    /// again (a submitted answer, say).
    #[error("conflict")]
    Conflict,
    #[error("service unavailable")]
    Unavailable,
    /// The request never reached our code, or its answer could not be read.
    #[error("request failed")]
    Request,
}

/// Bad input in a field, with a stable code for why.
pub fn invalid(field: &str, reason: &str) -> AppError {
    AppError::Invalid {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        tracing::warn!(error = %value, "server function transport error");
        let _ = value;
        AppError::Request
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Unavailable
    }
}
