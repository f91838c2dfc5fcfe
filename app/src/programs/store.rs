//! Programs in the database: one editable draft per program, and the versions published from
//! it, each frozen with its number (MAJOR.MINOR) and the hash of its content.
//!
//! Every function works inside a [`Scope`]: the care provider that owns the programs (and the
//! demo sandbox, if any). A program outside the scope is not found, whoever asks.

use super::diff::{self, Change};
use super::version::VersionStatus;
pub use super::version::{Bump, Draft, VersionNumber};
use super::{Problem, Program, Rules, validate};
use crate::db::entities::{program, program_version};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The most a program document may weigh, as JSON (the same as a package's manifest).
pub const MAX_CONTENT_BYTES: usize = 8 << 20;

pub const DRAFT: VersionStatus = VersionStatus::Draft;
pub const PUBLISHED: VersionStatus = VersionStatus::Published;
pub const UNPUBLISHED: VersionStatus = VersionStatus::Unpublished;

/// Whose programs: a care provider's, in real care or in one demo sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub provider_id: i64,
    pub sandbox_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub number: VersionNumber,
    pub status: VersionStatus,
    pub content_hash: Option<String>,
    pub release_notes: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such program")]
    NotFound,
    /// Someone saved (or published) the draft since this revision was read.
    #[error("the draft has changed since revision {expected} (now {current:?})")]
    Conflict { expected: i32, current: Option<i32> },
    #[error("the program is larger than {max} bytes")]
    TooLarge { max: usize },
    /// Problems that not even a draft may hold (or, when publishing, any blocking problem).
    #[error("the program has {} problems", .0.len())]
    Refused(Vec<Problem>),
    #[error("nothing has changed since the latest version")]
    Unchanged,
    /// A minor version was asked for, but these changes need a major one.
    #[error("the changes need a major version")]
    NeedsMajor(Vec<Change>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The caller's care provider (and sandbox): whose programs they work on, and whose catalogue
/// they see.
pub fn scope(principal: &crate::auth::Principal) -> Result<Scope, crate::error::AppError> {
    let assignment = principal
        .staff()
        .and_then(|s| s.assignment.as_ref())
        .ok_or(crate::error::AppError::Forbidden)?;
    Ok(Scope {
        provider_id: assignment.care_provider_id,
        sandbox_id: principal.sandbox_id,
    })
}

/// The canonical form of a program: what is stored, hashed and exported.
pub fn canonical(program: &Program) -> Result<String, StoreError> {
    let json = serde_json::to_string(program).map_err(|e| DbErr::Custom(e.to_string()))?;
    if json.len() > MAX_CONTENT_BYTES {
        return Err(StoreError::TooLarge {
            max: MAX_CONTENT_BYTES,
        });
    }
    Ok(json)
}

pub fn content_hash(canonical: &str) -> String {
    crate::access_log::hex(&Sha256::digest(canonical.as_bytes()))
}

fn parse(content: Option<&str>) -> Result<Program, StoreError> {
    let content = content.ok_or_else(|| DbErr::Custom("a version without content".into()))?;
    serde_json::from_str(content).map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))
}

async fn find_program(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
) -> Result<program::Model, StoreError> {
    program::Entity::find_by_id(program_id)
        .one(db)
        .await?
        .filter(|p| p.owner_provider_id == scope.provider_id && p.sandbox_id == scope.sandbox_id)
        .ok_or(StoreError::NotFound)
}

async fn find_draft(
    db: &impl ConnectionTrait,
    program_id: i64,
) -> Result<Option<program_version::Model>, DbErr> {
    program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Status.eq(DRAFT))
        .one(db)
        .await
}

/// The newest version ever published (whether still published or not).
async fn latest(
    db: &impl ConnectionTrait,
    program_id: i64,
) -> Result<Option<program_version::Model>, DbErr> {
    program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Status.ne(DRAFT))
        .order_by_desc(program_version::Column::Major)
        .order_by_desc(program_version::Column::Minor)
        .one(db)
        .await
}

fn number(row: &program_version::Model) -> VersionNumber {
    VersionNumber {
        major: row.major,
        minor: row.minor,
    }
}

fn refused_in_draft(program: &Program, rules: &Rules) -> Result<Vec<Problem>, StoreError> {
    let problems = validate(program, rules);
    let refused: Vec<Problem> = problems
        .iter()
        .filter(|p| p.kind.refused_in_draft())
        .cloned()
        .collect();
    if refused.is_empty() {
        Ok(problems)
    } else {
        Err(StoreError::Refused(refused))
    }
}

/// A new program with an empty draft, owned by the scope's care provider.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    scope: Scope,
    created_by: Option<i64>,
    title: &str,
    rules: &Rules,
) -> Result<Draft, StoreError> {
    let program = Program {
        title: title.trim().to_owned(),
        ..Program::empty()
    };
    create_from(db, scope, created_by, program, rules).await
}

