//! The axum router.

use crate::audit_export::audit_export;
use crate::demo::demo_start;
use crate::emergency::emergency_access;
use crate::language::set_language;
use crate::limits::rate_limit;
use crate::oidc;
use crate::session::{resolve_session, same_origin_only, sign_out};
use crate::site::serve_file;
pub use crate::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use sea_orm::DatabaseConnection;
use tower::ServiceExt;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The most a request body may carry.
pub const MAX_REQUEST_BYTES: usize = app::programs::store::MAX_CONTENT_BYTES + (1 << 20);

/// The most an upload may carry: a program package, or one media file, and the form around it.
pub fn max_upload_bytes(state: &AppState) -> usize {
    let package = app::programs::package::Limits::default().max_package_bytes;
    (package.max(state.media.max_file_bytes) + (1 << 20)) as usize
}

/// The app's page routes, worked out once per process. Working them out renders the app with
/// resource loading switched off for the whole process (a global flag in Leptos), so doing it
/// while other pages render — as every test building its own router did — could leave those
/// pages waiting forever.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The paths of the app's pages (`/mottagning/patient/{id}`, …).
pub fn page_paths() -> Vec<String> {
    page_routes().iter().map(|r| r.path().to_owned()).collect()
}

pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let options = state.leptos_options.clone();
    app::shell::bundle::prepare(&options);
    let mut plain = Router::new();
    for (method, path, handler) in plain_routes() {
        plain = plain.route(path, guarded(method, path, handler));
    }
    plain
        .route("/api/{*fn_name}", get(server_fn).post(server_fn))
        .leptos_routes_with_context(&state, routes, state.context(), move || {
            shell(options.clone())
        })
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            max_upload_bytes(&state),
            body_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.limits.clone(),
            rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            resolve_session,
        ))
        .layer(axum::middleware::from_fn(same_origin_only))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::csp::content_security_policy,
        ))
        .layer(axum::middleware::map_response_with_state(
            state.hsts.clone(),
            strict_transport_security,
        ))
        // Nothing is kept by a cache unless a handler says otherwise: pages and answers may
        // hold personal data, and only static files (see `site`) set their own caching.
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every plain route: method, path, handler. Each must have its row in
/// `app::auth::policy::ROUTES`, which [`guarded`] checks on every request.
fn plain_routes() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/healthz", get(healthz)),
        ("GET", "/readyz", get(readyz)),
        ("GET", crate::live::EVENTS_PATH, get(crate::live::events)),
        ("POST", "/sprak", post(set_language)),
        ("POST", "/demo/start", post(demo_start)),
        ("POST", "/logga-ut", post(sign_out)),
        ("POST", "/login/{audience}", post(oidc::start)),
        ("GET", "/login/{audience}/callback", get(oidc::callback)),
        ("POST", "/logga-in/uppdrag", post(oidc::choose)),
        ("GET", "/granskning/logg.csv", get(audit_export)),
        (
            "GET",
            "/mina-sidor/mina-uppgifter.json",
            get(crate::my_data::my_data_download),
        ),
        (
            "POST",
            "/mottagning/patient/{id}/nodatkomst",
            post(emergency_access),
        ),
        (
            "GET",
            "/media/{program_id}/{*path}",
            get(crate::programs::serve_media),
        ),
        // Its size is held by `body_limit` (below), not by axum's 2 MB default for forms.
        (
            "POST",
            "/program/importera",
            post(crate::programs::import_package).layer(axum::extract::DefaultBodyLimit::disable()),
        ),
        (
            "GET",
            "/program/{id}/paket/{version}",
            get(crate::programs::export_package),
        ),
        (
            "POST",
            "/program/{id}/testa",
            post(crate::trial::start_test),
        ),
        ("POST", "/testa/borja-om", post(crate::trial::restart_test)),
        ("POST", "/testa/avsluta", post(crate::trial::stop_test)),
    ]
}

/// The plain routes as `METHOD /path`, for the authorization matrix.
pub fn plain_route_keys() -> Vec<String> {
    plain_routes()
        .into_iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect()
}

