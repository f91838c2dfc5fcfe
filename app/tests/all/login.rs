//! Signing in, past the protocol: the patient found or registered by personal identity
//! number, staff and their assignments from the identity provider's claims, the rules for
//! which assignment opens a session, and login attempts that work once. SQLite and PostgreSQL.

#![allow(clippy::expect_used)]
#![cfg(feature = "ssr")]

use app::auth::UserKind;
use app::db::entities::{patient, staff_assignment, staff_role};
use app::db_test;
use app::domain::{HsaId, Personnummer};
use app::login::Failure;
use app::login::accounts::{self, Commission, StaffClaims};
use app::login::attempt::{self, Pending, Secrets};
use app::testing::two_regions;
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

fn commission(id: &str, purpose: &str, unit: &str) -> Commission {
    Commission {
        hsa_id: id.to_owned(),
        name: format!("Uppdrag {id}"),
        purpose: purpose.to_owned(),
        right: None,
        care_unit_hsa_id: unit.to_owned(),
    }
}

fn staff(hsa: &str, commissions: Vec<Commission>) -> StaffClaims {
    StaffClaims {
        hsa_id: HsaId::parse(hsa).expect("valid HSA-ID"),
        given_name: "Sara".to_owned(),
        family_name: "SITHS".to_owned(),
        commissions,
    }
}

const CARE: &str = "Vård och behandling";

db_test!(a_patient_is_found_by_number_or_registered_once, |db| {
    two_regions(&db).await;
    // Patient 404 (Rut Region) has this number: the same patient, with the provider's names.
    let known = Personnummer::parse("191212121212").expect("valid");
    let id = accounts::patient_sign_in(&db, &known, "Tolvan", "Tolvansson")
        .await
        .expect("sign in");
    assert_eq!(id, 404);
    let row = patient::Entity::find_by_id(404)
        .one(&db)
        .await
        .expect("read")
        .expect("patient 404");
    assert_eq!(
        (row.given_name.as_str(), row.family_name.as_str()),
        ("Tolvan", "Tolvansson")
    );

    // A new number registers one patient, however often they sign in.
    let new = Personnummer::parse("198112189876").expect("valid");
    let first = accounts::patient_sign_in(&db, &new, "Ny", "Patient")
        .await
        .expect("first");
    let second = accounts::patient_sign_in(&db, &new, "Ny", "Patient")
        .await
        .expect("second");
    assert_eq!(first, second);
    let rows = patient::Entity::find()
        .filter(patient::Column::Personnummer.eq("198112189876"))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(rows, 1);
});

db_test!(staff_are_offered_assignments_at_lotsen_units_only, |db| {
    two_regions(&db).await;
    let claims = staff(
        "SE2321000016-X1",
        vec![
            commission("U1", CARE, "SE2321000016-A1"),
            commission("U2", "Administration", "se2321000016-a2"),
            commission("U3", CARE, "SE2321000016-ZZ9"),
        ],
    );
    let (person, offered) = accounts::staff_sign_in(&db, &claims)
        .await
        .expect("sign in");
    assert_eq!(offered.len(), 2, "the unknown unit is not offered");

    // Signing in again updates the same assignments instead of adding more.
    let (again, offered_again) = accounts::staff_sign_in(&db, &claims).await.expect("again");
    assert_eq!((again, &offered_again), (person, &offered));
    let mut assignments = staff_assignment::Entity::find()
        .filter(staff_assignment::Column::Id.is_in(offered.clone()))
        .all(&db)
        .await
        .expect("assignments");
    assignments.sort_by_key(|a| a.id);
    assert_eq!(
        assignments
            .iter()
            .map(|a| (a.care_unit_id, a.commission_purpose.as_str()))
            .collect::<Vec<_>>(),
        vec![(11, CARE), (12, "Administration")]
    );

    // A closed unit is not offered; nothing at a Lotsen unit is a failure of its own.
    db.execute_unprepared("UPDATE care_unit SET active = FALSE WHERE id = 12")
        .await
        .expect("close unit");
    let (_, open_only) = accounts::staff_sign_in(&db, &claims).await.expect("third");
    assert_eq!(open_only.len(), 1);
    let nowhere = staff(
        "SE2321000016-X2",
        vec![commission("U9", CARE, "SE2321000016-ZZ9")],
    );
    assert_eq!(
        accounts::staff_sign_in(&db, &nowhere).await.err(),
        Some(Failure::NoUnit)
    );
});

