//! The application's state: what the router's handlers and middleware share, and what every
//! server function and render gets as Leptos context. Handlers extract only the part they need
//! (`State<DatabaseConnection>`, `State<LeptosOptions>`) where that is enough.

use crate::limits::{LimitConfig, Limits};
use crate::oidc::Login;
use app::auth::session::SessionConfig;
use app::demo::sandbox::DemoConfig;
use axum::extract::FromRef;
use axum::http::HeaderValue;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, with_context};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// What every handler and middleware shares. Extracting it clones one reference count, not
/// every field (which, several times per request, cost some 6 % of a page's CPU time).
/// Configuration changes it only before it serves (`DerefMut` copies it if it is shared).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

impl FromRef<AppState> for DatabaseConnection {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

#[derive(Clone)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    pub sessions: SessionConfig,
    /// Set in demo mode, the default while no identity provider is configured.
    pub demo: Option<DemoConfig>,
    pub limits: Limits,
    /// Set in real mode: the identity providers people sign in with.
    pub login: Login,
    /// Limits and allow-lists for program content.
    pub content_rules: app::programs::Rules,
    /// Where uploaded media is kept.
    pub media: app::programs::media::MediaStore,
    /// The start page's public figures, kept a few seconds (the same for every visitor).
    pub overview: app::start::queries::OverviewCache,
    /// Sent as `Strict-Transport-Security` when people reach Lotsen over HTTPS
    /// (`--public-url https://…`); `None` otherwise, as on a plain-HTTP pilot or in tests.
    pub hsts: Option<HeaderValue>,
    /// Sends the codes that confirm a patient's address (real mode with e-mail or SMS).
    pub codes: Option<app::notify::CodeSender>,
    /// The live streams' reader of care events.
    pub live: crate::live::Hub,
    /// Who each session token is, kept while nothing about them changes.
    pub session_cache: app::auth::cache::SessionCache,
}

impl AppState {
    /// Demo mode with the default session and sandbox limits.
    pub fn new(leptos_options: LeptosOptions, db: DatabaseConnection) -> Self {
        let session_cache = app::auth::cache::SessionCache::for_database(&db);
        Self(Arc::new(Shared {
            leptos_options,
            db,
            sessions: SessionConfig::default(),
            demo: Some(DemoConfig::default()),
            limits: Limits::new(LimitConfig::default()),
            login: Login::default(),
            content_rules: app::programs::Rules::default(),
            // The server sets its own (`--media-dir`); this one serves tests and embedders.
            media: app::programs::media::MediaStore::new(std::env::temp_dir().join("lotsen-media")),
            hsts: None,
            overview: Default::default(),
            codes: None,
            live: Default::default(),
            session_cache,
        }))
    }

    /// Demo mode with every default, served as the `lotsen` site: what tests and benchmarks
    /// start from.
    pub fn with_defaults(db: DatabaseConnection) -> Self {
        let options = LeptosOptions::builder().output_name("lotsen").build();
        Self::new(options, db)
    }

    /// What every server function and every render gets as Leptos context.
    pub(crate) fn context(&self) -> impl Fn() + Clone + Send + Sync + 'static + use<> {
        let db = self.db.clone();
        let demo = app::server::DemoMode(self.demo.is_some());
        let login = self.login.methods();
        let content_rules = self.content_rules.clone();
        let media = self.media.clone();
        let overview = self.overview.clone();
        let codes = self.codes.clone();
        move || {
            // The hydration script carries this response's CSP nonce.
            if let Some(nonce) = with_context::<http::request::Parts, _>(|parts| {
                parts.extensions.get::<crate::csp::CspNonce>().cloned()
            })
            .flatten()
            {
                provide_context(leptos::nonce::Nonce::from_value(nonce.0));
            }
            provide_context(db.clone());
            provide_context(demo);
            provide_context(login);
            provide_context(content_rules.clone());
            provide_context(media.clone());
            provide_context(overview.clone());
            if let Some(codes) = &codes {
                provide_context(codes.clone());
            }
        }
    }
}
