//! The demo entrance (`POST /demo/start`): "try as …" enters the visitor's own sandbox.

use crate::reply::{see_other, unavailable};
use crate::session::{cookie, cookie_token};
use crate::state::AppState;
use app::auth::security::{self, Event};
use app::auth::session::{self, PATIENT_COOKIE, SESSION_COOKIE};
use app::auth::{ClientAddress, Principal};
use app::demo::{Persona, sandbox};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct PersonaForm {
    persona: String,
}

/// "Try as …": enters the visitor's sandbox (a new one on the first visit) as `persona`, with a
/// new session token. The patient's session is kept in its own cookie beside the staff persona's,
/// so that a visitor can hold both sides of one sandbox in two tabs: trying the patient replaces
/// only the patient's session, trying a staff persona only the staff one.
pub async fn demo_start(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    axum::Extension(client): axum::Extension<ClientAddress>,
    headers: HeaderMap,
    Form(form): Form<PersonaForm>,
) -> Response {
    let Some(demo) = state.demo else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(persona) = Persona::from_code(&form.persona) else {
        return (StatusCode::BAD_REQUEST, "Okänd roll. / Unknown role.").into_response();
    };
    let current = principal.map(|p| p.0);
    let sandbox_id = match current.as_ref().and_then(|p| p.sandbox_id) {
        Some(id) => id,
        None => match sandbox::create(&state.db, &demo, state.sessions.demo_idle).await {
            Ok(id) => id,
            Err(sandbox::SandboxError::Full) => {
                return unavailable(
                    "Alla demomiljöer används just nu. Försök igen om en stund. \
                     / All demo environments are in use right now. Please try again later.",
                );
            }
            Err(sandbox::SandboxError::Db(err)) => {
                tracing::error!(error = %err, "demo sandbox could not be created");
                return unavailable(
                    "Tjänsten svarar inte just nu. / The service is not answering.",
                );
            }
        },
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let slot = if persona == Persona::Patient {
        PATIENT_COOKIE
    } else {
        SESSION_COOKIE
    };
    let replaced = cookie_token(&headers, slot);
    let created = async {
        let subject = sandbox::subject(&state.db, sandbox_id, persona)
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound("demo persona".to_owned()))?;
        if let Some(old) = &replaced {
            session::end_by_token(&state.db, old).await?;
            state.session_cache.forget_token(old);
        }
        session::create(
            &state.db,
            &state.sessions,
            subject,
            Some(sandbox_id),
            Some(persona.as_code()),
            user_agent,
        )
        .await
    }
    .await;
    match created {
        Ok(token) => {
            security::record(
                Event::DemoSignIn,
                "success",
                None,
                Some(client),
                persona.as_code(),
            );
            let mut response = see_other(persona.home());
            if let Ok(cookie) = HeaderValue::from_str(&cookie(slot, &token)) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "demo sign-in failed");
            unavailable("Tjänsten svarar inte just nu. / The service is not answering.")
        }
    }
}
