//! Signing in with OpenID Connect: the authorization code flow with PKCE (S256), `state` and
//! `nonce`, against a patient identity provider (a Swedish e-ID broker) and a staff identity
//! provider (SITHS). Discovery finds the endpoints and keys; every ID token's signature,
//! issuer, audience, expiry and nonce are checked by `openidconnect`. Tokens stay here: the
//! browser only ever gets our own session cookie.
//!
//! Routes:
//! - `POST /login/{patient|staff}` starts a login: a login attempt bound to this browser, then a
//!   redirect to the provider.
//! - `GET /login/{patient|staff}/callback` takes the provider's answer.
//! - `POST /logga-in/uppdrag` takes a staff member's choice of assignment.
//!
//! Every failure ends on `/logga-in/fel?orsak=…` with the attempt deleted and no session.

use crate::reply::see_other;
use crate::routes::AppState;
use app::auth::security::{self, Event};
use app::auth::session::{self, Subject};
use app::auth::{ClientAddress, Principal};
use app::domain::{HsaId, Personnummer};
use app::login::accounts::{self, Commission, StaffClaims};
use app::login::{Failure, attempt};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndUserFamilyName, EndUserGivenName, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IssuerUrl, LocalizedClaim, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse, UserInfoClaims, UserInfoError,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// Claims beyond the standard ones, kept as JSON: their names are configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    claims: HashMap<String, serde_json::Value>,
}

impl AdditionalClaims for ExtraClaims {}

type Fields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type OidcClient = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<Fields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Who signs in through a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Patient,
    Staff,
}

impl Audience {
    fn user_kind(self) -> app::auth::UserKind {
        match self {
            Self::Patient => app::auth::UserKind::Patient,
            Self::Staff => app::auth::UserKind::Staff,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Staff => "staff",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "patient" => Some(Self::Patient),
            "staff" => Some(Self::Staff),
            _ => None,
        }
    }
}

/// One identity provider as configured.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
    /// Levels of assurance, any one of which a sign-in must have (none: any).
    pub acr_values: Vec<String>,
    /// How long ago the person may last have authenticated (none: any time).
    pub max_age: Option<Duration>,
}

/// Which claims carry what, and the rules for accepting them.
#[derive(Debug, Clone)]
pub struct ClaimConfig {
    /// The patient's personal identity number.
    pub personnummer: String,
    /// Whether coordination numbers (samordningsnummer) may sign in.
    pub allow_coordination_numbers: bool,
    /// The staff member's HSA-ID.
    pub hsa_id: String,
    /// The staff member's assignments: a JSON array of objects with `commissionHsaId`,
    /// `commissionName`, `commissionPurpose`, `healthCareUnitHsaId` and optionally
    /// `commissionRight`.
    pub commissions: String,
}

impl Default for ClaimConfig {
    fn default() -> Self {
        Self {
            personnummer: "https://id.oidc.se/claim/personalIdentityNumber".to_owned(),
            allow_coordination_numbers: false,
            hsa_id: "employeeHsaId".to_owned(),
            commissions: "commissions".to_owned(),
        }
    }
}

/// A provider: its configuration and, once discovered, its client (endpoints and keys),
/// discovered again every ten minutes so that rotated keys are picked up.
pub struct Provider {
    audience: Audience,
    config: ProviderConfig,
    redirect: RedirectUrl,
    http: openidconnect::reqwest::Client,
    client: RwLock<Option<(Instant, Arc<OidcClient>)>>,
    /// Where a login form's answer leads: the issuer's origin and, once discovered, the
    /// authorization endpoint's. Read by the CSP of every response, so kept ready.
    form_origins: std::sync::RwLock<Vec<String>>,
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(url: &str) -> Option<String> {
    let origin = openidconnect::url::Url::parse(url)
        .ok()?
        .origin()
        .ascii_serialization();
    (origin != "null").then_some(origin)
}

const REDISCOVER_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid {0} URL: {1}")]
    Url(&'static str, String),
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

impl Provider {
    pub fn new(
        audience: Audience,
        config: ProviderConfig,
        public_url: &str,
    ) -> Result<Self, ConfigError> {
        IssuerUrl::new(config.issuer.clone())
            .map_err(|e| ConfigError::Url("issuer", e.to_string()))?;
        let redirect = RedirectUrl::new(format!(
            "{}/login/{}/callback",
            public_url.trim_end_matches('/'),
            audience.code()
        ))
        .map_err(|e| ConfigError::Url("public", e.to_string()))?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider send us anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            // A kept-alive connection that the provider has already closed fails the request
            // that reuses it, and a code cannot be sent twice. Servers close idle connections
            // after 5 s or more (Node's default is 5 s): drop ours well before.
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        let form_origins = origin_of(&config.issuer).into_iter().collect();
        Ok(Self {
            audience,
            config,
            redirect,
            http,
            client: RwLock::new(None),
            form_origins: std::sync::RwLock::new(form_origins),
        })
    }

    async fn client(&self) -> Result<Arc<OidcClient>, Failure> {
        if let Some((at, client)) = self.client.read().await.as_ref()
            && at.elapsed() < REDISCOVER_AFTER
        {
            return Ok(client.clone());
        }
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|_| Failure::Unavailable)?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|err| {
                tracing::error!(audience = self.audience.code(), error = %err,
                    "identity provider discovery failed");
                Failure::Unavailable
            })?;
        let client = Arc::new(
            OidcClient::from_provider_metadata(
                metadata,
                ClientId::new(self.config.client_id.clone()),
                self.config.client_secret.clone().map(ClientSecret::new),
            )
            .set_redirect_uri(self.redirect.clone()),
        );
        if let Some(origin) = origin_of(client.auth_uri().url().as_str())
            && let Ok(mut origins) = self.form_origins.write()
            && !origins.contains(&origin)
        {
            origins.push(origin);
        }
        *self.client.write().await = Some((Instant::now(), client.clone()));
        Ok(client)
    }
}

