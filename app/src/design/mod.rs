//! The design tool's server side: a producer's programs, their drafts and saves; the
//! publisher's view of what a draft changes, and publishing it as a numbered version.
//!
//! Programs belong to the care provider of the caller's chosen assignment (and to the demo
//! sandbox, for demo visitors); another provider's program is not found.

use crate::error::AppError;
use crate::programs::diff::Change;
use crate::programs::{Problem, Program};

use leptos::server_fn::codec::Json;
use lotsen_macros::endpoint;
use serde::{Deserialize, Serialize};

pub use crate::programs::version::{Bump, Draft, VersionNumber};

/// One of the care provider's programs, as the design tool lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramSummary {
    pub id: i64,
    pub title: String,
    /// The newest published (or unpublished) version.
    pub latest: Option<VersionNumber>,
    /// Whether the draft differs from the latest version (or there is none yet).
    pub has_draft: bool,
}

/// The design tool's start: the provider's programs, and what the caller may do with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignHome {
    pub programs: Vec<ProgramSummary>,
    /// Producers write and create programs.
    pub producer: bool,
    /// Publishers review and publish them.
    pub publisher: bool,
}

/// A draft to edit, with what the editor needs to check it as the server will.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Editing {
    pub draft: Draft,
    /// Hosts that external media may come from.
    pub media_hosts: Vec<String>,
}

/// What became of a save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Saved {
    Saved(Draft),
    /// Someone else saved or published meanwhile: nothing was saved; reload to see theirs.
    Conflict,
    /// Input that not even a draft may hold: nothing was saved.
    Refused(Vec<Problem>),
    /// Larger than a program may be: nothing was saved.
    TooLarge {
        max_bytes: usize,
    },
}

/// A refused package import's problems: the server renders the program list with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblems(pub Vec<ImportIssue>);

/// One problem of a refused package: where, what kind (`code`, or `kind` for a problem of the
/// program itself), and the English details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportIssue {
    pub path: String,
    pub code: String,
    pub kind: Option<crate::programs::ProblemKind>,
    pub reason: String,
}

/// What a publisher sees before publishing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub program_id: i64,
    pub title: String,
    pub revision: i32,
    pub based_on: Option<VersionNumber>,
    pub changes: Vec<Change>,
    /// Whether the changes need a major version.
    pub major: bool,
    /// The report: blocking problems stop publishing.
    pub problems: Vec<Problem>,
    /// The versions published so far, newest first.
    pub versions: Vec<crate::catalogue::VersionState>,
}

/// What became of publishing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Published {
    Published(VersionNumber),
    /// The draft changed since the publisher reviewed it.
    Conflict,
    /// The report has blocking problems.
    Refused(Vec<Problem>),
    /// Nothing changed since the latest version.
    Unchanged,
    /// A minor version was asked for; these changes need a major one.
    NeedsMajor(Vec<Change>),
}

#[endpoint]
pub async fn my_programs() -> Result<DesignHome, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let programs = ssr::list(&db, ssr::scope(&principal)?)
        .await
        .map_err(crate::auth::gate::refuse)?;
    Ok(DesignHome {
        programs,
        producer: principal.has_role(crate::auth::Role::Producer),
        publisher: principal.has_role(crate::auth::Role::Publisher),
    })
}

#[endpoint]
pub async fn create_program(title: String) -> Result<i64, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::create(&db, &principal, &title)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn program_draft(program_id: i64) -> Result<Editing, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let draft = ssr::draft(&db, ssr::scope(&principal)?, program_id)
        .await
        .map_err(crate::auth::gate::refuse)?;
    Ok(Editing {
        draft,
        media_hosts: ssr::rules().media_hosts,
    })
}

#[endpoint(input = Json)]
pub async fn save_program_draft(
    program_id: i64,
    revision: i32,
    program: Program,
) -> Result<Saved, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::save(&db, ssr::scope(&principal)?, program_id, revision, program)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn review_program(program_id: i64) -> Result<Review, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::review(&db, ssr::scope(&principal)?, program_id)
        .await
        .map_err(crate::auth::gate::refuse)
}

