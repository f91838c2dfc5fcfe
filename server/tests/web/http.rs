//! The server's HTTP surface, in process, on both database engines.

#![allow(clippy::expect_used)]

use app::db_test;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotsen_server::AppState;
use sea_orm::ConnectionTrait;

use crate::common::app;

/// The status, headers and body of a request's answer.
async fn send(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let answer = crate::common::send(router, request).await;
    (answer.status, answer.headers, answer.body)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

/// A form post, as a browser without JavaScript sends it.
fn post_form(path: &str, body: &'static str) -> Request<Body> {
    Request::post(path)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request")
}

db_test!(health_and_readiness_answer, |db| {
    let router = app(db.clone());
    let (status, _, body) = send(&router, get("/healthz")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    let (status, _, body) = send(&router, get("/readyz")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready"));

    // When the database is gone, the server is alive but not ready.
    db.clone().close().await.expect("close");
    let (status, _, _) = send(&router, get("/readyz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, _) = send(&router, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
});

db_test!(start_page_is_rendered_on_the_server_in_swedish, |db| {
    db.execute_unprepared(
        "INSERT INTO status_notice (severity, title_sv, title_en, starts_at) \
         VALUES ('maintenance', 'Planerat underhåll i natt', 'Planned maintenance tonight', CURRENT_TIMESTAMP)",
    )
    .await
    .expect("notice");
    let router = app(db);
    let (status, headers, html) = send(&router, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(
        html.contains(r#"<html lang="sv""#),
        "Swedish by default: {}",
        &html[..200.min(html.len())]
    );
    assert!(html.contains("Hjälp att må bättre, i din egen takt"));
    assert!(html.contains("<title>Lotsen – stöd och behandling på nätet</title>"));
    // The data from the database is in the first HTML, not only after hydration.
    assert!(
        html.contains("Planerat underhåll i natt"),
        "status notice rendered on the server"
    );
    assert!(html.contains(r#"data-testid="figures""#));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
});

db_test!(english_is_chosen_by_cookie_not_by_browser_settings, |db| {
    let router = app(db);
    let request = Request::get("/")
        .header(header::COOKIE, "i18n_pref_locale=en")
        .body(Body::empty())
        .expect("request");
    let (_, _, html) = send(&router, request).await;
    assert!(html.contains(r#"<html lang="en""#));
    assert!(html.contains("Help to feel better, at your own pace"));

    let request = Request::get("/")
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .body(Body::empty())
        .expect("request");
    let (_, _, html) = send(&router, request).await;
    assert!(
        html.contains(r#"<html lang="sv""#) && html.contains("Hjälp att må bättre"),
        "Swedish unless chosen otherwise, whatever the browser's language setting"
    );
});

db_test!(language_form_sets_the_cookie_and_goes_back, |db| {
    let router = app(db);
    let request = post_form("/sprak", "lang=en&next=%2F");
    let (status, headers, _) = send(&router, request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    let cookie = headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(cookie.starts_with("i18n_pref_locale=en;"), "{cookie}");

    // Another site is never a redirect target; an unknown language changes nothing.
    let request = post_form("/sprak", "lang=sv&next=https%3A%2F%2Fevil.example%2F");
    let (_, headers, _) = send(&router, request).await;
    assert_eq!(headers[header::LOCATION], "/");
    let request = post_form("/sprak", "lang=de");
    let (status, headers, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(header::SET_COOKIE).is_none());
    assert!(body.contains("Unknown language"));
});

db_test!(unknown_pages_answer_404_with_a_page, |db| {
    let router = app(db);
    let (status, _, html) = send(&router, get("/finns-inte")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Sidan finns inte"));
});

db_test!(server_function_returns_the_overview_as_json, |db| {
    db.execute_unprepared(
        "INSERT INTO care_provider (name, org_number, county_code, kind) VALUES ('Region X', '2321000016', '01', 'region'); \
         INSERT INTO care_unit (care_provider_id, hsa_id, name) VALUES (1, 'SE2321000016-A1', 'Enhet A')",
    )
    .await
    .expect("seed");
    let router = app(db);
    let request = Request::post("/api/service_overview")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .expect("request");
    let (status, _, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["active_care_units"], 1);
    assert_eq!(json["published_programs"], 0);
    assert_eq!(json["notices"], serde_json::json!([]));
});

db_test!(
    request_bodies_larger_than_a_program_are_refused_unread,
    |db| {
        let router = app(db.clone());
        let huge = vec![b'x'; lotsen_server::MAX_REQUEST_BYTES + 1];
        let request = Request::post("/api/save_program_draft")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, huge.len())
            .body(Body::from(huge))
            .expect("request");
        let (status, _, _) = send(&router, request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }
);

db_test!(
    no_response_may_be_cached_except_static_files_and_https_is_pinned,
    |db| {
        let router = app(db.clone());
        let concrete = |path: &str| {
            path.split('/')
                .map(|part| {
                    if part.starts_with(':') || part.starts_with('{') {
                        "1"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        };
        // Every page, every server function, every plain route, and a page that is not there.
        let mut requests: Vec<(String, Request<Body>)> = Vec::new();
        for listing in lotsen_server::page_paths() {
            let path = concrete(&listing);
            requests.push((path.clone(), get(&path)));
        }
        for (path, _) in leptos::server_fn::axum::server_fn_paths() {
            requests.push((path.to_owned(), post_form(path, "")));
        }
        // Every plain route, from the router's own list (a route added later is walked too).
        for key in lotsen_server::plain_route_keys() {
            let (method, listing) = key.split_once(' ').expect("METHOD /path");
            let path = concrete(&listing.replace("{audience}", "patient"));
            let request = if method == "POST" {
                post_form(&path, "")
            } else {
                get(&path)
            };
            requests.push((key.clone(), request));
        }
        requests.push(("/finns-inte".to_owned(), get("/finns-inte")));
        assert!(requests.len() > 40, "{} routes", requests.len());
        let mut cached = Vec::new();
        for (path, request) in requests {
            let answered =
                tokio::time::timeout(std::time::Duration::from_secs(20), send(&router, request))
                    .await;
            let Ok((status, headers, _)) = answered else {
                panic!("{path} did not answer in 20 s");
            };
            let cache = headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !cache.contains("no-store") {
                cached.push(format!("{path} ({status}): {cache:?}"));
            }
            assert!(
                !headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
                "{path}: HSTS without HTTPS"
            );
        }
        assert!(cached.is_empty(), "cacheable: {cached:#?}");

        // Served over HTTPS, every answer pins it.
        let mut state = AppState::with_defaults(db.clone());
        state.hsts = Some(axum::http::HeaderValue::from_static(lotsen_server::HSTS));
        let https = crate::common::router_for(state);
        for path in ["/", "/healthz", "/finns-inte"] {
            let (_, headers, _) = send(&https, get(path)).await;
            assert_eq!(
                headers[header::STRICT_TRANSPORT_SECURITY],
                "max-age=31536000; includeSubDomains",
                "{path}"
            );
        }
    }
);

db_test!(
    the_start_page_data_is_kept_but_every_page_has_its_own_nonce,
    |db| {
        let router = app(db.clone());
        let nonce_of = |headers: &axum::http::HeaderMap| {
            let policy = headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii")
                .to_owned();
            let start = policy.find("'nonce-").expect("a nonce") + 7;
            policy[start..]
                .split('\'')
                .next()
                .expect("closed")
                .to_owned()
        };
        let (_, first, html) = send(&router, get("/")).await;
        assert!(html.contains("Just nu i tjänsten"), "{html}");
        // A notice published now shows within the time the figures are kept.
        db.execute_unprepared(
            "INSERT INTO status_notice (severity, title_sv, title_en, starts_at) \
         VALUES ('info', 'Ny version i kväll', 'New version tonight', CURRENT_TIMESTAMP)",
        )
        .await
        .expect("notice");
        let (_, second, _) = send(&router, get("/")).await;
        // Only the data is kept, never the page: each response has its own script nonce, and the
        // page's hydration script carries it.
        let (a, b) = (nonce_of(&first), nonce_of(&second));
        assert_ne!(a, b);
        assert!(a.len() >= 16, "{a}");
        // The stylesheet and the bundle's scripts are rendered once per process: the page
        // carries exactly what Leptos's own components render, with this response's nonce on
        // every script, and no other nonce.
        let options = AppState::with_defaults(db.clone()).leptos_options.clone();
        let (tags, _) = app::shell::bundle::leptos_tags(&options, &a);
        assert!(tags.contains(&format!(r#"nonce="{a}""#)), "{tags}");
        assert!(html.contains(&tags), "{html}");
        assert_eq!(
            html.matches("nonce=\"").count(),
            html.matches(&format!(r#"nonce="{a}""#)).count(),
            "{html}"
        );
        assert!(!html.contains(&b));
        tokio::time::sleep(
            app::start::queries::OVERVIEW_FRESH + std::time::Duration::from_millis(200),
        )
        .await;
        let (_, third, html) = send(&router, get("/")).await;
        assert!(html.contains("Ny version i kväll"), "{html}");
        assert!(html.contains(&nonce_of(&third)));
    }
);
