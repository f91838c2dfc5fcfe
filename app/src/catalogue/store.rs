//! The catalogue in the database: sharing agreements, unpublishing, activations.
//!
//! A program outside what the caller's care provider may see (not its own, not shared with
//! it, another sandbox) is not found; so is a unit of another provider.

use super::{Activation, Catalogue, CatalogueEntry, Partner, VersionState};
use crate::db::entities::{
    care_provider, care_unit, enrolment, program, program_activation, program_version,
    sharing_agreement,
};
use crate::error::AppError;
use crate::programs::store::{DRAFT, PUBLISHED, UNPUBLISHED};
pub use crate::programs::store::{Scope, scope};
use crate::programs::version::VersionNumber;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

fn in_sandbox<C: ColumnTrait>(column: C, sandbox: Option<i64>) -> sea_orm::sea_query::SimpleExpr {
    match sandbox {
        Some(id) => column.eq(id),
        None => column.is_null(),
    }
}

/// The caller's own program (only the owner shares and unpublishes).
async fn own_program(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
) -> Result<program::Model, AppError> {
    program::Entity::find_by_id(program_id)
        .one(db)
        .await?
        .filter(|p| p.owner_provider_id == scope.provider_id && p.sandbox_id == scope.sandbox_id)
        .ok_or(AppError::NotFound)
}

/// Whether the program is the caller's own or shared with the caller's provider now.
async fn visible_program(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
) -> Result<program::Model, AppError> {
    let program = program::Entity::find_by_id(program_id)
        .one(db)
        .await?
        .filter(|p| p.sandbox_id == scope.sandbox_id)
        .ok_or(AppError::NotFound)?;
    if program.owner_provider_id == scope.provider_id || shared_with(db, program_id, scope).await? {
        Ok(program)
    } else {
        Err(AppError::NotFound)
    }
}

async fn shared_with(
    db: &impl ConnectionTrait,
    program_id: i64,
    scope: Scope,
) -> Result<bool, AppError> {
    Ok(sharing_agreement::Entity::find()
        .filter(sharing_agreement::Column::ProgramId.eq(program_id))
        .filter(sharing_agreement::Column::RecipientProviderId.eq(scope.provider_id))
        .filter(sharing_agreement::Column::ValidTo.is_null())
        .one(db)
        .await?
        .is_some())
}

/// The other care providers (in the same sandbox, or in real care), and which of them the
/// program is shared with.
pub async fn partners(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
) -> Result<Vec<Partner>, AppError> {
    own_program(db, scope, program_id).await?;
    let providers = care_provider::Entity::find()
        .filter(in_sandbox(
            care_provider::Column::SandboxId,
            scope.sandbox_id,
        ))
        .filter(care_provider::Column::Id.ne(scope.provider_id))
        .order_by_asc(care_provider::Column::Name)
        .all(db)
        .await?;
    let shared: Vec<i64> = sharing_agreement::Entity::find()
        .filter(sharing_agreement::Column::ProgramId.eq(program_id))
        .filter(sharing_agreement::Column::ValidTo.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.recipient_provider_id)
        .collect();
    Ok(providers
        .into_iter()
        .map(|p| Partner {
            shared: shared.contains(&p.id),
            provider_id: p.id,
            name: p.name,
        })
        .collect())
}

