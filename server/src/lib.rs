//! The Lotsen server: configuration, database connection and migration at start, the axum
//! router (Leptos SSR, server functions, static files, health), and graceful shutdown.

mod audit_export;
pub mod cli;
mod csp;
pub mod db;
mod demo;
mod emergency;
mod language;
pub mod limits;
pub mod live;
mod my_data;
pub mod notify;
pub mod oidc;
mod programs;
mod reply;
mod routes;
mod session;
pub mod setup;
mod site;
mod state;
pub mod telemetry;
mod trial;

pub use routes::{AppState, HSTS, MAX_REQUEST_BYTES, page_paths, plain_route_keys, router};

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
    #[error("configuration: {0}")]
    Config(String),
}

/// Connects to the database, migrates it, and builds the application state.
pub async fn app_state(cli: &cli::Cli) -> Result<AppState, ServeError> {
    let (database_url, addr) = (cli.database_url.as_str(), cli.addr);
    let db = db::connect(database_url).await?;
    db::check_durability(&db).await?;
    if cli.no_migrate {
        let pending = db::pending(&db).await?;
        if pending > 0 {
            return Err(ServeError::Config(format!(
                "{pending} migration(s) pending: run `lotsen migrate` as the schema's owner \
                 first (this server was told not to migrate: --no-migrate)"
            )));
        }
        tracing::info!(backend = ?db.get_database_backend(), "database ready (not migrated here)");
    } else {
        let applied = db::migrate(&db).await?;
        tracing::info!(applied, backend = ?db.get_database_backend(), "database ready");
    }
    let mut state = AppState::new(site::leptos_options(addr), db);
    state.sessions = cli.session_config();
    state.hsts = cli
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"))
        .then(|| http::HeaderValue::from_static(routes::HSTS));
    state.limits =
        limits::Limits::new(cli.limit_config()).with_trusted_proxies(cli.trusted_proxies.clone());
    state.login = cli.login().map_err(ServeError::Config)?;
    state.content_rules.media_hosts = cli
        .media_hosts
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    state.media = app::programs::media::MediaStore {
        max_file_bytes: cli.max_media_mb << 20,
        ..app::programs::media::MediaStore::new(&cli.media_dir)
    };
    std::fs::create_dir_all(&cli.media_dir).map_err(|err| {
        ServeError::Config(format!(
            "the media directory {} cannot be made: {err}",
            cli.media_dir.display()
        ))
    })?;
    // Real mode when an identity provider is configured, demo mode otherwise; never both.
    state.demo = if state.login.is_configured() {
        tracing::info!(
            patient = state.login.patient.is_some(),
            staff = state.login.staff.is_some(),
            "real mode: signing in through the configured identity providers"
        );
        None
    } else {
        refuse_demo_on_real_data(&state.db).await?;
        tracing::info!("demo mode: no identity provider configured");
        Some(cli.demo_config())
    };
    // Codes confirm a patient's own address: real mode only, like every notification.
    if state.demo.is_none() {
        state.codes = cli
            .sender_config()
            .map_err(ServeError::Config)?
            .map(|config| app::notify::CodeSender(std::sync::Arc::new(config)));
    }
    Ok(state)
}

/// Demo mode lets anyone in without signing in. A database that holds real care providers or
/// patients (made by `lotsen setup` or by real sign-ins) is never served that way: a server
/// whose identity-provider settings went missing must stop, not open real data to visitors.
async fn refuse_demo_on_real_data(db: &sea_orm::DatabaseConnection) -> Result<(), ServeError> {
    let count = |table: &str| {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE {}",
            app::db::filter::in_sandbox("", None)
        );
        async move {
            let row = db
                .query_one(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .map_err(|e| ServeError::Database(db::DbSetupError::Setup(e)))?;
            Ok::<i64, ServeError>(
                row.and_then(|r| r.try_get::<i64>("", "n").ok())
                    .unwrap_or(0),
            )
        }
    };
    let (providers, patients) = (count("care_provider").await?, count("patient").await?);
    if providers + patients > 0 {
        return Err(ServeError::Config(format!(
            "this database holds real care data ({providers} care provider(s), {patients} \
             patient(s)) but no identity provider is configured, so Lotsen would start in demo \
             mode: configure --patient-oidc-issuer and/or --staff-oidc-issuer (with their client \
             settings and --public-url), or give a demo its own --database-url"
        )));
    }
    Ok(())
}

