//! The access log's chains under concurrent writers, and the database refusing a fork.
//! SQLite and PostgreSQL.

#![allow(clippy::expect_used)]
#![cfg(feature = "ssr")]

use app::access_log::{self, Action, Entry, Outcome};
use app::db_test;
use sea_orm::{ConnectionTrait, Database};

fn entry(patient: i64) -> Entry {
    Entry {
        user_hsa_id: "SE2321000016-T1".to_owned(),
        assignment_hsa_id: Some("SE2321000016-U1".to_owned()),
        care_unit_hsa_id: Some("SE2321000016-A1".to_owned()),
        care_provider_org_number: Some("2321000016".to_owned()),
        patient_id: Some(patient),
        action: Action::Read,
        object_type: "patient_record",
        object_id: Some(patient),
        outcome: Outcome::Allowed,
        reason: None,
        needs_follow_up: false,
        sandbox_id: None,
    }
}

db_test!(appends_that_wait_together_are_written_in_one_insert, |db| {
    // While one append is being written, thirty requests come to append two rows each.
    let held = access_log::hold_appends().await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let conn = db.clone();
        tasks.push(tokio::spawn(async move {
            access_log::append_shared(&conn, vec![entry(1000 + i), entry(2000 + i)]).await
        }));
    }
    let started = std::time::Instant::now();
    while access_log::appends_waiting(&db) < 30 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the appends never came"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    drop(held);
    for task in tasks {
        task.await.expect("task").expect("append");
    }
    let report = access_log::verify(&db).await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.rows, 60);
    // One INSERT: one timestamp for all sixty rows (one after another, thirty).
    let times = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(DISTINCT occurred_at) AS n FROM access_log",
        ))
        .await
        .expect("count")
        .expect("row");
    assert_eq!(times.try_get::<i64>("", "n").expect("n"), 1);
    // Each request's two rows are next to each other in the chain, in its order.
    let rows = db
        .query_all(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT patient_id FROM access_log ORDER BY id",
        ))
        .await
        .expect("rows");
    let patients: Vec<i64> = rows
        .iter()
        .map(|row| row.try_get("", "patient_id").expect("patient"))
        .collect();
    for pair in patients.chunks(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1000,
            "a request's rows were split: {patients:?}"
        );
    }
});

db_test!(one_request_may_log_more_rows_than_one_insert_takes, |db| {
    // A unit's whole dashboard of 2,300 patients: more parameters than SQLite takes in one
    // statement (15 a row).
    let entries: Vec<Entry> = (0..2300).map(|i| entry(10_000 + i)).collect();
    access_log::append_shared(&db, entries)
        .await
        .expect("append");
    let report = access_log::verify(&db).await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.rows, 2300);
});

db_test!(concurrent_writers_keep_one_unbroken_chain, |db, url| {
    // Two connection pools, as two server processes would have.
    let other = Database::connect(&url).await.expect("second pool");
    let mut tasks = Vec::new();
    for i in 0..40 {
        let conn = if i % 2 == 0 {
            db.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            access_log::append(&conn, entry(400 + i)).await
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("append");
    }
    let report = access_log::verify(&db).await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.rows, 40);

    // A row that links to the same previous hash as an existing one (a fork) is refused by
    // the database itself.
    let fork = "INSERT INTO access_log (occurred_at, user_hsa_id, action, object_type, outcome, \
                needs_follow_up, prev_hash, hash) \
                SELECT occurred_at, user_hsa_id, action, object_type, outcome, needs_follow_up, \
                prev_hash, hash FROM access_log ORDER BY id DESC LIMIT 1";
    assert!(
        db.execute_unprepared(fork).await.is_err(),
        "a fork was stored"
    );
    assert_eq!(access_log::verify(&db).await.expect("verify").rows, 40);
    other.close().await.expect("close");
});
