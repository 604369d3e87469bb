//! Statements written once for both databases. Detection, incidents and
//! their notifications read and write through [`Sql`], which SQLite's
//! connections and a PostgreSQL client both implement, so the code that
//! decides what an incident is and what its notice says is the same
//! whichever database holds it.
//!
//! A statement is SQLite's text with `?N` placeholders, renumbered `$N` for
//! PostgreSQL, and kept to what both dialects mean alike: `coalesce(sum(x),
//! 0.0)` rather than SQLite's `total(x)`, `ON CONFLICT … DO NOTHING` rather
//! than `INSERT OR IGNORE`, integers for flags. Values are the three types
//! both schemas use (`BIGINT`/`INTEGER`, `DOUBLE PRECISION`/`REAL`, `TEXT`).

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use super::{Columns, StoreError};

/// A statement parameter, bound alike in both databases.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<u32> for Param {
    fn from(v: u32) -> Self {
        Param::Int(i64::from(v))
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Int(i64::from(v))
    }
}
impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Real(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_string())
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(v.clone())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// `[Param, …]` from values of any type [`Param`] takes.
#[macro_export]
macro_rules! sql_params {
    ($($value:expr),* $(,)?) => {
        [$($crate::store::sql::Param::from($value)),*]
    };
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Param::Null => ValueRef::Null,
            Param::Int(v) => ValueRef::Integer(*v),
            Param::Real(v) => ValueRef::Real(*v),
            Param::Text(v) => ValueRef::Text(v.as_bytes()),
        }))
    }
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            // PostgreSQL types a parameter from where it stands: an integer
            // compared with a float column is sent as a float.
            Param::Int(v) if *ty == Type::FLOAT8 => (*v as f64).to_sql(ty, out),
            Param::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Param::Int(v) => v.to_sql(ty, out),
            // A float where an integer column stands (a page cursor's key
            // read as a float) is the integer it holds; anything else is
            // refused rather than sent as a float's bytes.
            Param::Real(v) if *ty == Type::INT8 || *ty == Type::INT4 => {
                if !v.is_finite() || v.fract() != 0.0 || v.abs() > 9.0e15 {
                    return Err(format!("{v} where the database expects an integer").into());
                }
                Param::Int(*v as i64).to_sql(ty, out)
            }
            Param::Real(v) => v.to_sql(ty, out),
            Param::Text(v) => v.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <f64 as ToSql>::accepts(ty)
            || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// A connection or transaction statements run on.
pub trait Sql {
    /// Runs a query, handing each row to `each` in turn.
    fn for_each(
        &self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Runs a statement; returns how many rows it changed.
    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, StoreError>;

    /// Which database this is, for the few statements the two dialects
    /// cannot say alike (an aggregate of strings, an index hint).
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

/// The SQL a [`Sql`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The `separator`-joined aggregate of `expression`'s values.
    pub fn string_agg(self, expression: &str, separator: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat({expression}, {separator})"),
            Dialect::Postgres => format!("string_agg({expression}, {separator})"),
        }
    }

    /// The character with code `n`, as SQL.
    pub fn char(self, n: u32) -> String {
        match self {
            Dialect::Sqlite => format!("char({n})"),
            Dialect::Postgres => format!("chr({n})"),
        }
    }
}

