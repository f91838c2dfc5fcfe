//! Testing a program as a patient: the forms of the design tool and of the test banner.
//!
//! - `POST /program/{id}/testa` (field `version`: `utkast` or `1.0`): binds the caller's session
//!   to their test enrolment of that draft or version and goes to its treatment page.
//! - `POST /testa/borja-om`: starts the test over.
//! - `POST /testa/avsluta`: ends the test and goes back to the program's review page.

use crate::reply::{see_other, unavailable};
use app::auth::security::{self, Event};
use app::auth::{ClientAddress, Principal};
use app::care::trial;
use app::error::AppError;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct StartForm {
    version: String,
}

const UNAVAILABLE: &str = "Tjänsten svarar inte just nu. / The service is not answering right now.";

/// What a refusal says; object-level refusals go to the security log.
fn refusal(principal: Option<&Principal>, client: ClientAddress, error: AppError) -> Response {
    let (status, message) = match error {
        AppError::Invalid { reason, .. } if reason == "nothing_to_test" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Det finns inget att testa än: programmet har inga moduler. Inget har startats. \
             / There is nothing to test yet: the program has no modules. Nothing was started.",
        ),
        AppError::Invalid { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Välj utkastet eller en version att testa. Inget har startats. \
             / Choose the draft or a version to test. Nothing was started.",
        ),
        AppError::NotFound => (
            StatusCode::NOT_FOUND,
            "Programmet eller versionen finns inte. / No such program or version.",
        ),
        AppError::Forbidden | AppError::Unauthenticated => (
            StatusCode::FORBIDDEN,
            "Du har inte behörighet till det här. / You may not do this.",
        ),
        AppError::Conflict | AppError::Unavailable | AppError::Request => {
            return unavailable(UNAVAILABLE);
        }
    };
    if matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) {
        security::record(
            Event::Refused,
            status.as_str(),
            principal,
            Some(client),
            "test_as_patient",
        );
    }
    (status, message).into_response()
}

fn treatment(enrolment: i64) -> Response {
    see_other(&format!("/mina-sidor/behandling/{enrolment}"))
}

pub async fn start_test(
    State(db): State<DatabaseConnection>,
    axum::Extension(client): axum::Extension<ClientAddress>,
    principal: Option<axum::Extension<Principal>>,
    Path(program_id): Path<i64>,
    Form(form): Form<StartForm>,
) -> Response {
    let Some(axum::Extension(caller)) = principal else {
        return refusal(None, client, AppError::Unauthenticated);
    };
    match trial::start(&db, &caller, program_id, form.version.trim()).await {
        Ok(enrolment) => treatment(enrolment),
        Err(error) => refusal(Some(&caller), client, error),
    }
}

pub async fn restart_test(
    State(db): State<DatabaseConnection>,
    axum::Extension(client): axum::Extension<ClientAddress>,
    principal: Option<axum::Extension<Principal>>,
) -> Response {
    let Some(axum::Extension(caller)) = principal else {
        return refusal(None, client, AppError::Unauthenticated);
    };
    match trial::reset(&db, &caller).await {
        Ok(enrolment) => treatment(enrolment),
        // Started over by another click at the same moment: the new test is on the start page.
        Err(AppError::Conflict) => see_other("/mina-sidor"),
        Err(error) => refusal(Some(&caller), client, error),
    }
}

pub async fn stop_test(
    State(db): State<DatabaseConnection>,
    axum::Extension(client): axum::Extension<ClientAddress>,
    principal: Option<axum::Extension<Principal>>,
) -> Response {
    let Some(axum::Extension(caller)) = principal else {
        return see_other("/");
    };
    match trial::stop(&db, &caller).await {
        Ok(Some(program)) => see_other(&format!("/program/{program}/granska")),
        Ok(None) => see_other("/"),
        Err(error) => refusal(Some(&caller), client, error),
    }
}
