//! The server's tests through its router and its processes, in one binary: one link instead of
//! one per file. (`durability.rs` stays a binary of its own: it crashes PostgreSQL, so nothing
//! else may run beside it.) `cargo test -p lotsen --test web access::` runs one module.

mod common;

mod access;
mod care;
mod follow_up;
mod http;
mod live;
mod media;
mod notify;
mod treatment;
mod trial;
