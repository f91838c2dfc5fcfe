use super::{AccessSeen, MyEnrolment};
use crate::auth::scope::OwnCare;
use crate::db::statement;
use sea_orm::{ConnectionTrait, DbErr};

pub async fn enrolments(
    db: &impl ConnectionTrait,
    own: &OwnCare,
) -> Result<Vec<MyEnrolment>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT e.id, p.title, v.major, v.minor, u.name AS unit_name, s.given_name, s.family_name, \
                        e.state, e.started_at \
                 FROM {} e \
                 JOIN program_version v ON v.id = e.program_version_id \
                 JOIN program p ON p.id = v.program_id \
                 JOIN care_unit u ON u.id = e.care_unit_id \
                 LEFT JOIN staff_person s ON s.id = e.responsible_staff_id \
                 ORDER BY e.started_at DESC, e.id DESC",
                own.enrolments()
            ),
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let given: Option<String> = row.try_get("", "given_name")?;
            let family: Option<String> = row.try_get("", "family_name")?;
            let started: chrono::DateTime<chrono::Utc> = row.try_get("", "started_at")?;
            Ok(MyEnrolment {
                enrolment_id: row.try_get("", "id")?,
                program: row.try_get("", "title")?,
                version: format!(
                    "{}.{}",
                    row.try_get::<i32>("", "major")?,
                    row.try_get::<i32>("", "minor")?
                ),
                care_unit: row.try_get("", "unit_name")?,
                therapist: given.zip(family).map(|(g, f)| format!("{g} {f}")),
                state: row.try_get("", "state")?,
                started: started.format("%Y-%m-%d").to_string(),
            })
        })
        .collect()
}

/// Allowed accesses by staff, newest first, with the unit's name and, for public care
/// providers, the staff member's name.
pub async fn accesses(db: &impl ConnectionTrait, own: &OwnCare) -> Result<Vec<AccessSeen>, DbErr> {
    let (patient_id, sandbox_id) = (own.patient_id(), own.sandbox_id());
    let tenant = if sandbox_id.is_some() {
        "= $2"
    } else {
        "IS NULL AND $2 IS NULL"
    };
    let same = crate::db::filter::same_sandbox("u", "l");
    let rows = db
        .query_all(statement(
            db,
            &format!(
                "SELECT l.occurred_at, u.name AS unit_name, c.kind, s.given_name, s.family_name, l.action \
                 FROM access_log l \
                 LEFT JOIN care_unit u ON u.hsa_id = l.care_unit_hsa_id \
                      AND {same} \
                 LEFT JOIN care_provider c ON c.id = u.care_provider_id \
                 LEFT JOIN staff_hsa_identity h ON h.hsa_id = l.user_hsa_id \
                 LEFT JOIN staff_person s ON s.id = h.staff_person_id \
                 WHERE l.patient_id = $1 AND l.outcome = 'allowed' AND l.sandbox_id {tenant} \
                 ORDER BY l.id DESC LIMIT 500"
            ),
            vec![patient_id.into(), sandbox_id.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let at: chrono::DateTime<chrono::Utc> = row.try_get("", "occurred_at")?;
            let unit: Option<String> = row.try_get("", "unit_name")?;
            let kind: Option<crate::domain::ProviderKind> = row.try_get("", "kind")?;
            let given: Option<String> = row.try_get("", "given_name")?;
            let family: Option<String> = row.try_get("", "family_name")?;
            Ok(AccessSeen {
                at: at.format("%Y-%m-%d %H:%M").to_string(),
                care_unit: unit.unwrap_or_default(),
                staff_name: given
                    .zip(family)
                    .filter(|_| kind.is_some_and(crate::domain::ProviderKind::is_public))
                    .map(|(g, f)| format!("{g} {f}")),
                action: row.try_get("", "action")?,
            })
        })
        .collect()
}
