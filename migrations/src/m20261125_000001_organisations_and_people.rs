//! Care providers (regions and private providers), care units, staff and their HSA identities,
//! staff assignments, application roles per unit, patients, and demo sandboxes.
//!
//! Every tenant-owned row can point at a demo sandbox: a sandbox is a tenant like any other,
//! isolated by the same rules, and deleting it deletes everything in it.

use crate::dsl::{OnDelete::*, *};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000001_organisations_and_people"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            table("demo_sandbox")
                // sha256 of the visitor's sandbox token; the token itself is never stored.
                .col(short("token_hash", 64))
                .col(created_at())
                .col(instant("last_seen_at"))
                .col(instant("expires_at"))
                .take(),
            table("care_provider")
                .col(short("name", 200))
                // Swedish organisation number, 10 digits, Luhn-checked by the application.
                .col(short("org_number", 10))
                // Two-digit county code (län), e.g. "01" Stockholm.
                .col(short("county_code", 2))
                // "region" or "private".
                .col(short("kind", 16))
                .col(id_ref_null("sandbox_id"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "care_provider",
                    "sandbox_id",
                    "demo_sandbox",
                    Cascade,
                ))
                .take(),
            table("care_unit")
                .col(id_ref("care_provider_id"))
                .col(short("hsa_id", 64))
                .col(short("name", 200))
                .col(flag("active", true))
                .col(flag("allows_emergency_access", false))
                .col(id_ref_null("sandbox_id"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "care_unit",
                    "care_provider_id",
                    "care_provider",
                    Cascade,
                ))
                .foreign_key(&mut fk("care_unit", "sandbox_id", "demo_sandbox", Cascade))
                .take(),
            table("staff_person")
                .col(short("given_name", 100))
                .col(short("family_name", 100))
                .col(short_null("email", 254))
                .col(id_ref_null("sandbox_id"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "staff_person",
                    "sandbox_id",
                    "demo_sandbox",
                    Cascade,
                ))
                .take(),
            // One person may hold several HSA-IDs.
            table("staff_hsa_identity")
                .col(id_ref("staff_person_id"))
                .col(short("hsa_id", 64))
                .col(created_at())
                .foreign_key(&mut fk(
                    "staff_hsa_identity",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .take(),
            // Staff assignments (medarbetaruppdrag) as last seen in a login.
            table("staff_assignment")
                .col(id_ref("staff_hsa_identity_id"))
                .col(id_ref("care_unit_id"))
                .col(short("commission_hsa_id", 64))
                .col(short("commission_name", 200))
                .col(short("commission_purpose", 100))
                .col(short_null("commission_right", 200))
                .col(instant_null("valid_to"))
                .col(created_at())
                .foreign_key(&mut fk(
                    "staff_assignment",
                    "staff_hsa_identity_id",
                    "staff_hsa_identity",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "staff_assignment",
                    "care_unit_id",
                    "care_unit",
                    Cascade,
                ))
                .take(),
            // Application roles, granted in Lotsen (never taken from the identity provider).
            // Unit roles name a care unit; provider-wide roles leave it empty.
            table("staff_role")
                .col(id_ref("staff_person_id"))
                .col(id_ref("care_provider_id"))
                .col(id_ref_null("care_unit_id"))
                .col(short("role", 32))
                .col(id_ref_null("granted_by"))
                .col(instant("granted_at"))
                .col(instant_null("revoked_at"))
                .col(id_ref_null("revoked_by"))
                .foreign_key(&mut fk(
                    "staff_role",
                    "staff_person_id",
                    "staff_person",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "staff_role",
                    "care_provider_id",
                    "care_provider",
                    Cascade,
                ))
                .foreign_key(&mut fk("staff_role", "care_unit_id", "care_unit", Cascade))
                .foreign_key(&mut fk("staff_role", "granted_by", "staff_person", SetNull))
                .foreign_key(&mut fk("staff_role", "revoked_by", "staff_person", SetNull))
                .take(),
            table("patient")
                // Personal identity number, 12 digits (YYYYMMDDNNNN), validated by the application.
                .col(short("personnummer", 12))
                .col(short("given_name", 100))
                .col(short("family_name", 100))
                .col(short_null("email", 254))
                .col(short_null("phone", 32))
                .col(flag("notify_by_email", false))
                .col(flag("notify_by_sms", false))
                .col(short("locale", 8).default("sv").take())
                .col(id_ref_null("sandbox_id"))
                .col(created_at())
                .foreign_key(&mut fk("patient", "sandbox_id", "demo_sandbox", Cascade))
                .take(),
        ];
        let indexes = vec![
            index("demo_sandbox", &["token_hash"], true),
            index("demo_sandbox", &["expires_at"], false),
            index("care_provider", &["sandbox_id"], false),
            index("care_unit", &["care_provider_id"], false),
            index("care_unit", &["sandbox_id"], false),
            index("staff_person", &["sandbox_id"], false),
            index("staff_hsa_identity", &["hsa_id"], true),
            index("staff_hsa_identity", &["staff_person_id"], false),
            index(
                "staff_assignment",
                &["staff_hsa_identity_id", "commission_hsa_id"],
                true,
            ),
            index("staff_assignment", &["care_unit_id"], false),
            index("staff_role", &["staff_person_id"], false),
            index("staff_role", &["care_unit_id", "role"], false),
            index("patient", &["sandbox_id"], false),
        ];
        create_all(manager, tables, indexes).await?;
        unique_per_tenant(manager, "care_provider", "org_number").await?;
        unique_per_tenant(manager, "care_unit", "hsa_id").await?;
        unique_per_tenant(manager, "patient", "personnummer").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(
            manager,
            &[
                "patient",
                "staff_role",
                "staff_assignment",
                "staff_hsa_identity",
                "staff_person",
                "care_unit",
                "care_provider",
                "demo_sandbox",
            ],
        )
        .await
    }
}
