//! A treatment's care team: its responsible therapist and its co-therapists. The unit's patient
//! administrator reassigns a treatment when its therapist is away (their flags then reach the
//! new one's caseload); a therapist on the team brings a colleague in or hands over. Only a
//! therapist of the treatment's unit can join, and only while the treatment goes on.

use super::{CareTeam, TeamMember};
use crate::auth::scope::{EnrolmentScope, StaffEnrolment, UnitCare};
use crate::db::{begin_write, statement};
use crate::error::{AppError, invalid};
use sea_orm::{ConnectionTrait, TransactionTrait};

/// A change to the care team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamChange {
    /// The person becomes the responsible therapist (and is no longer listed as a co-therapist).
    Responsible(i64),
    /// The person joins as a co-therapist.
    Add(i64),
    /// The co-therapist leaves the team.
    Remove(i64),
}

impl TeamChange {
    pub fn parse(action: &str, staff_person_id: i64) -> Result<Self, AppError> {
        match action {
            "responsible" => Ok(Self::Responsible(staff_person_id)),
            "add" => Ok(Self::Add(staff_person_id)),
            "remove" => Ok(Self::Remove(staff_person_id)),
            _ => Err(invalid("action", "unknown_change")),
        }
    }
}

/// The care team of a treatment, the responsible therapist first, and who else of the unit
/// could join it.
pub async fn team(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
    enrolment: &StaffEnrolment,
) -> Result<CareTeam, AppError> {
    let members = enrolment.care_team(db).await?;
    let therapists = super::enrol::choices(db, unit).await?.therapists;
    let mut out = CareTeam::default();
    if let Some(id) = enrolment.responsible_staff_id() {
        out.members.push(TeamMember {
            staff_person_id: id,
            name: name_of(db, id).await?,
            responsible: true,
        });
    }
    for id in members {
        if Some(id) == enrolment.responsible_staff_id() {
            continue;
        }
        out.members.push(TeamMember {
            staff_person_id: id,
            name: name_of(db, id).await?,
            responsible: false,
        });
    }
    out.candidates = therapists
        .into_iter()
        .filter(|t| {
            !out.members
                .iter()
                .any(|m| m.staff_person_id == t.staff_person_id)
        })
        .collect();
    Ok(out)
}

async fn name_of(db: &impl ConnectionTrait, staff_person_id: i64) -> Result<String, AppError> {
    let row = db
        .query_one(statement(
            db,
            "SELECT given_name, family_name FROM staff_person WHERE id = $1",
            vec![staff_person_id.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => {
            let given: String = row.try_get("", "given_name")?;
            let family: String = row.try_get("", "family_name")?;
            format!("{given} {family}").trim().to_owned()
        }
        None => String::new(),
    })
}

/// Changes the care team of a treatment at the caller's unit. The person joining must be a
/// therapist of that unit (422 `not_a_therapist`); the responsible therapist is replaced, not
/// removed (422 `responsible_needed`); with `keep_previous` the one replaced stays on the team
/// as a co-therapist (nobody loses a patient from their caseload by a colleague's change). A
/// change that is made already changes nothing.
pub async fn change(
    db: &(impl ConnectionTrait + TransactionTrait),
    unit: &UnitCare,
    enrolment: &StaffEnrolment,
    change: TeamChange,
    keep_previous: bool,
) -> Result<(), AppError> {
    if !enrolment.may_write() || enrolment.unit_id() != unit.unit_id() {
        return Err(invalid("enrolment", "treatment_ended"));
    }
    let joining = match change {
        TeamChange::Responsible(id) | TeamChange::Add(id) => Some(id),
        TeamChange::Remove(_) => None,
    };
    if let Some(id) = joining {
        let therapists = super::enrol::choices(db, unit).await?.therapists;
        if !therapists.iter().any(|t| t.staff_person_id == id) {
            return Err(invalid("staff_person_id", "not_a_therapist"));
        }
    }
    let now = chrono::Utc::now();
    let txn = begin_write(db).await?;
    let changed = match change {
        TeamChange::Responsible(id) => {
            if keep_previous {
                txn.execute(enrolment.statement(
                    &txn,
                    &format!(
                        "INSERT INTO enrolment_therapist (enrolment_id, staff_person_id) \
                         SELECT x.id, x.responsible_staff_id FROM {} x \
                         WHERE x.responsible_staff_id IS NOT NULL AND x.responsible_staff_id <> $1 \
                         ON CONFLICT (enrolment_id, staff_person_id) DO NOTHING",
                        enrolment.enrolment_row()
                    ),
                    vec![id.into()],
                ))
                .await?;
            }
            let updated = txn
                .execute(enrolment.statement(
                    &txn,
                    &format!(
                        "UPDATE enrolment SET responsible_staff_id = $1 \
                         WHERE id IN (SELECT x.id FROM {} x) \
                         AND (responsible_staff_id IS NULL OR responsible_staff_id <> $1)",
                        enrolment.enrolment_row()
                    ),
                    vec![id.into()],
                ))
                .await?
                .rows_affected();
            let dropped = remove_member(&txn, enrolment, id).await?;
            updated + dropped > 0
        }
        TeamChange::Add(id) => {
            if enrolment.responsible_staff_id() == Some(id) {
                false
            } else {
                txn.execute(enrolment.statement(
                    &txn,
                    &format!(
                        "INSERT INTO enrolment_therapist (enrolment_id, staff_person_id) \
                         SELECT x.id, $1 FROM {} x WHERE 1 = 1 \
                         ON CONFLICT (enrolment_id, staff_person_id) DO NOTHING",
                        enrolment.enrolment_row()
                    ),
                    vec![id.into()],
                ))
                .await?
                .rows_affected()
                    > 0
            }
        }
        TeamChange::Remove(id) => {
            if enrolment.responsible_staff_id() == Some(id) {
                txn.rollback().await?;
                return Err(invalid("staff_person_id", "responsible_needed"));
            }
            remove_member(&txn, enrolment, id).await? > 0
        }
    };
    enrolment
        .commit_if(txn, changed, crate::live::EventKind::Treatment, now)
        .await?;
    Ok(())
}

// (`WHERE 1 = 1` above: SQLite reads `ON CONFLICT` after a bare `FROM` as a join constraint.)

/// Takes a co-therapist off the treatment's team: how many rows went.
async fn remove_member(
    db: &impl ConnectionTrait,
    enrolment: &StaffEnrolment,
    staff_person_id: i64,
) -> Result<u64, AppError> {
    Ok(db
        .execute(enrolment.statement(
            db,
            &format!(
                "DELETE FROM enrolment_therapist WHERE staff_person_id = $1 \
                 AND enrolment_id IN (SELECT x.id FROM {} x)",
                enrolment.enrolment_row()
            ),
            vec![staff_person_id.into()],
        ))
        .await?
        .rows_affected())
}
