//! Where the built site (CSS, JS, WASM, public assets) is, and how it is served.

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use leptos::config::LeptosOptions;
use std::net::SocketAddr;
use std::path::Path;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The file of hashes that cargo-leptos writes next to the server binary when `hash-files` is on.
fn hash_file() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join("hash.txt"))
}

/// Leptos options from the environment (`LEPTOS_*`), with defaults that work when `lotsen` is
/// run from the repository root after a build: the site is in `target/site`.
pub fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let mut options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(err) => {
            tracing::warn!(error = %err, "invalid LEPTOS_* settings; using defaults");
            LeptosOptions::builder().output_name("lotsen").build()
        }
    };
    if options.output_name.is_empty() {
        options.output_name = "lotsen".into();
    }
    options.site_addr = addr;
    // Hashed file names only when the build wrote the hashes; otherwise Leptos would fail to
    // find them at the first render.
    options.hash_files = hash_file().is_some_and(|path| path.exists());
    if !Path::new(options.site_root.as_ref()).is_dir() {
        tracing::warn!(
            site_root = %options.site_root,
            "site files not found: build first (see README) or set LEPTOS_SITE_ROOT"
        );
    }
    options
}

/// Serves a file from the site root, precompressed (brotli, gzip) where the build made it.
/// Files under the package directory carry a content hash in their name when `hash_files` is
/// on, so they may be cached for a year; everything else is revalidated.
/// Returns `None` when there is no such file.
pub async fn serve_file(options: &LeptosOptions, request: Request<Body>) -> Option<Response<Body>> {
    let pkg_prefix = format!("/{}/", options.site_pkg_dir);
    let immutable = options.hash_files && request.uri().path().starts_with(&pkg_prefix);
    let service = ServeDir::new(options.site_root.as_ref())
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let Ok(response) = service.oneshot(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        return None;
    }
    let mut response = response.map(Body::new);
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(response)
}
