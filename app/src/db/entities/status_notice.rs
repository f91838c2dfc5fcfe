use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_notice")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub severity: crate::start::Severity,
    pub title_sv: String,
    pub title_en: String,
    pub body_sv: String,
    pub body_en: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