#[endpoint]
pub async fn publish_program(
    program_id: i64,
    revision: i32,
    bump: Bump,
    release_notes: String,
) -> Result<Published, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    ssr::publish(&db, &principal, program_id, revision, bump, &release_notes)
        .await
        .map_err(crate::auth::gate::refuse)
}

/// Uploads an image, a sound or a film to a program: the form's fields are `program_id`,
/// `kind` (`image`, `audio` or `video`) and `file`. Refusals name the field `file` and why:
/// `empty`, `too_large`, `type` (not a file such blocks may show), `mismatch` (the file is not
/// what it claims to be) or `too_many` (a demo program's limit).
#[endpoint(input = leptos::server_fn::codec::MultipartFormData)]
pub async fn upload_media(
    data: leptos::server_fn::codec::MultipartData,
) -> Result<crate::programs::Media, AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let db = crate::server::db()?;
    let form = data.into_inner().ok_or(AppError::Request)?;
    ssr::upload(&db, &principal, form)
        .await
        .map_err(crate::auth::gate::refuse)
}

mod components;
mod editor;
#[cfg(feature = "ssr")]
pub mod packages;

pub use components::{DesignPage, ProgramsPage, ReviewPage};
pub use editor::problem_text;

#[cfg(feature = "ssr")]
mod ssr {
    use super::{Draft, ProgramSummary, Published, Review, Saved};
    use crate::auth::Principal;
    use crate::db::entities::{program, program_version};
    use crate::error::AppError;
    use crate::programs::media::MediaStore;
    use crate::programs::store::{self, Bump, Scope, StoreError};
    use crate::programs::{Media, Program, Rules, diff};
    use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

    pub use crate::programs::store::scope;

    /// Limits and allow-lists, as the server was configured.
    pub fn rules() -> Rules {
        leptos::prelude::use_context::<Rules>().unwrap_or_default()
    }

    /// Where uploaded media goes, as the server was configured.
    pub fn media() -> Result<MediaStore, AppError> {
        leptos::prelude::use_context::<MediaStore>().ok_or_else(|| {
            tracing::error!("no media directory configured");
            AppError::Unavailable
        })
    }

    fn refused_file(reason: &str) -> AppError {
        AppError::Invalid {
            field: "file".to_owned(),
            reason: reason.to_owned(),
        }
    }

