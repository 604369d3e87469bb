//! Any HTTP JSON API, described in config instead of code (`kind = "json"`
//! with a `[sources.json]` table): a URL template that carries the cursor,
//! a JSON pointer to the items, a pointer (and, for times, a format) for each
//! mention field inside an item, how to find the next page (a value in the
//! body, a URL in the body, or an RFC 8288 `Link` header), and the names of
//! the API's rate-limit headers if they are not the usual ones. A worked
//! example is in `config/example.toml`; `docs/sources.md` explains each key.

use chrono::{DateTime, NaiveDateTime, Utc};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use super::{html_to_text, with_bearer, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

/// The `[sources.json]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonMapping {
    /// The request URL, with placeholders: `{page}` (the next-page value;
    /// `first_page` on the first request), `{page_size}`, `{since}` (the
    /// newest stored item's time, RFC 3339), `{since_unix}` and `{since_id}`.
    /// Values are percent-encoded; a placeholder with no value becomes empty.
    pub url: String,
    #[serde(default)]
    pub first_page: String,
    /// JSON pointer to the array of items (`""`: the body is the array).
    #[serde(default)]
    pub items: String,
    /// Pointers inside an item.
    pub id: String,
    pub time: String,
    /// `rfc3339` (default), `unix`, `unix_ms`, or a chrono format such as
    /// `%Y-%m-%d %H:%M:%S` (read as UTC unless it has an offset).
    #[serde(default = "default_time_format")]
    pub time_format: String,
    /// One pointer, or several whose values are joined with a line break
    /// (a title and a body).
    pub text: Pointers,
    /// The text is HTML: strip tags and decode entities.
    #[serde(default)]
    pub html: bool,
    #[serde(default)]
    pub author: Option<String>,
    /// The author's followers or subscribers.
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub likes: Option<String>,
    #[serde(default)]
    pub reposts: Option<String>,
    #[serde(default)]
    pub replies: Option<String>,
    #[serde(default)]
    pub views: Option<String>,
    /// A star rating; with `rating_max` other scales (1–10) map onto 1–5.
    #[serde(default)]
    pub rating: Option<String>,
    #[serde(default = "default_rating_max")]
    pub rating_max: u32,
    #[serde(default)]
    pub lang: Option<String>,
    /// The item's address: a pointer, or a template with `{id}`.
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub link_template: Option<String>,
    /// Paging: a pointer to the value for `{page}` ...
    #[serde(default)]
    pub next_page: Option<String>,
    /// ... or a pointer to the next page's full URL ...
    #[serde(default)]
    pub next_url: Option<String>,
    /// ... or the `Link: <...>; rel="next"` response header.
    #[serde(default)]
    pub next_link_header: bool,
    /// Items can be edited later (reviews): send every fetched item to the
    /// store, which records changes as revisions.
    #[serde(default)]
    pub revisable: bool,
    /// The mention's `source` field (default: the source's name).
    #[serde(default)]
    pub source_label: Option<String>,
    /// Where the API key goes when `api_key` is set: a header (default
    /// `X-Api-Key`) or, with `api_key_param`, a query parameter.
    #[serde(default)]
    pub api_key_header: Option<String>,
    #[serde(default)]
    pub api_key_param: Option<String>,
    /// The API's own rate-limit headers, when not the usual
    /// `X-RateLimit-Remaining`/`-Reset` family (which are always understood).
    #[serde(default)]
    pub rate_limit_headers: Option<RateLimitHeaders>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Pointers {
    One(String),
    Many(Vec<String>),
}

impl Default for Pointers {
    fn default() -> Self {
        Pointers::Many(Vec::new())
    }
}

impl Pointers {
    fn all(&self) -> &[String] {
        match self {
            Pointers::One(p) => std::slice::from_ref(p),
            Pointers::Many(ps) => ps,
        }
    }
}

/// Header names: requests left in the window, and when it resets (seconds
/// from now, epoch seconds or an RFC 3339 time).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitHeaders {
    pub remaining: String,
    pub reset: String,
}

fn default_time_format() -> String {
    "rfc3339".into()
}
fn default_rating_max() -> u32 {
    5
}

