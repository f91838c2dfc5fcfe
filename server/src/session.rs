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
use app::auth::session::{self, PATIENT_COOKIE, Resolved, SESSION_COOKIE};
use app::auth::{ClientAddress, Principal};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;

/// The value of the first cookie named `name` in the request, well-formed or not.
fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The value of the cookie `name` in the request, if it has the form of one of our tokens.
pub(crate) fn cookie_token(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_value(headers, name)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

/// Whether the request carries a cookie named `name` at all (well-formed or not).
fn has_cookie(headers: &HeaderMap, name: &str) -> bool {
    cookie_value(headers, name).is_some()
}

pub(crate) fn session_cookie(token: &str) -> String {
    cookie(SESSION_COOKIE, token)
}

/// The cookie of the session in `slot`.
pub(crate) fn cookie(name: &str, token: &str) -> String {
    format!("{name}={token}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The token that the request's [`Principal`] was found by (the live stream re-checks it).
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

/// Whether a request belongs to the patient's side of the service: a patient's page, a server
/// function only patients (or testers) call, or a request sent by a patient's page (a shared
/// function such as `whoami`, a program's media). Which of a demo visitor's two sessions a
/// request is made in follows from it.
fn patient_side(request: &Request) -> bool {
    const PATIENT_PAGES: &str = "/mina-sidor";
    let under = |path: &str| {
        path == PATIENT_PAGES
            || path
                .strip_prefix(PATIENT_PAGES)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    let path = request.uri().path();
    if under(path) {
        return true;
    }
    if let Some(endpoint) = path.strip_prefix("/api/") {
        use app::auth::policy::{Requirement, requirement};
        match requirement(endpoint) {
            Some(Requirement::Patient | Requirement::PatientOrTester) => return true,
            Some(Requirement::Public | Requirement::SignedIn) | None => {}
            Some(_) => return false,
        }
    }
    // A page's own fetches (a server function an island calls, a program's image) are made in
    // the session of the page that sent them; a page load never is, since a form's redirect
    // keeps the referrer of the page the form was on. (The referrer policy is `same-origin`:
    // another site's pages send no path here.)
    let navigation = request
        .headers()
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode.as_bytes() == b"navigate");
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    !navigation
        && request
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<axum::http::Uri>().ok())
            .is_some_and(|uri| {
                // Only our own pages: a sibling site's page could send any path.
                let ours = uri
                    .authority()
                    .zip(host)
                    .is_some_and(|(from, host)| from.as_str().eq_ignore_ascii_case(host));
                ours && under(uri.path())
            })
}

/// Finds the signed-in user. A cookie that leads nowhere (expired, ended, forged) is cleared.
///
/// A demo visitor may hold two sessions of one sandbox at once, so that the patient and the
/// therapist can be tried side by side in two tabs: the patient's in `__Host-lotsen_patient`,
/// the staff persona's in `__Host-lotsen_session`. A request on the patient's side is made in the
/// patient's session (unless the staff session is testing a program as a patient), any other in
/// the staff session; either falls back to the other when it has none. Outside demo mode there
/// is one session cookie, and the patient's is ignored.
pub async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = ClientAddress(state.limits.client(&request));
    request.extensions_mut().insert(client);
    let headers = request.headers();
    let mut cookies = vec![(SESSION_COOKIE, cookie_token(headers, SESSION_COOKIE))];
    if state.demo.is_some() {
        cookies.push((PATIENT_COOKIE, cookie_token(headers, PATIENT_COOKIE)));
    }
    // Present but not one of our tokens: cleared.
    let mut clear: Vec<&'static str> = cookies
        .iter()
        .filter(|(name, token)| token.is_none() && has_cookie(headers, name))
        .map(|(name, _)| *name)
        .collect();
    let held: Vec<(&'static str, String)> = cookies
        .into_iter()
        .filter_map(|(name, token)| token.map(|t| (name, t)))
        .collect();
    let patient_first = held.len() > 1 && patient_side(&request);
    // A dashboard's live refresh (`public/live.js`) is not the person's activity: an unattended
    // screen must still time out. (A client can only shorten its own session this way; another
    // site cannot set the header without a CORS preflight, which nothing here answers.)
    let now = chrono::Utc::now();
    // The same for the live stream itself: a browser reconnects it by itself.
    let live = request.headers().contains_key("lotsen-live")
        || request.uri().path() == crate::live::EVENTS_PATH;
    if !held.is_empty() {
        state.session_cache.listen(&state.db);
    }
    let resolve = |token: String, activity: bool| {
        let state = state.clone();
        async move {
            session::resolve_cached(
                &state.db,
                &state.sessions,
                &state.session_cache,
                &token,
                now,
                activity && !live,
            )
            .await
        }
    };
    let (found, mut unheld) = match choose(held, patient_first, resolve).await {
        Ok(chosen) => chosen,
        Err(err) => return lookup_failed(&err),
    };
    clear.append(&mut unheld);
    // A response that sets a cookie itself (a new session) keeps it: clearing it after would
    // undo it, since a browser applies `Set-Cookie` lines in order.
    let clear_cookies = |response: &mut Response| {
        for name in &clear {
            let set = response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|v| v.as_bytes().starts_with(format!("{name}=").as_bytes()));
            if !set {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, clear_cookie(name));
            }
        }
    };
    let Some((token, principal)) = found else {
        let mut response = next.run(request).await;
        clear_cookies(&mut response);
        return response;
    };
    if principal.staff().is_some() && sent_by_another_site(&request) {
        let mut response = continue_page(request.uri());
        clear_cookies(&mut response);
        return response;
    }
    let session = principal.session_id;
    let own_change = app::auth::cache::OwnSessionChanged::default();
    request.extensions_mut().insert(own_change.clone());
    request.extensions_mut().insert(*principal);
    request.extensions_mut().insert(SessionToken(token));
    let mut response = next.run(request).await;
    if own_change.is_set() {
        state.session_cache.changed(&format!("s{session}"));
    }
    clear_cookies(&mut response);
    response
}

