//! Uploaded media: images, audio and video that a program carries itself.
//!
//! A program's files live in the media directory under `p<program id>/`, and the program
//! names them relative to that folder (`3f9a….png`), so that a program package carries them
//! unchanged and an imported program finds them under its own id. They are served at
//! `/media/<program id>/<path>` to those who may see the program.
//!
//! A file's type is what its first bytes say, never what its name or the browser claims; a
//! file that claims to be something else is refused.

use super::content::{BlockBody, Media, Program};

/// The URL prefix of a program's uploaded files, as the renderer links them.
pub fn url_base(program_id: i64) -> String {
    format!("/media/{program_id}/")
}

/// The types a block of `kind` (`image`, `audio`, `video`) may show.
pub fn allowed_types(kind: &str) -> &'static [&'static str] {
    match kind {
        "image" => &["image/png", "image/jpeg", "image/webp", "image/gif"],
        "audio" => &["audio/mpeg", "audio/mp4", "audio/ogg", "audio/webm"],
        "video" => &["video/mp4", "video/webm"],
        _ => &[],
    }
}

/// Whether `bytes` start the way files of `mime` do.
pub fn is_really(mime: &str, bytes: &[u8]) -> bool {
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    match mime {
        "image/png" => at(0, b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => at(0, b"\xff\xd8\xff"),
        "image/gif" => at(0, b"GIF87a") || at(0, b"GIF89a"),
        "image/webp" => at(0, b"RIFF") && at(8, b"WEBP"),
        "audio/mpeg" => {
            at(0, b"ID3") || (bytes.len() > 1 && bytes[0] == 0xff && bytes[1] & 0xe0 == 0xe0)
        }
        "audio/mp4" | "video/mp4" => at(4, b"ftyp"),
        "audio/ogg" => at(0, b"OggS"),
        "audio/webm" | "video/webm" => at(0, b"\x1a\x45\xdf\xa3"),
        _ => false,
    }
}

/// The file name ending for a type.
pub fn extension(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/ogg" => "ogg",
        "audio/webm" => "weba",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        _ => return None,
    })
}

/// The type a file name's ending stands for (what the server sends it as).
pub fn type_of_name(name: &str) -> Option<&'static str> {
    let ending = name.rsplit_once('.')?.1.to_ascii_lowercase();
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/webm",
        "video/mp4",
        "video/webm",
    ]
    .into_iter()
    .find(|mime| {
        extension(mime) == Some(ending.as_str()) || (ending == "jpeg" && *mime == "image/jpeg")
    })
}

/// Whether a media path stays inside the program's folder.
pub fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && !path.starts_with('/')
        && !path.contains(['\\', '\0', ':'])
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != "." && !part.starts_with('.'))
}

/// Every uploaded file a program uses: its path, type and size.
pub fn files(program: &Program) -> Vec<(&str, &str, u64)> {
    files_at(program)
        .into_iter()
        .map(|(_, path, mime, bytes)| (path, mime, bytes))
        .collect()
}