/// The identity providers of a server in real mode.
#[derive(Clone, Default)]
pub struct Login {
    pub patient: Option<Arc<Provider>>,
    pub staff: Option<Arc<Provider>>,
    pub claims: Arc<ClaimConfig>,
}

impl Login {
    pub fn is_configured(&self) -> bool {
        self.patient.is_some() || self.staff.is_some()
    }

    pub fn methods(&self) -> app::login::LoginMethods {
        app::login::LoginMethods {
            patient: self.patient.is_some(),
            staff: self.staff.is_some(),
        }
    }

    /// Where a login form's answer may lead: each provider's issuer and, once discovered, its
    /// authorization endpoint (origins only).
    pub fn form_targets(&self) -> Vec<String> {
        let mut origins: Vec<String> = Vec::new();
        for provider in [&self.patient, &self.staff].into_iter().flatten() {
            if let Ok(list) = provider.form_origins.read() {
                origins.extend(
                    list.iter()
                        .filter(|o| !origins.contains(o))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
        }
        origins
    }

    fn provider(&self, audience: Audience) -> Option<&Arc<Provider>> {
        match audience {
            Audience::Patient => self.patient.as_ref(),
            Audience::Staff => self.staff.as_ref(),
        }
    }
}

fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The error page for `failure`; the browser forgets its login attempt.
fn failed(audience: Audience, failure: Failure, client: ClientAddress) -> Response {
    security::record(
        Event::SignIn,
        "failure",
        None,
        Some(client),
        &format!("{}:{}", audience.code(), failure.as_code()),
    );
    let mut response = see_other(&format!("/logga-in/fel?orsak={}", failure.as_code()));
    set_cookie(&mut response, &attempt::clear_cookie());
    response
}

/// `POST /login/{audience}`: starts signing in.
pub async fn start(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddress>,
    Path(audience): Path<String>,
) -> Response {
    let Some(audience) = Audience::from_code(&audience) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(provider) = state.login.provider(audience).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let oidc = match provider.client().await {
        Ok(oidc) => oidc,
        Err(failure) => return failed(audience, failure, client),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = oidc
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in &provider.config.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    for acr in &provider.config.acr_values {
        request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
    }
    if let Some(max_age) = provider.config.max_age {
        request = request.set_max_age(max_age);
    }
    let (url, csrf, nonce) = request.url();
    let secrets = attempt::Secrets {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
    };
    match attempt::begin(
        &state.db,
        audience.user_kind(),
        &secrets,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(token) => {
            let mut response = see_other(url.as_str());
            set_cookie(&mut response, &attempt::cookie(&token));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "login attempt could not be stored");
            failed(audience, Failure::Unavailable, client)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// Compares secrets without revealing how much of them matched.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// `GET /login/{audience}/callback`: the provider's answer.
pub async fn callback(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddress>,
    Path(audience): Path<String>,
    principal: Option<axum::Extension<Principal>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(audience) = Audience::from_code(&audience) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(provider) = state.login.provider(audience).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(token) = attempt::token_from_headers(&headers) else {
        return failed(audience, Failure::State, client);
    };
    let now = chrono::Utc::now();
    let taken = match attempt::take(&state.db, &token, audience.user_kind(), now).await {
        Ok(Some(taken)) => taken,
        Ok(None) => return failed(audience, Failure::Stale, client),
        Err(err) => {
            tracing::error!(error = %err, "login attempt lookup failed");
            return failed(audience, Failure::Unavailable, client);
        }
    };
    let (attempt_id, secrets) = taken;
    let outcome = answer(&state, &provider, audience, &secrets, query).await;
    match outcome {
        Ok(Signed::Patient(patient_id)) => {
            let subject = Subject::Patient { patient_id };
            let done = sign_in(
                &state,
                principal,
                subject,
                (&headers, client),
                "/mina-sidor",
            )
            .await;
            let _ = attempt::finish(&state.db, attempt_id).await;
            done
        }
        Ok(Signed::Staff(staff_person_id, offered)) => {
            match attempt::await_choice(&state.db, attempt_id, staff_person_id, &offered).await {
                Ok(()) => see_other("/logga-in/uppdrag"),
                Err(err) => {
                    tracing::error!(error = %err, "login attempt could not be updated");
                    let _ = attempt::finish(&state.db, attempt_id).await;
                    failed(audience, Failure::Unavailable, client)
                }
            }
        }
        Err(failure) => {
            let _ = attempt::finish(&state.db, attempt_id).await;
            failed(audience, failure, client)
        }
    }
}

enum Signed {
    Patient(i64),
    Staff(i64, Vec<i64>),
}

/// Checks the provider's answer and finds who signed in.
async fn answer(
    state: &AppState,
    provider: &Provider,
    audience: Audience,
    secrets: &attempt::Secrets,
    query: CallbackQuery,
) -> Result<Signed, Failure> {
    if query.error.is_some() {
        return Err(Failure::Cancelled);
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(Failure::State);
    };
    if !same_secret(&returned_state, &secrets.state) {
        return Err(Failure::State);
    }
    // RFC 9207: a provider that names itself must be the one we sent the user to.
    if let Some(iss) = &query.iss
        && iss.trim_end_matches('/') != provider.config.issuer.trim_end_matches('/')
    {
        return Err(Failure::Issuer);
    }
    let client = provider.client().await?;
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| Failure::Unavailable)?
        .set_pkce_verifier(PkceCodeVerifier::new(secrets.pkce_verifier.clone()))
        .request_async(&provider.http)
        .await
        .map_err(|err| match err {
            RequestTokenError::ServerResponse(response) => {
                tracing::warn!(error = ?response.error(), "token endpoint refused the code");
                Failure::Code
            }
            RequestTokenError::Request(err) => {
                tracing::error!(error = %err, "token endpoint unreachable");
                Failure::Unavailable
            }
            other => {
                tracing::warn!(error = %other, "token response unreadable");
                Failure::Token
            }
        })?;
    let id_token = response.id_token().ok_or(Failure::Token)?;
    let config = &provider.config;
    let mut verifier = client.id_token_verifier();
    if !config.acr_values.is_empty() {
        verifier = verifier.set_auth_context_verifier_fn(|acr| {
            acceptable_acr(&config.acr_values, acr.map(|a| a.as_str()))
        });
    }
    if let Some(max_age) = config.max_age {
        verifier = verifier
            .set_auth_time_verifier_fn(move |at| recent_enough(max_age, at, chrono::Utc::now()));
    }
    let nonce = Nonce::new(secrets.nonce.clone());
    let claims = id_token.claims(&verifier, &nonce).map_err(|err| {
        tracing::warn!(error = %err, "ID token refused");
        match err {
            ClaimsVerificationError::Expired(_) => Failure::Expired,
            ClaimsVerificationError::InvalidIssuer(_) => Failure::Issuer,
            ClaimsVerificationError::InvalidNonce(_) => Failure::Nonce,
            ClaimsVerificationError::InvalidAuthContext(_) => Failure::Assurance,
            ClaimsVerificationError::InvalidAuthTime(_) => Failure::AuthAge,
            _ => Failure::Token,
        }
    })?;
    let rules = &state.login.claims;
    let name = |c: Option<&LocalizedClaim<EndUserGivenName>>| {
        c.and_then(|c| c.get(None))
            .map(|n| n.as_str().trim().to_owned())
    };
    let family_of = |c: Option<&LocalizedClaim<EndUserFamilyName>>| {
        c.and_then(|c| c.get(None))
            .map(|n| n.as_str().trim().to_owned())
    };
    let mut given = name(claims.given_name());
    let mut family = family_of(claims.family_name());
    let mut extra = claims.additional_claims().claims.clone();
    let wanted: &[&str] = match audience {
        Audience::Patient => &[&rules.personnummer],
        Audience::Staff => &[&rules.hsa_id, &rules.commissions],
    };
    // A conformant provider returns profile claims from UserInfo unless asked otherwise: ask
    // it for what the ID token does not carry, for the same subject.
    if given.is_none() || family.is_none() || wanted.iter().any(|w| !extra.contains_key(*w)) {
        let info: UserInfoClaims<ExtraClaims, CoreGenderClaim> = client
            .user_info(
                response.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .map_err(|_| Failure::Claims)?
            .request_async(&provider.http)
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "UserInfo refused or unreadable");
                match err {
                    UserInfoError::Request(_) => Failure::Unavailable,
                    _ => Failure::Claims,
                }
            })?;
        given = given.or_else(|| name(info.given_name()));
        family = family.or_else(|| family_of(info.family_name()));
        for (key, value) in &info.additional_claims().claims {
            extra.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    let (Some(given), Some(family)) = (given, family) else {
        return Err(Failure::Claims);
    };
    if given.is_empty() || family.is_empty() || given.len() > 100 || family.len() > 100 {
        return Err(Failure::Claims);
    }
    match audience {
        Audience::Patient => {
            let pnr = extra
                .get(&rules.personnummer)
                .and_then(|v| v.as_str())
                .ok_or(Failure::Personnummer)?;
            let pnr = if rules.allow_coordination_numbers {
                Personnummer::parse_allowing_coordination(pnr)
            } else {
                Personnummer::parse(pnr)
            }
            .map_err(|_| Failure::Personnummer)?;
            let id = accounts::patient_sign_in(&state.db, &pnr, &given, &family)
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "patient sign-in failed");
                    Failure::Unavailable
                })?;
            Ok(Signed::Patient(id))
        }
        Audience::Staff => {
            let hsa_id = extra
                .get(&rules.hsa_id)
                .and_then(|v| v.as_str())
                .and_then(|v| HsaId::parse(v).ok())
                .ok_or(Failure::HsaId)?;
            let commissions = extra
                .get(&rules.commissions)
                .map(commissions_of)
                .unwrap_or_default();
            let claims = StaffClaims {
                hsa_id,
                given_name: given,
                family_name: family,
                commissions,
            };
            let (person, offered) = accounts::staff_sign_in(&state.db, &claims).await?;
            Ok(Signed::Staff(person, offered))
        }
    }
}

/// Whether a sign-in's level of assurance is one of those required (exactly: `acr` values are
/// names, and which is "higher" is the operator's to say by listing only those good enough).
fn acceptable_acr(required: &[String], acr: Option<&str>) -> Result<(), String> {
    match acr {
        Some(acr) if required.iter().any(|v| v == acr) => Ok(()),
        Some(acr) => Err(format!("acr {acr} is not one of those required")),
        None => Err("no acr in the ID token".to_owned()),
    }
}

/// Whether the person authenticated at most `max_age` ago (with a minute's leeway for the two
/// clocks), as `auth_time` says; without `auth_time`, no.
fn recent_enough(
    max_age: Duration,
    auth_time: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    let leeway = chrono::Duration::seconds(60);
    let allowed = chrono::Duration::from_std(max_age)
        .ok()
        .and_then(|a| a.checked_add(&leeway))
        .unwrap_or(chrono::Duration::MAX);
    match auth_time {
        Some(at) if at > now + leeway => Err(format!("authenticated at {at}, in the future")),
        Some(at) if now - at <= allowed => Ok(()),
        Some(at) => Err(format!("authenticated at {at}, longer ago than max_age")),
        None => Err("no auth_time in the ID token".to_owned()),
    }
}

/// The assignments in the commissions claim; malformed entries are skipped.
fn commissions_of(value: &serde_json::Value) -> Vec<Commission> {
    let field = |item: &serde_json::Value, name: &str, max: usize| {
        item.get(name)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= max)
            .map(str::to_owned)
    };
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            Some(Commission {
                hsa_id: field(item, "commissionHsaId", 64)?,
                name: field(item, "commissionName", 200)?,
                purpose: field(item, "commissionPurpose", 100)?,
                right: field(item, "commissionRight", 200),
                care_unit_hsa_id: field(item, "healthCareUnitHsaId", 64)?,
            })
        })
        .collect()
}

