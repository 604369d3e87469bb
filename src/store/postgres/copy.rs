//! Copying a SQLite database into PostgreSQL and back (`complaint-monitor
//! migrate`): every table, row ids kept, in batches that skip rows already
//! there, so an interrupted copy resumes where it stopped and a second run
//! changes nothing; counts are compared at the end.

use std::path::Path;

use rusqlite::types::Value;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;

use super::PgError;
use crate::store::sql::Param;

/// A table to copy, parents before children (foreign keys hold at every
/// step). `resume_by` is an integer column rows are read in order of, so a
/// resumed copy starts at the largest value already copied; `identity` is
/// the column whose sequence must continue after the copied ids.
pub struct Table {
    pub name: &'static str,
    resume_by: Option<&'static str>,
    identity: Option<&'static str>,
}

const fn table(name: &'static str, resume_by: Option<&'static str>, identity: Option<&'static str>) -> Table {
    Table {
        name,
        resume_by,
        identity,
    }
}

/// Every table of the schema, in copy order.
pub const TABLES: &[Table] = &[
    table("mentions", Some("id"), Some("id")),
    table("spam_groups", Some("id"), Some("id")),
    table("mention_brands", Some("mention_id"), None),
    table("incidents", Some("id"), Some("id")),
    table("outbox", Some("id"), Some("id")),
    table("silences", Some("id"), Some("id")),
    table("detector_progress", None, None),
    table("digest_deliveries", None, None),
    table("source_cursors", None, None),
    table("source_state", None, None),
    table("mention_revisions", Some("id"), Some("id")),
    table("mention_states", Some("mention_id"), None),
    table("mention_actions", Some("id"), Some("id")),
    table("users", Some("id"), Some("id")),
    table("sessions", None, None),
    table("api_tokens", Some("id"), Some("id")),
    table("label_corrections", Some("id"), Some("id")),
    table("inbox_changes", Some("seq"), Some("seq")),
    table("not_about_us", Some("mention_id"), None),
    table("saved_views", Some("id"), Some("id")),
    table("replies", Some("id"), Some("id")),
    table("reply_templates", Some("id"), Some("id")),
    table("learnt_authors", None, None),
];

/// Rows per insert statement (PostgreSQL takes at most 65,535 parameters).
const ROWS_PER_INSERT: usize = 500;

/// What one table's copy did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableCopy {
    pub table: &'static str,
    /// Rows inserted by this run (rows already there are not counted).
    pub inserted: u64,
    pub source_rows: i64,
    pub target_rows: i64,
    /// Text values whose NUL characters became U+FFFD on the way into
    /// PostgreSQL, whose text cannot hold NUL (SQLite's can).
    pub nul_replaced: u64,
}

/// Why the copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Postgres(#[from] PgError),
    #[error("PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{table}.{column}: {reason}")]
    Value {
        table: &'static str,
        column: String,
        reason: String,
    },
    #[error("{0} differs after the copy: {1} rows in SQLite, {2} in PostgreSQL")]
    Count(&'static str, i64, i64),
}

/// Copies the SQLite database at `from` into the PostgreSQL database behind
/// `to` (migrated first), table by table, holding `from`'s writer lock;
/// `progress` hears of each table when it is done. Fails on the first
/// table whose counts differ.
pub async fn sqlite_to_postgres(
    from: &Path,
    to: &mut Client,
    mut progress: impl FnMut(&TableCopy),
) -> Result<Vec<TableCopy>, CopyError> {
    // A service writing the file meanwhile would change rows already
    // copied: the copy holds the writer lock, so it refuses while one runs.
    let _lock = crate::store::WriterLock::acquire(from)?;
    // Opened as the service opens it, so an older file is migrated first
    // and every table exists.
    let sqlite = crate::store::open(from)?;
    super::migrate(to).await?;
    let mut report = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        report.push(checked(copy_table(&sqlite, to, table).await?, &mut progress)?);
    }
    Ok(report)
}

/// `copied`, told to `progress`, unless its counts differ.
fn checked(copied: TableCopy, progress: &mut impl FnMut(&TableCopy)) -> Result<TableCopy, CopyError> {
    progress(&copied);
    if copied.source_rows != copied.target_rows {
        return Err(CopyError::Count(copied.table, copied.source_rows, copied.target_rows));
    }
    Ok(copied)
}

