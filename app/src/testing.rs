//! Throwaway databases for tests, on both engines.
//!
//! SQLite: a fresh file in the system temp directory. PostgreSQL: a fresh database on the server
//! named by `LOTSEN_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped again at the end. If PostgreSQL cannot be reached the test fails; it is skipped only
//! when `LOTSEN_TEST_SKIP_POSTGRES=1` says so explicitly.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::sync::atomic::{AtomicU32, Ordering};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    pub engine: Engine,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "lotsen_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Panics with a clear message: test set-up failures are failures, never skips.
fn setup_failed(what: &str, err: impl std::fmt::Display) -> ! {
    panic!("test database set-up failed: {what}: {err}")
}

impl TestDb {
    /// A migrated database on `engine`, or `None` only when PostgreSQL was explicitly skipped.
    pub async fn new(engine: Engine) -> Option<Self> {
        match engine {
            Engine::Sqlite => Some(Self::sqlite().await),
            Engine::Postgres => Self::postgres().await,
        }
    }

    pub async fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Database::connect(crate::db::connect_options(&url))
            .await
            .unwrap_or_else(|e| setup_failed("open SQLite", e));
        // As the server opens its file: write-ahead log (a property of the file).
        db.execute_unprepared("PRAGMA journal_mode=WAL")
            .await
            .unwrap_or_else(|e| setup_failed("WAL mode", e));
        Self::migrate(&db).await;
        Self {
            db,
            url,
            engine: Engine::Sqlite,
            cleanup: Cleanup::File(path),
        }
    }

    pub async fn postgres() -> Option<Self> {
        if std::env::var("LOTSEN_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("PostgreSQL tests skipped: LOTSEN_TEST_SKIP_POSTGRES=1");
            return None;
        }
        let admin_url = std::env::var("LOTSEN_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
            setup_failed(
                &format!(
                    "connect to PostgreSQL at {admin_url} (set LOTSEN_TEST_POSTGRES_URL, \
                     or LOTSEN_TEST_SKIP_POSTGRES=1 to skip deliberately)"
                ),
                e,
            )
        });
        let name = unique_name();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| setup_failed("create database", e));
        let _ = admin.close().await;
        let url = replace_database(&admin_url, &name);
        let db = Database::connect(crate::db::connect_options(&url))
            .await
            .unwrap_or_else(|e| setup_failed("connect to the new database", e));
        Self::migrate(&db).await;
        Some(Self {
            db,
            url,
            engine: Engine::Postgres,
            cleanup: Cleanup::Database { admin_url, name },
        })
    }

    async fn migrate(db: &DatabaseConnection) {
        Migrator::up(db, None)
            .await
            .unwrap_or_else(|e| setup_failed("run migrations", e));
    }

    /// Closes the connection and removes the database.
    pub async fn finish(self) {
        let _ = self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

/// Two regions: A with units A1 and A2, B with unit B1. Staff at A1 in several roles (a
/// producer and a publisher among them), one therapist at B1; four patients (401 and 402 at
/// A1, 403 at A2, 404 at B1).
pub const TWO_REGIONS: &str = "
INSERT INTO care_provider (id, name, org_number, county_code, kind) VALUES
  (1, 'Region A', '2321000016', '01', 'region'), (2, 'Region B', '2321000024', '03', 'region');
INSERT INTO care_unit (id, care_provider_id, hsa_id, name, active, allows_emergency_access) VALUES
  (11, 1, 'SE2321000016-A1', 'Enhet A1', TRUE, TRUE), (12, 1, 'SE2321000016-A2', 'Enhet A2', TRUE, TRUE),
  (21, 2, 'SE2321000024-B1', 'Enhet B1', TRUE, TRUE);
INSERT INTO staff_person (id, given_name, family_name) VALUES
  (101, 'Tove', 'Terapeut'), (102, 'Nils', 'Utanuppdrag'), (103, 'Alva', 'Åtkomst'),
  (104, 'Viktor', 'Vårdgivare'), (105, 'Greta', 'Granskare'), (106, 'Bo', 'Behandlare'),
  (107, 'Pia', 'Producent'), (108, 'Pelle', 'Publicist');
INSERT INTO staff_hsa_identity (id, staff_person_id, hsa_id) VALUES
  (201, 101, 'SE-101'), (202, 102, 'SE-102'), (203, 103, 'SE-103'), (204, 104, 'SE-104'),
  (205, 105, 'SE-105'), (206, 106, 'SE-106'), (207, 107, 'SE-107'), (208, 108, 'SE-108');
INSERT INTO staff_assignment (id, staff_hsa_identity_id, care_unit_id, commission_hsa_id, commission_name, commission_purpose) VALUES
  (301, 201, 11, 'SE-101-U', 'V', 'Vård och behandling'), (302, 202, 11, 'SE-102-U', 'A', 'Administration'),
  (303, 203, 11, 'SE-103-U', 'A', 'Administration'), (304, 204, 11, 'SE-104-U', 'A', 'Administration'),
  (305, 205, 11, 'SE-105-U', 'U', 'Uppföljning'), (306, 206, 21, 'SE-106-U', 'V', 'Vård och behandling'),
  (307, 207, 11, 'SE-107-U', 'P', 'Administration'), (308, 208, 11, 'SE-108-U', 'P', 'Administration');
INSERT INTO staff_role (staff_person_id, care_provider_id, care_unit_id, role, granted_at) VALUES
  (101, 1, 11, 'therapist', CURRENT_TIMESTAMP), (102, 1, 11, 'therapist', CURRENT_TIMESTAMP),
  (103, 1, 11, 'access_admin', CURRENT_TIMESTAMP), (104, 1, NULL, 'provider_admin', CURRENT_TIMESTAMP),
  (105, 1, NULL, 'auditor', CURRENT_TIMESTAMP), (106, 2, 21, 'therapist', CURRENT_TIMESTAMP),
  (107, 1, 11, 'producer', CURRENT_TIMESTAMP), (108, 1, 11, 'publisher', CURRENT_TIMESTAMP);
INSERT INTO patient (id, personnummer, given_name, family_name) VALUES
  (401, '199107172380', 'Petra', 'Patient'), (402, '199006022397', 'Olle', 'Exempel'),
  (403, '199610202385', 'Maja', 'Mönster'), (404, '191212121212', 'Rut', 'Region');
INSERT INTO program (id, owner_provider_id, title) VALUES (501, 1, 'Program');
INSERT INTO program_version (id, program_id, major, minor, status) VALUES (601, 501, 1, 0, 'published');
INSERT INTO enrolment (id, patient_id, program_version_id, care_unit_id, state, started_at, internal_note) VALUES
  (701, 401, 601, 11, 'active', CURRENT_TIMESTAMP, 'INTERNAL-NOTE-701'),
  (702, 402, 601, 11, 'active', CURRENT_TIMESTAMP, ''),
  (703, 403, 601, 12, 'active', CURRENT_TIMESTAMP, ''),
  (704, 404, 601, 21, 'active', CURRENT_TIMESTAMP, '');
";

/// A session token for a staff member in one of their assignments (tests, benchmarks).
pub async fn staff_session(db: &DatabaseConnection, person: i64, assignment: i64) -> String {
    session_of(
        db,
        crate::auth::session::Subject::Staff {
            staff_person_id: person,
            assignment_id: Some(assignment),
        },
    )
    .await
}

/// A session token for a patient (tests, benchmarks).
pub async fn patient_session(db: &DatabaseConnection, patient_id: i64) -> String {
    session_of(db, crate::auth::session::Subject::Patient { patient_id }).await
}

async fn session_of(db: &DatabaseConnection, subject: crate::auth::session::Subject) -> String {
    let config = crate::auth::session::SessionConfig::default();
    crate::auth::session::create(db, &config, subject, None, None, None)
        .await
        .unwrap_or_else(|e| setup_failed("session", e))
}

/// The one whole number a query answers (a count, an id).
pub async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .unwrap_or_else(|| panic!("{sql}: no number"))
}

