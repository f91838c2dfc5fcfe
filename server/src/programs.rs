//! Program files over plain HTTP: uploaded media, packages exported as a download, and
//! packages imported from a form (which works without JavaScript: a refusal renders the
//! program list with every problem, a success leads to the new program's editor).

use crate::routes::AppState;
use app::auth::Principal;
use app::design::packages::{self, Imported};
use app::error::AppError;
use app::programs::package::ImportProblem;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::provide_context;
use tower::ServiceExt;

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

fn refusal(error: AppError) -> Response {
    match error {
        AppError::Unauthenticated => plain(
            StatusCode::UNAUTHORIZED,
            "Du behöver logga in. / You need to log in.",
        ),
        AppError::Forbidden => plain(
            StatusCode::FORBIDDEN,
            "Du har inte behörighet till detta. / You may not do this.",
        ),
        AppError::NotFound | AppError::Invalid { .. } | AppError::Conflict => {
            plain(StatusCode::NOT_FOUND, "Finns inte. / Not found.")
        }
        AppError::Unavailable | AppError::Request => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "Tjänsten svarar inte just nu. / The service is not answering right now.",
        ),
    }
}

/// `GET /media/<program id>/<path>`: one of a program's uploaded files, to those who may see
/// the program (see `media::may_read`); byte ranges for audio and video.
pub async fn serve_media(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    Path((program_id, path)): Path<(i64, String)>,
    request: Request,
) -> Response {
    let Some(principal) = principal.map(|p| p.0) else {
        return refusal(AppError::Unauthenticated);
    };
    let (Some(location), Some(mime)) = (
        state.media.locate(program_id, &path),
        app::programs::media::type_of_name(&path),
    ) else {
        return refusal(AppError::NotFound);
    };
    match app::programs::media::may_read(&state.db, &principal, program_id).await {
        Ok(true) => {}
        Ok(false) => return refusal(AppError::NotFound),
        Err(err) => {
            tracing::error!(error = %err, "checking media access failed");
            return refusal(AppError::Unavailable);
        }
    }
    match tower_http::services::ServeFile::new(location)
        .oneshot(request)
        .await
    {
        Ok(mut response) => {
            let ok = response.status().is_success();
            let headers = response.headers_mut();
            if ok {
                headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(mime));
            }
            // Private: a shared cache must not keep what only some may see.
            headers.insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("private, max-age=3600"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                header::HeaderValue::from_static("default-src 'none'; sandbox"),
            );
            response.map(Body::new)
        }
        Err(never) => match never {},
    }
}

/// `GET /program/<id>/paket/<M.m>`: a version as a package, downloaded.
pub async fn export_package(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    Path((program_id, version)): Path<(i64, String)>,
) -> Response {
    let Some(principal) = principal.map(|p| p.0) else {
        return refusal(AppError::Unauthenticated);
    };
    let Some(number) = app::catalogue::parse_version(&version) else {
        return refusal(AppError::NotFound);
    };
    match packages::export(&state.db, &state.media, &principal, program_id, number).await {
        Ok((name, bytes)) => (
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (header::CACHE_CONTROL, "private, no-store".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => refusal(err),
    }
}

/// `POST /program/importera` (multipart, the file in `package`).
pub async fn import_package(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    request: Request,
) -> Response {
    let Some(principal) = principal.map(|p| p.0) else {
        return refusal(AppError::Unauthenticated);
    };
    // Only producers import: nobody else's upload is read at all.
    if !principal.has_role(app::auth::Role::Producer) {
        return refusal(AppError::Forbidden);
    }
    let (parts, body) = request.into_parts();
    let multipart = Multipart::from_request(Request::from_parts(parts.clone(), body), &state).await;
    let problems = match multipart {
        Err(_) => vec![ImportProblem {
            path: String::new(),
            reason: "the form could not be read (send the file as multipart/form-data)".into(),
            code: "form".to_owned(),
            kind: None,
        }],
        Ok(mut form) => {
            let mut package = None;
            let mut unreadable = false;
            loop {
                match form.next_field().await {
                    // One package a form: a second would replace what was read.
                    Ok(Some(_)) if package.is_some() => {
                        unreadable = true;
                        break;
                    }
                    Ok(Some(field)) if field.name() == Some("package") => match field.bytes().await
                    {
                        Ok(bytes) => package = Some(bytes),
                        Err(_) => unreadable = true,
                    },
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        unreadable = true;
                        break;
                    }
                }
            }
            match package {
                Some(bytes) if !unreadable && !bytes.is_empty() => {
                    match packages::import(
                        &state.db,
                        &state.media,
                        &state.content_rules,
                        &principal,
                        &bytes,
                    )
                    .await
                    {
                        Ok(Imported::Created(id)) => {
                            return Redirect::to(&format!("/program/{id}")).into_response();
                        }
                        Ok(Imported::Refused(problems)) => problems,
                        Err(err) => return refusal(err),
                    }
                }
                _ => vec![ImportProblem {
                    path: String::new(),
                    reason: "no package file was sent (or it could not be read)".into(),
                    code: "no_file".to_owned(),
                    kind: None,
                }],
            }
        }
    };
    // The program list, with what was wrong: rendered as `GET /program` would be.
    let mut parts = parts;
    parts.method = Method::GET;
    parts.uri = Uri::from_static("/program");
    let options = state.leptos_options.clone();
    let context = state.context();
    let refusal = app::design::ImportProblems(
        problems
            .into_iter()
            .map(|p| app::design::ImportIssue {
                path: p.path,
                code: p.code,
                kind: p.kind,
                reason: p.reason,
            })
            .collect(),
    );
    // Rendered whole (as every page is), so that it reads without JavaScript.
    let render = leptos_axum::render_app_async_with_context(
        move || {
            context();
            provide_context(refusal.clone());
        },
        move || app::shell(options.clone()),
    );
    let mut response = render(Request::from_parts(parts, Body::empty()))
        .await
        .into_response();
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}
