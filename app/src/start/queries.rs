//! Database reads behind the start page.

use super::{ServiceOverview, StatusNotice};
use crate::db::entities::status_notice;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Statement,
};

/// The three public figures in one round trip. Plain SQL that reads the same on SQLite and
/// PostgreSQL (`WHERE active` works on both engines' booleans).
fn figures_sql() -> String {
    use crate::db::filter::in_sandbox;
    format!(
        "SELECT \
         (SELECT COUNT(*) FROM care_unit WHERE active AND {}) AS units, \
         (SELECT COUNT(*) FROM program p WHERE {} AND EXISTS \
             (SELECT 1 FROM program_version v WHERE v.program_id = p.id \
              AND v.status = '{}')) AS programs, \
         (SELECT COUNT(*) FROM enrolment WHERE {} AND {}) AS ongoing",
        in_sandbox("", None),
        in_sandbox("p", None),
        sea_orm::ActiveEnum::to_value(&crate::programs::version::VersionStatus::Published),
        crate::db::filter::real_care(""),
        crate::domain::EnrolmentState::ongoing_sql("state")
    )
}

/// How long the start page's figures and notices are served from memory: everyone sees the
/// same, and under load most start-page requests then touch no database at all.
pub const OVERVIEW_FRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// The overview, kept for [`OVERVIEW_FRESH`] by the server that reads it (one per database).
#[derive(Debug, Clone, Default)]
pub struct OverviewCache(
    std::sync::Arc<std::sync::RwLock<Option<(std::time::Instant, ServiceOverview)>>>,
);

impl OverviewCache {
    /// The kept overview, if it is still fresh: read without waiting.
    pub fn fresh(&self) -> Option<ServiceOverview> {
        let kept = self.0.read().ok()?;
        let (at, overview) = kept.as_ref()?;
        (at.elapsed() < OVERVIEW_FRESH).then(|| overview.clone())
    }

    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<ServiceOverview, DbErr> {
        if let Some(overview) = self.fresh() {
            return Ok(overview);
        }
        let fresh = overview(db, now).await?;
        if let Ok(mut kept) = self.0.write() {
            *kept = Some((std::time::Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }
}

/// Counts only real tenants: demo sandboxes never show in public figures.
pub async fn overview(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<ServiceOverview, DbErr> {
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            figures_sql(),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("figures".to_owned()))?;
    let count = |column: &str| -> Result<u64, DbErr> {
        let value: i64 = row.try_get("", column)?;
        Ok(u64::try_from(value).unwrap_or_default())
    };
    let (active_care_units, published_programs, ongoing_enrolments) =
        (count("units")?, count("programs")?, count("ongoing")?);

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
            id: n.id,
            severity: n.severity,
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
