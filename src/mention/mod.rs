//! The mention: one normalised post, comment or review, whatever network it
//! came from, and the JSON Lines feed format that carries it between stages.
//!
//! The feed format is a contract (replay reads it, `export` writes it):
//!
//! ```json
//! {"source":"mastodon","id":"11093","created_at":"2026-11-20T14:03:07Z",
//!  "author":{"handle":"jane@example.social","followers":1240},"text":"...",
//!  "url":"https://...","metrics":{"likes":3,"reposts":1,"replies":0,"views":null},
//!  "rating":null,"lang":"en","brand":null}
//! ```
//!
//! `source`, `id`, `created_at` (RFC 3339) and `text` are required; the rest may
//! be absent or null. Fields `export` adds (`brands`, `sentiment`, `reach`) and
//! any other unknown fields are ignored on input, so export → replay round-trips.

pub mod scored;

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Longest text stored, in bytes; longer texts are cut at a character
/// boundary and their original length is kept in [`Mention::text_chars`].
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Longest feed line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Longest handle, source, id, URL or language tag kept, in bytes.
const MAX_FIELD_BYTES: usize = 2048;

/// A post, comment or review about (possibly) one of our brands.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    /// Source kind, e.g. `mastodon`, `reddit`, `appstore`.
    pub source: String,
    /// The source's own id; unique together with `source`.
    pub source_id: String,
    pub created_at: DateTime<Utc>,
    /// The source gave no time of its own: `created_at` is when the item
    /// was first seen (an App Store entry without `updated`), so it may be
    /// later than the post, never earlier.
    pub time_estimated: bool,
    pub author: Author,
    /// The text, at most [`MAX_TEXT_BYTES`].
    pub text: String,
    /// Length of the original text in characters, before any cut.
    pub text_chars: u64,
    pub url: Option<String>,
    pub metrics: Metrics,
    /// Star rating, 1–5, for review sites.
    pub rating: Option<u8>,
    pub lang: Option<String>,
    /// A configured brand the source attributes this mention to (e.g. the
    /// brand whose search query found it); when absent, keyword matching decides.
    pub brand: Option<String>,
    /// The brand's public answer already on the network (a developer reply
    /// on Google Play, a response on App Store Connect), where the owned
    /// channel's API tells.
    pub reply: Option<OwnerReply>,
}

/// The brand's own public answer to a mention, as the network shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OwnerReply {
    pub text: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Author {
    #[serde(default)]
    pub handle: Option<String>,
    /// Followers or subscribers, where the network tells.
    #[serde(default)]
    pub followers: Option<u64>,
    /// The author's standing where the network keeps one (Reddit karma):
    /// shown beside a complaint, and a sign of throwaway accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub karma: Option<u64>,
}

/// Engagement counts; each is `None` where the network does not report it.
/// For review sites `likes` holds the review's helpful votes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub likes: Option<u64>,
    #[serde(default)]
    pub reposts: Option<u64>,
    #[serde(default)]
    pub replies: Option<u64>,
    #[serde(default)]
    pub views: Option<u64>,
}

/// The earliest time a mention may carry: nothing we watch is older, and a
/// broken date (year 1, or 1970 from a zero timestamp) must not make
/// detection walk decades of empty buckets.
pub fn earliest_time() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    // 2000-01-01
}