pub async fn two_regions(db: &DatabaseConnection) {
    for statement in TWO_REGIONS.split(';').filter(|s| !s.trim().is_empty()) {
        db.execute_unprepared(statement)
            .await
            .unwrap_or_else(|e| setup_failed("two regions", e));
    }
    // Version 601 carries a program to walk as a patient.
    set_care_program(db, &care_program()).await;
    // Explicit ids do not advance PostgreSQL's sequences: move them past the world's ids.
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        for table in [
            "care_provider",
            "care_unit",
            "staff_person",
            "staff_hsa_identity",
            "staff_assignment",
            "patient",
            "program",
            "program_version",
            "enrolment",
        ] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10000)"
            ))
            .await
            .unwrap_or_else(|e| setup_failed("sequence", e));
        }
    }
}

/// One statement with one parameter, in the engine's placeholder style (`$1` or `?`).
pub async fn execute_with(db: &DatabaseConnection, sql: &str, value: sea_orm::Value) {
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => sql.to_owned(),
        _ => sql.replace("$1", "?"),
    };
    db.execute(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [value],
    ))
    .await
    .unwrap_or_else(|e| setup_failed("update", e));
}

/// Replaces the content of version 601 (the program the world's enrolments follow).
pub async fn set_care_program(db: &DatabaseConnection, program: &crate::programs::Program) {
    let content = crate::programs::store::canonical(program)
        .unwrap_or_else(|e| setup_failed("care program", e));
    let hash = crate::programs::store::content_hash(&content);
    db.execute(crate::db::statement(
        db,
        "UPDATE program_version SET content = $1, content_hash = $2 WHERE id = 601",
        vec![content.into(), hash.into()],
    ))
    .await
    .unwrap_or_else(|e| setup_failed("care program", e));
}

