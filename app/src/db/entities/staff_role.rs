use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_role")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub staff_person_id: i64,
    pub care_provider_id: i64,
    pub care_unit_id: Option<i64>,
    pub role: crate::auth::Role,
    pub granted_by: Option<i64>,
    pub granted_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
