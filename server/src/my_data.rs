//! The patient's own data as a file (`GET /mina-sidor/mina-uppgifter.json`): the same as the
//! "my data" page, for the patient to keep.

use app::auth::Principal;
use app::auth::scope::OwnCare;
use app::error::AppError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

pub async fn my_data_download(
    State(db): State<DatabaseConnection>,
    principal: Option<axum::Extension<Principal>>,
) -> Response {
    let Some(own) = principal.and_then(|p| OwnCare::of(&p.0)) else {
        return (
            StatusCode::FORBIDDEN,
            "Bara patienten själv kan hämta sina uppgifter. / Only the patient can download their data.",
        )
            .into_response();
    };
    match app::patient::gather(&db, &own).await {
        Ok(data) => match serde_json::to_string_pretty(&data) {
            Ok(json) => (
                [
                    (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"mina-uppgifter.json\"",
                    ),
                ],
                json,
            )
                .into_response(),
            Err(_) => unavailable(),
        },
        Err(AppError::NotFound) => (StatusCode::NOT_FOUND, "").into_response(),
        Err(error) => {
            tracing::error!(?error, "my data could not be gathered");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Tjänsten svarar inte just nu. / The service is not answering right now.",
    )
        .into_response()
}
