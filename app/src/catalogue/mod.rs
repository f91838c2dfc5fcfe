//! The catalogue: published programs and who may use them. The publisher shares a program with
//! other care providers (sharing agreements) and unpublishes versions (no new enrolments; those
//! running continue). The care-provider administrator sees what their provider may use — All,
//! Available, Active, Unpublished — and activates or deactivates a version on their units.

mod components;
#[cfg(feature = "ssr")]
pub mod store;

pub use components::{CataloguePage, PublisherControls};

use crate::error::AppError;
use crate::programs::version::VersionNumber;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

/// Another care provider, and whether the program is shared with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    pub provider_id: i64,
    pub name: String,
    pub shared: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionState {
    pub number: VersionNumber,
    /// Published versions may be activated; unpublished ones no longer.
    pub published: bool,
}

/// A version in use at one of the caller's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub number: VersionNumber,
    /// Running enrolments at the unit on an earlier minor version of the same major one:
    /// they stay on it until the minor upgrade is applied.
    pub behind: u64,
}

/// One program the caller's care provider may use (its own, or shared with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    pub program_id: i64,
    pub title: String,
    pub owner: String,
    /// Newest first; drafts are never listed.
    pub versions: Vec<VersionState>,
    pub active: Vec<Activation>,
}

impl CatalogueEntry {
    /// A published version that may be activated.
    pub fn available(&self) -> bool {
        self.versions.iter().any(|v| v.published)
    }

    /// Every version is unpublished.
    pub fn unpublished(&self) -> bool {
        !self.available()
    }

    pub fn is_active(&self) -> bool {
        !self.active.is_empty()
    }
}

/// The catalogue and the caller's units (where versions can be activated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub entries: Vec<CatalogueEntry>,
    /// (id, name) of the caller's care provider's open units.
    pub units: Vec<(i64, String)>,
}

#[endpoint]
pub async fn program_partners(program_id: i64) -> Result<Vec<Partner>, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    store::partners(&db, store::scope(&principal)?, program_id)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn share_program(program_id: i64, provider_id: i64, share: bool) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let by = principal.staff().map(|s| s.staff_person_id);
    store::share(
        &db,
        store::scope(&principal)?,
        program_id,
        provider_id,
        share,
        by,
    )
    .await
    .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn unpublish_version(program_id: i64, major: i32, minor: i32) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let number = VersionNumber { major, minor };
    store::unpublish(&db, store::scope(&principal)?, program_id, number)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint("catalogue")]
pub async fn get_catalogue() -> Result<Catalogue, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    store::catalogue(&db, store::scope(&principal)?)
        .await
        .map_err(crate::auth::gate::refuse)
}

/// `version` is MAJOR.MINOR, as the catalogue's form sends it.
#[endpoint]
pub async fn activate_program(
    program_id: i64,
    version: String,
    unit_id: i64,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let number = parse_version(&version).ok_or_else(|| {
        crate::auth::gate::refuse(AppError::Invalid {
            field: "version".to_owned(),
            reason: "format".to_owned(),
        })
    })?;
    let db = crate::server::db()?;
    let by = principal.staff().map(|s| s.staff_person_id);
    store::activate(
        &db,
        store::scope(&principal)?,
        program_id,
        number,
        unit_id,
        by,
    )
    .await
    .map_err(crate::auth::gate::refuse)
}

/// `1.2` → 1.2; anything else is not a version number.
pub fn parse_version(text: &str) -> Option<VersionNumber> {
    let (major, minor) = text.trim().split_once('.')?;
    let number = VersionNumber {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    };
    (number.major >= 1 && number.minor >= 0).then_some(number)
}

/// Moves the running enrolments at an activation's unit that are on an earlier minor version
/// of the same major version onto the activated one (minor versions change wording only).
/// Returns how many moved.
#[endpoint]
pub async fn upgrade_enrolments(activation_id: i64) -> Result<u64, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    store::upgrade(
        &db,
        store::scope(&principal)?,
        activation_id,
        Some(&principal),
    )
    .await
    .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn deactivate_program(activation_id: i64) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let by = principal.staff().map(|s| s.staff_person_id);
    store::deactivate(&db, store::scope(&principal)?, activation_id, by)
        .await
        .map_err(crate::auth::gate::refuse)
}
