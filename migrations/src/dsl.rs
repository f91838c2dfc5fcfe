//! A small vocabulary for table definitions, so that each migration reads as a list of
//! tables and columns rather than builder noise.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema;

/// A new table with a 64-bit auto-increment `id` primary key.
pub fn table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .if_not_exists()
        .col(
            ColumnDef::new("id")
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .take()
}

/// `created_at`, set by the database when the row is inserted.
pub fn created_at() -> ColumnDef {
    schema::timestamp_with_time_zone("created_at")
        .default(Expr::current_timestamp())
        .take()
}

pub fn instant(name: &'static str) -> ColumnDef {
    schema::timestamp_with_time_zone(name)
}

pub fn instant_null(name: &'static str) -> ColumnDef {
    schema::timestamp_with_time_zone_null(name)
}

/// A reference to another table's `id`.
pub fn id_ref(name: &'static str) -> ColumnDef {
    schema::big_integer(name)
}

pub fn id_ref_null(name: &'static str) -> ColumnDef {
    schema::big_integer_null(name)
}

pub fn flag(name: &'static str, default: bool) -> ColumnDef {
    schema::boolean(name).default(default).take()
}

/// A short string with a bounded length (codes, names, identifiers).
pub fn short(name: &'static str, len: u32) -> ColumnDef {
    schema::string_len(name, len)
}

pub fn short_null(name: &'static str, len: u32) -> ColumnDef {
    schema::string_len_null(name, len)
}

pub fn long(name: &'static str) -> ColumnDef {
    schema::text(name)
}

pub fn long_null(name: &'static str) -> ColumnDef {
    schema::text_null(name)
}

/// JSON stored as text: the same on both engines, validated by the application.
pub fn json_text(name: &'static str) -> ColumnDef {
    schema::text(name).default("{}").take()
}

pub fn json_text_null(name: &'static str) -> ColumnDef {
    schema::text_null(name)
}

pub fn int(name: &'static str) -> ColumnDef {
    schema::integer(name)
}

pub fn int_null(name: &'static str) -> ColumnDef {
    schema::integer_null(name)
}

#[derive(Clone, Copy)]
pub enum OnDelete {
    Cascade,
    Restrict,
    SetNull,
    /// Like `Restrict`, but checked at the end of the statement: a row that a cascade deletes
    /// in the same statement as its referrer does not block it.
    NoAction,
}

/// A foreign key from `table.column` to `target.id`.
pub fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: OnDelete,
) -> ForeignKeyCreateStatement {
    let action = match on_delete {
        OnDelete::Cascade => ForeignKeyAction::Cascade,
        OnDelete::Restrict => ForeignKeyAction::Restrict,
        OnDelete::SetNull => ForeignKeyAction::SetNull,
        OnDelete::NoAction => ForeignKeyAction::NoAction,
    };
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(action)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

/// An index (optionally unique) named after its table and columns.
pub fn index(table: &'static str, columns: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", columns.join("_")))
        .table(table)
        .if_not_exists();
    for column in columns {
        stmt.col(*column);
    }
    if unique {
        stmt.unique();
    }
    stmt.take()
}

/// Creates the tables and indexes in order.
pub async fn create_all(
    manager: &SchemaManager<'_>,
    tables: Vec<TableCreateStatement>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for table in tables {
        manager.create_table(table).await?;
    }
    for index in indexes {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// Drops the named tables in the given order (children before parents).
pub async fn drop_all(manager: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).if_exists().take())
            .await?;
    }
    Ok(())
}

/// Makes `column` unique among real rows (no sandbox) and, separately, within each demo
/// sandbox: the same personal identity number may exist once for real and once per sandbox.
/// A plain unique index over (column, sandbox_id) would not do it, since NULLs never collide.
/// Partial indexes have the same syntax on SQLite and PostgreSQL.
pub async fn unique_per_tenant(
    manager: &SchemaManager<'_>,
    table: &'static str,
    column: &'static str,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS ux_{table}_{column}_real ON {table} ({column}) \
         WHERE sandbox_id IS NULL"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS ux_{table}_{column}_sandbox ON {table} ({column}, sandbox_id) \
         WHERE sandbox_id IS NOT NULL"
    ))
    .await?;
    Ok(())
}

/// A check that a column holds one of the allowed codes.
pub fn codes(column: &str, allowed: &[&str]) -> SimpleExpr {
    Expr::col(Alias::new(column)).is_in(allowed.iter().copied())
}
