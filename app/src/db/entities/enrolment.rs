use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrolment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub patient_id: i64,
    pub program_version_id: i64,
    pub care_unit_id: i64,
    pub responsible_staff_id: Option<i64>,
    pub state: crate::domain::EnrolmentState,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub handed_over_to_unit_id: Option<i64>,
    pub sandbox_id: Option<i64>,
    /// Therapist-internal: never part of anything a patient receives.
    pub internal_note: String,
    /// Set for a test enrolment: the producer or publisher who walks a program in it.
    pub test_by_staff_id: Option<i64>,
    /// When the treatment entered the maintenance phase.
    pub maintenance_at: Option<DateTimeUtc>,
    /// Why the treatment ended.
    pub end_reason: Option<crate::domain::EndReason>,
    /// The staff member who ended it.
    pub ended_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