/// The query reading `table`'s rows to copy: all of them, or, for a table
/// copied by a key, those from `placeholder` on, in key order (`>=`: rows
/// sharing the last key copied may be only partly there).
fn select_sql(table: &Table, column_list: &str, placeholder: &str) -> String {
    let mut select = format!("SELECT {column_list} FROM {}", table.name);
    if let Some(key) = table.resume_by {
        select += &format!(" WHERE {} >= {placeholder} ORDER BY {}", quoted(key), quoted(key));
    }
    select
}

fn count_sql(table: &Table) -> String {
    format!("SELECT count(*) FROM {}", table.name)
}

/// The largest resume key already in the target (the SQL to ask it).
fn resume_sql(table: &Table) -> Option<String> {
    table
        .resume_by
        .map(|key| format!("SELECT max({}) FROM {}", quoted(key), table.name))
}

/// Copies the PostgreSQL database behind `from` into the SQLite database at
/// `to` (created or migrated first), as [`sqlite_to_postgres`] does the other
/// way. Holds the SQLite writer lock throughout, so it never races a
/// running service.
pub async fn postgres_to_sqlite(
    from: &mut Client,
    to: &Path,
    mut progress: impl FnMut(&TableCopy),
) -> Result<Vec<TableCopy>, CopyError> {
    let _lock = crate::store::WriterLock::acquire(to)?;
    let mut sqlite = crate::store::open(to)?;
    super::migrate(from).await?;
    let mut report = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        report.push(checked(
            copy_table_back(from, &mut sqlite, table).await?,
            &mut progress,
        )?);
    }
    if report.first().is_some_and(|t| t.inserted > 0) {
        // New mentions enter SQLite's full-text index from the writer
        // (migration 20), not by trigger: index what was copied.
        sqlite.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild')", [])?;
    }
    Ok(report)
}

async fn copy_table_back(
    pg: &Client,
    sqlite: &mut rusqlite::Connection,
    table: &Table,
) -> Result<TableCopy, CopyError> {
    use futures::TryStreamExt;
    let columns = sqlite_columns(sqlite, table)?;
    let column_list = columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
    let start: Option<i64> = match resume_sql(table) {
        Some(sql) => sqlite.query_row(&sql, [], |r| r.get(0))?,
        None => None,
    };
    let params: Vec<i64> = table.resume_by.map(|_| start.unwrap_or(i64::MIN)).into_iter().collect();
    let statement = pg.prepare(&select_sql(table, &column_list, "$1")).await?;
    let types: Vec<Type> = statement.columns().iter().map(|c| c.type_().clone()).collect();
    // Streamed: a table of millions of rows is never held in memory.
    let rows = pg.query_raw(&statement, params.iter()).await?;
    futures::pin_mut!(rows);
    let placeholders = vec!["?"; columns.len()].join(", ");
    let insert_sql = format!(
        "INSERT OR IGNORE INTO {} ({column_list}) VALUES ({placeholders})",
        table.name
    );
    let mut inserted = 0u64;
    let mut tx = sqlite.transaction()?;
    let mut in_tx = 0usize;
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, ty) in types.iter().enumerate() {
            let value = match *ty {
                Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Integer),
                Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map_or(Value::Null, Value::Real),
                _ => row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text),
            };
            values.push(value);
        }
        inserted += tx
            .prepare_cached(&insert_sql)?
            .execute(rusqlite::params_from_iter(values))? as u64;
        in_tx += 1;
        if in_tx == ROWS_PER_INSERT * 4 {
            tx.commit()?;
            tx = sqlite.transaction()?;
            in_tx = 0;
        }
    }
    tx.commit()?;
    let source_rows: i64 = pg.query_one(&count_sql(table), &[]).await?.get(0);
    let target_rows: i64 = sqlite.query_row(&count_sql(table), [], |r| r.get(0))?;
    Ok(TableCopy {
        table: table.name,
        inserted,
        source_rows,
        target_rows,
        nul_replaced: 0,
    })
}

