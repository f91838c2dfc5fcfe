//! The request's user and the same-origin rule.
//!
//! - [`resolve_session`] is the one middleware that turns the session cookie into the
//!   [`Principal`] in the request's extensions, where server functions and SSR find it.
//! - [`same_origin_only`] refuses every state-changing request that a browser did not send from
//!   our own pages (cross-site request forgery).
//! - The demo entrance (`POST /demo/start`) and sign-out (`POST /logga-ut`) are plain forms.

use crate::routes::AppState;
use app::auth::security::{self, Event};
use app::auth::session::{self, Resolved, SESSION_COOKIE};
use app::auth::{ClientAddress, Principal};
use app::demo::{Persona, sandbox};
use app::error::AppError;
use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The value of our session cookie in the request, if any.
fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let value = c.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('=')?;
            Some(value.to_owned())
        })
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-lotsen_session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
    )
}

/// Finds the signed-in user. A cookie that leads nowhere (expired, ended, forged) is cleared.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = ClientAddress(state.limits.client(&request));
    request.extensions_mut().insert(client);
    let Some(token) = session_token(request.headers()) else {
        let had_cookie = request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(SESSION_COOKIE));
        let mut response = next.run(request).await;
        if had_cookie {
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear_session_cookie());
        }
        return response;
    };
    let resolved = session::resolve(&state.db, &state.sessions, &token, chrono::Utc::now()).await;
    match resolved {
        Ok(Resolved::Valid(principal)) => {
            if principal.staff().is_some() && sent_by_another_site(&request) {
                return continue_page(request.uri());
            }
            request.extensions_mut().insert(*principal);
            next.run(request).await
        }
        Ok(Resolved::Invalid) => {
            let mut response = next.run(request).await;
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear_session_cookie());
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "session lookup failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Tjänsten svarar inte just nu. / The service is not answering right now.",
            )
                .into_response()
        }
    }
}

/// Whether a page load or fetch was started by another site (`Sec-Fetch-Site: cross-site` or
/// `same-site`), as opposed to our own pages or the user themselves (`same-origin`, `none`).
/// Signing in passes: the identity provider's answer always comes from its own site.
fn sent_by_another_site(request: &Request) -> bool {
    let path = request.uri().path();
    if path.starts_with("/login/") || path.starts_with("/logga-in") {
        return false;
    }
    request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site" || site.as_bytes() == b"same-site")
}

/// What staff get for a request another site started: nothing of the page (so another site
/// cannot make a therapist's browser read records and write access-log rows in their name), and
/// a link that opens it from our own origin when they mean to.
fn continue_page(uri: &axum::http::Uri) -> Response {
    // Always a path on this site: `//other.site/x` or `/\other.site` would leave it.
    let path = uri.path().trim_start_matches(['/', '\\']);
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let target: String = format!("/{path}{query}")
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let page = format!(
        "<!DOCTYPE html><html lang=\"sv\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>Fortsätt till Lotsen</title></head><body><main>\
         <h1>Fortsätt till Lotsen</h1>\
         <p>Länken kom från en annan webbplats. Öppna sidan härifrån om du vill se den.</p>\
         <p lang=\"en\">The link came from another website. Open the page from here if you \
         want to see it.</p>\
         <p><a href=\"{target}\">Öppna sidan / Open the page</a></p></main></body></html>"
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// Whether a state-changing request came from our own pages. Browsers send `Sec-Fetch-Site`
/// (all current ones) or at least `Origin` with every POST; a request with neither is refused
/// too, since nothing but a browser has a reason to send our cookie.
pub fn is_same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

/// Refuses state-changing requests from other sites. Nothing changes state over GET.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || is_same_origin(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "cross-site request refused");
    (
        StatusCode::FORBIDDEN,
        "Begäran kom inte från Lotsens egna sidor och har inte utförts. \
         / The request did not come from Lotsen's own pages and was not carried out.",
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct PersonaForm {
    persona: String,
}

fn see_other(location: &'static str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    response
}

fn unavailable(message: &'static str) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, message).into_response()
}

/// "Try as …": enters the visitor's sandbox (a new one on the first visit) as `persona`, with a
/// new session token.
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
    let created = async {
        let subject = sandbox::subject(&state.db, sandbox_id, persona)
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound("demo persona".to_owned()))?;
        if let Some(old) = &current {
            session::end(&state.db, old.session_id).await?;
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
            if let Ok(cookie) = HeaderValue::from_str(&session_cookie(&token)) {
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

/// Signs out: ends the session on the server and asks the browser to clear what it kept.
pub async fn sign_out(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
) -> Response {
    if let Some(principal) = principal
        && let Err(err) = session::end(&state.db, principal.0.session_id).await
    {
        tracing::error!(error = %err, "sign-out failed");
        return unavailable("Tjänsten svarar inte just nu. / The service is not answering.");
    }
    let mut response = see_other("/");
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, clear_session_cookie());
    headers.insert(
        "clear-site-data",
        HeaderValue::from_static("\"cache\", \"cookies\", \"storage\""),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct EmergencyForm {
    reason: String,
}

/// Emergency access to a patient's record, from the form on the record page.
/// An object-level refusal of a plain route, for the security log.
fn refused(principal: Option<&Principal>, client: ClientAddress, status: StatusCode) {
    security::record(
        Event::Refused,
        status.as_str(),
        principal,
        Some(client),
        "emergency_access",
    );
}

pub async fn emergency_access(
    State(state): State<AppState>,
    axum::Extension(client): axum::Extension<ClientAddress>,
    principal: Option<axum::Extension<Principal>>,
    axum::extract::Path(patient_id): axum::extract::Path<i64>,
    Form(form): Form<EmergencyForm>,
) -> Response {
    let principal = principal.map(|p| p.0);
    let result = app::auth::gate::grant_emergency_access(
        &state.db,
        principal.as_ref(),
        patient_id,
        &form.reason,
    )
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
        Err(AppError::Unavailable | AppError::Request) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Tjänsten svarar inte just nu. / The service is not answering right now.",
        ),
    };
    (status, message).into_response()
}

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
    State(state): State<AppState>,
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
    match search::for_auditor(&state.db, &principal, &filter, search::Purpose::Export).await {
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
