//! The demo template: one region with two care units, their staff, three patients and their
//! enrolments in a small demo program. All names and numbers are fictional; the personal
//! identity numbers are valid in form only.

use super::Persona;
use crate::auth::Role;
use crate::auth::session::CARE_PURPOSE;
use crate::db::entities::{
    care_provider, care_unit, enrolment, patient, program, program_version, staff_assignment,
    staff_hsa_identity, staff_person, staff_role,
};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

/// The demo region's organisation number (fictional, Luhn-valid).
pub const REGION_ORG_NUMBER: &str = "2321990000";
/// The patient persona's personal identity number (fictional, valid in form).
pub const PATIENT_PERSONNUMMER: &str = "198503152384";

/// HSA-IDs are unique across the whole installation, so each sandbox's staff get their own.
pub fn staff_hsa_id(sandbox_id: i64, key: &str) -> String {
    format!("SE{REGION_ORG_NUMBER}-D{sandbox_id}-{key}")
}

/// The staff member behind a staff persona, by the key in their HSA-ID.
pub fn persona_key(persona: Persona) -> Option<&'static str> {
    match persona {
        Persona::Patient => None,
        Persona::Therapist => Some("T1"),
        Persona::AccessAdministrator => Some("A1"),
        Persona::CareProviderAdministrator => Some("V1"),
        Persona::Auditor => Some("G1"),
    }
}

struct StaffSeed {
    key: &'static str,
    given: &'static str,
    family: &'static str,
    /// Index into the units.
    unit: usize,
    purpose: &'static str,
    unit_roles: &'static [Role],
    provider_roles: &'static [Role],
}

const UNITS: [(&str, &str); 2] = [
    ("SE2321990000-DEMO1", "Psykiatrimottagning Demo"),
    ("SE2321990000-DEMO2", "Vårdcentralen Demo"),
];

const STAFF: [StaffSeed; 5] = [
    StaffSeed {
        key: "T1",
        given: "Tove",
        family: "Terapeut",
        unit: 0,
        purpose: CARE_PURPOSE,
        unit_roles: &[Role::Therapist],
        provider_roles: &[],
    },
    StaffSeed {
        key: "T2",
        given: "Bo",
        family: "Behandlare",
        unit: 1,
        purpose: CARE_PURPOSE,
        unit_roles: &[Role::Therapist],
        provider_roles: &[],
    },
    StaffSeed {
        key: "A1",
        given: "Alva",
        family: "Åtkomst",
        unit: 0,
        purpose: "Administration",
        unit_roles: &[Role::AccessAdministrator],
        provider_roles: &[],
    },
    StaffSeed {
        key: "V1",
        given: "Viktor",
        family: "Vårdgivare",
        unit: 0,
        purpose: "Administration",
        unit_roles: &[],
        provider_roles: &[Role::CareProviderAdministrator],
    },
    StaffSeed {
        key: "G1",
        given: "Greta",
        family: "Granskare",
        unit: 0,
        purpose: "Uppföljning",
        unit_roles: &[],
        provider_roles: &[Role::Auditor],
    },
];

/// (personnummer, given name, family name, unit index, therapist-internal note)
const PATIENTS: [(&str, &str, &str, usize, &str); 3] = [
    (
        PATIENT_PERSONNUMMER,
        "Petra",
        "Patient",
        0,
        "Följ upp sömnen vid nästa kontakt.",
    ),
    ("199207044570", "Olle", "Exempel", 0, ""),
    ("197805123390", "Maja", "Mönster", 1, ""),
];

/// Fills a new sandbox with the template's rows.
pub async fn populate(db: &impl ConnectionTrait, sandbox_id: i64) -> Result<(), DbErr> {
    let now = Utc::now();
    let sandbox = Some(sandbox_id);
    let region = care_provider::ActiveModel {
        name: Set("Region Demo".to_owned()),
        org_number: Set(REGION_ORG_NUMBER.to_owned()),
        county_code: Set("99".to_owned()),
        kind: Set("region".to_owned()),
        sandbox_id: Set(sandbox),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut units = Vec::new();
    for (hsa_id, name) in UNITS {
        let unit = care_unit::ActiveModel {
            care_provider_id: Set(region.id),
            hsa_id: Set(hsa_id.to_owned()),
            name: Set(name.to_owned()),
            active: Set(true),
            allows_emergency_access: Set(true),
            sandbox_id: Set(sandbox),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        units.push(unit.id);
    }
    let mut therapists = Vec::new();
    for seed in &STAFF {
        let person = staff_person::ActiveModel {
            given_name: Set(seed.given.to_owned()),
            family_name: Set(seed.family.to_owned()),
            sandbox_id: Set(sandbox),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let hsa_id = staff_hsa_id(sandbox_id, seed.key);
        let identity = staff_hsa_identity::ActiveModel {
            staff_person_id: Set(person.id),
            hsa_id: Set(hsa_id.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        staff_assignment::ActiveModel {
            staff_hsa_identity_id: Set(identity.id),
            care_unit_id: Set(units[seed.unit]),
            commission_hsa_id: Set(format!("{hsa_id}-U")),
            commission_name: Set(format!("{} – {}", seed.purpose, UNITS[seed.unit].1)),
            commission_purpose: Set(seed.purpose.to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let grants = seed
            .unit_roles
            .iter()
            .map(|r| (*r, Some(units[seed.unit])))
            .chain(seed.provider_roles.iter().map(|r| (*r, None)));
        for (role, unit) in grants {
            staff_role::ActiveModel {
                staff_person_id: Set(person.id),
                care_provider_id: Set(region.id),
                care_unit_id: Set(unit),
                role: Set(role.as_code().to_owned()),
                granted_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        if seed.unit_roles.contains(&Role::Therapist) {
            therapists.push((seed.unit, person.id));
        }
    }
    let program = program::ActiveModel {
        owner_provider_id: Set(region.id),
        title: Set("Hantera oro (demo)".to_owned()),
        description: Set("Ett kort demoprogram.".to_owned()),
        sandbox_id: Set(sandbox),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let version = program_version::ActiveModel {
        program_id: Set(program.id),
        major: Set(1),
        minor: Set(0),
        status: Set("published".to_owned()),
        published_at: Set(Some(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for (pnr, given, family, unit, note) in PATIENTS {
        let patient = patient::ActiveModel {
            personnummer: Set(pnr.to_owned()),
            given_name: Set(given.to_owned()),
            family_name: Set(family.to_owned()),
            locale: Set("sv".to_owned()),
            sandbox_id: Set(sandbox),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        let therapist = therapists
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, id)| *id);
        enrolment::ActiveModel {
            patient_id: Set(patient.id),
            program_version_id: Set(version.id),
            care_unit_id: Set(units[unit]),
            responsible_staff_id: Set(therapist),
            state: Set("active".to_owned()),
            started_at: Set(now),
            sandbox_id: Set(sandbox),
            internal_note: Set(note.to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
