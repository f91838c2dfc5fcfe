use sea_orm::entity::prelude::*;

/// A program's owner lets another care provider use its published versions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sharing_agreement")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub program_id: i64,
    pub recipient_provider_id: i64,
    pub valid_from: DateTimeUtc,
    /// Set when sharing stops; activations already made continue.
    pub valid_to: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
