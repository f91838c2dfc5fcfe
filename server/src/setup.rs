//! `lotsen setup …`: what a platform operator does once, before anyone signs in for real:
//! register a care provider and its care units, register a staff member by HSA-ID, and grant
//! the first roles (a care-provider administrator, who then does the rest in the browser).
//!
//! Every command is idempotent: running it again changes nothing and says so.

use crate::ServeError;
use app::auth::Role;
use app::db::entities::{care_provider, care_unit, staff_hsa_identity, staff_person, staff_role};
use app::domain::{HsaId, OrgNumber};
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

async fn provider_by_org(
    db: &DatabaseConnection,
    org: &str,
) -> Result<care_provider::Model, ServeError> {
    let org = OrgNumber::parse(org).map_err(|_| invalid("invalid organisation number"))?;
    care_provider::Entity::find()
        .filter(care_provider::Column::OrgNumber.eq(org.as_str()))
        .filter(care_provider::Column::SandboxId.is_null())
        .one(db)
        .await
        .map_err(db_error)?
        .ok_or_else(|| invalid("no care provider with that organisation number"))
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
            let org =
                OrgNumber::parse(org_number).map_err(|_| invalid("invalid organisation number"))?;
            if !matches!(kind.as_str(), "region" | "private") {
                return Err(invalid("--kind must be region or private"));
            }
            if county.len() != 2 || !county.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("--county must be two digits"));
            }
            if name.trim().is_empty() || name.len() > 200 {
                return Err(invalid("--name must be 1–200 characters"));
            }
            if provider_by_org(db, org.as_str()).await.is_ok() {
                return Ok(format!("Care provider {org} already registered."));
            }
            care_provider::ActiveModel {
                name: Set(name.trim().to_owned()),
                org_number: Set(org.as_str().to_owned()),
                county_code: Set(county.clone()),
                kind: Set(kind.clone()),
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
            let hsa = HsaId::parse(hsa_id).map_err(|_| invalid("invalid HSA-ID"))?;
            if name.trim().is_empty() || name.len() > 200 {
                return Err(invalid("--name must be 1–200 characters"));
            }
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
                name: Set(name.trim().to_owned()),
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
            let hsa = HsaId::parse(hsa_id).map_err(|_| invalid("invalid HSA-ID"))?;
            for name in [given_name, family_name] {
                if name.trim().is_empty() || name.len() > 100 {
                    return Err(invalid("names must be 1–100 characters"));
                }
            }
            let existing = staff_hsa_identity::Entity::find()
                .filter(staff_hsa_identity::Column::HsaId.eq(hsa.as_str()))
                .one(db)
                .await
                .map_err(db_error)?;
            if existing.is_some() {
                return Ok(format!("Staff member {hsa} already registered."));
            }
            let person = staff_person::ActiveModel {
                given_name: Set(given_name.trim().to_owned()),
                family_name: Set(family_name.trim().to_owned()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await
            .map_err(db_error)?;
            staff_hsa_identity::ActiveModel {
                staff_person_id: Set(person.id),
                hsa_id: Set(hsa.as_str().to_owned()),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
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
            let hsa = HsaId::parse(hsa_id).map_err(|_| invalid("invalid HSA-ID"))?;
            let identity = staff_hsa_identity::Entity::find()
                .filter(staff_hsa_identity::Column::HsaId.eq(hsa.as_str()))
                .one(db)
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
                role: Set(role.as_code().to_owned()),
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
