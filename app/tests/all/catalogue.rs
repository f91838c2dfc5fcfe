//! The catalogue: a region shares a published program with another region, whose care-provider
//! administrator sees it and activates it on a unit of theirs; unpublishing stops new
//! activations while running ones continue; nothing crosses to providers it was not shared
//! with. SQLite and PostgreSQL.

#![allow(clippy::expect_used)]
#![cfg(feature = "ssr")]

use app::catalogue::store;
use app::catalogue::{Catalogue, CatalogueEntry};
use app::db_test;
use app::error::AppError;
use app::programs::Rules;
use app::programs::store as programs;
use app::programs::version::VersionNumber;
use app::testing::{REGION_A, REGION_B, major_publication, number, small_program, two_regions};
use sea_orm::DatabaseConnection;

const V1_0: VersionNumber = VersionNumber { major: 1, minor: 0 };
const V2_0: VersionNumber = VersionNumber { major: 2, minor: 0 };
/// Units: A1 and A2 in region A, B1 in region B.
const A1: i64 = 11;
const B1: i64 = 21;

/// A program of region A, published as 1.0.
async fn published(db: &DatabaseConnection, title: &str) -> i64 {
    let rules = Rules::default();
    let id = programs::create(db, REGION_A, None, title, &rules)
        .await
        .expect("create")
        .program_id;
    programs::save(db, REGION_A, id, 0, small_program(title), &rules)
        .await
        .expect("save");
    let publication = major_publication();
    programs::publish(db, REGION_A, id, 1, &publication, &rules)
        .await
        .expect("publish");
    id
}

fn entry(catalogue: &Catalogue, program_id: i64) -> Option<&CatalogueEntry> {
    catalogue
        .entries
        .iter()
        .find(|e| e.program_id == program_id)
}

db_test!(a_shared_program_is_activated_in_another_region, |db| {
    two_regions(&db).await;
    let id = published(&db, "Sov gott").await;

    // Not shared: region B does not see it, and cannot activate it.
    let seen = store::catalogue(&db, REGION_B).await.expect("catalogue");
    assert!(entry(&seen, id).is_none());
    assert_eq!(
        store::activate(&db, REGION_B, id, V1_0, B1, None).await,
        Err(AppError::NotFound)
    );

    // The owner shares it with region B.
    let partners = store::partners(&db, REGION_A, id).await.expect("partners");
    assert_eq!(
        partners
            .iter()
            .map(|p| (p.name.as_str(), p.shared))
            .collect::<Vec<_>>(),
        vec![("Region B", false)]
    );
    store::share(&db, REGION_A, id, 2, true, Some(104))
        .await
        .expect("share");
    store::share(&db, REGION_A, id, 2, true, Some(104))
        .await
        .expect("sharing twice changes nothing");
    let seen = store::catalogue(&db, REGION_B).await.expect("catalogue");
    let shared = entry(&seen, id).expect("shared with B");
    assert_eq!(shared.owner, "Region A");
    assert!(shared.available() && !shared.is_active());
    assert_eq!(seen.units, vec![(B1, "Enhet B1".to_owned())]);

    // B activates 1.0 on its own unit, never on A's.
    assert_eq!(
        store::activate(&db, REGION_B, id, V1_0, A1, None).await,
        Err(AppError::NotFound)
    );
    store::activate(&db, REGION_B, id, V1_0, B1, Some(106))
        .await
        .expect("activate");
    let seen = store::catalogue(&db, REGION_B).await.expect("catalogue");
    let active = &entry(&seen, id).expect("entry").active;
    assert_eq!(
        active
            .iter()
            .map(|a| (a.unit_name.as_str(), a.number))
            .collect::<Vec<_>>(),
        vec![("Enhet B1", V1_0)]
    );
    // A does not see B's activation in its own catalogue, nor end it.
    let own = store::catalogue(&db, REGION_A).await.expect("catalogue");
    assert!(!entry(&own, id).expect("own program").is_active());
    assert_eq!(
        store::deactivate(&db, REGION_A, active[0].id, None).await,
        Err(AppError::NotFound)
    );

    // Sharing stops: no new activations, but the running one stays in B's catalogue.
    store::share(&db, REGION_A, id, 2, false, None)
        .await
        .expect("stop");
    let seen = store::catalogue(&db, REGION_B).await.expect("catalogue");
    assert!(entry(&seen, id).expect("still active").is_active());

    // Only the owner shares; nobody shares with a provider that is not there.
    assert_eq!(
        store::share(&db, REGION_B, id, 1, true, None).await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        store::share(&db, REGION_A, id, 99, true, None).await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        store::share(&db, REGION_A, id, 1, true, None).await,
        Err(AppError::NotFound)
    );
});

