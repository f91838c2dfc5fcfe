//! Signing in through OpenID Connect: patients with a Swedish e-ID (BankID through a broker),
//! staff with a SITHS card through their identity provider.
//!
//! The protocol itself (discovery, PKCE, token checks) runs in the server crate. This module
//! holds what both sides share: the login attempt kept between the redirect and the session,
//! finding or creating the patient or staff member, the assignment picker, and the pages.

mod components;

pub use components::{ChooseAssignmentPage, LoginFailedPage, LoginPage};

#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod attempt;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use leptos::prelude::*;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// The browser's handle on its login attempt: a random token, `__Host-`, ten minutes.
pub const LOGIN_COOKIE: &str = "__Host-lotsen_login";

/// Which ways of signing in this server offers (none in demo mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginMethods {
    pub patient: bool,
    pub staff: bool,
}

/// Why a sign-in failed. The code travels in the error page's address; it says nothing about
/// the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The answer did not belong to a login started in this browser (state or cookie).
    State,
    /// The identity provider refused the code (used before, or not issued to us).
    Code,
    /// The ID token was not for this login attempt (nonce).
    Nonce,
    /// The ID token had expired.
    Expired,
    /// The answer came from an identity provider we do not trust.
    Issuer,
    /// Anything else wrong with the token (signature, audience, algorithm).
    Token,
    /// The personal identity number was missing or invalid.
    Personnummer,
    /// The HSA-ID was missing or invalid.
    HsaId,
    /// Name claims were missing.
    Claims,
    /// The sign-in's level of assurance (`acr`) was missing or not one the server requires.
    Assurance,
    /// The provider did not say when the person authenticated (`auth_time`), or it was longer
    /// ago than the server allows (`max_age`).
    AuthAge,
    /// None of the staff member's assignments is at a care unit that uses Lotsen.
    NoUnit,
    /// The chosen assignment's purpose is not care and treatment, and it carries no
    /// administrative role in Lotsen.
    Purpose,
    /// The user cancelled at the identity provider, or it reported an error.
    Cancelled,
    /// The login attempt had expired (ten minutes) or was already used.
    Stale,
    /// The identity provider could not be reached.
    Unavailable,
}

impl Failure {
    pub const ALL: [Failure; 16] = [
        Self::State,
        Self::Code,
        Self::Nonce,
        Self::Expired,
        Self::Issuer,
        Self::Token,
        Self::Personnummer,
        Self::HsaId,
        Self::Claims,
        Self::Assurance,
        Self::AuthAge,
        Self::NoUnit,
        Self::Purpose,
        Self::Cancelled,
        Self::Stale,
        Self::Unavailable,
    ];

    pub fn as_code(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Code => "code",
            Self::Nonce => "nonce",
            Self::Expired => "expired",
            Self::Issuer => "issuer",
            Self::Token => "token",
            Self::Personnummer => "personnummer",
            Self::HsaId => "hsa-id",
            Self::Claims => "claims",
            Self::Assurance => "assurance",
            Self::AuthAge => "auth-age",
            Self::NoUnit => "no-unit",
            Self::Purpose => "purpose",
            Self::Cancelled => "cancelled",
            Self::Stale => "stale",
            Self::Unavailable => "unavailable",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_code() == code)
    }
}

/// What the assignment picker shows: who signed in, and the assignments at units that use
/// Lotsen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    pub name: String,
    pub hsa_id: String,
    pub assignments: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: i64,
    pub commission_name: String,
    pub purpose: String,
    pub care_unit: String,
    pub care_provider: String,
    /// Purpose "Vård och behandling" at an open unit: opens patient data.
    pub for_care: bool,
}

/// The pending staff login of this browser, if it is at the assignment picker. Anyone may
/// call it; it answers only about the login attempt whose cookie the browser holds.
#[endpoint]
pub async fn login_choices() -> Result<Option<Choices>, AppError> {
    crate::auth::gate::public(ENDPOINT)?;
    let Some(token) = with_context::<http::request::Parts, _>(|parts| {
        attempt::token_from_headers(&parts.headers)
    })
    .flatten() else {
        return Ok(None);
    };
    let db = crate::server::db()?;
    let Some(pending) = attempt::choosing(&db, &token, chrono::Utc::now()).await? else {
        return Ok(None);
    };
    Ok(accounts::choices(&db, &pending).await?)
}