/// Creates the session (ending the one this browser had) and lands the user on `home`.
async fn sign_in(
    state: &AppState,
    principal: Option<axum::Extension<Principal>>,
    subject: Subject,
    (headers, client): (&HeaderMap, ClientAddress),
    home: &str,
) -> Response {
    let actor = match &subject {
        Subject::Patient { patient_id } => format!("patient:{patient_id}"),
        Subject::Staff {
            staff_person_id, ..
        } => format!("staff:{staff_person_id}"),
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let created = async {
        if let Some(old) = principal {
            session::end(&state.db, old.0.session_id).await?;
        }
        session::create(&state.db, &state.sessions, subject, None, None, user_agent).await
    }
    .await;
    match created {
        Ok(token) => {
            security::record_actor(Event::SignIn, "success", &actor, Some(client), home);
            let mut response = see_other(home);
            set_cookie(&mut response, &crate::session::session_cookie(&token));
            set_cookie(&mut response, &attempt::clear_cookie());
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "session could not be created");
            let mut response = see_other("/logga-in/fel?orsak=unavailable");
            set_cookie(&mut response, &attempt::clear_cookie());
            response
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ChoiceForm {
    assignment: String,
}

/// `POST /logga-in/uppdrag`: the staff member's choice of assignment.
pub async fn choose(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddress>,
    principal: Option<axum::Extension<Principal>>,
    headers: HeaderMap,
    Form(form): Form<ChoiceForm>,
) -> Response {
    let Some(token) = attempt::token_from_headers(&headers) else {
        return failed(Audience::Staff, Failure::Stale, client);
    };
    let pending = match attempt::choosing(&state.db, &token, chrono::Utc::now()).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return failed(Audience::Staff, Failure::Stale, client),
        Err(err) => {
            tracing::error!(error = %err, "login attempt lookup failed");
            return failed(Audience::Staff, Failure::Unavailable, client);
        }
    };
    let Ok(chosen) = form.assignment.trim().parse::<i64>() else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Välj ett av uppdragen i listan. / Choose one of the listed assignments.",
        )
            .into_response();
    };
    let result = accounts::choose(&state.db, &pending, chosen).await;
    let _ = attempt::finish(&state.db, pending.id).await;
    match result {
        Ok((assignment_id, home)) => {
            let subject = Subject::Staff {
                staff_person_id: pending.staff_person_id,
                assignment_id: Some(assignment_id),
            };
            sign_in(&state, principal, subject, (&headers, client), home).await
        }
        Err(failure) => failed(Audience::Staff, failure, client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commissions_claim_keeps_complete_entries_only() {
        let claim = serde_json::json!([
            {"commissionHsaId": "SE2321000016-U1", "commissionName": "Psykolog",
             "commissionPurpose": "Vård och behandling",
             "healthCareUnitHsaId": "SE2321000016-E1"},
            {"commissionHsaId": "SE2321000016-U2", "commissionName": "Utan enhet",
             "commissionPurpose": "Vård och behandling"},
            "not an object"
        ]);
        let list = commissions_of(&claim);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].care_unit_hsa_id, "SE2321000016-E1");
        assert_eq!(list[0].right, None);
        assert!(commissions_of(&serde_json::json!("x")).is_empty());
    }

    #[test]
    fn a_missing_or_other_level_of_assurance_is_refused() {
        let required = ["http://id.elegnamnden.se/loa/1.0/loa3".to_owned()];
        assert!(acceptable_acr(&required, Some("http://id.elegnamnden.se/loa/1.0/loa3")).is_ok());
        assert!(acceptable_acr(&required, Some("http://id.elegnamnden.se/loa/1.0/loa2")).is_err());
        assert!(acceptable_acr(&required, None).is_err());
    }

    #[test]
    fn a_stale_or_missing_auth_time_is_refused() {
        let now = chrono::Utc::now();
        let five_minutes = Duration::from_secs(300);
        assert!(
            recent_enough(five_minutes, Some(now - chrono::Duration::seconds(10)), now).is_ok()
        );
        // A clock a little ahead at the provider is no reason to refuse.
        assert!(
            recent_enough(five_minutes, Some(now + chrono::Duration::seconds(30)), now).is_ok()
        );
        assert!(
            recent_enough(five_minutes, Some(now - chrono::Duration::minutes(7)), now).is_err()
        );
        assert!(recent_enough(five_minutes, None, now).is_err());
        // Far in the future is no authentication at all; a huge max_age does not overflow.
        assert!(recent_enough(five_minutes, Some(now + chrono::Duration::hours(2)), now).is_err());
        assert!(recent_enough(Duration::MAX, Some(now - chrono::Duration::days(400)), now).is_ok());
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
