use super::{RecordEnrolment, UnitPatient};
use crate::db::statement;
use sea_orm::{ConnectionTrait, DbErr};

pub async fn unit_patients(
    db: &impl ConnectionTrait,
    care_unit_id: i64,
) -> Result<Vec<UnitPatient>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            "SELECT pa.id, pa.given_name, pa.family_name, pa.personnummer, p.title, e.state \
             FROM enrolment e \
             JOIN patient pa ON pa.id = e.patient_id \
             JOIN program_version v ON v.id = e.program_version_id \
             JOIN program p ON p.id = v.program_id \
             WHERE e.care_unit_id = $1 AND e.state IN ('active', 'maintenance') \
             ORDER BY pa.family_name, pa.given_name, pa.id",
            vec![care_unit_id.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let given: String = row.try_get_by_index(1)?;
            let family: String = row.try_get_by_index(2)?;
            Ok(UnitPatient {
                patient_id: row.try_get_by_index(0)?,
                name: format!("{given} {family}"),
                personnummer: row.try_get_by_index(3)?,
                program: row.try_get_by_index(4)?,
                state: row.try_get_by_index(5)?,
            })
        })
        .collect()
}

pub async fn record_enrolments(
    db: &impl ConnectionTrait,
    patient_id: i64,
) -> Result<Vec<RecordEnrolment>, DbErr> {
    let rows = db
        .query_all(statement(
            db,
            "SELECT p.title, u.name, e.state, e.started_at, e.internal_note \
             FROM enrolment e \
             JOIN program_version v ON v.id = e.program_version_id \
             JOIN program p ON p.id = v.program_id \
             JOIN care_unit u ON u.id = e.care_unit_id \
             WHERE e.patient_id = $1 \
             ORDER BY e.started_at DESC, e.id DESC",
            vec![patient_id.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            let started: chrono::DateTime<chrono::Utc> = row.try_get_by_index(3)?;
            Ok(RecordEnrolment {
                program: row.try_get_by_index(0)?,
                care_unit: row.try_get_by_index(1)?,
                state: row.try_get_by_index(2)?,
                started: started.format("%Y-%m-%d").to_string(),
                internal_note: row.try_get_by_index(4)?,
            })
        })
        .collect()
}
