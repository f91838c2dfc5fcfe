//! `lotsen setup …`: what a platform operator does once, before anyone signs in for real:
//! register a care provider and its care units, register a staff member by HSA-ID, and grant
//! the first roles (a care-provider administrator, who then does the rest in the browser).
//!
//! Every command is idempotent: running it again changes nothing and says so.

use crate::ServeError;
use app::auth::Role;
use app::db::entities::{care_provider, care_unit, staff_role};
use app::domain::{HsaId, OrgNumber};
use app::login::accounts::{register_staff, staff_identity};
use clap::Subcommand;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

#[derive(Debug, Clone, Subcommand)]
pub enum SetupCommand {
    /// Register a care provider (a region or a private provider).
    Provider {
        /// Organisation number, e.g. 232100-0016.
        #[arg(long)]
        org_number: String,
        #[arg(long)]
        name: String,
        /// "region" or "private".
        #[arg(long, default_value = "region")]
        kind: String,
        /// Two-digit county code (län), e.g. 01 for Stockholm.
        #[arg(long)]
        county: String,
    },
    /// Register a care unit of a care provider.
    Unit {
        /// The care provider's organisation number.
        #[arg(long)]
        provider: String,
        /// The unit's HSA-ID, e.g. SE2321000016-ABC1.
        #[arg(long)]
        hsa_id: String,
        #[arg(long)]
        name: String,
        /// Staff here may open records outside a care relationship, stating a reason.
        #[arg(long)]
        emergency_access: bool,
    },
    /// Register a staff member by HSA-ID, before their first sign-in (to grant them a role).
    Staff {
        #[arg(long)]
        hsa_id: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
    },
    /// Grant a role: at a unit (`--unit`), or provider-wide (care-provider administrator,
    /// auditor).
    Grant {
        /// The staff member's HSA-ID.
        #[arg(long)]
        hsa_id: String,
        /// therapist, patient_admin, access_admin, provider_admin, producer, publisher,
        /// operator or auditor.
        #[arg(long)]
        role: String,
        /// The care provider's organisation number.
        #[arg(long)]
        provider: String,
        /// The unit's HSA-ID, for unit roles.
        #[arg(long)]
        unit: Option<String>,
    },
}

fn invalid(what: &str) -> ServeError {
    ServeError::Config(what.to_owned())
}

fn db_error(err: sea_orm::DbErr) -> ServeError {
    ServeError::Database(crate::db::DbSetupError::Setup(err))
}

pub async fn run(database_url: &str, command: &SetupCommand) -> Result<(), ServeError> {
    let db = crate::db::connect(database_url).await?;
    crate::db::migrate(&db).await?;
    let message = execute(&db, command).await?;
    println!("{message}");
    let _ = db.close().await;
    Ok(())
}

/// The care provider with this organisation number, if registered.
async fn find_provider(
    db: &DatabaseConnection,
    org: &OrgNumber,
) -> Result<Option<care_provider::Model>, ServeError> {
    care_provider::Entity::find()
        .filter(care_provider::Column::OrgNumber.eq(org.as_str()))
        .filter(care_provider::Column::SandboxId.is_null())
        .one(db)
        .await
        .map_err(db_error)
}

fn org_number(value: &str) -> Result<OrgNumber, ServeError> {
    OrgNumber::parse(value).map_err(|_| invalid("invalid organisation number"))
}

fn hsa_id(value: &str) -> Result<HsaId, ServeError> {
    HsaId::parse(value).map_err(|_| invalid("invalid HSA-ID"))
}

/// A registered care provider, or a clear error.
async fn provider_by_org(
    db: &DatabaseConnection,
    org: &str,
) -> Result<care_provider::Model, ServeError> {
    find_provider(db, &org_number(org)?)
        .await?
        .ok_or_else(|| invalid("no care provider with that organisation number"))
}

/// A name of 1 to `max` characters, trimmed.
fn name<'a>(value: &'a str, max: usize, what: &'static str) -> Result<&'a str, ServeError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(invalid(what));
    }
    Ok(trimmed)
}