/// Starts or stops sharing the program with another care provider. Stopping keeps the
/// activations made meanwhile: running care continues.
pub async fn share(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
    provider_id: i64,
    share: bool,
    by: Option<i64>,
) -> Result<(), AppError> {
    own_program(db, scope, program_id).await?;
    let recipient = care_provider::Entity::find_by_id(provider_id)
        .one(db)
        .await?
        .filter(|p| p.sandbox_id == scope.sandbox_id && p.id != scope.provider_id)
        .ok_or(AppError::NotFound)?;
    let existing = sharing_agreement::Entity::find()
        .filter(sharing_agreement::Column::ProgramId.eq(program_id))
        .filter(sharing_agreement::Column::RecipientProviderId.eq(recipient.id))
        .one(db)
        .await?;
    let now = Utc::now();
    match (existing, share) {
        (None, true) => {
            let inserted = sharing_agreement::ActiveModel {
                program_id: Set(program_id),
                recipient_provider_id: Set(recipient.id),
                valid_from: Set(now),
                valid_to: Set(None),
                created_by: Set(by),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await;
            // Shared twice at once: the other request made the agreement.
            if inserted.is_err()
                && !shared_with(
                    db,
                    program_id,
                    Scope {
                        provider_id: recipient.id,
                        sandbox_id: scope.sandbox_id,
                    },
                )
                .await?
            {
                inserted?;
            }
        }
        (Some(row), true) if row.valid_to.is_some() => {
            let mut row: sharing_agreement::ActiveModel = row.into();
            row.valid_from = Set(now);
            row.valid_to = Set(None);
            row.created_by = Set(by);
            row.update(db).await?;
        }
        (Some(row), false) if row.valid_to.is_none() => {
            let mut row: sharing_agreement::ActiveModel = row.into();
            row.valid_to = Set(Some(now));
            row.update(db).await?;
        }
        // Already as asked.
        _ => {}
    }
    Ok(())
}

/// Stops new enrolments on a published version; running ones continue on it.
pub async fn unpublish(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
    number: VersionNumber,
) -> Result<(), AppError> {
    own_program(db, scope, program_id).await?;
    let done = program_version::Entity::update_many()
        .col_expr(program_version::Column::Status, Expr::value(UNPUBLISHED))
        .col_expr(
            program_version::Column::UnpublishedAt,
            Expr::value(Utc::now()),
        )
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Major.eq(number.major))
        .filter(program_version::Column::Minor.eq(number.minor))
        .filter(program_version::Column::Status.eq(PUBLISHED))
        .exec(db)
        .await?;
    if done.rows_affected == 1 {
        return Ok(());
    }
    // Already unpublished is done; no such published version is not found.
    let already = program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Major.eq(number.major))
        .filter(program_version::Column::Minor.eq(number.minor))
        .filter(program_version::Column::Status.eq(UNPUBLISHED))
        .one(db)
        .await?;
    already.map(|_| ()).ok_or(AppError::NotFound)
}

async fn own_unit(
    db: &impl ConnectionTrait,
    scope: Scope,
    unit_id: i64,
) -> Result<care_unit::Model, AppError> {
    care_unit::Entity::find_by_id(unit_id)
        .one(db)
        .await?
        .filter(|u| u.care_provider_id == scope.provider_id && u.sandbox_id == scope.sandbox_id)
        .ok_or(AppError::NotFound)
}