db_test!(
    only_a_care_assignment_or_an_administrative_role_opens_a_session,
    |db| {
        two_regions(&db).await;
        let claims = staff(
            "SE2321000016-X3",
            vec![
                commission("C", CARE, "SE2321000016-A1"),
                commission("A", "Administration", "SE2321000016-A2"),
            ],
        );
        let (person, offered) = accounts::staff_sign_in(&db, &claims)
            .await
            .expect("sign in");
        let pending = Pending {
            id: 0,
            staff_person_id: person,
            offered: offered.clone(),
        };
        let (care, admin) = (offered[0], offered[1]);

        // Care and treatment: a session, landing on the account page while no role is granted.
        assert_eq!(
            accounts::choose(&db, &pending, care).await,
            Ok((care, "/konto"))
        );
        // Another purpose without an administrative role: refused.
        assert_eq!(
            accounts::choose(&db, &pending, admin).await,
            Err(Failure::Purpose)
        );
        // An assignment that was not offered in this login (someone else's): refused.
        assert_eq!(
            accounts::choose(&db, &pending, 301).await,
            Err(Failure::Stale)
        );

        // With an access-administrator role at that unit, the same assignment opens a session.
        staff_role::ActiveModel {
            staff_person_id: Set(person),
            care_provider_id: Set(1),
            care_unit_id: Set(Some(12)),
            role: Set(app::auth::Role::AccessAdministrator),
            granted_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .expect("grant");
        assert_eq!(
            accounts::choose(&db, &pending, admin).await,
            Ok((admin, "/behorigheter"))
        );
    }
);

db_test!(
    a_login_attempt_is_answered_once_in_its_own_browser_and_in_time,
    |db| {
        let secrets = Secrets {
            state: "s".repeat(43),
            nonce: "n".repeat(43),
            pkce_verifier: "v".repeat(43),
        };
        let now = Utc::now();
        let token = attempt::begin(&db, UserKind::Patient, &secrets, now)
            .await
            .expect("begin");
        assert_eq!(
            attempt::take(&db, &token, UserKind::Staff, now)
                .await
                .expect("take"),
            None,
            "a patient login is not answered as staff"
        );
        assert_eq!(
            attempt::take(&db, &"0".repeat(64), UserKind::Patient, now)
                .await
                .expect("take"),
            None,
            "another browser's token finds nothing"
        );
        let (_, taken) = attempt::take(&db, &token, UserKind::Patient, now)
            .await
            .expect("take")
            .expect("the first answer");
        assert_eq!(taken, secrets);
        assert_eq!(
            attempt::take(&db, &token, UserKind::Patient, now)
                .await
                .expect("take"),
            None,
            "a second answer finds nothing"
        );

        let late = attempt::begin(&db, UserKind::Patient, &secrets, now)
            .await
            .expect("begin");
        let after = now + attempt::LIFETIME + Duration::seconds(1);
        assert_eq!(
            attempt::take(&db, &late, UserKind::Patient, after)
                .await
                .expect("take"),
            None,
            "after ten minutes"
        );
        assert_eq!(attempt::delete_expired(&db, after).await.expect("sweep"), 2);
    }
);

db_test!(staff_sign_ins_at_the_same_time_all_succeed, |db| {
    two_regions(&db).await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let claims = staff(
                &format!("SE2321000016-C{n}"),
                vec![commission(&format!("K{n}"), CARE, "SE2321000016-A1")],
            );
            // Other writes at the same time: patients signing in.
            let pnr = Personnummer::parse("198112189876").expect("valid");
            let (staff, patient) = tokio::join!(
                accounts::staff_sign_in(&db, &claims),
                accounts::patient_sign_in(&db, &pnr, "Ny", "Patient"),
            );
            patient.expect("patient sign-in");
            staff
        }));
    }
    for task in tasks {
        let (_, offered) = task.await.expect("task").expect("staff sign-in");
        assert_eq!(offered.len(), 1);
    }
});