/// Carries out one setup command and returns what it did, in a sentence.
pub async fn execute(
    db: &DatabaseConnection,
    command: &SetupCommand,
) -> Result<String, ServeError> {
    let now = chrono::Utc::now();
    match command {
        SetupCommand::Provider {
            org_number,
            name,
            kind,
            county,
        } => {
            let org = self::org_number(org_number)?;
            let Ok(kind) = <app::domain::ProviderKind as sea_orm::ActiveEnum>::try_from_value(kind)
            else {
                return Err(invalid("--kind must be region or private"));
            };
            if county.len() != 2 || !county.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("--county must be two digits"));
            }
            let name = self::name(name, 200, "--name must be 1–200 characters")?;
            if find_provider(db, &org).await?.is_some() {
                return Ok(format!("Care provider {org} already registered."));
            }
            care_provider::ActiveModel {
                name: Set(name.to_owned()),
                org_number: Set(org.as_str().to_owned()),
                county_code: Set(county.clone()),
                kind: Set(kind),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(db_error)?;
            Ok(format!("Care provider {org} registered."))
        }
        SetupCommand::Unit {
            provider,
            hsa_id,
            name,
            emergency_access,
        } => {
            let provider = provider_by_org(db, provider).await?;
            let hsa = self::hsa_id(hsa_id)?;
            let name = self::name(name, 200, "--name must be 1–200 characters")?;
            let existing = care_unit::Entity::find()
                .filter(care_unit::Column::HsaId.eq(hsa.as_str()))
                .filter(care_unit::Column::SandboxId.is_null())
                .one(db)
                .await
                .map_err(db_error)?;
            if let Some(unit) = existing {
                if unit.care_provider_id != provider.id {
                    return Err(invalid("that HSA-ID belongs to a unit of another provider"));
                }
                return Ok(format!("Care unit {hsa} already registered."));
            }
            care_unit::ActiveModel {
                care_provider_id: Set(provider.id),
                hsa_id: Set(hsa.as_str().to_owned()),
                name: Set(name.to_owned()),
                active: Set(true),
                allows_emergency_access: Set(*emergency_access),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(db_error)?;
            Ok(format!("Care unit {hsa} registered."))
        }
        SetupCommand::Staff {
            hsa_id,
            given_name,
            family_name,
        } => {
            let hsa = self::hsa_id(hsa_id)?;
            let given = name(given_name, 100, "names must be 1–100 characters")?;
            let family = name(family_name, 100, "names must be 1–100 characters")?;
            if staff_identity(db, &hsa).await.map_err(db_error)?.is_some() {
                return Ok(format!("Staff member {hsa} already registered."));
            }
            register_staff(db, &hsa, given, family)
                .await
                .map_err(db_error)?;
            Ok(format!("Staff member {hsa} registered."))
        }
        SetupCommand::Grant {
            hsa_id,
            role,
            provider,
            unit,
        } => {
            let role = Role::from_code(role).ok_or_else(|| invalid("unknown role"))?;
            let provider = provider_by_org(db, provider).await?;
            let hsa = self::hsa_id(hsa_id)?;
            let identity = staff_identity(db, &hsa)
                .await
                .map_err(db_error)?
                .ok_or_else(|| invalid("no staff member with that HSA-ID (lotsen setup staff)"))?;
            let unit_id = match unit {
                None => None,
                Some(unit) => {
                    let unit = HsaId::parse(unit).map_err(|_| invalid("invalid unit HSA-ID"))?;
                    let found = care_unit::Entity::find()
                        .filter(care_unit::Column::HsaId.eq(unit.as_str()))
                        .filter(care_unit::Column::CareProviderId.eq(provider.id))
                        .one(db)
                        .await
                        .map_err(db_error)?
                        .ok_or_else(|| invalid("no such unit at that care provider"))?;
                    Some(found.id)
                }
            };
            let mut query = staff_role::Entity::find()
                .filter(staff_role::Column::StaffPersonId.eq(identity.staff_person_id))
                .filter(staff_role::Column::CareProviderId.eq(provider.id))
                .filter(staff_role::Column::Role.eq(role.as_code()))
                .filter(staff_role::Column::RevokedAt.is_null());
            query = match unit_id {
                Some(id) => query.filter(staff_role::Column::CareUnitId.eq(id)),
                None => query.filter(staff_role::Column::CareUnitId.is_null()),
            };
            if query.one(db).await.map_err(db_error)?.is_some() {
                return Ok(format!("{hsa} already holds {}.", role.as_code()));
            }
            staff_role::ActiveModel {
                staff_person_id: Set(identity.staff_person_id),
                care_provider_id: Set(provider.id),
                care_unit_id: Set(unit_id),
                role: Set(role),
                granted_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(db_error)?;
            Ok(format!("{hsa} granted {}.", role.as_code()))
        }
    }
}
