//! The auditor's CSV export (`GET /granskning/logg.csv`): the same search and scope as the
//! screen, logged per patient.

use app::auth::Principal;
use app::error::AppError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    patient: Option<String>,
    anvandare: Option<String>,
    fran: Option<String>,
    till: Option<String>,
    uppfoljning: Option<String>,
}

/// The auditor's search as a CSV file (same filter and scope as the screen).
pub async fn audit_export(
    State(db): State<DatabaseConnection>,
    principal: Option<axum::Extension<Principal>>,
    axum::extract::Query(query): axum::extract::Query<AuditQuery>,
) -> Response {
    use app::audit::{AuditFilter, search};
    let Some(principal) = principal.map(|p| p.0) else {
        return (
            StatusCode::UNAUTHORIZED,
            "Du behöver logga in. / You need to log in.",
        )
            .into_response();
    };
    let text = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let patient_id = match text(query.patient) {
        None => None,
        Some(v) => match v.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Ogiltigt patient-id. / Invalid patient id.",
                )
                    .into_response();
            }
        },
    };
    let filter = AuditFilter {
        patient_id,
        user_hsa_id: text(query.anvandare),
        from: text(query.fran),
        to: text(query.till),
        follow_up_only: query.uppfoljning.is_some(),
    };
    match search::for_auditor(&db, &principal, &filter, search::Purpose::Export).await {
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"atkomstlogg.csv\"",
                ),
            ],
            search::to_csv(&rows),
        )
            .into_response(),
        Err(AppError::Invalid { .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Ange datum som ÅÅÅÅ-MM-DD. / Give dates as YYYY-MM-DD.",
        )
            .into_response(),
        Err(AppError::Forbidden | AppError::Unauthenticated) => (
            StatusCode::FORBIDDEN,
            "Du har inte behörighet till loggen. / You may not read the log.",
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Tjänsten svarar inte just nu. / The service is not answering right now.",
        )
            .into_response(),
    }
}
