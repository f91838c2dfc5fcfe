use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub staff_hsa_identity_id: i64,
    pub care_unit_id: i64,
    pub commission_hsa_id: String,
    pub commission_name: String,
    pub commission_purpose: String,
    pub commission_right: Option<String>,
    pub valid_to: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
