//! A new mention as the columns of its `mentions` row: computed once from
//! the scored mention and bound by both stores' writers (SQLite's
//! [`super::writer`] and PostgreSQL's [`super::postgres::ingest`]), so the
//! two can never store the same mention differently.

use super::writer::NewMention;
use super::StoreError;

/// The columns a new mention fills, in the order of [`MentionRow`]'s fields.
pub const INSERT_COLUMNS: &str = "source, source_id, created_at, author, followers, text, text_chars, url, \
     likes, reposts, replies, views, rating, lang, brand_hint, compound, pos, neu, neg, label, reach, \
     reach_inputs, ingested_at, author_karma, time_estimated, reply_text, reply_at, priority_key, not_scored, \
     fingerprint";

/// How many columns [`INSERT_COLUMNS`] names.
pub const INSERT_COLUMN_COUNT: usize = 30;

/// One `mentions` row, typed as both databases store it (integers as
/// `i64`, flags as 0/1, times as Unix milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct MentionRow {
    pub source: String,
    pub source_id: String,
    pub created_at: i64,
    pub author: Option<String>,
    pub followers: Option<i64>,
    pub text: String,
    pub text_chars: i64,
    pub url: Option<String>,
    pub likes: Option<i64>,
    pub reposts: Option<i64>,
    pub replies: Option<i64>,
    pub views: Option<i64>,
    pub rating: Option<i64>,
    pub lang: Option<String>,
    pub brand_hint: Option<String>,
    pub compound: f64,
    pub pos: f64,
    pub neu: f64,
    pub neg: f64,
    pub label: &'static str,
    pub reach: i64,
    pub reach_inputs: String,
    pub ingested_at: i64,
    pub author_karma: Option<i64>,
    pub time_estimated: i64,
    pub reply_text: Option<String>,
    pub reply_at: Option<i64>,
    pub priority_key: f64,
    pub not_scored: i64,
    pub fingerprint: Option<i64>,
}

impl MentionRow {
    /// The row of `new`; `fingerprint` is the spam grouper's hash of its text.
    pub fn of(new: &NewMention, fingerprint: Option<u64>) -> Result<MentionRow, StoreError> {
        let s = &new.scored;
        let m = &s.mention;
        let created_at = m.created_at.timestamp_millis();
        let reach = i64::try_from(s.reach.people).unwrap_or(i64::MAX);
        let reach_inputs =
            serde_json::to_string(&s.reach.inputs).map_err(|e| StoreError::Corrupt(format!("reach inputs: {e}")))?;
        let rating = m.rating.map(i64::from);
        Ok(MentionRow {
            source: m.source.clone(),
            source_id: m.source_id.clone(),
            created_at,
            author: m.author.handle.clone(),
            followers: count(m.author.followers),
            text: m.text.clone(),
            text_chars: count(Some(m.text_chars)).unwrap_or(i64::MAX),
            url: m.url.clone(),
            likes: count(m.metrics.likes),
            reposts: count(m.metrics.reposts),
            replies: count(m.metrics.replies),
            views: count(m.metrics.views),
            rating,
            lang: m.lang.clone(),
            brand_hint: m.brand.clone(),
            compound: s.sentiment.compound,
            pos: s.sentiment.pos,
            neu: s.sentiment.neu,
            neg: s.sentiment.neg,
            label: s.label.as_str(),
            reach,
            reach_inputs,
            ingested_at: new.ingested_at.timestamp_millis(),
            author_karma: count(m.author.karma),
            time_estimated: i64::from(m.time_estimated),
            reply_text: m.reply.as_ref().map(|r| r.text.clone()),
            reply_at: m.reply.as_ref().map(|r| r.at.timestamp_millis()),
            priority_key: super::priority::priority_key(reach, s.sentiment.compound, rating, created_at),
            not_scored: i64::from(s.not_scored),
            fingerprint: fingerprint.map(|f| f as i64),
        })
    }
}

/// A count as both databases store it (saturating at `i64::MAX`).
fn count(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}
