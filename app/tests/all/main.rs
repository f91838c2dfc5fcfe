//! The app crate's integration tests, in one binary: one link instead of one per file.
//! Each module is what was a file of its own (`cargo test -p app --features app/ssr --test all
//! programs::` runs one of them).

mod audit;
mod catalogue;
mod database;
mod instruments;
mod login;
mod markdown;
mod package;
mod programs;
mod schema;
mod scoping;
mod versions;
