use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub token_hash: String,
    pub user_kind: crate::auth::UserKind,
    pub patient_id: Option<i64>,
    pub staff_person_id: Option<i64>,
    pub staff_assignment_id: Option<i64>,
    pub sandbox_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub absolute_expiry: DateTimeUtc,
    pub user_agent: Option<String>,
    pub demo_persona: Option<String>,
    /// A staff member testing a program as a patient: their test enrolment.
    pub test_enrolment_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
