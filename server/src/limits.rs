//! Rate limits (anti-automation): on entering the demo or signing in, and on every request that
//! can change state, per client address and per signed-in user. A refused request gets 429, a
//! `Retry-After`, and a plain message; it changes nothing.

use app::auth::Principal;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// How many requests, replenished over how long, with what burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitConfig {
    /// Entering the demo (a new sandbox) and signing in, per address.
    pub sign_in_per_address: Rate,
    /// Every state-changing request, per address.
    pub writes_per_address: Rate,
    /// Every state-changing request, per signed-in user.
    pub writes_per_user: Rate,
}

impl LimitConfig {
    /// No limit that a load test could reach: for the benchmarks, which measure the work
    /// behind the limits.
    pub fn unlimited() -> Self {
        let unlimited = Rate {
            per_minute: 1_000_000,
            burst: 1_000_000,
        };
        Self {
            sign_in_per_address: unlimited,
            writes_per_address: unlimited,
            writes_per_user: unlimited,
        }
    }
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            sign_in_per_address: Rate {
                per_minute: 2,
                burst: 20,
            },
            writes_per_address: Rate {
                per_minute: 600,
                burst: 200,
            },
            writes_per_user: Rate {
                per_minute: 300,
                burst: 100,
            },
        }
    }
}

#[derive(Clone)]
pub struct Limits {
    sign_in_by_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    writes_by_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    writes_by_user: Arc<DefaultKeyedRateLimiter<(bool, i64)>>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    trusted_proxies: Arc<Vec<IpAddr>>,
    /// Set once a request came with `X-Forwarded-For` from a peer not trusted (warned once).
    warned_untrusted_forwarding: Arc<std::sync::atomic::AtomicBool>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(rate: Rate) -> Arc<DefaultKeyedRateLimiter<K>> {
    let per_minute = NonZeroU32::new(rate.per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(
        Quota::per_minute(per_minute).allow_burst(burst),
    ))
}

impl Limits {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            sign_in_by_address: limiter(config.sign_in_per_address),
            writes_by_address: limiter(config.writes_per_address),
            writes_by_user: limiter(config.writes_per_user),
            trusted_proxies: Arc::new(Vec::new()),
            warned_untrusted_forwarding: Arc::default(),
        }
    }

    /// Believes `X-Forwarded-For` from these addresses (the deployment's reverse proxies).
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpAddr>) -> Self {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// The client of a request as the limits count it (see [`key`]).
    pub fn client(&self, request: &Request) -> IpAddr {
        address(request, &self.trusted_proxies)
    }

    /// Forgets keys that are back to full allowance (called from housekeeping).
    pub fn shrink(&self) {
        self.sign_in_by_address.retain_recent();
        self.writes_by_address.retain_recent();
        self.writes_by_user.retain_recent();
    }
}

fn too_many(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs().max(1);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        "För många försök på kort tid. Vänta en stund och försök igen. \
         / Too many attempts in a short time. Please wait a moment and try again.",
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The client's address. When the connection comes from a trusted reverse proxy, the nearest
/// address in `X-Forwarded-For` that is not itself a trusted proxy; anything further left was
/// written by the client and is not believed.
fn address(request: &Request, trusted: &[IpAddr]) -> IpAddr {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    client_address(peer, request.headers(), trusted)
}

pub fn client_address(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    key(forwarded_client(peer, headers, trusted))
}

/// What a limit counts an address as: an IPv6 client by its /64, the network one subscriber
/// is usually given (counting single addresses would let one client rotate through 2^64 of
/// them); an IPv4 client (also one written as IPv6) by its address.
pub fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
    }
}

fn forwarded_client(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    // A dual-stack listener sees an IPv4 proxy as `::ffff:a.b.c.d`.
    let peer = peer.to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // Unreadable: stop believing here, and count the request against the proxy.
            Err(_) => return peer,
        }
    }
    peer
}

/// Paths that start a session.
fn is_sign_in(path: &str) -> bool {
    path == "/demo/start" || path.starts_with("/login/")
}

/// Runs after the session middleware, so that it knows the user.
pub async fn rate_limit(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    warn_of_untrusted_forwarding(&limits, &request);
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe {
        return next.run(request).await;
    }
    let clock = DefaultClock::default();
    let addr = address(&request, &limits.trusted_proxies);
    let mut checks = vec![limits.writes_by_address.check_key(&addr)];
    // A demo role switch by someone already signed in is not a new sign-in.
    let signed_in = request.extensions().get::<Principal>().is_some();
    if is_sign_in(request.uri().path()) && !signed_in {
        checks.push(limits.sign_in_by_address.check_key(&addr));
    }
    if let Some(principal) = request.extensions().get::<Principal>() {
        let user = match principal.patient_id() {
            Some(id) => (true, id),
            None => (false, principal.staff().map_or(0, |s| s.staff_person_id)),
        };
        checks.push(limits.writes_by_user.check_key(&user));
    }
    for check in checks {
        if let Err(not_until) = check {
            tracing::warn!(path = %request.uri().path(), "rate limit reached");
            return too_many(not_until.wait_time_from(clock.now()));
        }
    }
    next.run(request).await
}

/// Behind a reverse proxy that is not in `--trusted-proxies`, every client counts as the
/// proxy's one address, and the first few clients lock everybody out: say so once, loudly.
fn warn_of_untrusted_forwarding(limits: &Limits, request: &Request) {
    use std::sync::atomic::Ordering;
    if limits.warned_untrusted_forwarding.load(Ordering::Relaxed)
        || !request.headers().contains_key("x-forwarded-for")
    {
        return;
    }
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return;
    };
    if !limits.trusted_proxies.contains(&peer)
        && !limits
            .warned_untrusted_forwarding
            .swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            %peer,
            "a request came with X-Forwarded-For from a peer that is not a trusted proxy: \
             behind a reverse proxy, name it with --trusted-proxies, or every client is \
             rate-limited as the proxy's one address"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 1.2.3.4, 10.0.0.2"),
        );
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // From the proxy: the nearest untrusted hop, not what the client wrote further left.
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("1.2.3.4")
        );
        // Straight from a client: its own address, whatever the header says.
        assert_eq!(
            client_address(ip("5.5.5.5"), &headers, &trusted),
            ip("5.5.5.5")
        );
        // No proxies configured: the connection's address.
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &[]),
            ip("10.0.0.1")
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64_network() {
        let none = HeaderMap::new();
        let a = client_address(ip("2001:db8:1:2:aaaa::1"), &none, &[]);
        let b = client_address(ip("2001:db8:1:2:ffff:1:2:3"), &none, &[]);
        let other = client_address(ip("2001:db8:1:3::1"), &none, &[]);
        assert_eq!(a, b);
        assert_eq!(a, ip("2001:db8:1:2::"));
        assert_ne!(a, other);
        // An IPv4 client written as IPv6 keeps its own address.
        assert_eq!(
            client_address(ip("::ffff:192.0.2.7"), &none, &[]),
            ip("192.0.2.7")
        );
        // Behind a trusted proxy, the forwarded IPv6 client by its /64 too.
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("2001:db8:9:9:1::5"),
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &[ip("10.0.0.1")]),
            ip("2001:db8:9:9::")
        );
        // A dual-stack listener sees an IPv4 proxy as IPv6: still the trusted proxy.
        assert_eq!(
            client_address(ip("::ffff:10.0.0.1"), &headers, &[ip("10.0.0.1")]),
            ip("2001:db8:9:9::")
        );
    }
}
