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

/// Each inserted column's PostgreSQL array type, in [`INSERT_COLUMNS`] order.
const COLUMN_TYPES: [&str; crate::store::row::INSERT_COLUMN_COUNT] = [
    "text", "text", "bigint", "text", "bigint", "text", "bigint", "text", "bigint", "bigint", "bigint", "bigint",
    "bigint", "text", "text", "float8", "float8", "float8", "float8", "text", "bigint", "text", "bigint", "bigint",
    "bigint", "text", "bigint", "float8", "bigint", "bigint",
];

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
    let placeholders = COLUMN_TYPES
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}[]", i + 1))
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

/// A batch's rows turned into one array per column, for `unnest`.
struct Columns {
    source: Vec<String>,
    source_id: Vec<String>,
    created_at: Vec<i64>,
    author: Vec<Option<String>>,
    followers: Vec<Option<i64>>,
    text: Vec<String>,
    text_chars: Vec<i64>,
    url: Vec<Option<String>>,
    likes: Vec<Option<i64>>,
    reposts: Vec<Option<i64>>,
    replies: Vec<Option<i64>>,
    views: Vec<Option<i64>>,
    rating: Vec<Option<i64>>,
    lang: Vec<Option<String>>,
    brand_hint: Vec<Option<String>>,
    compound: Vec<f64>,
    pos: Vec<f64>,
    neu: Vec<f64>,
    neg: Vec<f64>,
    label: Vec<&'static str>,
    reach: Vec<i64>,
    reach_inputs: Vec<String>,
    ingested_at: Vec<i64>,
    author_karma: Vec<Option<i64>>,
    time_estimated: Vec<i64>,
    reply_text: Vec<Option<String>>,
    reply_at: Vec<Option<i64>>,
    priority_key: Vec<f64>,
    not_scored: Vec<i64>,
    fingerprint: Vec<Option<i64>>,
}

impl Columns {
    fn of(rows: &[MentionRow]) -> Columns {
        macro_rules! column {
            ($field:ident) => {
                rows.iter().map(|r| r.$field.clone()).collect()
            };
        }
        Columns {
            source: column!(source),
            source_id: column!(source_id),
            created_at: column!(created_at),
            author: column!(author),
            followers: column!(followers),
            text: column!(text),
            text_chars: column!(text_chars),
            url: column!(url),
            likes: column!(likes),
            reposts: column!(reposts),
            replies: column!(replies),
            views: column!(views),
            rating: column!(rating),
            lang: column!(lang),
            brand_hint: column!(brand_hint),
            compound: column!(compound),
            pos: column!(pos),
            neu: column!(neu),
            neg: column!(neg),
            label: column!(label),
            reach: column!(reach),
            reach_inputs: column!(reach_inputs),
            ingested_at: column!(ingested_at),
            author_karma: column!(author_karma),
            time_estimated: column!(time_estimated),
            reply_text: column!(reply_text),
            reply_at: column!(reply_at),
            priority_key: column!(priority_key),
            not_scored: column!(not_scored),
            fingerprint: column!(fingerprint),
        }
    }

    /// The arrays in [`INSERT_COLUMNS`] order.
    fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); crate::store::row::INSERT_COLUMN_COUNT] {
        [
            &self.source,
            &self.source_id,
            &self.created_at,
            &self.author,
            &self.followers,
            &self.text,
            &self.text_chars,
            &self.url,
            &self.likes,
            &self.reposts,
            &self.replies,
            &self.views,
            &self.rating,
            &self.lang,
            &self.brand_hint,
            &self.compound,
            &self.pos,
            &self.neu,
            &self.neg,
            &self.label,
            &self.reach,
            &self.reach_inputs,
            &self.ingested_at,
            &self.author_karma,
            &self.time_estimated,
            &self.reply_text,
            &self.reply_at,
            &self.priority_key,
            &self.not_scored,
            &self.fingerprint,
        ]
    }
}