impl JsonMapping {
    /// What is wrong with this mapping, as (key, problem) pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let sample = fill(
            &self.url,
            &[
                ("page", "1"),
                ("page_size", "1"),
                ("since", ""),
                ("since_unix", ""),
                ("since_id", ""),
            ],
        );
        if reqwest::Url::parse(&sample).map(|u| u.scheme().starts_with("http")) != Ok(true) {
            problems.push(("json.url", "is not an http(s) URL template".to_string()));
        }
        let mut pointers: Vec<(&'static str, &str)> = vec![("json.id", &self.id), ("json.time", &self.time)];
        for p in self.text.all() {
            pointers.push(("json.text", p));
        }
        for (key, value) in [
            ("json.author", &self.author),
            ("json.audience", &self.audience),
            ("json.likes", &self.likes),
            ("json.reposts", &self.reposts),
            ("json.replies", &self.replies),
            ("json.views", &self.views),
            ("json.rating", &self.rating),
            ("json.lang", &self.lang),
            ("json.link", &self.link),
            ("json.next_page", &self.next_page),
            ("json.next_url", &self.next_url),
        ] {
            if let Some(p) = value {
                pointers.push((key, p));
            }
        }
        if !self.items.is_empty() {
            pointers.push(("json.items", &self.items));
        }
        for (key, pointer) in pointers {
            if !pointer.starts_with('/') {
                problems.push((key, format!("{pointer:?} is not a JSON pointer (they start with '/')")));
            }
        }
        if self.text.all().is_empty() {
            problems.push(("json.text", "needs at least one pointer".to_string()));
        }
        if !matches!(self.time_format.as_str(), "rfc3339" | "unix" | "unix_ms")
            && chrono::format::StrftimeItems::new(&self.time_format).any(|i| i == chrono::format::Item::Error)
        {
            problems.push((
                "json.time_format",
                format!("{:?} is not a chrono format", self.time_format),
            ));
        }
        if !(2..=100).contains(&self.rating_max) {
            problems.push(("json.rating_max", "must be between 2 and 100".to_string()));
        }
        let paging = [self.next_page.is_some(), self.next_url.is_some(), self.next_link_header];
        if paging.iter().filter(|&&p| p).count() > 1 {
            problems.push((
                "json.next_page",
                "choose one of next_page, next_url and next_link_header".to_string(),
            ));
        }
        if self.next_page.is_some() && !self.url.contains("{page}") {
            problems.push(("json.url", "needs a {page} placeholder for next_page".to_string()));
        }
        problems
    }
}

pub struct Json {
    name: String,
    mapping: JsonMapping,
    page_size: u32,
    token: Option<String>,
    key: Option<String>,
    brand: Option<String>,
}

/// `kind = "json"`: any JSON API, described by its `[sources.json]` mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSourceConfig {
    pub json: JsonMapping,
    /// Bearer token or API key, if the API wants one: use `${ENV_VAR}`.
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default)]
    pub api_key: Option<Secret>,
}

