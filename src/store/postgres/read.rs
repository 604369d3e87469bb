//! Reading stored mentions from PostgreSQL with the same code that reads
//! them from SQLite ([`crate::store::mention_from_columns`]), for the
//! commands that take `--db postgres://…` (`export` and `mentions` without
//! `--state`, so far; incidents are read in `alert`).

use futures::TryStreamExt;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use crate::store::sql::{numbered, Param};
use crate::store::{self, Columns, MentionFilter, StoreError, StoredMention};

impl Columns for tokio_postgres::Row {
    /// Any integer column: the stored ones are BIGINT, but an expression
    /// (`CASE … THEN 1`) is an INTEGER.
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        let small = self
            .columns()
            .get(i)
            .is_some_and(|c| *c.type_() == tokio_postgres::types::Type::INT4);
        let value = if small {
            self.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from))
        } else {
            self.try_get(i)
        };
        value.map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }
    fn real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.try_get(i)
            .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }
    fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.try_get(i)
            .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }
}

/// SQLite's aggregate of a mention's brands, and PostgreSQL's.
const SQLITE_BRANDS: &str = "group_concat(brand, char(31))";
const POSTGRES_BRANDS: &str = "string_agg(brand, chr(31))";

/// [`store::MENTION_COLUMNS`] in PostgreSQL's dialect.
pub fn mention_columns() -> String {
    debug_assert!(store::MENTION_COLUMNS.contains(SQLITE_BRANDS));
    store::MENTION_COLUMNS.replace(SQLITE_BRANDS, POSTGRES_BRANDS)
}

/// How many columns [`store::MENTION_COLUMNS`] has: columns a caller adds
/// after them start here.
pub const MENTION_COLUMN_COUNT: usize = 30;

/// Walks the mentions matching `filter` in time order (`ASC` or `DESC`),
/// streamed (never the whole table in memory), as [`store::for_each_mention`]
/// walks SQLite. Each row holds the mention's columns, then `extra_columns`
/// (SQL over `m`, the mention), from [`MENTION_COLUMN_COUNT`] on.
pub async fn for_each_row(
    client: &Client,
    extra_columns: &str,
    filter: &MentionFilter,
    order: &str,
    mut each: impl FnMut(StoredMention, &tokio_postgres::Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut columns = mention_columns();
    if !extra_columns.is_empty() {
        columns = format!("{columns}, {extra_columns}");
    }
    let (sql, values) = store::filtered_query_selecting(&columns, filter, order);
    let params: Vec<Param> = values
        .into_iter()
        .map(|v| match v {
            rusqlite::types::Value::Integer(n) => Ok(Param::Int(n)),
            rusqlite::types::Value::Text(s) => Ok(Param::Text(s)),
            other => Err(StoreError::Invalid(format!(
                "a filter value of type {:?}",
                other.data_type()
            ))),
        })
        .collect::<Result<_, _>>()?;
    let rows = client
        .query_raw(&numbered(&sql), params.iter().map(|p| p as &(dyn ToSql + Sync)))
        .await?;
    futures::pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        each(store::mention_from_columns(&row)?, &row)?;
    }
    Ok(())
}

/// Mentions matching `filter`, newest first, as [`store::recent_mentions`]
/// reads them from SQLite.
pub async fn recent_mentions(client: &Client, filter: &MentionFilter) -> Result<Vec<StoredMention>, StoreError> {
    let mut found = Vec::new();
    for_each_row(client, "", filter, "DESC", |mention, _| {
        found.push(mention);
        Ok(())
    })
    .await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn mention_columns_aggregate_brands_in_postgresql_s_words() {
        assert!(super::mention_columns().contains("string_agg(brand, chr(31))"));
    }

    #[test]
    fn extra_columns_start_after_the_mention_columns() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::schema::migrations().to_latest(&mut conn).unwrap();
        let stmt = conn
            .prepare(&format!("SELECT {} FROM mentions m", crate::store::MENTION_COLUMNS))
            .unwrap();
        assert_eq!(stmt.column_count(), super::MENTION_COLUMN_COUNT);
    }
}
