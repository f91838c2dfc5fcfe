//! Server push: `GET /mottagning/handelser`, the live stream of a unit's care events for its
//! dashboards (server-sent events; see `app::live` for what an event is and how it is written).
//!
//! - **One reader per instance.** The [`Hub`] reads new events once per wake and fans them out
//!   to every open stream over a bounded broadcast channel; each stream keeps the events of its
//!   own unit and sandbox. A stream that falls behind the channel reads its own scope from the
//!   database again, from the last id it sent.
//! - **Wakes**: an in-process signal after each commit of this instance, and on PostgreSQL a
//!   `LISTEN` on `app::live::CHANNEL` for the commits of every instance. When the listener
//!   reconnects, the hub looks again (a notification sent while it was away is not delivered).
//! - **Resume**: a stream starts after `Last-Event-ID` (the browser's own reconnect) or
//!   `?after=` (the id the dashboard was rendered at), so an event committed while a browser
//!   was away, or connected to another instance, still arrives, once and in order.
//! - **While open**, the stream checks the session every [`CHECK_EVERY`] without counting as
//!   activity (its keep-alives never keep an idle session alive); when the session has ended,
//!   or the assignment or clinical role is gone, it sends `event: end` and closes. It closes
//!   at server shutdown too (the browser reconnects to the next instance).
//! - It sends kinds and ids only, never patient data, and writes no access-log row: the
//!   dashboard that the browser then fetches logs what it shows.

use crate::state::AppState;
use app::auth::Principal;
use app::auth::scope::UnitCare;
use app::auth::session::Resolved;
use app::live::CareEvent;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OnceCell, broadcast, watch};
use tokio::time::Instant;

/// Where a dashboard's browser listens (`app::clinic`'s `LIVE_EVENTS_PATH`).
pub const EVENTS_PATH: &str = "/mottagning/handelser";

/// How often an open stream checks that its session still stands.
pub const CHECK_EVERY: Duration = Duration::from_secs(15);

/// How many batches of events the hub keeps for streams that are behind.
const CHANNEL_BATCHES: usize = 1024;

type Batch = Arc<[CareEvent]>;

/// This instance's reader of care events, shared by its streams. Started by the first stream.
#[derive(Clone, Default)]
pub struct Hub(Arc<HubInner>);

struct HubInner {
    events: OnceCell<broadcast::Sender<Batch>>,
    closed: watch::Sender<bool>,
    check_every: Duration,
}

impl Default for HubInner {
    fn default() -> Self {
        Self {
            events: OnceCell::new(),
            closed: watch::channel(false).0,
            check_every: CHECK_EVERY,
        }
    }
}

impl Hub {
    /// A hub whose streams check their session this often (tests: a sign-out seen at once).
    pub fn checking_every(check_every: Duration) -> Self {
        Self(Arc::new(HubInner {
            check_every,
            ..HubInner::default()
        }))
    }

    /// A receiver of every new event, the reader started if this is the first. The reader's
    /// starting point is read before this returns, so an event committed after a stream's own
    /// catch-up read is never skipped.
    async fn subscribe(
        &self,
        db: &DatabaseConnection,
    ) -> Result<broadcast::Receiver<Batch>, DbErr> {
        let events = self
            .0
            .events
            .get_or_try_init(|| async {
                let start = app::live::latest(db).await?;
                let (events, _) = broadcast::channel(CHANNEL_BATCHES);
                tokio::spawn(fan_out(
                    db.clone(),
                    events.clone(),
                    start,
                    self.0.closed.subscribe(),
                ));
                if db.get_database_backend() == DbBackend::Postgres {
                    tokio::spawn(listen(db.clone(), self.0.closed.subscribe()));
                }
                Ok::<_, DbErr>(events)
            })
            .await?;
        Ok(events.subscribe())
    }

    /// Ends every stream and the reader: the server is shutting down.
    pub fn close(&self) {
        self.0.closed.send_replace(true);
    }
}

/// Reads the events after `last` at every wake and sends them to the streams.
async fn fan_out(
    db: DatabaseConnection,
    events: broadcast::Sender<Batch>,
    mut last: i64,
    mut closed: watch::Receiver<bool>,
) {
    let mut wakes = app::live::wakes();
    // Look once at the start: an event may have been committed since `last` was read.
    wakes.mark_changed();
    loop {
        tokio::select! {
            changed = wakes.changed() => if changed.is_err() { return },
            _ = closed.changed() => return,
        }
        loop {
            match app::live::after(&db, last).await {
                Ok(batch) => {
                    let Some(newest) = batch.last().map(|e| e.id) else {
                        break;
                    };
                    last = newest;
                    let full = batch.len() as u64 >= app::live::PAGE;
                    // No stream open is no error.
                    let _ = events.send(Batch::from(batch));
                    if !full {
                        break;
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, "reading care events failed; trying again");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = closed.changed() => return,
                    }
                }
            }
        }
    }
}

