use sea_orm::entity::prelude::*;

/// A published version in use at a care unit (new enrolments there start on it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_activation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub program_version_id: i64,
    pub care_unit_id: i64,
    pub activated_at: DateTimeUtc,
    pub activated_by: Option<i64>,
    pub deactivated_at: Option<DateTimeUtc>,
    pub deactivated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
