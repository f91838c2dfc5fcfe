//! The request's user, the same-origin rule, and signing out.
//!
//! - [`resolve_session`] is the one middleware that turns the session cookie into the
//!   [`Principal`] in the request's extensions, where server functions and SSR find it. Staff
//!   whose browser was sent by another site get a page that asks them to continue instead.
//! - [`same_origin_only`] refuses every state-changing request that a browser did not send from
//!   our own pages (cross-site request forgery).
//! - Sign-out (`POST /logga-ut`) is a plain form.

use crate::reply::{see_other, unavailable};
use crate::state::AppState;
use app::auth::session::{self, Resolved, SESSION_COOKIE};
use app::auth::{ClientAddress, Principal};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

/// The value of our session cookie in the request, if any.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
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
    // A dashboard's live refresh (`public/live.js`) is not the person's activity: an unattended
    // screen must still time out. (A client can only shorten its own session this way; another
    // site cannot set the header without a CORS preflight, which nothing here answers.)
    let now = chrono::Utc::now();
    // The same for the live stream itself: a browser reconnects it by itself.
    let live = request.headers().contains_key("lotsen-live")
        || request.uri().path() == crate::live::EVENTS_PATH;
    state.session_cache.listen(&state.db);
    let resolved = session::resolve_cached(
        &state.db,
        &state.sessions,
        &state.session_cache,
        &token,
        now,
        !live,
    )
    .await;
    match resolved {
        Ok(Resolved::Valid(principal)) => {
            if principal.staff().is_some() && sent_by_another_site(&request) {
                return continue_page(request.uri());
            }
            let session = principal.session_id;
            let own_change = app::auth::cache::OwnSessionChanged::default();
            request.extensions_mut().insert(own_change.clone());
            request.extensions_mut().insert(*principal);
            let response = next.run(request).await;
            if own_change.is_set() {
                state.session_cache.changed(&format!("s{session}"));
            }
            response
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

/// Signs out: ends the session on the server and asks the browser to clear what it kept.
pub async fn sign_out(
    State(db): State<DatabaseConnection>,
    principal: Option<axum::Extension<Principal>>,
) -> Response {
    if let Some(principal) = principal
        && let Err(err) = session::end(&db, principal.0.session_id).await
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