/// The latest time a mention may carry whatever the clock says (a feed
/// replayed in virtual time has no wall clock to hold it to).
pub fn latest_time() -> DateTime<Utc> {
    DateTime::from_timestamp(4_102_444_800, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    // 2100-01-01
}

/// How far past the clock a live mention may be dated (clock skew, time
/// zones read wrong); anything later is a broken date.
pub const MAX_AHEAD_OF_CLOCK: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Checks a mention's time against the one definition of an acceptable
/// time: from 2000-01-01, before 2100-01-01, and, when the clock is known
/// (live polling), at most a day ahead of it. The error is the reason.
pub fn check_time(t: DateTime<Utc>, now: Option<DateTime<Utc>>) -> Result<(), String> {
    if t < earliest_time() {
        return Err(format!("time {} is before 2000-01-01", format_time(t)));
    }
    if t >= latest_time() {
        return Err(format!("time {} is after 2100-01-01", format_time(t)));
    }
    if let Some(now) = now {
        if t > now + MAX_AHEAD_OF_CLOCK {
            return Err(format!(
                "time {} is more than a day ahead of the clock ({})",
                format_time(t),
                format_time(now)
            ));
        }
    }
    Ok(())
}

/// Why a feed line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    InvalidUtf8,
    TooLong {
        bytes: usize,
    },
    InvalidJson(String),
    MissingField(&'static str),
    InvalidField {
        field: &'static str,
        reason: String,
    },
    BadTimestamp(String),
    /// A valid time outside what [`check_time`] accepts.
    TimeOutOfRange(String),
}

impl LineError {
    /// A stable short name, used to count rejections by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            LineError::InvalidUtf8 => "invalid_utf8",
            LineError::TooLong { .. } => "line_too_long",
            LineError::InvalidJson(_) => "invalid_json",
            LineError::MissingField(_) => "missing_field",
            LineError::InvalidField { .. } => "invalid_field",
            LineError::BadTimestamp(_) => "bad_timestamp",
            LineError::TimeOutOfRange(_) => "time_out_of_range",
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::InvalidUtf8 => write!(f, "line is not valid UTF-8"),
            LineError::TooLong { bytes } => {
                write!(f, "line is {bytes} bytes, longer than the {MAX_LINE_BYTES}-byte limit")
            }
            LineError::InvalidJson(e) => write!(f, "not a JSON object: {e}"),
            LineError::MissingField(field) => {
                write!(f, "required field `{field}` is missing or null")
            }
            LineError::InvalidField { field, reason } => write!(f, "field `{field}`: {reason}"),
            LineError::BadTimestamp(value) => {
                write!(f, "`created_at` {value:?} is not an RFC 3339 time")
            }
            LineError::TimeOutOfRange(reason) => write!(f, "`created_at`: {reason}"),
        }
    }
}

impl std::error::Error for LineError {}

/// The wire shape of a feed line, lenient where sources differ (ids may be
/// numbers) so that validation can name exactly what is wrong.
#[derive(Deserialize)]
struct FeedLine {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    id: Option<FeedId>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    time_estimated: Option<bool>,
    #[serde(default)]
    author: Option<Author>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    metrics: Option<Metrics>,
    #[serde(default)]
    rating: Option<serde_json::Number>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    brand: Option<String>,
    #[serde(default)]
    reply: Option<OwnerReply>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FeedId {
    Text(String),
    Number(u64),
}

impl Mention {
    /// Parses one feed line (without its line terminator).
    pub fn from_feed_line(bytes: &[u8]) -> Result<Mention, LineError> {
        if bytes.len() > MAX_LINE_BYTES {
            return Err(LineError::TooLong { bytes: bytes.len() });
        }
        let line = std::str::from_utf8(bytes).map_err(|_| LineError::InvalidUtf8)?;
        let raw: FeedLine = serde_json::from_str(line).map_err(|e| LineError::InvalidJson(e.to_string()))?;
        Mention::from_wire(raw)
    }

    fn from_wire(raw: FeedLine) -> Result<Mention, LineError> {
        let source = required_text(raw.source, "source")?;
        let source_id = match raw.id {
            Some(FeedId::Text(id)) => required_text(Some(id), "id")?,
            Some(FeedId::Number(n)) => n.to_string(),
            None => return Err(LineError::MissingField("id")),
        };
        let created_at = raw.created_at.ok_or(LineError::MissingField("created_at"))?;
        let created_at = DateTime::parse_from_rfc3339(created_at.trim())
            .map_err(|_| LineError::BadTimestamp(truncate(&created_at, 64).to_string()))?
            .with_timezone(&Utc);
        check_time(created_at, None).map_err(LineError::TimeOutOfRange)?;
        let text = raw.text.ok_or(LineError::MissingField("text"))?;
        let rating = raw.rating.map(parse_rating).transpose()?;
        let mut author = raw.author.unwrap_or_default();
        author.handle = author.handle.map(|h| truncate(&h, MAX_FIELD_BYTES).to_string());
        let text_chars = text.chars().count() as u64;
        Ok(Mention {
            source: truncate(&source, MAX_FIELD_BYTES).to_string(),
            source_id: truncate(&source_id, MAX_FIELD_BYTES).to_string(),
            created_at,
            time_estimated: raw.time_estimated.unwrap_or(false),
            author,
            text: truncate(&text, MAX_TEXT_BYTES).to_string(),
            text_chars,
            url: raw.url.map(|u| truncate(&u, MAX_FIELD_BYTES).to_string()),
            metrics: raw.metrics.unwrap_or_default(),
            rating,
            lang: raw.lang.map(|l| truncate(&l, 64).to_string()),
            brand: raw.brand.filter(|b| !b.trim().is_empty()),
            reply: raw
                .reply
                .filter(|r| check_time(r.at, None).is_ok())
                .map(|r| OwnerReply {
                    text: truncate(&r.text, MAX_TEXT_BYTES).to_string(),
                    at: r.at,
                }),
        })
    }

