//! Program packages: one portable file holding a program version — `lotsen-program.json` (the
//! format name, its version and the program document) and the program's uploaded media under
//! `media/` — as a zip archive. See `docs/program-package.md`.
//!
//! Import trusts nothing: size, entry count, names, compression ratios, the format version,
//! the document's schema, the validation report and every media file (present, the size it
//! claims, the type it claims) are checked, and every problem is reported with its path.
//! Nothing is created unless there are none.

use super::content::Program;
use super::validate::{Problem, ProblemKind, Rules, validate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

pub const MANIFEST: &str = "lotsen-program.json";
pub const FORMAT: &str = "lotsen-program";
/// 2: schedules (`schedules`) and modules that open after a number of days (`after_days`).
/// Version 1 packages (without either) still import.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this Lotsen imports.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    format_version: u32,
    program: Program,
}

/// How much a package may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_package_bytes: u64,
    pub max_entries: usize,
    pub max_manifest_bytes: u64,
    pub max_media_bytes: u64,
    pub max_total_bytes: u64,
    /// Uncompressed : compressed, above which an entry larger than 1 MiB is a zip bomb.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_package_bytes: 200 << 20,
            max_entries: 2_000,
            max_manifest_bytes: 8 << 20,
            max_media_bytes: 100 << 20,
            // What a whole package may unpack to, in memory: its largest size and a little.
            max_total_bytes: 256 << 20,
            max_ratio: 100,
        }
    }
}

/// A checked package: the program and its media files by path (relative to `media/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub program: Program,
    pub media: BTreeMap<String, Vec<u8>>,
}

/// One reason a package was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    pub path: String,
    pub reason: String,
    /// What kind of problem with the package (`not_zip`, `leaves_package`, …); `program` for a
    /// problem of the program itself (see `kind`).
    #[serde(default)]
    pub code: String,
    /// For a problem of the program itself, the validation report's kind (pages show it in
    /// the reader's language).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProblemKind>,
}

/// `code` names the kind of problem for pages to say in the reader's language; `reason` says
/// it in English with the details.
fn problem(path: &str, code: &'static str, reason: impl Into<String>) -> ImportProblem {
    ImportProblem {
        path: path.to_owned(),
        reason: reason.into(),
        code: code.to_owned(),
        kind: None,
    }
}

impl From<Problem> for ImportProblem {
    fn from(p: Problem) -> Self {
        ImportProblem {
            path: format!("program.{}", p.path),
            reason: format!("{:?}", p.kind),
            code: "program".to_owned(),
            kind: Some(p.kind),
        }
    }
}

use super::media::{files as media_files, is_really};

