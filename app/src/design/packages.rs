//! Program packages through the web: a published version exported as one file, and a package
//! imported as a new program whose draft is the package's program. The server's routes
//! (`GET /program/<id>/paket/<M.m>`, `POST /program/importera`) call these.

use super::ssr::unexpected;
use crate::auth::gate::check;
use crate::auth::policy::{PROGRAM_STAFF, Requirement};
use crate::auth::{Principal, Role};
use crate::error::AppError;
use crate::programs::Rules;
use crate::programs::media::MediaStore;
use crate::programs::package::{self, ImportProblem, Limits};
use crate::programs::store::{self, StoreError, scope};
use crate::programs::version::VersionNumber;
use sea_orm::DatabaseConnection;

/// How large a package a demo visitor may import (their programs are thrown away).
pub const MAX_DEMO_PACKAGE_BYTES: u64 = 10 << 20;

/// The package's file name: the title's letters and digits, and the version.
fn file_name(title: &str, number: VersionNumber) -> String {
    let mut slug = String::new();
    for c in title.to_lowercase().chars() {
        let c = match c {
            'å' | 'ä' => 'a',
            'ö' => 'o',
            'é' => 'e',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "program" } else { slug };
    format!("{slug}-{}.{}.lotsen.zip", number.major, number.minor)
}

/// A published (or unpublished) version as a package: its file name and bytes. For producers
/// and publishers of the care provider that owns the program.
pub async fn export(
    db: &DatabaseConnection,
    media: &MediaStore,
    principal: &Principal,
    program_id: i64,
    number: VersionNumber,
) -> Result<(String, Vec<u8>), AppError> {
    check(Requirement::AnyRole(PROGRAM_STAFF), Some(principal))?;
    let scope = scope(principal)?;
    let program = store::version(db, scope, program_id, number)
        .await
        .map_err(unexpected)?;
    let files = media.read_all(program_id, &program).await.map_err(|err| {
        tracing::error!(error = %err, program_id, "a program's media file could not be read");
        AppError::Unavailable
    })?;
    let bytes = package::export(&program, &files).map_err(|err| {
        tracing::error!(error = %err, program_id, "writing a package failed");
        AppError::Unavailable
    })?;
    Ok((file_name(&program.title, number), bytes))
}

/// What became of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// The new program's id.
    Created(i64),
    /// Nothing was created; every reason, with where.
    Refused(Vec<ImportProblem>),
}

/// Imports a package as a new program of the producer's care provider (a draft, not yet
/// published). On any problem nothing is created.
pub async fn import(
    db: &DatabaseConnection,
    store_: &MediaStore,
    rules: &Rules,
    principal: &Principal,
    bytes: &[u8],
) -> Result<Imported, AppError> {
    check(Requirement::Role(Role::Producer), Some(principal))?;
    let scope = scope(principal)?;
    let mut limits = Limits::default();
    if let Some(sandbox) = scope.sandbox_id {
        // What the sandbox may still hold, and the document.
        let held = store_.count_in_sandbox(db, sandbox).await?;
        limits.max_package_bytes = MAX_DEMO_PACKAGE_BYTES;
        limits.max_media_bytes = store_.max_demo_file_bytes;
        limits.max_entries = store_.max_demo_files.saturating_sub(held) + 1;
    } else {
        limits.max_media_bytes = store_.max_file_bytes;
    }
    let package = match package::import(bytes, &limits, rules) {
        Ok(package) => package,
        Err(problems) => return Ok(Imported::Refused(problems)),
    };
    let by = principal.staff().map(|s| s.staff_person_id);
    let draft = match store::create_from(db, scope, by, package.program, rules).await {
        Ok(draft) => draft,
        Err(StoreError::Refused(problems)) => {
            return Ok(Imported::Refused(
                problems.into_iter().map(ImportProblem::from).collect(),
            ));
        }
        Err(err) => return Err(unexpected(err)),
    };
    let id = draft.program_id;
    for (path, content) in &package.media {
        if let Err(err) = store_.write(id, path, content).await {
            tracing::error!(error = %err, program_id = id, "writing an imported file failed");
            let _ = tokio::fs::remove_dir_all(store_.folder(id)).await;
            if let Err(err) = store::discard(db, scope, id).await {
                tracing::error!(error = %err, program_id = id, "removing a failed import failed");
            }
            return Err(AppError::Unavailable);
        }
    }
    Ok(Imported::Created(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain() {
        let v = VersionNumber { major: 2, minor: 1 };
        assert_eq!(file_name("Sov bättre", v), "sov-battre-2.1.lotsen.zip");
        assert_eq!(file_name("Hantera oro!", v), "hantera-oro-2.1.lotsen.zip");
        assert_eq!(file_name("../../etc", v), "etc-2.1.lotsen.zip");
        assert_eq!(file_name("", v), "program-2.1.lotsen.zip");
    }
}
