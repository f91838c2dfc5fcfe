//! The Lotsen application: routes, pages and components; shared types; server functions; and,
//! behind the `ssr` feature, the server-side core (database entities, queries, services).
//!
//! One folder per feature: `start/` holds the start page's types, server function, query and
//! components. Shared pieces live in `domain/` (typed ids, validated identifiers), `error.rs`
//! and `layout.rs`.

#![recursion_limit = "256"]

// The build.rs generator that replaces this macro pulls in the whole ICU data exporter as a
// build dependency; the macro reads the same `locales/*.json` with no such cost.
#[allow(deprecated)]
mod locales {
    leptos_i18n::load_locales!();
}
pub use locales::i18n;

pub mod access;
#[cfg(feature = "ssr")]
pub mod access_log;
pub mod account;
pub mod audit;
pub mod auth;
pub mod care;
pub mod catalogue;
pub mod clinic;
pub mod demo;
pub mod design;
pub mod domain;
pub mod error;
pub mod instruments;
mod layout;
pub mod live;
pub mod login;
pub mod messages;
#[cfg(feature = "ssr")]
pub mod notify;
pub mod patient;
pub mod programs;
pub mod shell;
pub mod start;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod server;
/// Test helpers: compiled only with the `testing` feature, which only dev-dependencies enable.
#[cfg(feature = "testing")]
pub mod testing;

pub use layout::LANGUAGE_COOKIE;
pub use shell::{App, shell};