/// Everything the caller's care provider may use, with its activations at the provider's units.
pub async fn catalogue(db: &impl ConnectionTrait, scope: Scope) -> Result<Catalogue, AppError> {
    let units = care_unit::Entity::find()
        .filter(care_unit::Column::CareProviderId.eq(scope.provider_id))
        .filter(in_sandbox(care_unit::Column::SandboxId, scope.sandbox_id))
        .order_by_asc(care_unit::Column::Name)
        .all(db)
        .await?;
    let unit_ids: Vec<i64> = units.iter().map(|u| u.id).collect();
    let activations = program_activation::Entity::find()
        .filter(program_activation::Column::CareUnitId.is_in(unit_ids))
        .filter(program_activation::Column::DeactivatedAt.is_null())
        .all(db)
        .await?;
    // Shared now, or in use at one of the units (sharing may have stopped since: running
    // care continues).
    let mut shared: Vec<i64> = sharing_agreement::Entity::find()
        .filter(sharing_agreement::Column::RecipientProviderId.eq(scope.provider_id))
        .filter(sharing_agreement::Column::ValidTo.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.program_id)
        .collect();
    shared.extend(
        program_version::Entity::find()
            .filter(
                program_version::Column::Id.is_in(activations.iter().map(|a| a.program_version_id)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|v| v.program_id),
    );
    let programs = program::Entity::find()
        .filter(in_sandbox(program::Column::SandboxId, scope.sandbox_id))
        .filter(
            program::Column::OwnerProviderId
                .eq(scope.provider_id)
                .or(program::Column::Id.is_in(shared)),
        )
        .order_by_asc(program::Column::Title)
        .find_with_related(program_version::Entity)
        .all(db)
        .await?;
    let owners = care_provider::Entity::find()
        .filter(in_sandbox(
            care_provider::Column::SandboxId,
            scope.sandbox_id,
        ))
        .all(db)
        .await?;
    let mut entries = Vec::new();
    for (program, mut versions) in programs {
        versions.retain(|v| v.status != DRAFT);
        if versions.is_empty() {
            continue;
        }
        versions.sort_by_key(|v| std::cmp::Reverse((v.major, v.minor)));
        let number = |v: &program_version::Model| VersionNumber {
            major: v.major,
            minor: v.minor,
        };
        let mut active = Vec::new();
        for a in &activations {
            let (Some(version), Some(unit)) = (
                versions.iter().find(|v| v.id == a.program_version_id),
                units.iter().find(|u| u.id == a.care_unit_id),
            ) else {
                continue;
            };
            let behind = behind(&versions, version, unit.id).count(db).await?;
            active.push(Activation {
                id: a.id,
                unit_id: unit.id,
                unit_name: unit.name.clone(),
                number: number(version),
                behind,
            });
        }
        entries.push(CatalogueEntry {
            program_id: program.id,
            owner: owners
                .iter()
                .find(|o| o.id == program.owner_provider_id)
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            title: program.title,
            versions: versions
                .iter()
                .map(|v| VersionState {
                    number: number(v),
                    published: v.status == PUBLISHED,
                })
                .collect(),
            active,
        });
    }
    Ok(Catalogue {
        entries,
        units: units
            .into_iter()
            .filter(|u| u.active)
            .map(|u| (u.id, u.name))
            .collect(),
    })
}

/// Puts a published version in use at one of the caller's open units; another version of the
/// same program in use there is replaced (new enrolments start on the one activated).
pub async fn activate(
    db: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    scope: Scope,
    program_id: i64,
    number: VersionNumber,
    unit_id: i64,
    by: Option<i64>,
) -> Result<(), AppError> {
    visible_program(db, scope, program_id).await?;
    let unit = own_unit(db, scope, unit_id).await?;
    if !unit.active {
        return Err(AppError::Invalid {
            field: "unit_id".to_owned(),
            reason: "closed".to_owned(),
        });
    }
    let versions = program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Status.ne(DRAFT))
        .all(db)
        .await?;
    let version = versions
        .iter()
        .find(|v| v.major == number.major && v.minor == number.minor)
        .ok_or(AppError::NotFound)?;
    if version.status != PUBLISHED {
        return Err(AppError::Invalid {
            field: "version".to_owned(),
            reason: "unpublished".to_owned(),
        });
    }
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let current = program_activation::Entity::find()
        .filter(program_activation::Column::CareUnitId.eq(unit.id))
        .filter(program_activation::Column::ProgramVersionId.is_in(ids))
        .filter(program_activation::Column::DeactivatedAt.is_null())
        .all(&txn)
        .await?;
    if current.iter().any(|a| a.program_version_id == version.id) {
        return Ok(());
    }
    for old in current {
        let mut old: program_activation::ActiveModel = old.into();
        old.deactivated_at = Set(Some(now));
        old.deactivated_by = Set(by);
        old.update(&txn).await?;
    }
    program_activation::ActiveModel {
        program_version_id: Set(version.id),
        care_unit_id: Set(unit.id),
        activated_at: Set(now),
        activated_by: Set(by),
        deactivated_at: Set(None),
        deactivated_by: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The ids of the earlier minor versions of `version`'s major one.
fn earlier_minors(
    versions: &[program_version::Model],
    version: &program_version::Model,
) -> Vec<i64> {
    versions
        .iter()
        .filter(|v| v.major == version.major && v.minor < version.minor)
        .map(|v| v.id)
        .collect()
}

/// Enrolments still running at `unit_id` on an earlier minor version of `version`'s major one.
fn behind(
    versions: &[program_version::Model],
    version: &program_version::Model,
    unit_id: i64,
) -> sea_orm::Select<enrolment::Entity> {
    enrolment::Entity::find()
        .filter(enrolment::Column::CareUnitId.eq(unit_id))
        .filter(enrolment::Column::TestByStaffId.is_null())
        .filter(enrolment::Column::ProgramVersionId.is_in(earlier_minors(versions, version)))
        .filter(enrolment::Column::State.is_in(crate::domain::EnrolmentState::ONGOING))
}

/// Applies the minor upgrade at an active activation of one of the caller's units: running
/// enrolments there on an earlier minor version of the same major version move to the
/// activated one. Ended enrolments, other units and other major versions are left alone.
/// Moves the unit's running enrolments on earlier minors of the activation's major version to
/// the activated version. Each patient moved is written to the access log in the name of
/// `by` (the care-provider administrator), as a change of their treatment.
pub async fn upgrade(
    db: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    scope: Scope,
    activation_id: i64,
    by: Option<&crate::auth::Principal>,
) -> Result<u64, AppError> {
    let activation = program_activation::Entity::find_by_id(activation_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    own_unit(db, scope, activation.care_unit_id).await?;
    if activation.deactivated_at.is_some() {
        return Err(AppError::Invalid {
            field: "activation_id".to_owned(),
            reason: "deactivated".to_owned(),
        });
    }
    let version = program_version::Entity::find_by_id(activation.program_version_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let versions = program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(version.program_id))
        .filter(program_version::Column::Status.ne(DRAFT))
        .all(db)
        .await?;
    let running = behind(&versions, &version, activation.care_unit_id)
        .all(db)
        .await?;
    // The access log first, as for every write to patient data: if it cannot be written,
    // nothing moves. A move that then fails leaves rows that say it was tried.
    if let Some(principal) = by {
        let entries = running
            .iter()
            .map(|e| {
                let mut entry = crate::auth::gate::staff_entry(
                    principal,
                    Some(e.patient_id),
                    crate::access_log::Action::Write,
                    "enrolment",
                    crate::access_log::Outcome::Allowed,
                );
                entry.object_id = Some(e.id);
                entry
            })
            .collect();
        crate::access_log::append_all(db, entries).await?;
    }
    // One statement: the logged enrolments that are still behind and ongoing. The conditions
    // are on the UPDATE itself, so PostgreSQL checks them again on a row that another
    // transaction changed meanwhile (a subquery would see the old row).
    let moved = enrolment::Entity::update_many()
        .col_expr(enrolment::Column::ProgramVersionId, Expr::value(version.id))
        .filter(enrolment::Column::Id.is_in(running.iter().map(|e| e.id)))
        .filter(enrolment::Column::CareUnitId.eq(activation.care_unit_id))
        .filter(enrolment::Column::ProgramVersionId.is_in(earlier_minors(&versions, &version)))
        .filter(enrolment::Column::State.is_in(crate::domain::EnrolmentState::ONGOING))
        .exec(db)
        .await?
        .rows_affected;
    Ok(moved)
}

/// Takes a version out of use at one of the caller's units.
pub async fn deactivate(
    db: &impl ConnectionTrait,
    scope: Scope,
    activation_id: i64,
    by: Option<i64>,
) -> Result<(), AppError> {
    let activation = program_activation::Entity::find_by_id(activation_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    own_unit(db, scope, activation.care_unit_id).await?;
    if activation.deactivated_at.is_none() {
        let mut row: program_activation::ActiveModel = activation.into();
        row.deactivated_at = Set(Some(Utc::now()));
        row.deactivated_by = Set(by);
        row.update(db).await?;
    }
    Ok(())
}