/// Writes a package. Every media file the program uses must be in `media`.
pub fn export(program: &Program, media: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        program: program.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file(MANIFEST, options)
        .map_err(|e| e.to_string())?;
    zip.write_all(&json).map_err(|e| e.to_string())?;
    let mut paths: Vec<&str> = media_files(program)
        .into_iter()
        .map(|(p, _, _)| p)
        .collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let bytes = media
            .get(path)
            .ok_or_else(|| format!("media file {path} is missing"))?;
        zip.start_file(format!("media/{path}"), options)
            .map_err(|e| e.to_string())?;
        zip.write_all(bytes).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

/// Whether a name inside the archive stays inside it.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains('\0')
        && !name.contains(':')
        && name
            .trim_end_matches('/')
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Reads and checks a package. On any problem, all of them are returned and nothing is kept.
pub fn import(bytes: &[u8], limits: &Limits, rules: &Rules) -> Result<Package, Vec<ImportProblem>> {
    if bytes.len() as u64 > limits.max_package_bytes {
        return Err(vec![problem(
            "",
            "too_large",
            format!(
                "the package is larger than {} bytes",
                limits.max_package_bytes
            ),
        )]);
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        vec![problem(
            "",
            "not_zip",
            format!("not a readable zip archive: {e}"),
        )]
    })?;
    if archive.len() > limits.max_entries {
        return Err(vec![problem(
            "",
            "too_many_files",
            format!("more than {} files in the package", limits.max_entries),
        )]);
    }
    let mut problems = Vec::new();
    let mut manifest: Option<Vec<u8>> = None;
    let mut media: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(problem(
                    &format!("#{index}"),
                    "unreadable",
                    format!("unreadable entry: {e}"),
                ));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(_) => {
                problems.push(problem(
                    &format!("#{index}"),
                    "bad_name",
                    "the file name is not UTF-8",
                ));
                continue;
            }
        };
        if !safe_name(&name) {
            problems.push(problem(
                &name,
                "leaves_package",
                "the name leaves the package (absolute or ..)",
            ));
            continue;
        }
        if entry.is_symlink() {
            problems.push(problem(&name, "symlink", "symbolic links are not allowed"));
            continue;
        }
        if entry.is_dir() {
            if name != "media/" && !name.starts_with("media/") {
                problems.push(problem(&name, "unexpected_file", "unexpected folder"));
            }
            continue;
        }
        let limit = if name == MANIFEST {
            limits.max_manifest_bytes
        } else if let Some(path) = name.strip_prefix("media/") {
            if media.contains_key(path) {
                problems.push(problem(&name, "duplicate", "the same file twice"));
                continue;
            }
            limits.max_media_bytes
        } else {
            problems.push(problem(
                &name,
                "unexpected_file",
                "unexpected file (only lotsen-program.json and media/…)",
            ));
            continue;
        };
        let declared = entry.size();
        if declared > limit {
            problems.push(problem(
                &name,
                "entry_too_large",
                format!("larger than {limit} bytes"),
            ));
            continue;
        }
        if declared > (1 << 20) && declared / entry.compressed_size().max(1) > limits.max_ratio {
            problems.push(problem(
                &name,
                "zip_bomb",
                "compressed suspiciously well (a zip bomb?)",
            ));
            continue;
        }
        // Never trust the declared size: read at most one byte past the limit.
        let mut content = Vec::new();
        if let Err(e) = (&mut entry).take(limit + 1).read_to_end(&mut content) {
            problems.push(problem(&name, "unreadable", format!("unreadable: {e}")));
            continue;
        }
        if content.len() as u64 > limit || content.len() as u64 != declared {
            problems.push(problem(
                &name,
                "size_mismatch",
                "its size is not what the archive says",
            ));
            continue;
        }
        total += content.len() as u64;
        if total > limits.max_total_bytes {
            problems.push(problem(
                &name,
                "unpacks_too_large",
                format!(
                    "the package unpacks to more than {} bytes",
                    limits.max_total_bytes
                ),
            ));
            break;
        }
        if name == MANIFEST {
            if manifest.is_some() {
                problems.push(problem(&name, "duplicate", "the same file twice"));
            }
            manifest = Some(content);
        } else if let Some(path) = name.strip_prefix("media/") {
            media.insert(path.to_owned(), content);
        }
    }
    let Some(manifest) = manifest else {
        problems.push(problem(MANIFEST, "missing", "missing"));
        return Err(problems);
    };
    let program = match read_manifest(&manifest) {
        Ok(program) => program,
        Err(p) => {
            problems.push(p);
            return Err(problems);
        }
    };
    problems.extend(
        validate(&program, rules)
            .into_iter()
            .filter(|p| p.blocking)
            .map(ImportProblem::from),
    );
    let mut used = std::collections::BTreeSet::new();
    for (path, mime, bytes) in media_files(&program) {
        used.insert(path);
        match media.get(path) {
            None => problems.push(problem(
                &format!("media/{path}"),
                "media_missing",
                "used by the program but missing",
            )),
            Some(content) if content.len() as u64 != bytes => problems.push(problem(
                &format!("media/{path}"),
                "media_size",
                format!("{} bytes, the program says {bytes}", content.len()),
            )),
            Some(content) if !is_really(mime, content) => problems.push(problem(
                &format!("media/{path}"),
                "media_type",
                format!("not a {mime} file"),
            )),
            Some(_) => {}
        }
    }
    for path in media.keys() {
        if !used.contains(path.as_str()) {
            problems.push(problem(
                &format!("media/{path}"),
                "media_unused",
                "not used by the program",
            ));
        }
    }
    if problems.is_empty() {
        Ok(Package { program, media })
    } else {
        Err(problems)
    }
}

/// A package's manifest on its own (a package without media): read and checked as
/// [`import`] checks it.
pub fn from_manifest(bytes: &[u8], rules: &Rules) -> Result<Program, Vec<ImportProblem>> {
    let program = read_manifest(bytes).map_err(|p| vec![p])?;
    let problems: Vec<ImportProblem> = validate(&program, rules)
        .into_iter()
        .filter(|p| p.blocking)
        .map(ImportProblem::from)
        .chain(media_files(&program).into_iter().map(|(path, _, _)| {
            problem(
                &format!("media/{path}"),
                "media_missing",
                "used by the program but missing",
            )
        }))
        .collect();
    if problems.is_empty() {
        Ok(program)
    } else {
        Err(problems)
    }
}

fn read_manifest(bytes: &[u8]) -> Result<Program, ImportProblem> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| problem(MANIFEST, "not_json", format!("not JSON: {e}")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(problem(
            &format!("{MANIFEST}: format"),
            "wrong_format",
            format!("not a {FORMAT} package"),
        ));
    }
    match value.get("format_version").and_then(|v| v.as_u64()) {
        Some(v) if (u64::from(OLDEST_FORMAT_VERSION)..=u64::from(FORMAT_VERSION)).contains(&v) => {}
        Some(v) => {
            return Err(problem(
                &format!("{MANIFEST}: format_version"),
                "format_version",
                format!(
                    "version {v}; this Lotsen reads versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}"
                ),
            ));
        }
        None => {
            return Err(problem(
                &format!("{MANIFEST}: format_version"),
                "missing",
                "missing",
            ));
        }
    }
    // Parse the text again (not the value) so that errors carry line and column.
    serde_json::from_slice::<Manifest>(bytes)
        .map(|m| m.program)
        .map_err(|e| problem(MANIFEST, "schema", e.to_string()))
}