/// Moves an enrolment's start `days` days back from now, as if treatment had gone on so long.
pub async fn started_days_ago(db: &DatabaseConnection, enrolment: i64, days: i64) {
    let at = chrono::Utc::now() - chrono::Duration::days(days);
    execute_with(
        db,
        &format!("UPDATE enrolment SET started_at = $1 WHERE id = {enrolment}"),
        at.into(),
    )
    .await;
}

/// The same URL with another database name (the path), keeping any query string.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// The one runtime every database test runs on, as the server runs on one. Each test thread
/// drives its own body (`block_on`), and what the body spawns runs on the shared workers, which
/// outlive any one test. With a runtime per test, work that Leptos spawns while rendering for
/// one test could land on another test's runtime and be dropped when that test ended, leaving
/// a page that never finished (seen as a rare hang under parallel tests).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| setup_failed("test runtime", e))
    })
}

/// Runs an async test body once on SQLite and once on PostgreSQL, as two test functions
/// `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: sea_orm::DatabaseConnection) $body

            #[test]
            fn sqlite() {
                $crate::testing::runtime().block_on(async {
                    let t = $crate::testing::TestDb::sqlite().await;
                    body(t.db.clone()).await;
                    t.finish().await;
                })
            }

            #[test]
            fn postgres() {
                $crate::testing::runtime().block_on(async {
                    let Some(t) = $crate::testing::TestDb::postgres().await else { return };
                    body(t.db.clone()).await;
                    t.finish().await;
                })
            }
        }
    };
    // The same, with the database URL too (for tests that run the `lotsen` binary on it).
    ($name:ident, |$db:ident, $url:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: sea_orm::DatabaseConnection, $url: String) $body

            #[test]
            fn sqlite() {
                $crate::testing::runtime().block_on(async {
                    let t = $crate::testing::TestDb::sqlite().await;
                    body(t.db.clone(), t.url.clone()).await;
                    t.finish().await;
                })
            }

            #[test]
            fn postgres() {
                $crate::testing::runtime().block_on(async {
                    let Some(t) = $crate::testing::TestDb::postgres().await else { return };
                    body(t.db.clone(), t.url.clone()).await;
                    t.finish().await;
                })
            }
        }
    };
}

/// Whose programs, in the two-region world: region A's and region B's, outside any sandbox.
pub const REGION_A: crate::programs::store::Scope = crate::programs::store::Scope {
    provider_id: 1,
    sandbox_id: None,
};
pub const REGION_B: crate::programs::store::Scope = crate::programs::store::Scope {
    provider_id: 2,
    sandbox_id: None,
};

/// Publishing as the next major version, without notes or a named publisher.
pub fn major_publication() -> crate::programs::store::Publication {
    crate::programs::store::Publication {
        bump: crate::programs::store::Bump::Major,
        release_notes: String::new(),
        published_by: None,
    }
}

/// A small program that may be published: one module, one section, one page with a text.
pub fn small_program(title: &str) -> crate::programs::Program {
    use crate::programs::{Block, BlockBody, Module, Program, Section, Step, UnlockRule};
    Program {
        title: title.to_owned(),
        description: String::new(),
        modules: vec![Module {
            key: "m1".to_owned(),
            title: "Modul 1".to_owned(),
            unlock: UnlockRule::Open,
            sections: vec![Section {
                key: "s1".to_owned(),
                title: "Avsnitt 1".to_owned(),
                show_if: None,
                steps: vec![Step {
                    key: "p1".to_owned(),
                    title: "Sida 1".to_owned(),
                    blocks: vec![Block {
                        key: "b1".to_owned(),
                        show_if: None,
                        body: BlockBody::Text {
                            markdown: "Välkommen.".to_owned(),
                        },
                    }],
                }],
            }],
        }],
        questionnaires: Vec::new(),
        follow_up: Default::default(),
        schedules: Vec::new(),
    }
}