    /// This mention with every field cut to the stored limits (text to
    /// [`MAX_TEXT_BYTES`]; `text_chars` keeps the original length). Connectors
    /// build mentions from API responses of any size; this bounds what is kept.
    pub fn capped(mut self) -> Mention {
        let cut = |s: &mut String, max: usize| {
            if s.len() > max {
                *s = truncate(s, max).to_string();
            }
        };
        cut(&mut self.text, MAX_TEXT_BYTES);
        cut(&mut self.source, MAX_FIELD_BYTES);
        cut(&mut self.source_id, MAX_FIELD_BYTES);
        for value in [&mut self.author.handle, &mut self.url].into_iter().flatten() {
            cut(value, MAX_FIELD_BYTES);
        }
        if let Some(lang) = &mut self.lang {
            cut(lang, 64);
        }
        if let Some(reply) = &mut self.reply {
            cut(&mut reply.text, MAX_TEXT_BYTES);
        }
        self
    }

    /// The feed-format JSON object for this mention (without derived fields).
    pub fn to_feed_json(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let value = json!({
            "source": self.source,
            "id": self.source_id,
            "created_at": format_time(self.created_at),
            "author": self.author,
            "text": self.text,
            "url": self.url,
            "metrics": self.metrics,
            "rating": self.rating,
            "lang": self.lang,
            "brand": self.brand,
        });
        let value = match (value, &self.reply) {
            (serde_json::Value::Object(mut map), Some(reply)) => {
                map.insert("reply".into(), json!({"text": reply.text, "at": format_time(reply.at)}));
                serde_json::Value::Object(map)
            }
            (value, _) => value,
        };
        match value {
            serde_json::Value::Object(mut map) => {
                if self.time_estimated {
                    map.insert("time_estimated".into(), true.into());
                }
                map
            }
            _ => unreachable!("json! of an object literal is an object"),
        }
    }
}

/// RFC 3339 in UTC with a `Z`, keeping sub-second digits only when present.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn required_text(value: Option<String>, field: &'static str) -> Result<String, LineError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        Some(_) => Err(LineError::InvalidField {
            field,
            reason: "is empty".into(),
        }),
        None => Err(LineError::MissingField(field)),
    }
}

fn parse_rating(n: serde_json::Number) -> Result<u8, LineError> {
    let invalid = || LineError::InvalidField {
        field: "rating",
        reason: format!("{n} is not a whole number of stars from 1 to 5"),
    };
    let value = n.as_f64().ok_or_else(invalid)?;
    if value.fract() != 0.0 || !(1.0..=5.0).contains(&value) {
        return Err(invalid());
    }
    Ok(value as u8)
}