/// Every uploaded file a program uses, with the block that uses it
/// (`modules[0].sections[1].steps[2].blocks[0]`).
pub fn files_at(program: &Program) -> Vec<(String, &str, &str, u64)> {
    let mut files = Vec::new();
    for (m, module) in program.modules.iter().enumerate() {
        for (s, section) in module.sections.iter().enumerate() {
            for (g, step) in section.steps.iter().enumerate() {
                for (b, block) in step.blocks.iter().enumerate() {
                    let media = match &block.body {
                        BlockBody::Image { media, .. }
                        | BlockBody::Audio { media, .. }
                        | BlockBody::Video { media, .. } => media,
                        _ => continue,
                    };
                    if let Media::File { path, mime, bytes } = media {
                        files.push((
                            format!("modules[{m}].sections[{s}].steps[{g}].blocks[{b}]"),
                            path.as_str(),
                            mime.as_str(),
                            *bytes,
                        ));
                    }
                }
            }
        }
    }
    files
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::{extension, files, files_at, is_really, safe_path};
    use crate::auth::{Principal, Who};
    use crate::db::entities::{program, sharing_agreement};
    use crate::programs::content::{Media, Program};
    use crate::programs::{Problem, ProblemKind};
    use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    /// Where uploaded media is kept, and how large one file may be.
    #[derive(Debug, Clone)]
    pub struct MediaStore {
        pub dir: PathBuf,
        pub max_file_bytes: u64,
        /// For demo visitors, whose uploads are thrown away with their sandbox: the largest
        /// file, and how many files one sandbox may hold in all its programs.
        pub max_demo_file_bytes: u64,
        pub max_demo_files: usize,
    }

    impl MediaStore {
        pub fn new(dir: impl Into<PathBuf>) -> Self {
            Self {
                dir: dir.into(),
                max_file_bytes: 100 << 20,
                max_demo_file_bytes: 1 << 20,
                max_demo_files: 10,
            }
        }

        /// The folder of one program's files.
        pub fn folder(&self, program_id: i64) -> PathBuf {
            self.dir.join(format!("p{program_id}"))
        }

        /// Where a program's file is, if its path is safe.
        pub fn locate(&self, program_id: i64, path: &str) -> Option<PathBuf> {
            safe_path(path).then(|| self.folder(program_id).join(path))
        }

        /// How many files the programs of a demo sandbox hold together.
        pub async fn count_in_sandbox(
            &self,
            db: &impl ConnectionTrait,
            sandbox_id: i64,
        ) -> Result<usize, DbErr> {
            let ids: Vec<i64> = program::Entity::find()
                .select_only()
                .column(program::Column::Id)
                .filter(program::Column::SandboxId.eq(sandbox_id))
                .into_tuple()
                .all(db)
                .await?;
            let mut total = 0;
            for id in ids {
                total += self.count(id).await;
            }
            Ok(total)
        }

        /// How many files a program's folder holds.
        pub async fn count(&self, program_id: i64) -> usize {
            let Ok(mut dir) = tokio::fs::read_dir(self.folder(program_id)).await else {
                return 0;
            };
            let mut n = 0;
            while let Ok(Some(_)) = dir.next_entry().await {
                n += 1;
            }
            n
        }

        /// Stores an upload under a new random name; the caller has checked its type.
        pub async fn store(
            &self,
            program_id: i64,
            mime: &str,
            bytes: &[u8],
        ) -> std::io::Result<Media> {
            let ending = extension(mime).ok_or_else(|| std::io::Error::other("unknown type"))?;
            let mut name = [0u8; 16];
            getrandom::fill(&mut name).map_err(|e| std::io::Error::other(e.to_string()))?;
            let path = format!("{}.{ending}", crate::access_log::hex(&name));
            self.write(program_id, &path, bytes).await?;
            Ok(Media::File {
                path,
                mime: mime.to_owned(),
                bytes: bytes.len() as u64,
            })
        }

        /// Writes a file whole or not at all: to a temporary name first, then renamed.
        pub async fn write(
            &self,
            program_id: i64,
            path: &str,
            bytes: &[u8],
        ) -> std::io::Result<()> {
            let target = self
                .locate(program_id, path)
                .ok_or_else(|| std::io::Error::other("unsafe media path"))?;
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            let partial = target.with_extension("partial");
            tokio::fs::write(&partial, bytes).await?;
            tokio::fs::rename(&partial, &target).await
        }

        /// A program's files, read for a package.
        pub async fn read_all(
            &self,
            program_id: i64,
            program: &Program,
        ) -> std::io::Result<BTreeMap<String, Vec<u8>>> {
            let mut out = BTreeMap::new();
            for (path, _, _) in files(program) {
                let location = self
                    .locate(program_id, path)
                    .ok_or_else(|| std::io::Error::other("unsafe media path"))?;
                out.insert(path.to_owned(), tokio::fs::read(location).await?);
            }
            Ok(out)
        }

        /// Problems with the uploaded files a draft names: each must be one of this program's
        /// files, of the size and type the draft says.
        pub async fn check(&self, program_id: i64, program: &Program) -> Vec<Problem> {
            let mut problems = Vec::new();
            for (at, path, mime, bytes) in files_at(program) {
                if !self.present(program_id, path, mime, bytes).await {
                    problems.push(Problem {
                        path: at,
                        kind: ProblemKind::MediaMissing,
                        blocking: true,
                    });
                }
            }
            problems
        }

        async fn present(&self, program_id: i64, path: &str, mime: &str, bytes: u64) -> bool {
            let Some(location) = self.locate(program_id, path) else {
                return false;
            };
            let Ok(meta) = tokio::fs::metadata(&location).await else {
                return false;
            };
            if !meta.is_file() || meta.len() != bytes {
                return false;
            }
            let mut head = vec![0u8; 16];
            let Ok(file) = tokio::fs::File::open(&location).await else {
                return false;
            };
            use tokio::io::AsyncReadExt;
            let mut file = file;
            let n = file.read(&mut head).await.unwrap_or(0);
            is_really(mime, &head[..n])
        }

        /// Deletes the folders of programs that no longer exist (a demo sandbox's, once it
        /// has expired). Returns how many.
        pub async fn sweep(&self, exists: impl Fn(i64) -> bool) -> usize {
            let Ok(mut dir) = tokio::fs::read_dir(&self.dir).await else {
                return 0;
            };
            let mut removed = 0;
            while let Ok(Some(entry)) = dir.next_entry().await {
                let name = entry.file_name();
                let Some(id) = name
                    .to_str()
                    .and_then(|n| n.strip_prefix('p'))
                    .and_then(|n| n.parse::<i64>().ok())
                else {
                    continue;
                };
                if !exists(id) && tokio::fs::remove_dir_all(entry.path()).await.is_ok() {
                    removed += 1;
                }
            }
            removed
        }
    }

    /// Whether `principal` may see a program's files: staff of the care provider that owns it
    /// or of one it has been shared with, and patients enrolled in one of its versions; never
    /// across demo sandboxes.
    pub async fn may_read(
        db: &impl ConnectionTrait,
        principal: &Principal,
        program_id: i64,
    ) -> Result<bool, DbErr> {
        let Some(program) = program::Entity::find_by_id(program_id).one(db).await? else {
            return Ok(false);
        };
        if program.sandbox_id != principal.sandbox_id {
            return Ok(false);
        }
        match &principal.who {
            Who::Staff(staff) => {
                let Some(assignment) = &staff.assignment else {
                    return Ok(false);
                };
                if assignment.care_provider_id == program.owner_provider_id {
                    return Ok(true);
                }
                // Running treatments keep their pictures after sharing stops.
                Ok(sharing_agreement::Entity::find()
                    .filter(sharing_agreement::Column::ProgramId.eq(program_id))
                    .filter(
                        sharing_agreement::Column::RecipientProviderId
                            .eq(assignment.care_provider_id),
                    )
                    .one(db)
                    .await?
                    .is_some())
            }
            Who::Patient { .. } => match crate::auth::scope::OwnCare::of(principal) {
                Some(own) => own.enrolled_in_program(db, program_id).await,
                None => Ok(false),
            },
        }
    }

    /// The ids of the programs that exist, for [`MediaStore::sweep`]; a folder of a program
    /// newer than all of them is kept (it may be an import in progress).
    pub async fn existing_programs(
        db: &impl ConnectionTrait,
    ) -> Result<std::collections::BTreeSet<i64>, DbErr> {
        let ids: Vec<i64> = program::Entity::find()
            .select_only()
            .column(program::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        Ok(ids.into_iter().collect())
    }
}
