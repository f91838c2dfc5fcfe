//! Every entity still matches the table the migrations make, on both engines: the same column
//! names, and the rows of the shared fixtures read back through it (so a column's type or a
//! stored code that the entity cannot read fails here, not in a user's request).

#![allow(clippy::expect_used)]

use app::db::entities::*;
use app::db_test;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable,
    Statement,
};
use std::collections::BTreeSet;

async fn table_columns(db: &DatabaseConnection, table: &str) -> BTreeSet<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "SELECT column_name AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
        _ => format!("SELECT name FROM pragma_table_info('{table}')"),
    };
    db.query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("columns")
        .into_iter()
        .map(|row| row.try_get::<String>("", "name").expect("name"))
        .collect()
}

fn entity_columns<E: EntityTrait>() -> BTreeSet<String> {
    E::Column::iter().map(|c| c.as_str().to_owned()).collect()
}

/// Checks each entity module; returns how many rows were read in all.
macro_rules! check_entities {
    ($db:expr, $($entity:ident),* $(,)?) => {{
        let mut read = 0usize;
        $(
            let table = $entity::Entity.table_name();
            let in_database = table_columns($db, table).await;
            assert!(!in_database.is_empty(), "{table}: no such table");
            assert_eq!(entity_columns::<$entity::Entity>(), in_database, "{table}: columns");
            read += $entity::Entity::find()
                .all($db)
                .await
                .unwrap_or_else(|err| panic!("{table}: rows do not read back: {err}"))
                .len();
        )*
        read
    }};
}

db_test!(every_entity_matches_its_table, |db| {
    app::testing::two_regions(&db).await;
    // A row in each care table that the world leaves empty, with every optional column set.
    db.execute_unprepared(
        "INSERT INTO form_response (id, enrolment_id, program_version_id, questionnaire_key, \
           place, state, answers, total, band, scores, idempotency_key, updated_at, submitted_at) \
         VALUES (901, 701, 601, 'phq9', 'block:m1/p2/phq', 'submitted', '{\"phq9_1\":\"1\"}', 1, \
           'minimal', '{}', 'key-901', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP); \
         INSERT INTO flag (enrolment_id, kind, priority, reason, response_id, raised_at, \
           acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution, escalated_at, \
           note, raised_by) \
         VALUES (701, 'manual', 'urgent', 'manual_risk', 901, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, \
           101, CURRENT_TIMESTAMP, 101, 'Samtal', CURRENT_TIMESTAMP, 'Orolig', 101); \
         INSERT INTO page_visit (enrolment_id, program_version_id, module_key, step_key, \
           first_seen_at) VALUES (701, 601, 'm1', 'p1', CURRENT_TIMESTAMP)",
    )
    .await
    .expect("care rows");
    let read = check_entities!(
        &db,
        access_log,
        care_provider,
        care_unit,
        demo_sandbox,
        emergency_grant,
        enrolment,
        flag,
        form_response,
        login_attempt,
        page_visit,
        patient,
        program,
        program_activation,
        program_version,
        sharing_agreement,
        staff_assignment,
        staff_hsa_identity,
        staff_person,
        staff_role,
        status_notice,
        user_session,
    );
    assert!(read > 20, "the fixtures' rows were read ({read})");
});

db_test!(a_code_outside_its_set_is_refused_by_the_database, |db| {
    app::testing::two_regions(&db).await;
    let backend = db.get_database_backend();
    let run = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.execute(Statement::from_string(backend, sql))
                .await
                .map(|_| ())
        }
    };
    // A notice written by hand with a typo: refused, so the start page keeps working.
    let refused = run(
        "INSERT INTO status_notice (severity, title_sv, title_en, body_sv, body_en, starts_at) \
         VALUES ('outgae', 't', 't', '', '', CURRENT_TIMESTAMP)",
    )
    .await;
    assert!(refused.is_err(), "an unknown severity is refused");
    run("UPDATE enrolment SET state = 'paused' WHERE id = 701")
        .await
        .expect_err("an unknown enrolment state is refused");
    run("UPDATE staff_role SET role = 'admin' WHERE id = 1")
        .await
        .expect_err("an unknown role is refused");
    run("UPDATE program_version SET status = 'live' WHERE id = 601")
        .await
        .expect_err("an unknown version status is refused");
    // The known codes pass.
    run(
        "INSERT INTO status_notice (severity, title_sv, title_en, body_sv, body_en, starts_at) \
         VALUES ('outage', 't', 't', '', '', CURRENT_TIMESTAMP)",
    )
    .await
    .expect("a known severity is stored");
    run("UPDATE enrolment SET state = 'maintenance' WHERE id = 701")
        .await
        .expect("a known state is stored");
    let overview = app::start::queries::overview(&db, chrono::Utc::now())
        .await
        .expect("the start page's figures still read");
    assert_eq!(overview.notices.len(), 1);
});