impl Json {
    pub fn new(config: &SourceConfig, own: &JsonSourceConfig) -> Self {
        Json {
            name: config.name.clone(),
            mapping: own.json.clone(),
            page_size: config.page_size,
            token: own.token.as_ref().map(|t| t.expose().to_string()),
            key: own.api_key.as_ref().map(|k| k.expose().to_string()),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, item: &Value) -> Result<Mention, String> {
        let m = &self.mapping;
        let source_id = text_at(item, &m.id).ok_or("item without an id")?;
        let raw_time = item.pointer(&m.time).ok_or("item without a time")?;
        let created_at = parse_time(raw_time, &m.time_format)?;
        let parts: Vec<String> = m
            .text
            .all()
            .iter()
            .filter_map(|p| text_at(item, p))
            .map(|t| if m.html { html_to_text(&t) } else { t.trim().to_string() })
            .filter(|t| !t.is_empty())
            .collect();
        let text = parts.join("\n");
        let rating = match m
            .rating
            .as_deref()
            .and_then(|p| item.pointer(p))
            .filter(|v| !v.is_null())
        {
            None => None,
            Some(v) => Some(scale_rating(number(v).ok_or("rating is not a number")?, m.rating_max)?),
        };
        let count = |p: &Option<String>| p.as_deref().and_then(|p| item.pointer(p)).and_then(number_u64);
        let url = match (&m.link, &m.link_template) {
            (Some(p), _) => text_at(item, p),
            (None, Some(template)) => Some(template.replace("{id}", &encode(&source_id))),
            (None, None) => None,
        };
        Ok(Mention {
            source: m.source_label.clone().unwrap_or_else(|| self.name.clone()),
            source_id,
            created_at,
            author: Author {
                handle: m.author.as_deref().and_then(|p| text_at(item, p)),
                followers: count(&m.audience),
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url,
            metrics: Metrics {
                likes: count(&m.likes),
                reposts: count(&m.reposts),
                replies: count(&m.replies),
                views: count(&m.views),
            },
            rating,
            lang: m.lang.as_deref().and_then(|p| text_at(item, p)),
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }

    /// Whether `url` may be followed with our credentials: only to the
    /// template's own scheme, host and port.
    fn same_origin(&self, url: &str) -> bool {
        let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin());
        let template = fill(&self.mapping.url, &[]);
        origin(url).is_some_and(|o| Some(o) == origin(&template))
    }
}

impl Connector for Json {
    fn revisable(&self) -> bool {
        self.mapping.revisable
    }

    fn rate_limit_headers(&self) -> Option<&RateLimitHeaders> {
        self.mapping.rate_limit_headers.as_ref()
    }

    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let follows_url = self.mapping.next_url.is_some() || self.mapping.next_link_header;
        let url = match page {
            Some(next) if follows_url => next.to_string(),
            _ => {
                let page_size = self.page_size.to_string();
                let since = cursor.time.map(|t| t.to_rfc3339()).unwrap_or_default();
                let since_unix = cursor.time.map(|t| t.timestamp().to_string()).unwrap_or_default();
                fill(
                    &self.mapping.url,
                    &[
                        ("page", page.unwrap_or(&self.mapping.first_page)),
                        ("page_size", &page_size),
                        ("since", &since),
                        ("since_unix", &since_unix),
                        ("since_id", cursor.id.as_deref().unwrap_or("")),
                    ],
                )
            }
        };
        let mut request = with_bearer(http.get(url), &self.token);
        if let Some(key) = &self.key {
            request = match &self.mapping.api_key_param {
                Some(param) => request.query(&[(param, key)]),
                None => request.header(self.mapping.api_key_header.as_deref().unwrap_or("X-Api-Key"), key),
            };
        }
        request
    }

    fn parse(&self, body: &[u8], headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let document: Value = super::from_json(body, "JSON")?;
        let items = if self.mapping.items.is_empty() {
            &document
        } else {
            document
                .pointer(&self.mapping.items)
                .ok_or_else(|| ParseError::Refused(format!("no items at {}", self.mapping.items)))?
        };
        let items = items
            .as_array()
            .ok_or_else(|| ParseError::Refused(format!("the items at {:?} are not an array", self.mapping.items)))?;
        let mut page = Page::default();
        for item in items {
            page.add(self.mention(item));
        }
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        page.next = if let Some(pointer) = &self.mapping.next_page {
            document.pointer(pointer).and_then(scalar_text)
        } else if let Some(pointer) = &self.mapping.next_url {
            document.pointer(pointer).and_then(scalar_text)
        } else if self.mapping.next_link_header {
            headers
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_link)
        } else {
            None
        };
        if let Some(next) = &page.next {
            let follows_url = self.mapping.next_url.is_some() || self.mapping.next_link_header;
            if follows_url && !self.same_origin(next) {
                page.rejected.push(format!(
                    "next page {:?} is on another host: not followed with this source's credentials",
                    crate::mention::truncate(next, 80)
                ));
                page.next = None;
            }
        }
        // An empty page ends the walk, whatever the body says.
        if items.is_empty() {
            page.next = None;
        }
        Ok(page)
    }
}

/// Replaces each `{name}` in `template` by its percent-encoded value.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), &encode(value));
    }
    out
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// A string, number or boolean at `pointer`, as text.
fn text_at(item: &Value, pointer: &str) -> Option<String> {
    item.pointer(pointer).and_then(scalar_text)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number, or a string holding one (APIs write counts both ways).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

fn number_u64(value: &Value) -> Option<u64> {
    number(value)
        .filter(|n| *n >= 0.0)
        .map(|n| n.min(u64::MAX as f64) as u64)
}

/// A rating on a 1–`max` scale, as 1–5 stars.
fn scale_rating(value: f64, max: u32) -> Result<u8, String> {
    let max = f64::from(max);
    if !(0.0..=max).contains(&value) {
        return Err(format!("rating {value} is outside 0-{max}"));
    }
    Ok((value / max * 5.0).round().clamp(1.0, 5.0) as u8)
}

fn parse_time(value: &Value, format: &str) -> Result<DateTime<Utc>, String> {
    let bad = || {
        format!(
            "time {} is not {format}",
            crate::mention::truncate(&value.to_string(), 40)
        )
    };
    match format {
        "unix" | "unix_ms" => {
            let n = number(value).ok_or_else(bad)?;
            let ms = if format == "unix" { n * 1000.0 } else { n };
            if !(0.0..=1e15).contains(&ms) {
                return Err(bad());
            }
            DateTime::from_timestamp_millis(ms as i64).ok_or_else(bad)
        }
        _ => {
            let text = value.as_str().ok_or_else(bad)?.trim();
            if format == "rfc3339" {
                return DateTime::parse_from_rfc3339(text)
                    .map(|t| t.to_utc())
                    .map_err(|_| bad());
            }
            DateTime::parse_from_str(text, format)
                .map(|t| t.to_utc())
                .or_else(|_| NaiveDateTime::parse_from_str(text, format).map(|t| t.and_utc()))
                .map_err(|_| bad())
        }
    }
}

/// The `rel="next"` target of one `Link` header value (RFC 8288).
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        is_next.then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_each_format() {
        let t = "2026-11-20T09:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(parse_time(&Value::from("2026-11-20T10:30:00+01:00"), "rfc3339"), Ok(t));
        assert_eq!(parse_time(&Value::from(t.timestamp()), "unix"), Ok(t));
        assert_eq!(parse_time(&Value::from(t.timestamp().to_string()), "unix"), Ok(t));
        assert_eq!(parse_time(&Value::from(t.timestamp_millis()), "unix_ms"), Ok(t));
        assert_eq!(
            parse_time(&Value::from("2026-11-20 09:30:00"), "%Y-%m-%d %H:%M:%S"),
            Ok(t)
        );
        assert!(parse_time(&Value::from("yesterday"), "rfc3339").is_err());
        assert!(parse_time(&Value::from(-5), "unix").is_err());
        assert!(parse_time(&Value::from(1e300), "unix").is_err());
        assert!(parse_time(&Value::Null, "unix").is_err());
    }

    #[test]
    fn ratings_map_onto_five_stars() {
        assert_eq!(scale_rating(4.0, 5), Ok(4));
        assert_eq!(scale_rating(2.0, 10), Ok(1));
        assert_eq!(scale_rating(9.0, 10), Ok(5));
        assert_eq!(scale_rating(0.0, 10), Ok(1));
        assert!(scale_rating(11.0, 10).is_err());
    }

    #[test]
    fn link_headers() {
        let h = r#"<https://api.example.com/p?page=1>; rel="prev", <https://api.example.com/p?page=3>; rel="next""#;
        assert_eq!(next_link(h).as_deref(), Some("https://api.example.com/p?page=3"));
        assert_eq!(next_link(r#"<https://a/x>; rel="first last""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn placeholders_are_encoded() {
        assert_eq!(
            fill(
                "https://a/x?q={since}&p={page}",
                &[("since", "2026-11-20T09:30:00+00:00"), ("page", "a b&c")]
            ),
            "https://a/x?q=2026%2D11%2D20T09%3A30%3A00%2B00%3A00&p=a%20b%26c"
        );
    }
}