/// `lotsen serve`: runs until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub async fn serve(cli: &cli::Cli) -> Result<(), ServeError> {
    let addr = cli.addr;
    let state = app_state(cli).await?;
    let db = state.db.clone();
    let anchors = AnchorSinks {
        file: cli.anchor_file.clone(),
        command: cli.anchor_command.clone(),
    };
    tokio::spawn(housekeeping(
        state.clone(),
        anchors,
        cli.escalate_after_hours,
    ));
    match cli.sender_config().map_err(ServeError::Config)? {
        Some(_) if state.demo.is_some() => {
            tracing::warn!("demo mode: notifications are never sent, the sender is off");
        }
        Some(config) => {
            tokio::spawn(notify::Sender::new(db.clone(), config).run());
        }
        None => tracing::info!("notifications are off: no --smtp-url or --sms-gateway-url"),
    }
    let live = state.live.clone();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr()?;
    tracing::info!(url = %format!("http://{local}"), "Lotsen is listening");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Live streams never end by themselves: they must, for the shutdown to finish.
        live.close();
    })
    .await?;
    let _ = db.close().await;
    tracing::info!("Lotsen stopped");
    Ok(())
}

/// `lotsen notify`: the notification sender alone, until SIGTERM or Ctrl-C.
pub async fn notify(cli: &cli::Cli) -> Result<(), ServeError> {
    let config = cli
        .sender_config()
        .map_err(ServeError::Config)?
        .ok_or_else(|| {
            ServeError::Config(
                "nothing to send with: give --smtp-url and/or --sms-gateway-url".into(),
            )
        })?;
    // Never in demo mode: the same rule as `serve`'s (an identity provider means real mode).
    if !cli.login().map_err(ServeError::Config)?.is_configured() {
        return Err(ServeError::Config(
            "notifications are sent in real mode only: configure --patient-oidc-issuer and/or \
             --staff-oidc-issuer as for `serve`"
                .into(),
        ));
    }
    let db = db::connect(&cli.database_url).await?;
    db::check_durability(&db).await?;
    let pending = db::pending(&db).await?;
    if pending > 0 {
        return Err(ServeError::Config(format!(
            "{pending} migration(s) pending: run `lotsen migrate` (or `serve`) first"
        )));
    }
    tokio::select! {
        () = notify::Sender::new(db.clone(), config).run() => {}
        () = shutdown_signal() => {}
    }
    let _ = db.close().await;
    Ok(())
}

/// `lotsen migrate [--runtime-role ROLE]`.
pub async fn migrate(database_url: &str, runtime_role: Option<&str>) -> Result<(), ServeError> {
    let db = db::connect(database_url).await?;
    let applied = db::migrate(&db).await?;
    println!("{applied} migration(s) applied; the database is up to date.");
    if let Some(role) = runtime_role {
        db::grant_runtime_role(&db, role).await?;
        println!(
            "{role} may now run `lotsen serve --no-migrate`: it reads and writes the \
             application's tables, and only inserts into and reads the access log."
        );
    }
    let _ = db.close().await;
    Ok(())
}

/// Where `serve` sends the access log's head every hour, besides its own log.
#[derive(Debug, Clone, Default)]
pub struct AnchorSinks {
    pub file: Option<std::path::PathBuf>,
    pub command: Option<String>,
}

/// Sends the real-care chain's head to the server log and to the operator's sinks, outside
/// the database. Errors are logged, never fatal: the next hour tries again.
pub async fn record_anchor(db: &sea_orm::DatabaseConnection, sinks: &AnchorSinks) {
    let head = match app::access_log::head(db).await {
        Ok(Some(head)) => head.to_string(),
        Ok(None) => return,
        Err(err) => {
            tracing::error!(error = %err, "reading the access log head failed");
            return;
        }
    };
    tracing::info!(anchor = %head, "access log head");
    if let Some(path) = &sinks.file {
        let line = format!(
            "{} {head}\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        );
        let written = async {
            use tokio::io::AsyncWriteExt;
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await?;
            file.write_all(line.as_bytes()).await?;
            file.sync_data().await
        }
        .await;
        if let Err(err) = written {
            tracing::error!(error = %err, path = %path.display(), "writing the anchor file failed");
        }
    }
    if let Some(command) = &sinks.command {
        let sent = async {
            use tokio::io::AsyncWriteExt;
            let mut child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .stdin(std::process::Stdio::piped())
                .spawn()?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(format!("{head}\n").as_bytes()).await?;
            }
            let status = child.wait().await?;
            if status.success() {
                Ok(())
            } else {
                Err(std::io::Error::other(format!("exited with {status}")))
            }
        }
        .await;
        if let Err(err) = sent {
            tracing::error!(error = %err, "the anchor command failed");
        }
    }
}