impl dyn Sql + '_ {
    /// Every row of a query, each mapped by `map`.
    pub fn rows<T>(
        &self,
        sql: &str,
        params: &[Param],
        mut map: impl FnMut(&dyn Columns) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.for_each(sql, params, &mut |row| {
            out.push(map(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row of a query, if any.
    pub fn row<T>(
        &self,
        sql: &str,
        params: &[Param],
        mut map: impl FnMut(&dyn Columns) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut out = None;
        self.for_each(sql, params, &mut |row| {
            if out.is_none() {
                out = Some(map(row)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The integer in the first column of the first row (NULL and no row
    /// alike give `None`).
    pub fn int(&self, sql: &str, params: &[Param]) -> Result<Option<i64>, StoreError> {
        Ok(self.row(sql, params, |r| r.int(0))?.flatten())
    }

    /// The text in the first column of the first row.
    pub fn text(&self, sql: &str, params: &[Param]) -> Result<Option<String>, StoreError> {
        Ok(self.row(sql, params, |r| r.text(0))?.flatten())
    }
}

impl Sql for rusqlite::Connection {
    fn for_each(
        &self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            each(row)?;
        }
        Ok(())
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        Ok(self.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params))? as u64)
    }
}

impl Sql for rusqlite::Transaction<'_> {
    fn for_each(
        &self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        (**self).for_each(sql, params, each)
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        Sql::execute(&**self, sql, params)
    }
}

/// A PostgreSQL pool driven from a thread outside the async runtime: each
/// statement waits there for its answer, on a client of its own (a
/// transaction keeps one for its length). Detection is synchronous code; a
/// shared `run` runs it on a blocking thread. Never used from an async task
/// (waiting there would stall the runtime). Cheap to clone: every brand's
/// detector in a process shares the one pool.
#[derive(Clone)]
pub struct PgBlocking {
    pool: deadpool_postgres::Pool,
    runtime: tokio::runtime::Handle,
}

impl PgBlocking {
    pub fn new(pool: deadpool_postgres::Pool, runtime: tokio::runtime::Handle) -> PgBlocking {
        PgBlocking { pool, runtime }
    }

    fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.runtime.block_on(self.pool.get())?)
    }

    /// Runs `job` in one transaction, after checking (inside it) that
    /// `fence`'s holder still holds its lease; commits if the job succeeds.
    pub fn transact<T>(
        &self,
        fence: Option<(&str, &str)>,
        job: &mut dyn FnMut(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client()?;
        let client: &mut tokio_postgres::Client = &mut client;
        let runtime = &self.runtime;
        let tx = runtime.block_on(client.transaction())?;
        if let Some((lease, holder)) = fence {
            runtime.block_on(super::postgres::lease::fence(&tx, lease, holder))?;
        }
        let value = job(&PgStatements { client: &tx, runtime })?;
        runtime.block_on(tx.commit())?;
        Ok(value)
    }
}

impl Sql for PgBlocking {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn for_each(
        &self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.outside_transaction(|db| db.for_each(sql, params, each))
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        self.outside_transaction(|db| db.execute(sql, params))
    }
}

impl PgBlocking {
    /// Runs `statement` on a pooled client of its own, outside any transaction.
    fn outside_transaction<T>(
        &self,
        statement: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let client = self.client()?;
        let client: &tokio_postgres::Client = &client;
        statement(&PgStatements {
            client,
            runtime: &self.runtime,
        })
    }
}

/// Statements on a PostgreSQL client or transaction, waited for on `runtime`.
struct PgStatements<'a, C> {
    client: &'a C,
    runtime: &'a tokio::runtime::Handle,
}

impl<C: tokio_postgres::GenericClient + Sync> Sql for PgStatements<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn for_each(
        &self,
        sql: &str,
        params: &[Param],
        each: &mut dyn FnMut(&dyn Columns) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = numbered(sql);
        let params = pg_refs(params);
        let rows = self.runtime.block_on(self.client.query(sql.as_str(), &params))?;
        for row in &rows {
            each(row)?;
        }
        Ok(())
    }

    fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        let sql = numbered(sql);
        let params = pg_refs(params);
        Ok(self.runtime.block_on(self.client.execute(sql.as_str(), &params))?)
    }
}

/// Parameters as tokio-postgres takes them.
pub fn pg_refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// SQLite's placeholders as PostgreSQL's: `?N` becomes `$N`, and a bare `?`
/// takes the next number. The statements written for both have no `?`
/// inside a string literal.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0u32;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        out.push('$');
        if chars.peek().is_some_and(char::is_ascii_digit) {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
        } else {
            next += 1;
            out.push_str(&next.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_as_postgresql_wants() {
        assert_eq!(numbered("a = ? AND b >= ? LIMIT ?"), "a = $1 AND b >= $2 LIMIT $3");
        assert_eq!(
            numbered("a = ?2 AND (?1 IS NULL OR b = ?1) LIMIT ?10"),
            "a = $2 AND ($1 IS NULL OR b = $1) LIMIT $10"
        );
    }

    #[test]
    fn parameters_bind_in_sqlite_as_their_values() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let db: &dyn Sql = &conn;
        let row = db
            .row(
                "SELECT ?1, ?2, ?3, ?4 IS NULL, typeof(?5)",
                &sql_params![7i64, 0.5, "x", None::<&str>, true],
                |r| Ok((r.int(0)?, r.real(1)?, r.text(2)?, r.int(3)?, r.text(4)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            Some((Some(7), Some(0.5), Some("x".into()), Some(1), Some("integer".into())))
        );
    }
}