/// The session a request is made in, of those its cookies hold (`held`, the staff session
/// first), and the cookies that lead nowhere. On the patient's side (`patient_first`, only
/// when both are held) the staff session is looked at first without counting as activity:
/// it is used only when it is testing a program as a patient, or when the patient's session
/// turns out not to stand. `resolve(token, activity)` looks a token up.
async fn choose<F, Fut>(
    mut held: Vec<(&'static str, String)>,
    patient_first: bool,
    resolve: F,
) -> Result<(Option<(String, Box<Principal>)>, Vec<&'static str>), sea_orm::DbErr>
where
    F: Fn(String, bool) -> Fut,
    Fut: std::future::Future<Output = Result<Resolved, sea_orm::DbErr>>,
{
    let mut clear = Vec::new();
    // The staff session, looked at first on the patient's side and not yet used: its
    // last-seen time is not moved by the patient's activity.
    let mut unused_staff: Option<String> = None;
    if patient_first {
        let (_, token) = held.remove(0);
        match resolve(token.clone(), false).await? {
            // A staff member testing a program as a patient keeps the patient's side in their
            // test: the staff session is used after all.
            Resolved::Valid(principal) if principal.test.is_some() => {
                match resolve(token.clone(), true).await? {
                    Resolved::Valid(principal) => return Ok((Some((token, principal)), clear)),
                    Resolved::Invalid => clear.push(SESSION_COOKIE),
                }
            }
            Resolved::Valid(_) => unused_staff = Some(token),
            Resolved::Invalid => clear.push(SESSION_COOKIE),
        }
    }
    for (name, token) in held {
        match resolve(token.clone(), true).await? {
            // The patient's cookie holds nothing but a patient's session.
            Resolved::Valid(principal)
                if name == PATIENT_COOKIE && principal.patient_id().is_none() =>
            {
                clear.push(name);
            }
            Resolved::Valid(principal) => return Ok((Some((token, principal)), clear)),
            Resolved::Invalid => clear.push(name),
        }
    }
    if let Some(token) = unused_staff {
        match resolve(token.clone(), true).await? {
            Resolved::Valid(principal) => return Ok((Some((token, principal)), clear)),
            Resolved::Invalid => clear.push(SESSION_COOKIE),
        }
    }
    Ok((None, clear))
}

fn lookup_failed(err: &sea_orm::DbErr) -> Response {
    tracing::error!(error = %err, "session lookup failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Tjänsten svarar inte just nu. / The service is not answering right now.",
    )
        .into_response()
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

/// Signs out: ends the session on the server and asks the browser to clear what it kept. A demo
/// visitor holding the patient and a staff persona side by side leaves both.
pub async fn sign_out(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    headers: HeaderMap,
) -> Response {
    let db: &DatabaseConnection = &state.db;
    let result = async {
        if state.demo.is_some() {
            // Both of the visitor's sessions, the one this request was made in among them.
            for name in [SESSION_COOKIE, PATIENT_COOKIE] {
                if let Some(token) = cookie_token(&headers, name) {
                    session::end_by_token(db, &token).await?;
                    state.session_cache.forget_token(&token);
                }
            }
        } else if let Some(principal) = &principal {
            session::end(db, principal.0.session_id).await?;
            state
                .session_cache
                .changed(&format!("s{}", principal.0.session_id));
        }
        Ok::<_, sea_orm::DbErr>(())
    }
    .await;
    if let Err(err) = result {
        tracing::error!(error = %err, "sign-out failed");
        return unavailable("Tjänsten svarar inte just nu. / The service is not answering.");
    }
    let mut response = see_other("/");
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    if state.demo.is_some() {
        headers.append(header::SET_COOKIE, clear_cookie(PATIENT_COOKIE));
    }
    headers.insert(
        "clear-site-data",
        HeaderValue::from_static("\"cache\", \"cookies\", \"storage\""),
    );
    response
}
