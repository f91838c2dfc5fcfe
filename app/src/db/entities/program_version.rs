use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub program_id: i64,
    pub major: i32,
    pub minor: i32,
    pub status: crate::programs::version::VersionStatus,
    pub content_hash: Option<String>,
    pub release_notes: String,
    pub published_at: Option<DateTimeUtc>,
    pub published_by: Option<i64>,
    pub unpublished_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The program document (JSON); `None` only for versions made before documents.
    pub content: Option<String>,
    pub revision: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::program::Entity",
        from = "Column::ProgramId",
        to = "super::program::Column::Id"
    )]
    Program,
}

impl Related<super::program::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Program.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
