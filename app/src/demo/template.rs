//! The demo template: two regions (the visitor's own, with two care units, and a neighbour to
//! share programs with), their staff, four patients and their enrolments in a small demo
//! program. All names and numbers are fictional; the personal identity numbers are valid in
//! form only.

use super::Persona;
use crate::auth::Role;
use crate::auth::session::CARE_PURPOSE;
use crate::db::entities::{
    care_provider, care_unit, enrolment, patient, program, program_activation, program_version,
    staff_assignment, staff_hsa_identity, staff_person, staff_role,
};
use crate::programs::Program;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

/// The demo region's organisation number (fictional, Luhn-valid).
pub const REGION_ORG_NUMBER: &str = "2321990000";
/// The patient persona's personal identity number. Every demo patient has a number from the
/// Swedish Tax Agency's published series of test personal identity numbers
/// ("Testpersonnummer"), which belong to nobody, so a demo can never show a real person's number.
pub const PATIENT_PERSONNUMMER: &str = "199107172380";

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
        Persona::Producer => Some("P1"),
        Persona::Publisher => Some("P2"),
        Persona::NeighbourProviderAdministrator => Some("N1"),
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

/// The sandbox's regions: the visitor's own, and a neighbour to share programs with.
/// (name, organisation number, county)
const REGIONS: [(&str, &str, &str); 2] = [
    ("Region Demo", REGION_ORG_NUMBER, "99"),
    ("Region Grann", "2321990018", "98"),
];

/// (HSA-ID, name, index into the regions)
const UNITS: [(&str, &str, usize); 3] = [
    ("SE2321990000-DEMO1", "Psykiatrimottagning Demo", 0),
    ("SE2321990000-DEMO2", "Vårdcentralen Demo", 0),
    ("SE2321990018-DEMO3", "Grannmottagningen", 1),
];

const STAFF: [StaffSeed; 8] = [
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
    StaffSeed {
        key: "P1",
        given: "Pia",
        family: "Producent",
        unit: 0,
        purpose: "Administration",
        unit_roles: &[Role::Producer],
        provider_roles: &[],
    },
    StaffSeed {
        key: "P2",
        given: "Pelle",
        family: "Publicist",
        unit: 0,
        purpose: "Administration",
        unit_roles: &[Role::Publisher],
        provider_roles: &[],
    },
    StaffSeed {
        key: "N1",
        given: "Nora",
        family: "Granne",
        unit: 2,
        purpose: "Administration",
        unit_roles: &[],
        provider_roles: &[Role::CareProviderAdministrator],
    },
];

/// The demo patient who has been inactive since enrolment, and for how many days.
const QUIET_PATIENT: &str = "199006022397";
const QUIET_DAYS: i64 = 16;

/// (personnummer, given name, family name, unit index, therapist-internal note)
const PATIENTS: [(&str, &str, &str, usize, &str); 4] = [
    (
        PATIENT_PERSONNUMMER,
        "Petra",
        "Patient",
        0,
        "Följ upp sömnen vid nästa kontakt.",
    ),
    ("199006022397", "Olle", "Exempel", 0, ""),
    ("199610202385", "Maja", "Mönster", 1, ""),
    (HOMEWORK_PATIENT, "Karin", "Prov", 0, ""),
];

/// The demo patient whose first homework waits for the therapist's feedback.
const HOMEWORK_PATIENT: &str = "199001012385";

/// The demo programs, shipped as program packages (manifests without media): a worry
/// program in six modules with GAD-7 every week and homework that opens the next module after
/// the therapist's feedback, and an insomnia program in five modules with a sleep diary and a
/// weekly registration of its own. The first is the one the demo patients are enrolled in.
pub const DEMO_PACKAGES: [&[u8]; 2] = [
    include_bytes!("programs/hantera-oro.lotsen-program.json"),
    include_bytes!("programs/sov-battre.lotsen-program.json"),
];

/// A demo program, read and checked as an imported package is.
pub fn demo_program(index: usize) -> Result<Program, DbErr> {
    crate::programs::package::from_manifest(DEMO_PACKAGES[index], &Default::default())
        .map_err(|problems| DbErr::Custom(format!("demo program {index}: {problems:?}")))
}

