//! The Lotsen server: configuration, database connection and migration at start, the axum
//! router (Leptos SSR, server functions, static files, health), and graceful shutdown.

pub mod cli;
pub mod db;
mod language;
mod routes;
mod site;
pub mod telemetry;

pub use routes::{AppState, router};

use sea_orm::ConnectionTrait;
use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Database(#[from] db::DbSetupError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects to the database, migrates it, and builds the application state.
pub async fn app_state(database_url: &str, addr: SocketAddr) -> Result<AppState, ServeError> {
    let db = db::connect(database_url).await?;
    let applied = db::migrate(&db).await?;
    tracing::info!(applied, backend = ?db.get_database_backend(), "database ready");
    Ok(AppState {
        leptos_options: site::leptos_options(addr),
        db,
    })
}

/// `lotsen serve`: runs until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub async fn serve(database_url: &str, addr: SocketAddr) -> Result<(), ServeError> {
    let state = app_state(database_url, addr).await?;
    let db = state.db.clone();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr()?;
    tracing::info!(url = %format!("http://{local}"), "Lotsen is listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = db.close().await;
    tracing::info!("Lotsen stopped");
    Ok(())
}

/// `lotsen migrate`.
pub async fn migrate(database_url: &str) -> Result<(), ServeError> {
    let db = db::connect(database_url).await?;
    let applied = db::migrate(&db).await?;
    println!("{applied} migration(s) applied; the database is up to date.");
    let _ = db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing requests in flight");
}