/// Every minute: deletes expired demo sandboxes (with everything in them) and ended sessions.
async fn housekeeping(state: AppState, anchors: AnchorSinks, escalate_after_hours: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut minutes: u64 = 0;
    loop {
        tick.tick().await;
        // Hourly, the access log's head goes out of the database (the server log, and the
        // operator's file or command): an anchor for `lotsen audit verify` if rows are ever
        // cut off the end and the rest re-chained.
        if minutes.is_multiple_of(60) {
            record_anchor(&state.db, &anchors).await;
            match app::live::prune(&state.db, chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "old care events deleted"),
                Err(err) => tracing::error!(error = %err, "deleting old care events failed"),
            }
        }
        // Every quarter of an hour, scheduled forms that fell due are made and their patients
        // told (a notice without content), also when they do not sign in; patients who fell
        // behind are flagged for their care team, and urgent flags nobody acknowledged in time
        // are escalated.
        if minutes.is_multiple_of(15) {
            match app::care::sweep_due_forms(&state.db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(forms = n, "scheduled forms fell due"),
                Err(err) => tracing::error!(error = %err, "making due forms failed"),
            }
            let now = chrono::Utc::now();
            match app::care::follow_up::sweep(&state.db, now, escalate_after_hours).await {
                Ok(swept) if swept == Default::default() => {}
                Ok(swept) => tracing::info!(
                    raised = swept.raised,
                    escalated = swept.escalated,
                    "follow-up flags raised and urgent flags escalated"
                ),
                Err(err) => tracing::error!(error = %err, "the follow-up sweep failed"),
            }
        }
        minutes += 1;
        let now = chrono::Utc::now();
        match app::demo::sandbox::delete_expired(&state.db, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sandboxes = n, "expired demo sandboxes deleted"),
            Err(err) => tracing::error!(error = %err, "deleting expired sandboxes failed"),
        }
        if let Err(err) = app::auth::session::delete_expired(&state.db, &state.sessions, now).await
        {
            tracing::error!(error = %err, "deleting expired sessions failed");
        }
        if let Err(err) = app::login::attempt::delete_expired(&state.db, now).await {
            tracing::error!(error = %err, "deleting expired login attempts failed");
        }
        // The files of programs that are gone (an expired sandbox's).
        match app::programs::media::existing_programs(&state.db).await {
            Ok(ids) => {
                let newest = ids.last().copied().unwrap_or(0);
                let removed = state
                    .media
                    .sweep(|id| id > newest || ids.contains(&id))
                    .await;
                if removed > 0 {
                    tracing::info!(folders = removed, "media of deleted programs removed");
                }
            }
            Err(err) => tracing::error!(error = %err, "listing programs for media cleanup failed"),
        }
    }
}

/// `lotsen audit head`: prints the real-care chain's last row and hash.
pub async fn audit_head(database_url: &str) -> Result<(), ServeError> {
    let db = db::connect(database_url).await?;
    let head = app::access_log::head(&db)
        .await
        .map_err(db::DbSetupError::Setup)?;
    let _ = db.close().await;
    match head {
        Some(anchor) => println!("{anchor}"),
        None => println!("The real-care access log is empty."),
    }
    Ok(())
}

/// `lotsen audit verify`: walks the access log's hash chains and checks the anchors recorded
/// earlier. Returns whether all is intact.
pub async fn audit_verify(
    database_url: &str,
    anchors: &[app::access_log::Anchor],
) -> Result<bool, ServeError> {
    let db = db::connect(database_url).await?;
    let report = app::access_log::verify_anchored(&db, anchors)
        .await
        .map_err(db::DbSetupError::Setup)?;
    let _ = db.close().await;
    match report.broken {
        None => {
            println!(
                "The access log is intact: {} row(s) in {} chain(s) verified, {} anchor(s) found.",
                report.rows,
                report.chains,
                anchors.len()
            );
            if let Some(head) = report.head {
                println!(
                    "Head of the real-care chain (keep it elsewhere, pass it as --anchor): {head}"
                );
            }
            Ok(true)
        }
        Some(broken) => {
            println!(
                "The access log is BROKEN at row id {}: {}. Rows before it verified: {}.",
                broken.id,
                broken.reason,
                report.rows.saturating_sub(1)
            );
            Ok(false)
        }
    }
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
