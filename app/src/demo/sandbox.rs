//! Creating, entering and deleting demo sandboxes.

use super::Persona;
use super::template::{PATIENT_PERSONNUMMER, persona_key, populate, staff_hsa_id};
use crate::auth::session::{Subject, hash_token, new_token};
use crate::db::entities::{
    access_log, demo_sandbox, enrolment, patient, staff_assignment, staff_hsa_identity,
};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    /// At most this many sandboxes live at once; visitors beyond it are asked to come back.
    pub max_sandboxes: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self { max_sandboxes: 200 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("all demo sandboxes are in use")]
    Full,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A new sandbox, filled from the template, that expires after `idle` without use.
pub async fn create<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    config: &DemoConfig,
    idle: Duration,
) -> Result<i64, SandboxError> {
    let now = Utc::now();
    let live = demo_sandbox::Entity::find()
        .filter(demo_sandbox::Column::ExpiresAt.gt(now))
        .count(db)
        .await?;
    if live >= config.max_sandboxes {
        return Err(SandboxError::Full);
    }
    let txn = crate::db::begin_write(db).await?;
    let sandbox = demo_sandbox::ActiveModel {
        token_hash: Set(hash_token(&new_token()?)),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + idle),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    populate(&txn, sandbox.id).await?;
    txn.commit().await?;
    Ok(sandbox.id)
}

/// Who to sign in as, for `persona` in `sandbox_id`.
pub async fn subject(
    db: &impl ConnectionTrait,
    sandbox_id: i64,
    persona: Persona,
) -> Result<Option<Subject>, DbErr> {
    let Some(key) = persona_key(persona) else {
        let found = patient::Entity::find()
            .filter(patient::Column::SandboxId.eq(sandbox_id))
            .filter(patient::Column::Personnummer.eq(PATIENT_PERSONNUMMER))
            .one(db)
            .await?;
        return Ok(found.map(|p| Subject::Patient { patient_id: p.id }));
    };
    let Some(identity) = staff_hsa_identity::Entity::find()
        .filter(staff_hsa_identity::Column::HsaId.eq(staff_hsa_id(sandbox_id, key)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let assignment: Option<i64> = staff_assignment::Entity::find()
        .filter(staff_assignment::Column::StaffHsaIdentityId.eq(identity.id))
        .select_only()
        .column(staff_assignment::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok(Some(Subject::Staff {
        staff_person_id: identity.staff_person_id,
        assignment_id: assignment,
    }))
}

/// Deletes one sandbox and everything in it, its access-log chain included.
pub async fn delete<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    sandbox_id: i64,
) -> Result<(), DbErr> {
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // The server's role may not delete from the log; this function may, a sandbox's rows.
        txn.execute(crate::db::statement(
            &txn,
            "SELECT lotsen_delete_sandbox_log($1)",
            vec![sandbox_id.into()],
        ))
        .await?;
    } else {
        access_log::Entity::delete_many()
            .filter(access_log::Column::SandboxId.eq(sandbox_id))
            .exec(&txn)
            .await?;
    }
    // Enrolments and patients first: they point at units and versions that refuse deletion
    // while referenced; the rest cascades from the sandbox row.
    enrolment::Entity::delete_many()
        .filter(enrolment::Column::SandboxId.eq(sandbox_id))
        .exec(&txn)
        .await?;
    patient::Entity::delete_many()
        .filter(patient::Column::SandboxId.eq(sandbox_id))
        .exec(&txn)
        .await?;
    demo_sandbox::Entity::delete_by_id(sandbox_id)
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// Deletes every sandbox that expired before `now`; returns how many.
pub async fn delete_expired<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let expired: Vec<i64> = demo_sandbox::Entity::find()
        .filter(demo_sandbox::Column::ExpiresAt.lte(now))
        .select_only()
        .column(demo_sandbox::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    for id in &expired {
        delete(db, *id).await?;
    }
    Ok(expired.len())
}
