//! SeaORM entities (generated-style, one file per table) for the tables the application uses
//! so far. The schema itself is defined by the `migrations` crate.

pub mod entities;
