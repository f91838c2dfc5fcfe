use sea_orm::entity::prelude::*;

/// Something the care team must see: raised automatically (an alert rule of an answer) or by
/// hand; acknowledged, then resolved with a comment; never deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flag")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enrolment_id: i64,
    pub kind: crate::domain::FlagKind,
    pub priority: crate::domain::FlagPriority,
    /// An alert rule's code, or another reason's.
    pub reason: String,
    /// The response that raised it.
    pub response_id: Option<i64>,
    pub raised_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub acknowledged_by: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<i64>,
    pub resolution: Option<String>,
    /// When an urgent flag nobody acknowledged in time was passed to the unit's patient
    /// administrators.
    pub escalated_at: Option<DateTimeUtc>,
    /// A manual flag's note, in the words of the staff member who raised it.
    pub note: Option<String>,
    /// Who raised a manual flag.
    pub raised_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
