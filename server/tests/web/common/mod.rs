//! What the server's tests share: the router on a test database, a request's answer, and
//! sessions for the people of the fixtures (`app::testing`).

#![allow(dead_code, clippy::expect_used)]

use app::auth::session::SESSION_COOKIE;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use lotsen_server::{AppState, router};
use sea_orm::DatabaseConnection;
use tower::ServiceExt;

/// Lotsen's whole router (middleware included) in demo mode on `db`.
pub fn app(db: DatabaseConnection) -> Router {
    router_for(AppState::with_defaults(db))
}

/// Lotsen's whole router for `state`, whose session cache has heard, before each request, every
/// change committed before it: a test that changes roles or sessions in the database and then
/// sends a request sees the change as a user does, who comes back later than a notification
/// takes (`app::auth::cache`; the cache's own tests race it without this).
pub fn router_for(state: AppState) -> Router {
    let cache = state.session_cache.clone();
    let db = state.db.clone();
    router(state).layer(axum::middleware::from_fn(
        move |request: Request<Body>, next: axum::middleware::Next| {
            let (cache, db) = (cache.clone(), db.clone());
            async move {
                // A test that cuts connections may find the barrier's own gone: the cache is
                // off then, and the request goes to the database anyway.
                let _ = cache.barrier(&db).await;
                next.run(request).await
            }
        },
    ))
}

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text (lossy), for pages and messages.
    pub body: String,
    /// The body's bytes, for files.
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        self.body.clone()
    }
}

/// Sends one request through the router (bodies up to 64 MiB are read).
pub async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
    read(response).await
}

/// A response, read whole (bodies up to 64 MiB).
pub async fn read(response: axum::response::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("body")
        .to_vec();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

pub use app::testing::{patient_session, staff_session};

/// A page load by a signed-in person's browser, from one of our own pages.
pub fn page(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, "lotsen.test")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-mode", "navigate")
        .body(Body::empty())
        .expect("request")
}

/// A form posted from one of our pages by a signed-in person (a plain route).
pub fn form_post(path: &str, body: &str, token: &str) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, "lotsen.test")
        .header(header::ORIGIN, "https://lotsen.test")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{SESSION_COOKIE}={token}"))
        .body(Body::from(body.to_owned()))
        .expect("request")
}

/// A server-function call from one of our pages.
pub fn call(function: &str, body: &str, token: &str) -> Request<Body> {
    form_post(&format!("/api/{function}"), body, token)
}

/// Loads a page as the holder of `token`.
pub async fn get(router: &Router, path: &str, token: &str) -> Answer {
    send(router, page(path, token)).await
}