fn sqlite_columns(sqlite: &rusqlite::Connection, table: &Table) -> Result<Vec<String>, CopyError> {
    Ok(sqlite
        .prepare(&format!("SELECT name FROM pragma_table_info('{}')", table.name))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

async fn copy_table(sqlite: &rusqlite::Connection, pg: &Client, table: &Table) -> Result<TableCopy, CopyError> {
    let columns = sqlite_columns(sqlite, table)?;
    let column_list = columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ");
    let start: Option<i64> = match resume_sql(table) {
        Some(sql) => pg.query_one(&sql, &[]).await?.get(0),
        None => None,
    };
    let mut statement = sqlite.prepare(&select_sql(table, &column_list, "?1"))?;
    let mut rows = match table.resume_by {
        Some(_) => statement.query([start.unwrap_or(i64::MIN)])?,
        None => statement.query([])?,
    };
    let full_insert = pg
        .prepare(&insert_sql(table.name, &column_list, columns.len(), ROWS_PER_INSERT))
        .await?;
    let mut inserted = 0u64;
    let mut nul_replaced = 0u64;
    let mut chunk: Vec<Value> = Vec::with_capacity(ROWS_PER_INSERT * columns.len());
    loop {
        let row = rows.next()?;
        if let Some(row) = row {
            for i in 0..columns.len() {
                chunk.push(row.get::<_, Value>(i)?);
            }
        }
        let rows_in_chunk = chunk.len() / columns.len().max(1);
        let last = row.is_none();
        if rows_in_chunk == ROWS_PER_INSERT || (last && rows_in_chunk > 0) {
            let insert = if rows_in_chunk == ROWS_PER_INSERT {
                full_insert.clone()
            } else {
                pg.prepare(&insert_sql(table.name, &column_list, columns.len(), rows_in_chunk))
                    .await?
            };
            let values = convert(table.name, &columns, &chunk, insert.params(), &mut nul_replaced)?;
            let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
            inserted += pg.execute(&insert, &params).await?;
            chunk.clear();
        }
        if last {
            break;
        }
    }
    if let Some(identity) = table.identity {
        // Ids were given, so the sequence has not moved: new rows must
        // continue after the largest copied id.
        pg.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{0}', '{1}'), coalesce((SELECT max({1}) FROM {0}), 0) + 1, false)",
                table.name, identity
            ),
            &[],
        )
        .await?;
    }
    let source_rows: i64 = sqlite.query_row(&count_sql(table), [], |r| r.get(0))?;
    let target_rows: i64 = pg.query_one(&count_sql(table), &[]).await?.get(0);
    Ok(TableCopy {
        table: table.name,
        inserted,
        source_rows,
        target_rows,
        nul_replaced,
    })
}

fn quoted(column: &str) -> String {
    format!("\"{}\"", column.replace('"', "\"\""))
}

fn insert_sql(table: &str, column_list: &str, columns: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({column_list}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql += &format!("${}", row * columns + column + 1);
        }
        sql.push(')');
    }
    sql + " ON CONFLICT DO NOTHING"
}

fn convert(
    table: &'static str,
    columns: &[String],
    values: &[Value],
    types: &[Type],
    nul_replaced: &mut u64,
) -> Result<Vec<Param>, CopyError> {
    values
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (value, ty))| {
            let wrong = |reason: String| CopyError::Value {
                table,
                column: columns[i % columns.len()].clone(),
                reason,
            };
            Ok(match (ty, value) {
                (&Type::INT8 | &Type::FLOAT8, Value::Null) => Param::Null,
                (&Type::INT8, Value::Integer(n)) => Param::Int(*n),
                (&Type::FLOAT8, Value::Real(x)) => Param::Real(*x),
                // SQLite stores a whole REAL as an integer when it can.
                (&Type::FLOAT8, Value::Integer(n)) => Param::Real(*n as f64),
                (ty, Value::Null) if <&str as ToSql>::accepts(ty) => Param::Null,
                (ty, Value::Text(s)) if <&str as ToSql>::accepts(ty) => {
                    // A stranger's NUL means nothing, and PostgreSQL text
                    // cannot hold one: it becomes the replacement character.
                    if s.contains('\0') {
                        *nul_replaced += 1;
                        Param::Text(s.replace('\0', "\u{fffd}"))
                    } else {
                        Param::Text(s.clone())
                    }
                }
                (ty, value) => return Err(wrong(format!("a {:?} value for a {ty} column", value.data_type()))),
            })
        })
        .collect()
}
