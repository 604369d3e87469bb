//! Storing mentions in PostgreSQL: the same rows as SQLite's writer stores
//! ([`crate::store::row::MentionRow`]), the same exactly-once key (source,
//! source id), the same handling of edits (the old version moves to
//! `mention_revisions`), one multi-row statement per table per batch.
//!
//! Several processes write at once here, so there is no single writer
//! thread: each poll's transaction stands on its own, and the unique key
//! settles two processes storing the same item (one inserts, the other sees
//! a duplicate). Campaign and burst grouping (`[spam]`) needs the grouper's
//! memory of recent posts, which lives in one process; it does not run on
//! PostgreSQL yet, so every mention counts with weight 1.

use std::collections::HashSet;

use tokio_postgres::Transaction;

use crate::store::row::{MentionRow, INSERT_COLUMNS};
use crate::store::writer::{BatchOutcome, NewMention};
use crate::store::StoreError;

/// Stores `mentions` inside `tx`: new ones inserted with their brands,
/// ones already stored counted as duplicates and revised when edited.
pub async fn insert(
    tx: &Transaction<'_>,
    mentions: &[NewMention],
    spam: &crate::spam::SpamConfig,
) -> Result<BatchOutcome, StoreError> {
    let mut outcome = BatchOutcome::default();
    if mentions.is_empty() {
        return Ok(outcome);
    }
    let min_words = spam.campaign_min_words as usize;
    let rows = mentions
        .iter()
        .map(|m| MentionRow::of(m, crate::spam::fingerprint(&m.scored.mention.text, min_words)).map(without_nul))
        .collect::<Result<Vec<_>, _>>()?;
    let columns = Columns::of(&rows);
    let placeholders = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, t))| format!("${}::{t}[]", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let inserted = tx
        .query(
            &format!(
                "INSERT INTO mentions ({INSERT_COLUMNS}) SELECT * FROM unnest({placeholders}) \
                 ON CONFLICT (source, source_id) DO NOTHING RETURNING id, source, source_id"
            ),
            &columns.params(),
        )
        .await?;
    let mut new_ids = std::collections::HashMap::with_capacity(inserted.len());
    for row in &inserted {
        new_ids.insert(
            (row.try_get::<_, String>(1)?, row.try_get::<_, String>(2)?),
            row.try_get::<_, i64>(0)?,
        );
    }
    // The first row of a key in the batch is the one inserted; a second
    // with the same key is a duplicate (and maybe an edit) of it.
    let mut seen = HashSet::with_capacity(rows.len());
    let (mut brands, mut times, mut ids, mut labels, mut reaches) = (vec![], vec![], vec![], vec![], vec![]);
    for (new, row) in mentions.iter().zip(&rows) {
        let key = (row.source.clone(), row.source_id.clone());
        let id = new_ids.get(&key).copied().filter(|_| seen.insert(key));
        let Some(id) = id else {
            outcome.duplicates += 1;
            if revise(tx, row).await? {
                outcome.revised += 1;
            }
            continue;
        };
        outcome.stored += 1;
        metrics::counter!(crate::metrics::MENTIONS_INGESTED, "source" => row.source.clone(), "label" => row.label)
            .increment(1);
        for brand in &new.scored.brands {
            brands.push(brand.to_string());
            times.push(row.created_at);
            ids.push(id);
            labels.push(row.label);
            reaches.push(row.reach);
        }
    }
    if !brands.is_empty() {
        tx.execute(
            "INSERT INTO mention_brands (brand, created_at, mention_id, label, reach) \
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) \
             ON CONFLICT DO NOTHING",
            &[&brands, &times, &ids, &labels, &reaches],
        )
        .await?;
    }
    Ok(outcome)
}