db_test!(
    unpublished_versions_are_not_activated_and_running_ones_continue,
    |db| {
        two_regions(&db).await;
        let id = published(&db, "Hantera oro").await;
        store::activate(&db, REGION_A, id, V1_0, A1, None)
            .await
            .expect("activate");

        // 2.0: activating it at the same unit replaces 1.0 there.
        let rules = Rules::default();
        let mut grown = small_program("Hantera oro");
        grown.modules[0].sections[0].steps[0].key = "p2".to_owned();
        programs::save(&db, REGION_A, id, programs::NEW_DRAFT, grown, &rules)
            .await
            .expect("save");
        let publication = major_publication();
        assert_eq!(
            programs::publish(&db, REGION_A, id, 0, &publication, &rules)
                .await
                .expect("publish"),
            V2_0
        );
        store::activate(&db, REGION_A, id, V2_0, A1, None)
            .await
            .expect("activate 2.0");
        let seen = store::catalogue(&db, REGION_A).await.expect("catalogue");
        let active = &entry(&seen, id).expect("entry").active;
        assert_eq!(
            active.iter().map(|a| a.number).collect::<Vec<_>>(),
            vec![V2_0]
        );

        // 1.0 unpublished: not activated again; 2.0 stays active where it is.
        store::unpublish(&db, REGION_A, id, V1_0)
            .await
            .expect("unpublish");
        store::unpublish(&db, REGION_A, id, V1_0)
            .await
            .expect("unpublishing twice changes nothing");
        assert!(matches!(
            store::activate(&db, REGION_A, id, V1_0, 12, None).await,
            Err(AppError::Invalid { .. })
        ));
        let seen = store::catalogue(&db, REGION_A).await.expect("catalogue");
        let program = entry(&seen, id).expect("entry");
        assert_eq!(
            program
                .versions
                .iter()
                .map(|v| (v.number, v.published))
                .collect::<Vec<_>>(),
            vec![(V2_0, true), (V1_0, false)]
        );
        assert!(program.available() && program.is_active());

        // Every version unpublished: listed as unpublished, still active where it runs.
        store::unpublish(&db, REGION_A, id, V2_0)
            .await
            .expect("unpublish");
        let seen = store::catalogue(&db, REGION_A).await.expect("catalogue");
        let program = entry(&seen, id).expect("entry");
        assert!(program.unpublished() && program.is_active());

        // Deactivated: no longer active.
        store::deactivate(&db, REGION_A, program.active[0].id, None)
            .await
            .expect("deactivate");
        let seen = store::catalogue(&db, REGION_A).await.expect("catalogue");
        assert!(!entry(&seen, id).expect("entry").is_active());
        // Only the owner unpublishes.
        assert_eq!(
            store::unpublish(&db, REGION_B, id, V2_0).await,
            Err(AppError::NotFound)
        );
    }
);

#[test]
fn version_numbers_from_forms_are_read_strictly() {
    use app::catalogue::parse_version;
    assert_eq!(parse_version("1.0"), Some(V1_0));
    assert_eq!(
        parse_version(" 2.13 "),
        Some(VersionNumber {
            major: 2,
            minor: 13
        })
    );
    for bad in ["0.1", "1", "1.", "a.b", "1.-1", "1.0.0", ""] {
        assert_eq!(parse_version(bad), None, "{bad:?}");
    }
}

