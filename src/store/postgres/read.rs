//! Reading stored mentions from PostgreSQL with the same code that reads
//! them from SQLite ([`crate::store::mention_from_columns`]), for the
//! commands that take `--db postgres://…` (`export`, `mentions` without
//! `--state`, and `alerts list`, so far).

use futures::TryStreamExt;
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use crate::corrections::{CorrectedLabel, NotAboutUs};
use crate::store::{self, Columns, MentionFilter, StoreError, StoredMention};

impl Columns for tokio_postgres::Row {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.try_get(i)
            .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
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

/// `?` placeholders numbered (`$1`, `$2`, …) as PostgreSQL wants them; the
/// queries this serves have no `?` inside a string literal.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// What staff changed about a mention, read beside it.
const CORRECTION_COLUMNS: &str = "\
    (SELECT computed FROM label_corrections c WHERE c.mention_id = m.id ORDER BY c.id LIMIT 1), \
    (SELECT actor FROM label_corrections c WHERE c.mention_id = m.id ORDER BY c.id DESC LIMIT 1), \
    (SELECT at FROM label_corrections c WHERE c.mention_id = m.id ORDER BY c.id DESC LIMIT 1), \
    (SELECT brands FROM not_about_us n WHERE n.mention_id = m.id), \
    (SELECT actor FROM not_about_us n WHERE n.mention_id = m.id), \
    (SELECT at FROM not_about_us n WHERE n.mention_id = m.id)";

/// A stored mention with its label correction and "not about us" mark.
pub struct MentionWithCorrections {
    pub mention: StoredMention,
    pub corrected: Option<CorrectedLabel>,
    pub not_about_us: Option<NotAboutUs>,
}

/// Every mention matching `filter`, oldest first, streamed (never the
/// whole table in memory), as [`store::for_each_mention`] walks SQLite.
pub async fn for_each_mention(
    client: &Client,
    filter: &MentionFilter,
    each: impl FnMut(MentionWithCorrections) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    walk(client, filter, "ASC", each).await
}

/// Mentions matching `filter`, newest first, as [`store::recent_mentions`]
/// reads them from SQLite.
pub async fn recent_mentions(client: &Client, filter: &MentionFilter) -> Result<Vec<StoredMention>, StoreError> {
    let mut found = Vec::new();
    walk(client, filter, "DESC", |read| {
        found.push(read.mention);
        Ok(())
    })
    .await?;
    Ok(found)
}

async fn walk(
    client: &Client,
    filter: &MentionFilter,
    order: &str,
    mut each: impl FnMut(MentionWithCorrections) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let columns = format!("{}, {CORRECTION_COLUMNS}", mention_columns());
    let (sql, values) = store::filtered_query_selecting(&columns, filter, order);
    let params: Vec<Box<dyn ToSql + Sync + Send>> = values
        .into_iter()
        .map(|v| -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
            match v {
                rusqlite::types::Value::Integer(n) => Ok(Box::new(n)),
                rusqlite::types::Value::Text(s) => Ok(Box::new(s)),
                other => Err(StoreError::Invalid(format!(
                    "a filter value of type {:?}",
                    other.data_type()
                ))),
            }
        })
        .collect::<Result<_, _>>()?;
    let rows = client
        .query_raw(&numbered(&sql), params.iter().map(|p| &**p as &(dyn ToSql + Sync)))
        .await?;
    futures::pin_mut!(rows);
    let first = 30;
    while let Some(row) = rows.try_next().await? {
        let mention = store::mention_from_columns(&row)?;
        let corrected = match (row.text(first)?, row.text(first + 1)?, row.int(first + 2)?) {
            (Some(computed), Some(by), Some(at)) => Some(CorrectedLabel {
                computed,
                by,
                at: store::from_ms(at),
            }),
            _ => None,
        };
        let not_about_us = match (row.text(first + 3)?, row.text(first + 4)?, row.int(first + 5)?) {
            (Some(brands), Some(by), Some(at)) => Some(NotAboutUs {
                mention_id: mention.id,
                brands: crate::corrections::brand_list(&brands),
                by,
                at: store::from_ms(at),
            }),
            _ => None,
        };
        each(MentionWithCorrections {
            mention,
            corrected,
            not_about_us,
        })?;
    }
    Ok(())
}

/// Incidents, newest first, optionally in one state, as
/// [`crate::alert::list_incidents`] reads them from SQLite.
pub async fn list_incidents(
    client: &Client,
    state: Option<crate::alert::State>,
    limit: u64,
) -> Result<Vec<crate::alert::Incident>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = client
        .query(
            &format!(
                "SELECT {} FROM incidents WHERE ($1::text IS NULL OR state = $1) \
                 ORDER BY started_at DESC, id DESC LIMIT $2",
                crate::alert::INCIDENT_COLUMNS
            ),
            &[&state.map(crate::alert::State::as_str), &limit],
        )
        .await?;
    rows.iter().map(crate::alert::incident_from_columns).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            super::numbered("a = ? AND b >= ? LIMIT ?"),
            "a = $1 AND b >= $2 LIMIT $3"
        );
        assert!(super::mention_columns().contains("string_agg(brand, chr(31))"));
    }
}
