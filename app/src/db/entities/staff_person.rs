use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_person")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub sandbox_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
