use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    pub user_hsa_id: String,
    pub assignment_hsa_id: Option<String>,
    pub care_unit_hsa_id: Option<String>,
    pub care_provider_org_number: Option<String>,
    pub patient_id: Option<i64>,
    /// `access_log::Action`'s code. This and `outcome` stay text: `access_log::verify` must
    /// read every row, one tampered with an unknown code too, and report it as a broken link
    /// rather than fail to read it.
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub outcome: String,
    pub reason: Option<String>,
    pub needs_follow_up: bool,
    pub prev_hash: String,
    pub hash: String,
    pub sandbox_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
