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
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
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
    /// Install a program for a care provider from a package manifest
    /// (`*.lotsen-program.json`): checked as an import is, published as version 1.0, and, with
    /// `--unit`, activated on one of the provider's units. A program of the same title that the
    /// provider already has is left as it is.
    Program {
        /// The care provider's organisation number.
        #[arg(long)]
        provider: String,
        /// The package's manifest (a package without media files, as JSON).
        #[arg(long)]
        manifest: std::path::PathBuf,
        /// The HSA-ID of a unit of the provider to activate version 1.0 on.
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
                Some(unit) => Some(unit_of(db, &provider, unit).await?.id),
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
        SetupCommand::Program {
            provider,
            manifest,
            unit,
        } => install_program(db, provider, manifest, unit.as_deref()).await,
    }
}

/// A unit of the care provider, by HSA-ID, or a clear error.
async fn unit_of(
    db: &DatabaseConnection,
    provider: &care_provider::Model,
    unit: &str,
) -> Result<care_unit::Model, ServeError> {
    let unit = HsaId::parse(unit).map_err(|_| invalid("invalid unit HSA-ID"))?;
    care_unit::Entity::find()
        .filter(care_unit::Column::HsaId.eq(unit.as_str()))
        .filter(care_unit::Column::CareProviderId.eq(provider.id))
        .filter(care_unit::Column::SandboxId.is_null())
        .one(db)
        .await
        .map_err(db_error)?
        .ok_or_else(|| invalid("no such unit at that care provider"))
}

/// How many programs are active at a unit.
async fn active_at(db: &DatabaseConnection, unit_id: i64) -> Result<u64, ServeError> {
    use app::db::entities::program_activation;
    program_activation::Entity::find()
        .filter(program_activation::Column::CareUnitId.eq(unit_id))
        .filter(program_activation::Column::DeactivatedAt.is_null())
        .count(db)
        .await
        .map_err(db_error)
}

async fn install_program(
    db: &DatabaseConnection,
    provider: &str,
    manifest: &std::path::Path,
    unit: Option<&str>,
) -> Result<String, ServeError> {
    use app::db::entities::program;
    use app::programs::{Rules, store};
    let provider = provider_by_org(db, provider).await?;
    let unit = match unit {
        Some(unit) => Some(unit_of(db, &provider, unit).await?),
        None => None,
    };
    let bytes = std::fs::read(manifest)
        .map_err(|e| invalid(&format!("cannot read {}: {e}", manifest.display())))?;
    let rules = Rules::default();
    let program = app::programs::package::from_manifest(&bytes, &rules).map_err(|problems| {
        let first = problems
            .first()
            .map(|p| format!("{} {}", p.path, p.reason))
            .unwrap_or_default();
        invalid(&format!(
            "the manifest is not a program Lotsen can install ({} problems; first: {first})",
            problems.len()
        ))
    })?;
    let title = program.title.clone();
    let scope = store::Scope {
        provider_id: provider.id,
        sandbox_id: None,
    };
    let failed = |e: store::StoreError| invalid(&format!("the program was not installed: {e}"));
    // Each step is done only if it is not done yet: a run that stopped half-way is finished
    // by the next one.
    let installed = program::Entity::find()
        .filter(program::Column::OwnerProviderId.eq(provider.id))
        .filter(program::Column::SandboxId.is_null())
        .filter(program::Column::Title.eq(title.clone()))
        .one(db)
        .await
        .map_err(db_error)?;
    let mut changed = installed.is_none();
    let program_id = match installed {
        Some(found) => found.id,
        None => {
            store::create_from(db, scope, None, program, &rules)
                .await
                .map_err(failed)?
                .program_id
        }
    };
    let published = store::versions(db, scope, program_id)
        .await
        .map_err(failed)?
        .into_iter()
        .find(|v| v.status == store::PUBLISHED)
        .map(|v| v.number);
    let number = match published {
        Some(number) => number,
        None => {
            changed = true;
            let draft = store::open_draft(db, scope, program_id, &rules)
                .await
                .map_err(failed)?;
            let publication = store::Publication {
                bump: store::Bump::Major,
                release_notes: String::new(),
                published_by: None,
            };
            store::publish(db, scope, program_id, draft.revision, &publication, &rules)
                .await
                .map_err(failed)?
        }
    };
    let Some(unit) = unit else {
        return Ok(match changed {
            true => format!("Program {title} installed as {number}."),
            false => format!("Program {title} already installed."),
        });
    };
    let before = active_at(db, unit.id).await?;
    app::catalogue::store::activate(db, scope, program_id, number, unit.id, None)
        .await
        .map_err(|e| {
            invalid(&format!(
                "the program was installed but not activated: {e:?}"
            ))
        })?;
    if !changed && active_at(db, unit.id).await? == before {
        return Ok(format!("Program {title} already installed."));
    }
    Ok(format!(
        "Program {title} installed as {number} and activated on {}.",
        unit.hsa_id
    ))
}
