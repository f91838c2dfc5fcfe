//! The schema and the start page's query, on SQLite and on PostgreSQL.

#![allow(clippy::expect_used)]
#![cfg(feature = "ssr")]

use app::db::entities::{
    care_provider, care_unit, enrolment, program, program_version, status_notice,
};
use app::db_test;
use app::domain::EnrolmentState;
use app::programs::version::VersionStatus;
use app::start::Severity;
use app::start::queries::overview;
use chrono::{Duration, Utc};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, Set, Statement};

async fn provider(db: &DatabaseConnection, org: &str, sandbox: Option<i64>) -> i64 {
    care_provider::ActiveModel {
        name: Set(format!("Region {org}")),
        org_number: Set(org.to_owned()),
        county_code: Set("01".to_owned()),
        kind: Set(app::domain::ProviderKind::Region),
        sandbox_id: Set(sandbox),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert care provider")
    .id
}

async fn unit(db: &DatabaseConnection, provider: i64, hsa: &str, active: bool) -> i64 {
    care_unit::ActiveModel {
        care_provider_id: Set(provider),
        hsa_id: Set(hsa.to_owned()),
        name: Set(format!("Unit {hsa}")),
        active: Set(active),
        allows_emergency_access: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert care unit")
    .id
}

async fn version(db: &DatabaseConnection, provider: i64, status: VersionStatus) -> i64 {
    let program = program::ActiveModel {
        owner_provider_id: Set(provider),
        title: Set("Sömnskolan".to_owned()),
        description: Set(String::new()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert program");
    program_version::ActiveModel {
        program_id: Set(program.id),
        major: Set(1),
        minor: Set(0),
        status: Set(status),
        release_notes: Set(String::new()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert version")
    .id
}

async fn patient(db: &DatabaseConnection, pnr: &str) -> i64 {
    let stmt = Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            DbBackend::Postgres => {
                "INSERT INTO patient (personnummer, given_name, family_name) VALUES ($1, 'Tolvan', 'Tolvansson') RETURNING id"
            }
            _ => {
                "INSERT INTO patient (personnummer, given_name, family_name) VALUES (?, 'Tolvan', 'Tolvansson') RETURNING id"
            }
        },
        [pnr.into()],
    );
    let row = db
        .query_one(stmt)
        .await
        .expect("insert patient")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("id")
}

async fn enrol(
    db: &DatabaseConnection,
    patient: i64,
    version: i64,
    unit: i64,
    state: EnrolmentState,
) {
    enrolment::ActiveModel {
        patient_id: Set(patient),
        program_version_id: Set(version),
        care_unit_id: Set(unit),
        state: Set(state),
        started_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert enrolment");
}

db_test!(empty_database_shows_zero_and_no_notices, |db| {
    let o = overview(&db, Utc::now()).await.expect("overview");
    assert_eq!(
        (
            o.active_care_units,
            o.published_programs,
            o.ongoing_enrolments
        ),
        (0, 0, 0)
    );
    assert!(o.notices.is_empty());
});

db_test!(
    overview_counts_only_what_is_real_active_and_published,
    |db| {
        let region = provider(&db, "2321000016", None).await;
        let u1 = unit(&db, region, "SE2321000016-AAA1", true).await;
        unit(&db, region, "SE2321000016-AAA2", true).await;
        unit(&db, region, "SE2321000016-AAA3", false).await;
        let published = version(&db, region, VersionStatus::Published).await;
        version(&db, region, VersionStatus::Draft).await;
        let p1 = patient(&db, "191212121212").await;
        let p2 = patient(&db, "199001012385").await;
        let p3 = patient(&db, "200002292381").await;
        enrol(&db, p1, published, u1, EnrolmentState::Active).await;
        enrol(&db, p2, published, u1, EnrolmentState::Maintenance).await;
        enrol(&db, p3, published, u1, EnrolmentState::Ended).await;

        // A demo sandbox's region and unit never count.
        db.execute_unprepared(
            "INSERT INTO demo_sandbox (token_hash, last_seen_at, expires_at) \
         VALUES ('t', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )
        .await
        .expect("sandbox");
        let demo_region = provider(&db, "2321000016", Some(1)).await;
        let demo_unit = care_unit::ActiveModel {
            care_provider_id: Set(demo_region),
            hsa_id: Set("SE2321000016-AAA1".to_owned()),
            name: Set("Demo".to_owned()),
            active: Set(true),
            allows_emergency_access: Set(false),
            sandbox_id: Set(Some(1)),
            ..Default::default()
        };
        demo_unit
            .insert(&db)
            .await
            .expect("the same HSA-ID may exist once per sandbox");

        let o = overview(&db, Utc::now()).await.expect("overview");
        assert_eq!(o.active_care_units, 2, "two active real units");
        assert_eq!(
            o.published_programs, 1,
            "one program has a published version"
        );
        assert_eq!(
            o.ongoing_enrolments, 2,
            "active and maintenance count, ended does not"
        );
    }
);

db_test!(only_current_notices_show_newest_first, |db| {
    let now = Utc::now();
    for (title, starts, ends, severity) in [
        (
            "past",
            now - Duration::days(3),
            Some(now - Duration::days(1)),
            Severity::Outage,
        ),
        (
            "future",
            now + Duration::days(1),
            None,
            Severity::Maintenance,
        ),
        ("older", now - Duration::days(2), None, Severity::Degraded),
        (
            "newer",
            now - Duration::hours(1),
            Some(now + Duration::hours(1)),
            Severity::Maintenance,
        ),
    ] {
        status_notice::ActiveModel {
            severity: Set(severity),
            title_sv: Set(title.to_owned()),
            title_en: Set(title.to_owned()),
            body_sv: Set(String::new()),
            body_en: Set(String::new()),
            starts_at: Set(starts),
            ends_at: Set(ends),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("insert notice");
    }
    let o = overview(&db, now).await.expect("overview");
    let titles: Vec<_> = o.notices.iter().map(|n| n.title_sv.as_str()).collect();
    assert_eq!(titles, ["newer", "older"]);
    assert_eq!(o.notices[0].severity, Severity::Maintenance);
    assert_eq!(o.notices[1].severity, Severity::Degraded);
});

db_test!(a_real_personal_identity_number_is_unique, |db| {
    patient(&db, "191212121212").await;
    let again = db
        .execute_unprepared(
            "INSERT INTO patient (personnummer, given_name, family_name) VALUES ('191212121212', 'A', 'B')",
        )
        .await;
    assert!(
        again.is_err(),
        "a second real patient with the same number must be refused"
    );
});

db_test!(foreign_keys_are_enforced, |db| {
    let orphan = care_unit::ActiveModel {
        care_provider_id: Set(999_999),
        hsa_id: Set("SE2321000016-ORPH".to_owned()),
        name: Set("Orphan".to_owned()),
        active: Set(true),
        allows_emergency_access: Set(false),
        ..Default::default()
    }
    .insert(&db)
    .await;
    assert!(
        orphan.is_err(),
        "a unit of a care provider that does not exist must be refused"
    );
});

db_test!(deleting_a_sandbox_deletes_its_tenant_rows, |db| {
    db.execute_unprepared(
        "INSERT INTO demo_sandbox (token_hash, last_seen_at, expires_at) \
         VALUES ('s', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await
    .expect("sandbox");
    let region = provider(&db, "2321000016", Some(1)).await;
    unit(&db, region, "SE2321000016-DEMO", true).await;
    db.execute_unprepared("DELETE FROM demo_sandbox")
        .await
        .expect("delete sandbox");
    let left = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT (SELECT COUNT(*) FROM care_provider) + (SELECT COUNT(*) FROM care_unit)",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get_by_index::<i64>(0)
        .expect("number");
    assert_eq!(left, 0);
});

db_test!(migrations_go_down_and_up_again, |db| {
    let applied = Migrator::get_applied_migrations(&db)
        .await
        .expect("applied")
        .len();
    assert_eq!(applied, Migrator::migrations().len());
    Migrator::down(&db, None).await.expect("all the way down");
    assert!(
        Migrator::get_applied_migrations(&db)
            .await
            .expect("applied")
            .is_empty()
    );
    Migrator::up(&db, None).await.expect("and up again");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .is_empty()
    );
    overview(&db, Utc::now())
        .await
        .expect("the schema works after the round trip");
});

db_test!(access_log_refuses_changes_on_postgres, |db| {
    db.execute_unprepared(
        "INSERT INTO access_log (occurred_at, user_hsa_id, action, object_type, outcome, prev_hash, hash) \
         VALUES (CURRENT_TIMESTAMP, 'SE2321000016-ABC1', 'read', 'patient', 'allowed', '0', '1')",
    )
    .await
    .expect("appending is allowed");
    if db.get_database_backend() == DbBackend::Postgres {
        let update = db
            .execute_unprepared("UPDATE access_log SET action = 'x'")
            .await;
        assert!(
            update.is_err(),
            "PostgreSQL must refuse updates of the access log"
        );
        let delete = db.execute_unprepared("DELETE FROM access_log").await;
        assert!(
            delete.is_err(),
            "PostgreSQL must refuse deletes from the access log"
        );
    }
});

db_test!(postgres_connections_run_without_jit, |db| {
    // Lotsen's short statements would spend longer in JIT compilation than in running
    // (`app::db::connect_options`): every connection of the pool has it off.
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    for _ in 0..3 {
        let row = db
            .query_one(Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_setting('jit') AS jit",
            ))
            .await
            .expect("setting")
            .expect("row");
        let jit: String = row.try_get("", "jit").expect("jit");
        assert_eq!(jit, "off");
    }
});