/// A new program whose draft is `program` (an imported package's, say).
pub async fn create_from(
    db: &(impl ConnectionTrait + TransactionTrait),
    scope: Scope,
    created_by: Option<i64>,
    program: Program,
    rules: &Rules,
) -> Result<Draft, StoreError> {
    let problems = refused_in_draft(&program, rules)?;
    if program.title.trim().is_empty() {
        return Err(StoreError::Refused(
            problems.into_iter().filter(|p| p.path == "title").collect(),
        ));
    }
    let content = canonical(&program)?;
    let txn = crate::db::begin_write(db).await?;
    let row = program::ActiveModel {
        owner_provider_id: Set(scope.provider_id),
        title: Set(program.title.clone()),
        description: Set(String::new()),
        created_by: Set(created_by),
        sandbox_id: Set(scope.sandbox_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_draft(&txn, row.id, content).await?;
    txn.commit().await?;
    Ok(Draft {
        program_id: row.id,
        revision: 0,
        program,
        based_on: None,
        problems,
    })
}

/// Deletes a program that was never published (an import whose files could not be written).
pub async fn discard(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
) -> Result<(), StoreError> {
    find_program(db, scope, program_id).await?;
    // Producers' tests of the draft go with it (a draft is never real care).
    crate::care::trial::forget_draft(db, program_id).await?;
    program_version::Entity::delete_many()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Status.eq(DRAFT))
        .exec(db)
        .await?;
    program::Entity::delete_by_id(program_id).exec(db).await?;
    Ok(())
}

/// Whether the program exists and belongs to the scope.
pub async fn owned(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
) -> Result<(), StoreError> {
    find_program(db, scope, program_id).await.map(|_| ())
}

/// Drafts are numbered 0.0 until published; the unique version number per program makes a
/// second draft impossible.
async fn insert_draft(
    db: &impl ConnectionTrait,
    program_id: i64,
    content: String,
) -> Result<program_version::Model, DbErr> {
    program_version::ActiveModel {
        program_id: Set(program_id),
        major: Set(0),
        minor: Set(0),
        status: Set(DRAFT),
        release_notes: Set(String::new()),
        content: Set(Some(content)),
        revision: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The revision of a draft that does not exist yet: after a publication, the editor starts
/// from the latest version, and the first save makes the new draft.
pub const NEW_DRAFT: i32 = -1;

/// The program's draft; after a publication, the latest version's content, at
/// [`NEW_DRAFT`]. Reading never writes.
pub async fn open_draft(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
    rules: &Rules,
) -> Result<Draft, StoreError> {
    find_program(db, scope, program_id).await?;
    let latest = latest(db, program_id).await?;
    let (revision, content) = match find_draft(db, program_id).await? {
        Some(row) => (row.revision, row.content),
        None => {
            let from = latest.as_ref().ok_or(StoreError::NotFound)?;
            (NEW_DRAFT, from.content.clone())
        }
    };
    let program = parse(content.as_deref())?;
    Ok(Draft {
        program_id,
        revision,
        problems: validate(&program, rules),
        program,
        based_on: latest.as_ref().map(number),
    })
}

/// Saves the draft if it is still at `revision` (at [`NEW_DRAFT`]: makes the draft, unless
/// someone else made it first); returns it at its new revision.
pub async fn save(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
    revision: i32,
    program: Program,
    rules: &Rules,
) -> Result<Draft, StoreError> {
    find_program(db, scope, program_id).await?;
    // The size first: it is the cheapest check, and it bounds the work of the others.
    let content = canonical(&program)?;
    let problems = refused_in_draft(&program, rules)?;
    let conflict = |current| StoreError::Conflict {
        expected: revision,
        current,
    };
    let saved = if revision == NEW_DRAFT {
        // One draft per program: the version number 0.0 is unique per program.
        match insert_draft(db, program_id, content).await {
            Ok(row) => row.revision,
            Err(_) => {
                let current = find_draft(db, program_id).await?.map(|d| d.revision);
                return Err(conflict(current));
            }
        }
    } else {
        let done = program_version::Entity::update_many()
            .col_expr(program_version::Column::Content, Expr::value(content))
            .col_expr(program_version::Column::Revision, Expr::value(revision + 1))
            .filter(program_version::Column::ProgramId.eq(program_id))
            .filter(program_version::Column::Status.eq(DRAFT))
            .filter(program_version::Column::Revision.eq(revision))
            .exec(db)
            .await?;
        if done.rows_affected != 1 {
            let current = find_draft(db, program_id).await?.map(|d| d.revision);
            return Err(conflict(current));
        }
        revision + 1
    };
    Ok(Draft {
        program_id,
        revision: saved,
        program,
        based_on: latest(db, program_id).await?.as_ref().map(number),
        problems,
    })
}

/// The draft (as [`open_draft`] gives it) and what it changes against the latest version
/// (everything is new before the first).
pub async fn review(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
    rules: &Rules,
) -> Result<(Draft, Vec<Change>), StoreError> {
    let draft = open_draft(db, scope, program_id, rules).await?;
    let before = match latest(db, program_id).await? {
        Some(row) => parse(row.content.as_deref())?,
        None => Program::empty(),
    };
    let changes = diff::diff(&before, &draft.program);
    Ok((draft, changes))
}

/// What the publisher decides: which number, why, and who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub bump: Bump,
    pub release_notes: String,
    pub published_by: Option<i64>,
}

/// Freezes the draft, as it was at `revision`, into the next version: 1.0 the first time,
/// then the next major, or the next minor when the changes are only wording and media.
pub async fn publish(
    db: &(impl ConnectionTrait + TransactionTrait),
    scope: Scope,
    program_id: i64,
    revision: i32,
    publication: &Publication,
    rules: &Rules,
) -> Result<VersionNumber, StoreError> {
    find_program(db, scope, program_id).await?;
    let draft = find_draft(db, program_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if draft.revision != revision {
        return Err(StoreError::Conflict {
            expected: revision,
            current: Some(draft.revision),
        });
    }
    let program = parse(draft.content.as_deref())?;
    let blocking: Vec<Problem> = validate(&program, rules)
        .into_iter()
        .filter(|p| p.blocking)
        .collect();
    if !blocking.is_empty() {
        return Err(StoreError::Refused(blocking));
    }
    let next = match latest(db, program_id).await? {
        None => VersionNumber { major: 1, minor: 0 },
        Some(row) => {
            let changes = diff::diff(&parse(row.content.as_deref())?, &program);
            if changes.is_empty() {
                return Err(StoreError::Unchanged);
            }
            match publication.bump {
                Bump::Major => VersionNumber {
                    major: row.major + 1,
                    minor: 0,
                },
                Bump::Minor if diff::is_major(&changes) => {
                    return Err(StoreError::NeedsMajor(
                        changes.into_iter().filter(Change::is_major).collect(),
                    ));
                }
                Bump::Minor => VersionNumber {
                    major: row.major,
                    minor: row.minor + 1,
                },
            }
        }
    };
    let content = canonical(&program)?;
    let txn = crate::db::begin_write(db).await?;
    let done = program_version::Entity::update_many()
        .col_expr(program_version::Column::Major, Expr::value(next.major))
        .col_expr(program_version::Column::Minor, Expr::value(next.minor))
        .col_expr(program_version::Column::Status, Expr::value(PUBLISHED))
        .col_expr(
            program_version::Column::ContentHash,
            Expr::value(content_hash(&content)),
        )
        .col_expr(
            program_version::Column::ReleaseNotes,
            Expr::value(publication.release_notes.trim().to_owned()),
        )
        .col_expr(
            program_version::Column::PublishedAt,
            Expr::value(Utc::now()),
        )
        .col_expr(
            program_version::Column::PublishedBy,
            Expr::value(publication.published_by),
        )
        .filter(program_version::Column::Id.eq(draft.id))
        .filter(program_version::Column::Status.eq(DRAFT))
        .filter(program_version::Column::Revision.eq(revision))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(StoreError::Conflict {
            expected: revision,
            current: None,
        });
    }
    // The catalogue shows the program under its latest published title.
    program::Entity::update_many()
        .col_expr(program::Column::Title, Expr::value(program.title.clone()))
        .col_expr(
            program::Column::Description,
            Expr::value(program.description.clone()),
        )
        .filter(program::Column::Id.eq(program_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(next)
}

/// A published (or unpublished) version's content.
pub async fn version(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
    number: VersionNumber,
) -> Result<Program, StoreError> {
    find_program(db, scope, program_id).await?;
    let row = program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Status.ne(DRAFT))
        .filter(program_version::Column::Major.eq(number.major))
        .filter(program_version::Column::Minor.eq(number.minor))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    parse(row.content.as_deref())
}

/// The program's versions, newest first (the draft not among them).
pub async fn versions(
    db: &impl ConnectionTrait,
    scope: Scope,
    program_id: i64,
) -> Result<Vec<VersionSummary>, StoreError> {
    find_program(db, scope, program_id).await?;
    let rows = program_version::Entity::find()
        .filter(program_version::Column::ProgramId.eq(program_id))
        .filter(program_version::Column::Status.ne(DRAFT))
        .order_by_desc(program_version::Column::Major)
        .order_by_desc(program_version::Column::Minor)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| VersionSummary {
            number: number(&row),
            status: row.status,
            content_hash: row.content_hash,
            release_notes: row.release_notes,
        })
        .collect())
}
