//! SeaORM entities (generated-style, one file per table) for the tables the application uses
//! so far. The schema itself is defined by the `migrations` crate.

pub mod entities;

use sea_orm::{ConnectionTrait, Statement, Value};

/// A plain SQL statement with `$n` placeholders, written once for both engines: on SQLite the
/// placeholders become `?` (their order is the same).
pub fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => sql.to_owned(),
        _ => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                    while chars.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                    }
                    out.push('?');
                } else {
                    out.push(c);
                }
            }
            out
        }
    };
    Statement::from_sql_and_values(backend, sql, values)
}