db_test!(
    a_minor_upgrade_moves_running_enrolments_at_the_unit_and_nothing_else,
    |db| {
        use sea_orm::ConnectionTrait;
        two_regions(&db).await;
        let id = published(&db, "Sov gott").await;
        store::activate(&db, REGION_A, id, V1_0, A1, None)
            .await
            .expect("activate 1.0");
        let version = |major: i32, minor: i32| {
            format!(
                "SELECT id FROM program_version WHERE program_id = {id} AND major = {major} AND minor = {minor}"
            )
        };
        let v1_0 = number(&db, &version(1, 0)).await;
        // Running at A1, ended at A1, running at A2: all on 1.0.
        db.execute_unprepared(&format!(
        "INSERT INTO enrolment (id, patient_id, program_version_id, care_unit_id, state, started_at, internal_note) VALUES \
         (801, 401, {v1_0}, 11, 'active', CURRENT_TIMESTAMP, ''), \
         (802, 402, {v1_0}, 11, 'ended', CURRENT_TIMESTAMP, ''), \
         (803, 403, {v1_0}, 12, 'active', CURRENT_TIMESTAMP, '')"
    ))
    .await
    .expect("enrolments");
        let on = |enrolment: i64| {
            format!("SELECT program_version_id FROM enrolment WHERE id = {enrolment}")
        };

        // 1.1 rewords a module title: a minor version.
        let rules = Rules::default();
        let mut reworded = small_program("Sov gott");
        reworded.modules[0].title = "Om sömn".to_owned();
        let draft = programs::save(&db, REGION_A, id, programs::NEW_DRAFT, reworded, &rules)
            .await
            .expect("draft");
        let minor = programs::Publication {
            bump: programs::Bump::Minor,
            ..major_publication()
        };
        programs::publish(&db, REGION_A, id, draft.revision, &minor, &rules)
            .await
            .expect("1.1");
        let v1_1 = number(&db, &version(1, 1)).await;

        // Publishing moves nobody; activating 1.1 at A1 shows the one running enrolment behind.
        assert_eq!(number(&db, &on(801)).await, v1_0);
        let v1_1_number = VersionNumber { major: 1, minor: 1 };
        store::activate(&db, REGION_A, id, v1_1_number, A1, None)
            .await
            .expect("activate 1.1");
        let seen = store::catalogue(&db, REGION_A).await.expect("catalogue");
        let active = &entry(&seen, id).expect("listed").active;
        assert_eq!(active.len(), 1);
        assert_eq!((active[0].number, active[0].behind), (v1_1_number, 1));
        let activation = active[0].id;

        // Nobody else may apply it; the administrator does, and only that enrolment moves.
        assert_eq!(
            store::upgrade(&db, REGION_B, activation, None).await,
            Err(AppError::NotFound)
        );
        assert_eq!(store::upgrade(&db, REGION_A, activation, None).await, Ok(1));
        assert_eq!(number(&db, &on(801)).await, v1_1);
        assert_eq!(number(&db, &on(802)).await, v1_0);
        assert_eq!(number(&db, &on(803)).await, v1_0);
        let seen = store::catalogue(&db, REGION_A).await.expect("catalogue");
        assert_eq!(entry(&seen, id).expect("listed").active[0].behind, 0);
        assert_eq!(store::upgrade(&db, REGION_A, activation, None).await, Ok(0));

        // A major version is for new enrolments only: nothing is behind it.
        let mut restructured = small_program("Sov gott");
        restructured.modules[0].sections[0].steps[0].blocks.clear();
        restructured.modules[0].sections[0].steps[0]
            .blocks
            .push(app::programs::Block {
                key: "b2".to_owned(),
                show_if: None,
                body: app::programs::BlockBody::Text {
                    markdown: "Ny sida.".to_owned(),
                },
            });
        let draft = programs::save(&db, REGION_A, id, programs::NEW_DRAFT, restructured, &rules)
            .await
            .expect("draft");
        programs::publish(
            &db,
            REGION_A,
            id,
            draft.revision,
            &major_publication(),
            &rules,
        )
        .await
        .expect("2.0");
        store::activate(&db, REGION_A, id, V2_0, A1, None)
            .await
            .expect("activate 2.0");
        let seen = store::catalogue(&db, REGION_A).await.expect("catalogue");
        let active = &entry(&seen, id).expect("listed").active;
        assert_eq!((active[0].number, active[0].behind), (V2_0, 0));
        assert_eq!(
            store::upgrade(&db, REGION_A, active[0].id, None).await,
            Ok(0)
        );
        assert_eq!(number(&db, &on(801)).await, v1_1);
    }
);
