//! Database reads behind the start page.

use super::{ServiceOverview, Severity, StatusNotice};
use crate::db::entities::{care_unit, enrolment, program, program_version, status_notice};
use crate::domain::StatusNoticeId;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

/// Counts only real tenants: demo sandboxes never show in public figures.
pub async fn overview(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<ServiceOverview, DbErr> {
    let active_care_units = care_unit::Entity::find()
        .filter(care_unit::Column::Active.eq(true))
        .filter(care_unit::Column::SandboxId.is_null())
        .count(db)
        .await?;

    let published_programs = program::Entity::find()
        .filter(program::Column::SandboxId.is_null())
        .filter(
            program::Column::Id.in_subquery(
                Query::select()
                    .column(program_version::Column::ProgramId)
                    .from(program_version::Entity)
                    .and_where(Expr::col(program_version::Column::Status).eq("published"))
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;

    let ongoing_enrolments = enrolment::Entity::find()
        .filter(enrolment::Column::SandboxId.is_null())
        .filter(enrolment::Column::State.is_in(["active", "maintenance"]))
        .count(db)
        .await?;

    let notices = status_notice::Entity::find()
        .filter(status_notice::Column::StartsAt.lte(now))
        .filter(
            Condition::any()
                .add(status_notice::Column::EndsAt.is_null())
                .add(status_notice::Column::EndsAt.gt(now)),
        )
        .order_by_desc(status_notice::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .map(|n| StatusNotice {
            id: StatusNoticeId(n.id),
            severity: Severity::from_code(&n.severity),
            title_sv: n.title_sv,
            title_en: n.title_en,
            body_sv: n.body_sv,
            body_en: n.body_en,
            since: n.starts_at.format("%Y-%m-%d").to_string(),
        })
        .collect();

    Ok(ServiceOverview {
        active_care_units,
        published_programs,
        ongoing_enrolments,
        notices,
    })
}