/// PostgreSQL: turns the notifications of every instance's commits into wakes of this one.
async fn listen(db: DatabaseConnection, mut closed: watch::Receiver<bool>) {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.get_postgres_connection_pool().clone();
    let mut backoff = Duration::from_millis(250);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(app::live::CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        match connected {
            Ok(mut listener) => {
                backoff = Duration::from_millis(250);
                // What was committed while nobody listened.
                app::live::wake();
                loop {
                    tokio::select! {
                        got = listener.try_recv() => match got {
                            // `None`: the connection was lost and made again; notifications in
                            // between are gone, so look in the table.
                            Ok(_) => app::live::wake(),
                            Err(err) => {
                                tracing::warn!(error = %err, "care-event listener lost its connection");
                                break;
                            }
                        },
                        _ = closed.changed() => return,
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "care-event listener could not connect");
            }
        }
        // While it is away, the hub still looks now and then.
        app::live::wake();
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = closed.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

#[derive(serde::Deserialize)]
pub struct After {
    after: Option<i64>,
}

/// `GET /mottagning/handelser[?after=ID]`: the care events of the caller's unit and sandbox.
pub async fn events(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    token: Option<Extension<crate::session::SessionToken>>,
    headers: HeaderMap,
    Query(query): Query<After>,
) -> Response {
    let Ok(unit) = app::auth::gate::unit_for_staff(&principal) else {
        return (
            StatusCode::FORBIDDEN,
            "Du har inte behörighet till det här. / You may not do this.",
        )
            .into_response();
    };
    let Some(token) = token.map(|t| t.0.0) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .or(query.after)
        .filter(|id| *id >= 0);
    let unavailable = || {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Tjänsten svarar inte just nu. / The service is not answering right now.",
        )
            .into_response()
    };
    // Subscribed before the catch-up read: nothing committed in between is missed.
    let Ok(receiver) = state.live.subscribe(&state.db).await else {
        return unavailable();
    };
    let last = match resume {
        Some(id) => id,
        None => match app::live::latest_in_unit(&state.db, &unit).await {
            Ok(id) => id,
            Err(_) => return unavailable(),
        },
    };
    let stream = Stream {
        state: state.clone(),
        token,
        principal,
        unit,
        last,
        pending: VecDeque::new(),
        receiver,
        closed: state.live.0.closed.subscribe(),
        next_check: Instant::now() + state.live.0.check_every,
        catch_up: true,
        ending: false,
    };
    let body = futures_util::stream::unfold(stream, Stream::next);
    let mut response = Sse::new(body)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // A reverse proxy (nginx) must pass each event on at once.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// One open stream.
struct Stream {
    state: AppState,
    token: String,
    principal: Principal,
    unit: UnitCare,
    /// The last event id sent (or the one it resumed after).
    last: i64,
    pending: VecDeque<Event>,
    receiver: broadcast::Receiver<Batch>,
    closed: watch::Receiver<bool>,
    next_check: Instant,
    /// Read the scope's events after `last` from the database before listening on.
    catch_up: bool,
    /// The last event (`end`) is queued: close after it.
    ending: bool,
}

impl Stream {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.ending || *self.closed.borrow() {
                return None;
            }
            if self.catch_up {
                self.catch_up = false;
                // Boxed, as below: an idle stream's state holds only what waiting needs.
                Box::pin(self.read_scope()).await;
                continue;
            }
            tokio::select! {
                _ = self.closed.changed() => return None,
                // Boxed: the database look-up's state would otherwise be part of every idle
                // stream's memory (`cargo bench --bench live`).
                () = tokio::time::sleep_until(self.next_check) => Box::pin(self.check_session()).await,
                got = self.receiver.recv() => match got {
                    Ok(batch) => {
                        let unit = self.unit;
                        for event in batch.iter().filter(|e| e.reaches(&unit)) {
                            self.push(event);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => self.catch_up = true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }

    fn push(&mut self, event: &CareEvent) {
        if event.id > self.last {
            self.last = event.id;
            self.pending.push_back(
                Event::default()
                    .id(event.id.to_string())
                    .event("care")
                    .data(event.kind.code()),
            );
        }
    }

    /// The scope's events after `last`; when too many are missing, `resync` (the dashboard is
    /// fetched whole) from the newest.
    async fn read_scope(&mut self) {
        let db = &self.state.db;
        match app::live::in_unit_after(db, &self.unit, self.last).await {
            Ok(batch) if (batch.len() as u64) < app::live::PAGE => {
                for event in &batch {
                    self.push(event);
                }
            }
            Ok(_) => match app::live::latest_in_unit(db, &self.unit).await {
                Ok(newest) => {
                    self.last = newest;
                    self.pending.push_back(
                        Event::default()
                            .id(newest.to_string())
                            .event("resync")
                            .data("1"),
                    );
                }
                Err(_) => self.ending = true,
            },
            // The browser reconnects and resumes from the last id it got.
            Err(err) => {
                tracing::warn!(error = %err, "reading a unit's care events failed");
                self.ending = true;
            }
        }
    }

    /// Ends the stream when its session no longer stands as it was: signed out, timed out,
    /// another assignment, the clinical role gone.
    async fn check_session(&mut self) {
        self.next_check = Instant::now() + self.state.live.0.check_every;
        let now = chrono::Utc::now();
        let peeked = app::auth::session::resolve_cached(
            &self.state.db,
            &self.state.sessions,
            &self.state.session_cache,
            &self.token,
            now,
            false,
        )
        .await;
        let stands = match peeked {
            Ok(Resolved::Valid(principal)) => {
                principal.session_id == self.principal.session_id
                    && assignment_of(&principal) == assignment_of(&self.principal)
                    && app::auth::gate::unit_for_staff(&principal).is_ok_and(|unit| {
                        unit.unit_id() == self.unit.unit_id()
                            && unit.sandbox_id() == self.unit.sandbox_id()
                    })
            }
            Ok(Resolved::Invalid) => false,
            // The database is away: close, and let the browser reconnect and be checked then.
            Err(_) => {
                self.ending = true;
                return;
            }
        };
        if !stands {
            self.pending
                .push_back(Event::default().event("end").data("session"));
            self.ending = true;
        }
    }
}

fn assignment_of(principal: &Principal) -> Option<i64> {
    principal
        .staff()
        .and_then(|s| s.assignment.as_ref())
        .map(|a| a.id)
}