/// [`crate::store::writer`]'s revision of an edited mention, in
/// PostgreSQL's dialect: the stored version moves to `mention_revisions`
/// when the text or rating changed; the brand's reply is kept up to date.
async fn revise(tx: &Transaction<'_>, new: &MentionRow) -> Result<bool, StoreError> {
    let Some(stored) = tx
        .query_opt(
            "SELECT id, text, rating, compound, label FROM mentions WHERE source = $1 AND source_id = $2 FOR UPDATE",
            &[&new.source, &new.source_id],
        )
        .await?
    else {
        return Err(StoreError::Corrupt(format!(
            "mention {}/{} conflicted on insert but is not stored",
            new.source, new.source_id
        )));
    };
    let (id, text, rating): (i64, String, Option<i64>) = (stored.try_get(0)?, stored.try_get(1)?, stored.try_get(2)?);
    if let (Some(reply_text), Some(reply_at)) = (&new.reply_text, new.reply_at) {
        tx.execute(
            "UPDATE mentions SET reply_text = $2, reply_at = $3 \
             WHERE id = $1 AND (reply_at IS DISTINCT FROM $3 OR reply_text IS DISTINCT FROM $2)",
            &[&id, reply_text, &reply_at],
        )
        .await?;
    }
    if text == new.text && rating == new.rating {
        return Ok(false);
    }
    let (compound, label): (f64, String) = (stored.try_get(3)?, stored.try_get(4)?);
    tx.execute(
        "INSERT INTO mention_revisions (mention_id, replaced_at, text, rating, compound, label) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &new.ingested_at, &text, &rating, &compound, &label],
    )
    .await?;
    tx.execute(
        "UPDATE mentions SET text = $2, text_chars = $3, rating = $4, compound = $5, pos = $6, neu = $7, \
         neg = $8, label = $9, reach = $10, reach_inputs = $11, likes = $12, priority_key = $13, not_scored = $14 \
         WHERE id = $1",
        &[
            &id,
            &new.text,
            &new.text_chars,
            &new.rating,
            &new.compound,
            &new.pos,
            &new.neu,
            &new.neg,
            &new.label,
            &new.reach,
            &new.reach_inputs,
            &new.likes,
            &new.priority_key,
            &new.not_scored,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE mention_brands SET label = $2, reach = $3 WHERE mention_id = $1",
        &[&id, &new.label, &new.reach],
    )
    .await?;
    Ok(true)
}

/// `row` with every NUL character of its text made U+FFFD: PostgreSQL's
/// text cannot hold NUL (SQLite's can), and a stranger's NUL means nothing.
/// Done before anything compares, so an edit check sees what is stored.
fn without_nul(mut row: MentionRow) -> MentionRow {
    fn clean(s: &mut String) {
        if s.contains('\0') {
            *s = s.replace('\0', "\u{fffd}");
        }
    }
    for s in [
        &mut row.source,
        &mut row.source_id,
        &mut row.text,
        &mut row.reach_inputs,
    ] {
        clean(s);
    }
    for s in [
        &mut row.author,
        &mut row.url,
        &mut row.lang,
        &mut row.brand_hint,
        &mut row.reply_text,
    ]
    .into_iter()
    .flatten()
    {
        clean(s);
    }
    row
}

/// A batch's rows as one array per column, for `unnest`: each column's
/// field, Rust type and PostgreSQL type written once, in [`INSERT_COLUMNS`]
/// order (a test checks the order).
macro_rules! columns {
    ($($field:ident: $rust:ty => $pg:literal),* $(,)?) => {
        struct Columns {
            $($field: Vec<$rust>,)*
        }

        /// The columns' names and PostgreSQL array types.
        const COLUMNS: &[(&str, &str)] = &[$((stringify!($field), $pg)),*];

        impl Columns {
            fn of(rows: &[MentionRow]) -> Columns {
                Columns {
                    $($field: rows.iter().map(|r| r.$field.clone()).collect(),)*
                }
            }

            /// The arrays in [`INSERT_COLUMNS`] order.
            fn params(&self) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
                vec![$(&self.$field),*]
            }
        }
    };
}

columns! {
    source: String => "text",
    source_id: String => "text",
    created_at: i64 => "bigint",
    author: Option<String> => "text",
    followers: Option<i64> => "bigint",
    text: String => "text",
    text_chars: i64 => "bigint",
    url: Option<String> => "text",
    likes: Option<i64> => "bigint",
    reposts: Option<i64> => "bigint",
    replies: Option<i64> => "bigint",
    views: Option<i64> => "bigint",
    rating: Option<i64> => "bigint",
    lang: Option<String> => "text",
    brand_hint: Option<String> => "text",
    compound: f64 => "float8",
    pos: f64 => "float8",
    neu: f64 => "float8",
    neg: f64 => "float8",
    label: &'static str => "text",
    reach: i64 => "bigint",
    reach_inputs: String => "text",
    ingested_at: i64 => "bigint",
    author_karma: Option<i64> => "bigint",
    time_estimated: i64 => "bigint",
    reply_text: Option<String> => "text",
    reply_at: Option<i64> => "bigint",
    priority_key: f64 => "float8",
    not_scored: i64 => "bigint",
    fingerprint: Option<i64> => "bigint",
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_arrays_are_the_inserted_columns_in_order() {
        let names: Vec<&str> = super::COLUMNS.iter().map(|(name, _)| *name).collect();
        let inserted: Vec<&str> = super::INSERT_COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(names, inserted);
    }
}
