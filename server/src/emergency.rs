//! Emergency access (`POST /mottagning/patient/{id}/nodatkomst`): the form on the record page
//! asks the gate for a grant of its own, with a stated reason.

use app::auth::security::{self, Event};
use app::auth::{ClientAddress, Principal};
use app::error::AppError;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct EmergencyForm {
    reason: String,
}

/// An object-level refusal of this route, for the security log.
fn refused(principal: Option<&Principal>, client: ClientAddress, status: StatusCode) {
    security::record(
        Event::Refused,
        status.as_str(),
        principal,
        Some(client),
        "emergency_access",
    );
}

/// Emergency access to a patient's record, from the form on the record page.
pub async fn emergency_access(
    State(db): State<DatabaseConnection>,
    axum::Extension(client): axum::Extension<ClientAddress>,
    principal: Option<axum::Extension<Principal>>,
    axum::extract::Path(patient_id): axum::extract::Path<i64>,
    Form(form): Form<EmergencyForm>,
) -> Response {
    let principal = principal.map(|p| p.0);
    let result =
        app::auth::gate::grant_emergency_access(&db, principal.as_ref(), patient_id, &form.reason)
            .await;
    let (status, message) = match result {
        Ok(()) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(location) =
                HeaderValue::from_str(&format!("/mottagning/patient/{patient_id}"))
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            return response;
        }
        Err(AppError::Invalid { .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Skriv skälet till nödåtkomsten med 10–1000 tecken. Inget har öppnats. \
             / State the reason for emergency access in 10–1000 characters. Nothing was opened.",
        ),
        Err(AppError::Unauthenticated) => (
            StatusCode::UNAUTHORIZED,
            "Du behöver logga in. / You need to log in.",
        ),
        Err(AppError::Forbidden) => {
            refused(principal.as_ref(), client, StatusCode::FORBIDDEN);
            (
                StatusCode::FORBIDDEN,
                "Nödåtkomst är inte tillåten för dig på den här enheten. Försöket har loggats. \
                 / Emergency access is not allowed for you at this unit. The attempt was logged.",
            )
        }
        Err(AppError::NotFound) => {
            refused(principal.as_ref(), client, StatusCode::NOT_FOUND);
            (
                StatusCode::NOT_FOUND,
                "Patienten finns inte. / No such patient.",
            )
        }
        Err(AppError::Unavailable | AppError::Request | AppError::Conflict) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Tjänsten svarar inte just nu. / The service is not answering right now.",
        ),
    };
    (status, message).into_response()
}
