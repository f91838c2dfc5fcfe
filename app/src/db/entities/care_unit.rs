use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_unit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub care_provider_id: i64,
    pub hsa_id: String,
    pub name: String,
    pub active: bool,
    pub allows_emergency_access: bool,
    pub sandbox_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Who a patient can reach at once, shown after an urgent answer (with 112 and 1177).
    pub crisis_info: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
