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
