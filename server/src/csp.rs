//! The Content Security Policy: scripts run only when the server marked them with this
//! response's nonce (the hydration script and the modules it loads), nothing is framed, and
//! forms post only to Lotsen itself and to the configured identity providers (a login form's
//! answer is a redirect there).

use crate::routes::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// This response's script nonce: 128 random bits, hex. Server renders put it on their scripts.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

fn new_nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The policy for a response with `nonce`, letting forms lead to `form_targets` too, and
/// images, audio and video come from `media_hosts` (and their subdomains) over HTTPS.
pub fn policy(nonce: &str, form_targets: &[String], media_hosts: &[String]) -> String {
    let mut form_action = String::from("'self'");
    for origin in form_targets {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let mut media = String::from("'self'");
    for host in media_hosts {
        media.push_str(&format!(" https://{host} https://*.{host}"));
    }
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src {media} data:; media-src {media}; connect-src 'self'; \
         object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action {form_action}"
    )
}

pub async fn content_security_policy(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(nonce) = new_nonce() else {
        // No randomness: no scripts at all (the pages work without them).
        let mut response = next.run(request).await;
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'none'; object-src 'none'; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
        );
        return response;
    };
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let targets = state.login.form_targets();
    let mut response = next.run(request).await;
    // A response with a policy of its own (an uploaded file's: nothing runs) keeps it.
    if response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        return response;
    }
    if let Ok(value) =
        HeaderValue::from_str(&policy(&nonce, &targets, &state.content_rules.media_hosts))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_nonce_and_the_identity_providers() {
        let p = policy("abc", &["https://idp.example".to_owned()], &[]);
        assert!(p.contains("script-src 'nonce-abc' 'strict-dynamic'"));
        assert!(p.contains("img-src 'self' data:; media-src 'self';"));
        assert!(p.ends_with("form-action 'self' https://idp.example"));
        assert!(!p.contains("unsafe-inline"));
        let a = new_nonce().expect("random");
        let b = new_nonce().expect("random");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn media_from_the_allowed_hosts_may_load() {
        let p = policy("abc", &[], &["media.region.se".to_owned()]);
        assert!(p.contains(
            "img-src 'self' https://media.region.se https://*.media.region.se data:; \
             media-src 'self' https://media.region.se https://*.media.region.se;"
        ));
    }
}
