use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "emergency_grant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub staff_person_id: i64,
    pub assignment_id: i64,
    pub care_unit_id: i64,
    pub care_provider_id: i64,
    pub patient_id: i64,
    pub reason: String,
    pub granted_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub sandbox_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