/// The first `max_chars` characters of `text`, with "…" when it was longer.
pub fn snippet(text: &str, max_chars: usize) -> String {
    let mut chars = text.chars();
    let cut: String = chars.by_ref().take(max_chars).collect();
    if chars.next().is_some() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"source":"mastodon","id":"11093","created_at":"2026-11-20T14:03:07Z","author":{"handle":"jane@example.social","followers":1240},"text":"hello","url":"https://example.social/@jane/11093","metrics":{"likes":3,"reposts":1,"replies":0,"views":null},"rating":null,"lang":"en","brand":null}"#;

    #[test]
    fn parses_the_documented_example() {
        let m = Mention::from_feed_line(GOOD.as_bytes()).unwrap();
        assert_eq!(m.source, "mastodon");
        assert_eq!(m.source_id, "11093");
        assert_eq!(format_time(m.created_at), "2026-11-20T14:03:07Z");
        assert_eq!(m.author.followers, Some(1240));
        assert_eq!(m.metrics.reposts, Some(1));
        assert_eq!(m.metrics.views, None);
        assert_eq!(m.rating, None);
    }

    #[test]
    fn feed_json_round_trips() {
        let m = Mention::from_feed_line(GOOD.as_bytes()).unwrap();
        let line = serde_json::to_string(&m.to_feed_json()).unwrap();
        assert_eq!(Mention::from_feed_line(line.as_bytes()).unwrap(), m);
        assert!(!line.contains("time_estimated") && !line.contains("karma"), "{line}");
        // The two flags a source may add round-trip too.
        let mut flagged = m.clone();
        flagged.time_estimated = true;
        flagged.author.karma = Some(15_230);
        let line = serde_json::to_string(&flagged.to_feed_json()).unwrap();
        assert_eq!(Mention::from_feed_line(line.as_bytes()).unwrap(), flagged);
    }

    fn reason(line: &str) -> &'static str {
        Mention::from_feed_line(line.as_bytes()).unwrap_err().kind()
    }

    #[test]
    fn each_malformed_line_gets_its_reason() {
        assert_eq!(
            Mention::from_feed_line(b"{\"source\":\"x\xff\"}").unwrap_err(),
            LineError::InvalidUtf8
        );
        assert_eq!(reason("{not json"), "invalid_json");
        assert_eq!(reason("[1,2]"), "invalid_json");
        assert_eq!(
            reason(r#"{"id":"1","created_at":"2026-11-20T14:03:07Z","text":"t"}"#),
            "missing_field"
        );
        assert_eq!(
            reason(r#"{"source":"x","created_at":"2026-11-20T14:03:07Z","text":"t"}"#),
            "missing_field"
        );
        assert_eq!(reason(r#"{"source":"x","id":"1","text":"t"}"#), "missing_field");
        assert_eq!(
            reason(r#"{"source":"x","id":"1","created_at":"2026-11-20T14:03:07Z"}"#),
            "missing_field"
        );
        assert_eq!(
            reason(r#"{"source":"x","id":"1","created_at":"yesterday","text":"t"}"#),
            "bad_timestamp"
        );
        assert_eq!(
            reason(r#"{"source":"x","id":"1","created_at":"2026-11-20 14:03","text":"t"}"#),
            "bad_timestamp"
        );
        assert_eq!(
            reason(r#"{"source":"","id":"1","created_at":"2026-11-20T14:03:07Z","text":"t"}"#),
            "invalid_field"
        );
        assert_eq!(
            reason(r#"{"source":"x","id":"1","created_at":"2026-11-20T14:03:07Z","text":"t","rating":6}"#),
            "invalid_field"
        );
        assert_eq!(
            reason(r#"{"source":"x","id":"1","created_at":"2026-11-20T14:03:07Z","text":"t","rating":2.5}"#),
            "invalid_field"
        );
        assert_eq!(
            reason(
                r#"{"source":"x","id":"1","created_at":"2026-11-20T14:03:07Z","text":"t","author":{"followers":-3}}"#
            ),
            "invalid_json"
        );
        let long = format!(r#"{{"text":"{}"}}"#, "a".repeat(MAX_LINE_BYTES));
        assert_eq!(reason(&long), "line_too_long");
    }

    #[test]
    fn numeric_ids_and_offsets_are_normalised() {
        let m = Mention::from_feed_line(
            br#"{"source":"hn","id":42,"created_at":"2026-11-20T15:03:07+01:00","text":"t","rating":4}"#,
        )
        .unwrap();
        assert_eq!(m.source_id, "42");
        assert_eq!(format_time(m.created_at), "2026-11-20T14:03:07Z");
        assert_eq!(m.rating, Some(4));
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_and_its_length_kept() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        let line = format!(r#"{{"source":"x","id":"1","created_at":"2026-11-20T14:03:07Z","text":"{text}"}}"#);
        let m = Mention::from_feed_line(line.as_bytes()).unwrap();
        assert!(m.text.len() <= MAX_TEXT_BYTES);
        assert_eq!(m.text_chars, MAX_TEXT_BYTES as u64);
    }
}