/// Fills a new sandbox with the template's rows.
pub async fn populate(db: &impl ConnectionTrait, sandbox_id: i64) -> Result<(), DbErr> {
    let now = Utc::now();
    let sandbox = Some(sandbox_id);
    let mut regions = Vec::new();
    for (name, org_number, county) in REGIONS {
        let region = care_provider::ActiveModel {
            name: Set(name.to_owned()),
            org_number: Set(org_number.to_owned()),
            county_code: Set(county.to_owned()),
            kind: Set(crate::domain::ProviderKind::Region),
            sandbox_id: Set(sandbox),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        regions.push(region.id);
    }
    let region_id = regions[0];
    let mut units = Vec::new();
    for (hsa_id, name, region) in UNITS {
        let unit = care_unit::ActiveModel {
            care_provider_id: Set(regions[region]),
            hsa_id: Set(hsa_id.to_owned()),
            name: Set(name.to_owned()),
            active: Set(true),
            allows_emergency_access: Set(true),
            crisis_info: Set(Some(format!(
                "{name}: ring 010-000 00 00 vardagar 8–16 (påhittat nummer). \
                 Övrig tid: närmaste psykiatriska akutmottagning."
            ))),
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
                care_provider_id: Set(regions[UNITS[seed.unit].2]),
                care_unit_id: Set(unit),
                role: Set(role),
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
    let mut enrolled_version = None;
    let mut enrolled_program = None;
    for index in 0..DEMO_PACKAGES.len() {
        let content = demo_program(index)?;
        let canonical = crate::programs::store::canonical(&content)
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let program = program::ActiveModel {
            owner_provider_id: Set(region_id),
            title: Set(content.title.clone()),
            description: Set(content.description.clone()),
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
            status: Set(crate::programs::version::VersionStatus::Published),
            content_hash: Set(Some(crate::programs::store::content_hash(&canonical))),
            content: Set(Some(canonical)),
            published_at: Set(Some(now)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        enrolled_version.get_or_insert(version.id);
        enrolled_program.get_or_insert_with(|| content.clone());
        // Active at the owning region's units: the demo staff there can enrol patients on them.
        let own_units = units
            .iter()
            .zip(UNITS)
            .filter(|(_, (_, _, region))| *region == 0);
        for (unit, _) in own_units {
            program_activation::ActiveModel {
                program_version_id: Set(version.id),
                care_unit_id: Set(*unit),
                activated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    let enrolled_version = enrolled_version.unwrap_or_default();
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
        // The patient persona's treatment began weeks ago, and has a history; another patient
        // of the same therapist began two weeks ago and has done nothing since.
        let with_history = pnr == PATIENT_PERSONNUMMER;
        let quiet = pnr == QUIET_PATIENT;
        let waiting = pnr == HOMEWORK_PATIENT;
        let started_at = if with_history {
            now - chrono::Duration::days(super::history::DAYS_AGO)
        } else if quiet {
            now - chrono::Duration::days(QUIET_DAYS)
        } else if waiting {
            now - chrono::Duration::days(super::history::WAITING_DAYS)
        } else {
            now
        };
        let enrolment = enrolment::ActiveModel {
            patient_id: Set(patient.id),
            program_version_id: Set(enrolled_version),
            care_unit_id: Set(units[unit]),
            responsible_staff_id: Set(therapist),
            state: Set(crate::domain::EnrolmentState::Active),
            started_at: Set(started_at),
            sandbox_id: Set(sandbox),
            internal_note: Set(note.to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        if quiet {
            // What the follow-up sweep raises (it does not sweep sandboxes).
            db.execute(crate::db::statement(
                db,
                "INSERT INTO flag (enrolment_id, kind, priority, reason, raised_at) \
                 VALUES ($1, 'automatic', 'warning', $2, $3)",
                vec![
                    enrolment.id.into(),
                    crate::domain::flag_reason::INACTIVE.into(),
                    (started_at + chrono::Duration::days(14)).into(),
                ],
            ))
            .await?;
        }
        let history = super::history::Enrolment {
            id: enrolment.id,
            version_id: enrolled_version,
            started_at,
            therapist,
        };
        if let (true, Some(program)) = (with_history, &enrolled_program) {
            super::history::write(db, program, &history).await?;
        }
        if waiting {
            super::history::homework_waiting(db, &history).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use crate::programs::{Rules, validate};

    #[test]
    fn the_demo_programs_pass_the_report_before_publishing_without_a_warning() {
        for index in 0..super::DEMO_PACKAGES.len() {
            let program = super::demo_program(index).expect("a valid package");
            assert_eq!(
                validate(&program, &Rules::default()),
                vec![],
                "{}",
                program.title
            );
        }
    }
}
