//! The language switch without JavaScript: a form posts here, the answer sets the language
//! cookie that the app reads and sends the browser back to the page it came from.
//! (Hydrated pages switch in place and set the same cookie themselves.)

use axum::Form;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::LANGUAGE_COOKIE;

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    next: String,
}

/// Only a local path may be a redirect target: never another site.
fn local_path(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok { next } else { "/" }
}

pub async fn set_language(Form(form): Form<LanguageForm>) -> Response {
    let lang = match form.lang.as_str() {
        "sv" => "sv",
        "en" => "en",
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                "Okänt språk. Välj sv eller en. / Unknown language: choose sv or en.",
            )
                .into_response();
        }
    };
    let cookie = format!("{LANGUAGE_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let (Ok(location), Ok(cookie)) = (
        HeaderValue::from_str(local_path(&form.next)),
        HeaderValue::from_str(&cookie),
    ) {
        headers.insert(header::LOCATION, location);
        headers.insert(header::SET_COOKIE, cookie);
    } else {
        headers.insert(header::LOCATION, HeaderValue::from_static("/"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn redirects_only_to_local_paths() {
        assert_eq!(local_path("/"), "/");
        assert_eq!(local_path("/om?x=1"), "/om?x=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path(""), "/");
        assert_eq!(local_path("/a\r\nSet-Cookie: x=1"), "/");
    }
}