    pub async fn upload(
        db: &DatabaseConnection,
        principal: &Principal,
        mut form: multer::Multipart<'static>,
    ) -> Result<Media, AppError> {
        let scope = scope(principal)?;
        let store = media()?;
        let demo = scope.sandbox_id.is_some();
        let limit = if demo {
            store.max_demo_file_bytes
        } else {
            store.max_file_bytes
        };
        let (mut program_id, mut kind, mut file) = (None, None, None);
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|_| refused_file("unreadable"))?
        {
            // Each field once: a second `program_id` could otherwise name another program than
            // the one whose ownership was checked.
            let name = field.name().unwrap_or_default().to_owned();
            let seen = match name.as_str() {
                "program_id" => program_id.is_some(),
                "kind" => kind.is_some(),
                "file" => file.is_some(),
                _ => false,
            };
            if seen {
                return Err(AppError::Invalid {
                    field: name,
                    reason: "repeated".to_owned(),
                });
            }
            match field.name() {
                Some("program_id") => {
                    let text = field.text().await.map_err(|_| refused_file("unreadable"))?;
                    program_id =
                        Some(text.trim().parse::<i64>().map_err(|_| AppError::Invalid {
                            field: "program_id".to_owned(),
                            reason: "not_a_number".to_owned(),
                        })?);
                }
                Some("kind") => {
                    kind = Some(field.text().await.map_err(|_| refused_file("unreadable"))?);
                }
                Some("file") => {
                    // The program comes first: nothing is read for a program not the caller's.
                    let id = program_id.ok_or_else(|| AppError::Invalid {
                        field: "program_id".to_owned(),
                        reason: "missing".to_owned(),
                    })?;
                    store::owned(db, scope, id).await.map_err(unexpected)?;
                    let claimed = field.content_type().map(|m| m.essence_str().to_owned());
                    let mut bytes = Vec::new();
                    while let Some(chunk) = field
                        .chunk()
                        .await
                        .map_err(|_| refused_file("unreadable"))?
                    {
                        if (bytes.len() + chunk.len()) as u64 > limit {
                            return Err(refused_file("too_large"));
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    file = Some((claimed, bytes));
                }
                _ => {}
            }
        }
        let (Some(program_id), Some((claimed, bytes))) = (program_id, file) else {
            return Err(refused_file("empty"));
        };
        let kind = kind.unwrap_or_default();
        let allowed = crate::programs::media::allowed_types(&kind);
        if allowed.is_empty() {
            return Err(AppError::Invalid {
                field: "kind".to_owned(),
                reason: "unknown".to_owned(),
            });
        }
        if bytes.is_empty() {
            return Err(refused_file("empty"));
        }
        // The file's first bytes decide its type; a claim to be something else is refused.
        let Some(mime) = allowed
            .iter()
            .find(|m| crate::programs::media::is_really(m, &bytes))
        else {
            return Err(refused_file("type"));
        };
        let claimed = claimed.map(|c| {
            if c == "image/jpg" {
                "image/jpeg".to_owned()
            } else {
                c
            }
        });
        if let Some(claimed) = claimed
            && claimed != "application/octet-stream"
            && claimed != *mime
        {
            return Err(refused_file("mismatch"));
        }
        if let Some(sandbox) = scope.sandbox_id
            && store.count_in_sandbox(db, sandbox).await? >= store.max_demo_files
        {
            return Err(refused_file("too_many"));
        }
        // Checked again right before the write: the file goes exactly where ownership was seen.
        store::owned(db, scope, program_id)
            .await
            .map_err(unexpected)?;
        store.store(program_id, mime, &bytes).await.map_err(|err| {
            tracing::error!(error = %err, "writing an uploaded file failed");
            AppError::Unavailable
        })
    }

    fn refused_title(problems: Vec<crate::programs::Problem>) -> AppError {
        let reason = problems
            .first()
            .map(|p| match p.kind {
                crate::programs::ProblemKind::TooLong { .. } => "too_long",
                _ => "missing",
            })
            .unwrap_or("missing");
        AppError::Invalid {
            field: "title".to_owned(),
            reason: reason.to_owned(),
        }
    }

    pub(super) fn unexpected(err: StoreError) -> AppError {
        match err {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Db(err) => err.into(),
            other => {
                tracing::error!(error = %other, "unexpected program store answer");
                AppError::Unavailable
            }
        }
    }

    pub async fn list(
        db: &DatabaseConnection,
        scope: Scope,
    ) -> Result<Vec<ProgramSummary>, AppError> {
        let programs = program::Entity::find()
            .filter(program::Column::OwnerProviderId.eq(scope.provider_id))
            .filter(match scope.sandbox_id {
                Some(id) => program::Column::SandboxId.eq(id),
                None => program::Column::SandboxId.is_null(),
            })
            .order_by_asc(program::Column::Title)
            .find_with_related(program_version::Entity)
            .all(db)
            .await?;
        Ok(programs
            .into_iter()
            .map(|(p, versions)| {
                let latest = versions
                    .iter()
                    .filter(|v| v.status != store::DRAFT)
                    .map(|v| store::VersionNumber {
                        major: v.major,
                        minor: v.minor,
                    })
                    .max();
                let draft = versions.iter().find(|v| v.status == store::DRAFT);
                let published = versions
                    .iter()
                    .filter(|v| v.status != store::DRAFT)
                    .max_by_key(|v| (v.major, v.minor));
                let has_draft = match (draft, published) {
                    (Some(d), Some(p)) => d.content != p.content,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                // The draft's own title while it has one (before the first version too).
                let title = draft
                    .and_then(|d| d.content.as_deref())
                    .and_then(|c| serde_json::from_str::<Program>(c).ok())
                    .map(|p| p.title)
                    .unwrap_or(p.title);
                ProgramSummary {
                    id: p.id,
                    title,
                    latest,
                    has_draft,
                }
            })
            .collect())
    }

    pub async fn create(
        db: &DatabaseConnection,
        principal: &Principal,
        title: &str,
    ) -> Result<i64, AppError> {
        let by = principal.staff().map(|s| s.staff_person_id);
        match store::create(db, scope(principal)?, by, title, &rules()).await {
            Ok(d) => Ok(d.program_id),
            Err(StoreError::Refused(problems)) => Err(refused_title(problems)),
            Err(err) => Err(unexpected(err)),
        }
    }

    pub async fn draft(
        db: &DatabaseConnection,
        scope: Scope,
        program_id: i64,
    ) -> Result<Draft, AppError> {
        store::open_draft(db, scope, program_id, &rules())
            .await
            .map_err(unexpected)
    }

    pub async fn save(
        db: &DatabaseConnection,
        scope: Scope,
        program_id: i64,
        revision: i32,
        program: Program,
    ) -> Result<Saved, AppError> {
        // Uploaded files must be this program's own, as uploaded.
        if !crate::programs::media::files(&program).is_empty() {
            store::owned(db, scope, program_id)
                .await
                .map_err(unexpected)?;
            let missing = media()?.check(program_id, &program).await;
            if !missing.is_empty() {
                return Ok(Saved::Refused(missing));
            }
        }
        match store::save(db, scope, program_id, revision, program, &rules()).await {
            Ok(d) => Ok(Saved::Saved(d)),
            Err(StoreError::Conflict { .. }) => Ok(Saved::Conflict),
            Err(StoreError::Refused(problems)) => Ok(Saved::Refused(problems)),
            Err(StoreError::TooLarge { max }) => Ok(Saved::TooLarge { max_bytes: max }),
            Err(err) => Err(unexpected(err)),
        }
    }

    pub async fn review(
        db: &DatabaseConnection,
        scope: Scope,
        program_id: i64,
    ) -> Result<Review, AppError> {
        let (draft, changes) = store::review(db, scope, program_id, &rules())
            .await
            .map_err(unexpected)?;
        let versions = store::versions(db, scope, program_id)
            .await
            .map_err(unexpected)?
            .into_iter()
            .map(|v| crate::catalogue::VersionState {
                number: v.number,
                published: v.status == store::PUBLISHED,
            })
            .collect();
        Ok(Review {
            versions,
            program_id,
            title: draft.program.title,
            revision: draft.revision,
            based_on: draft.based_on,
            major: draft.based_on.is_none() || diff::is_major(&changes),
            changes,
            problems: draft.problems,
        })
    }

    pub async fn publish(
        db: &DatabaseConnection,
        principal: &Principal,
        program_id: i64,
        revision: i32,
        bump: Bump,
        notes: &str,
    ) -> Result<Published, AppError> {
        if notes.chars().count() > 2_000 {
            return Err(AppError::Invalid {
                field: "release_notes".to_owned(),
                reason: "too_long".to_owned(),
            });
        }
        let publication = store::Publication {
            bump,
            release_notes: notes.to_owned(),
            published_by: principal.staff().map(|s| s.staff_person_id),
        };
        let scope = scope(principal)?;
        match store::publish(db, scope, program_id, revision, &publication, &rules()).await {
            Ok(number) => Ok(Published::Published(number)),
            Err(StoreError::Conflict { .. }) => Ok(Published::Conflict),
            Err(StoreError::Refused(problems)) => Ok(Published::Refused(problems)),
            Err(StoreError::Unchanged) => Ok(Published::Unchanged),
            Err(StoreError::NeedsMajor(changes)) => Ok(Published::NeedsMajor(changes)),
            Err(err) => Err(unexpected(err)),
        }
    }
}