/// Wraps a plain route in the check of its policy row. A route without a row is a programming
/// error that must not reach users: the router refuses to be built.
fn guarded(
    method: &'static str,
    path: &'static str,
    handler: MethodRouter<AppState>,
) -> MethodRouter<AppState> {
    let key = format!("{method} {path}");
    let Some(requirement) = app::auth::policy::route_requirement(&key) else {
        panic!("plain route {key} has no row in app::auth::policy::ROUTES");
    };
    handler.route_layer(axum::middleware::from_fn(
        move |request: Request, next: axum::middleware::Next| async move {
            let principal = request.extensions().get::<app::auth::Principal>();
            match app::auth::gate::check(requirement, principal) {
                Ok(()) => next.run(request).await,
                Err(error) => {
                    let status = match error {
                        app::error::AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
                        _ => StatusCode::FORBIDDEN,
                    };
                    let address = request
                        .extensions()
                        .get::<app::auth::ClientAddress>()
                        .copied();
                    app::auth::security::record(
                        app::auth::security::Event::Refused,
                        status.as_str(),
                        principal,
                        address,
                        request.uri().path(),
                    );
                    let message = if status == StatusCode::UNAUTHORIZED {
                        "Du behöver logga in. / You need to log in."
                    } else {
                        "Du har inte behörighet till det här. / You may not do this."
                    };
                    (status, message).into_response()
                }
            }
        },
    ))
}

/// Where files are uploaded: these may carry up to [`max_upload_bytes`].
const UPLOAD_PATHS: [&str; 2] = ["/api/upload_media", "/program/importera"];

/// Uploads may be large; everything else is held to the largest program draft (8 MiB of
/// JSON). A body larger than its limit is refused (413) before it is read.
async fn body_limit(
    State(max_upload): State<usize>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    // Server functions that take a multipart form: Leptos's decoder panics on a body without
    // a boundary (taking the connection with it), so such a request is refused here first.
    if request.uri().path().starts_with("/api/")
        && UPLOAD_PATHS.contains(&request.uri().path())
        && !is_multipart(request.headers())
    {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Skicka filen som multipart/form-data. / Send the file as multipart/form-data.",
        )
            .into_response();
    }
    let limit = if UPLOAD_PATHS.contains(&request.uri().path()) {
        max_upload
    } else {
        MAX_REQUEST_BYTES
    };
    let limited = tower::ServiceBuilder::new()
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .map_request(|request: Request<_>| request.map(Body::new))
        .service(next);
    match limited.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the database answers too.
async fn readyz(State(db): State<DatabaseConnection>) -> Response {
    match db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// Server functions. One without a row in the policy table is not reachable at all.
async fn server_fn(State(state): State<AppState>, request: Request) -> Response {
    let endpoint = request.uri().path().trim_start_matches("/api/");
    if app::auth::policy::requirement(endpoint).is_none() {
        tracing::error!(endpoint, "server function without a policy row refused");
        return StatusCode::NOT_FOUND.into_response();
    }
    handle_server_fns_with_context(state.context(), request)
        .await
        .into_response()
}

/// Whether a request is a multipart form with its boundary.
fn is_multipart(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase().starts_with("multipart/form-data") && v.contains("boundary=")
        })
}

/// A static file if there is one; otherwise the app renders its "not found" page.
async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::GET || parts.method == Method::HEAD {
        let probe = Request::from_parts(parts.clone(), Body::empty());
        if let Some(response) = serve_file(&state.leptos_options, probe).await {
            return response;
        }
    }
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_to_stream_with_context(state.context(), move || {
        shell(options.clone())
    });
    render(Request::from_parts(parts, body))
        .await
        .into_response()
}

/// One year of HTTPS only, for this host and its subdomains, when served over HTTPS.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

async fn strict_transport_security(
    State(hsts): State<Option<HeaderValue>>,
    mut response: Response,
) -> Response {
    if let Some(value) = hsts {
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, value);
    }
    response
}

/// Headers for every response (the script policy is set per response, see `csp`).
fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