/// The program that version 601 of the two-region world follows, for care delivery: module
/// `m1` (open) with a welcome page `p1` and a PHQ-9 page `p2`; `m2` after `m1` is finished, with
/// a page `p3`; `m3` (open) whose one section is shown only at a PHQ-9 total of 10 or more;
/// `m4` (open) with a worksheet `ws` and a sleep-diary exercise `diary` on page `p5`; `m5`, which
/// opens when the therapist has given feedback on `m4`; `m6`, which opens on day 14. A GAD-7
/// (`gad`) is asked every week from enrolment (schedule `gad-weekly`, open all week, not
/// blocking).
pub fn care_program() -> crate::programs::Program {
    use crate::programs::{
        Block, BlockBody, Field, FieldKind, Module, Program, QuestionnaireDef, Schedule,
        ScheduleStart, Section, ShowIf, ShowOp, Step, UnlockRule,
    };
    let field = |key: &str, kind: FieldKind, required: bool| Field {
        key: key.to_owned(),
        label: format!("Fält {key}"),
        kind,
        required,
    };
    let text = |key: &str, words: &str| Block {
        key: key.to_owned(),
        show_if: None,
        body: BlockBody::Text {
            markdown: words.to_owned(),
        },
    };
    let page = |key: &str, blocks: Vec<Block>| Step {
        key: key.to_owned(),
        title: format!("Sida {key}"),
        blocks,
    };
    let module = |key: &str, unlock, show_if: Option<ShowIf>, steps: Vec<Step>| Module {
        key: key.to_owned(),
        title: format!("Modul {key}"),
        unlock,
        sections: vec![Section {
            key: format!("{key}-s"),
            title: format!("Avsnitt {key}"),
            show_if,
            steps,
        }],
    };
    Program {
        title: "Program".to_owned(),
        description: String::new(),
        modules: vec![
            module(
                "m1",
                UnlockRule::Open,
                None,
                vec![
                    page("p1", vec![text("b1", "Välkommen till programmet.")]),
                    page(
                        "p2",
                        vec![Block {
                            key: "phq".to_owned(),
                            show_if: None,
                            body: BlockBody::Questionnaire {
                                questionnaire: "phq".to_owned(),
                            },
                        }],
                    ),
                ],
            ),
            module(
                "m2",
                UnlockRule::AfterPrevious,
                None,
                vec![page("p3", vec![text("b3", "LOCKED-MODULE-TEXT")])],
            ),
            module(
                "m3",
                UnlockRule::Open,
                Some(ShowIf {
                    questionnaire: "phq".to_owned(),
                    item: "total".to_owned(),
                    op: ShowOp::AtLeast,
                    value: 10,
                }),
                vec![page("p4", vec![text("b4", "SHOWN-AT-TEN")])],
            ),
            module(
                "m4",
                UnlockRule::Open,
                None,
                vec![page(
                    "p5",
                    vec![
                        Block {
                            key: "ws".to_owned(),
                            show_if: None,
                            body: BlockBody::Worksheet {
                                instructions: "Skriv om veckans oro.".to_owned(),
                                fields: vec![
                                    field("thought", FieldKind::Text { max_chars: 50 }, true),
                                    field("strength", FieldKind::Number { min: 0, max: 10 }, true),
                                ],
                            },
                        },
                        Block {
                            key: "diary".to_owned(),
                            show_if: None,
                            body: BlockBody::Exercise {
                                instructions: "Sömndagbok.".to_owned(),
                                fields: vec![
                                    field("night", FieldKind::Date, true),
                                    field(
                                        "quality",
                                        FieldKind::Choice {
                                            options: vec!["Dålig".to_owned(), "Bra".to_owned()],
                                        },
                                        false,
                                    ),
                                ],
                            },
                        },
                    ],
                )],
            ),
            module(
                "m5",
                UnlockRule::AfterFeedback,
                None,
                vec![page("p6", vec![text("b6", "AFTER-FEEDBACK-TEXT")])],
            ),
            module(
                "m6",
                UnlockRule::AfterDays { days: 14 },
                None,
                vec![page("p7", vec![text("b7", "DAY-FOURTEEN-TEXT")])],
            ),
        ],
        questionnaires: vec![
            QuestionnaireDef {
                key: "phq".to_owned(),
                title: "PHQ-9".to_owned(),
                scale: Some("phq9".to_owned()),
                instrument: None,
                item_texts: (1..=10).map(|n| format!("Fråga nummer {n}")).collect(),
            },
            QuestionnaireDef {
                key: "gad".to_owned(),
                title: "GAD-7".to_owned(),
                scale: Some("gad7".to_owned()),
                instrument: None,
                item_texts: (1..=7).map(|n| format!("Oro nummer {n}")).collect(),
            },
        ],
        follow_up: Default::default(),
        schedules: vec![Schedule {
            key: "gad-weekly".to_owned(),
            questionnaire: "gad".to_owned(),
            starts: ScheduleStart::Enrolment,
            every_days: Some(7),
            window_days: 7,
            blocking: false,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_the_database_name_only() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
