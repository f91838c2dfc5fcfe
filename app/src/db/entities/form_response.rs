use sea_orm::entity::prelude::*;

/// A questionnaire answered at one place of a program: a draft until submitted, then fixed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "form_response")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enrolment_id: i64,
    /// The version it was answered under.
    pub program_version_id: i64,
    pub questionnaire_key: String,
    /// `block:<module>/<page>/<block>`.
    pub place: String,
    pub state: crate::domain::ResponseState,
    /// JSON: item code → answer.
    pub answers: String,
    pub total: Option<i32>,
    pub band: Option<String>,
    /// JSON: subscales, criteria and alerts, as the server scored them.
    pub scores: String,
    pub idempotency_key: Option<String>,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
