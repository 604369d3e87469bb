//! What Meta's Graph API connectors (`facebook`, `instagram`) share: the
//! API version, its time format, cursor paging, and the settings every
//! Graph source has. Throttling (`X-App-Usage`, `X-Business-Use-Case-Usage`
//! and the rate-limit error codes) is read by the shared layer,
//! [`super::poll::server_wait`], like every network's signals.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::Cursor;
use crate::clock::Span;

/// The Graph API version asked for unless a source says otherwise.
pub const DEFAULT_VERSION: &str = "v21.0";

/// How far back before the newest stored comment posts are walked for new
/// comments, unless a source says otherwise.
pub fn default_posts_within() -> Span {
    Span(chrono::Duration::days(14))
}

pub fn default_version() -> String {
    DEFAULT_VERSION.to_string()
}

/// The problems of the settings every Graph source has: `posts_within`
/// from an hour to a year, and a `graph_version` like `v21.0` (it becomes
/// part of the request path).
pub fn walk_problems(posts_within: Span, version: &str) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if let Err(e) = posts_within.check(chrono::Duration::hours(1), chrono::Duration::days(365)) {
        problems.push(("posts_within", e));
    }
    let ok = version
        .strip_prefix('v')
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    if !ok {
        problems.push(("graph_version", "is a Graph API version such as v21.0".to_string()));
    }
    problems
}

/// Graph times come as `2026-11-21T09:12:44+0000` (no colon in the
/// offset, so not RFC 3339), and now and then as RFC 3339.
pub fn parse_time(value: &Option<String>, what: &str) -> Result<DateTime<Utc>, String> {
    let text = super::required(value, what)?;
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "{what} {:?} is not a Graph API time",
                crate::mention::truncate(text, 40)
            )
        })
}

#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    pub cursors: Option<Cursors>,
    pub next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Cursors {
    pub after: Option<String>,
}

impl Paging {
    /// The `after` cursor of the next page, when there is one.
    pub fn next_after(self) -> Option<String> {
        self.next?;
        self.cursors?.after.filter(|a| !a.is_empty() && a.len() <= 1024)
    }
}

/// A list edge (`comments`, `replies`) as embedded by field expansion.
#[derive(Debug, Deserialize)]
pub struct Edge<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
}

/// A Graph API node the brand owns (its Page, its Instagram account) and
/// how to walk one of its edges: `/{version}/{id}/{edge}` with the fields
/// asked for, a page size, `since` and the `after` cursor, the token as
/// the bearer.
pub struct Node {
    pub base: String,
    pub version: String,
    pub id: String,
    pub token: String,
    pub posts_within: Span,
    pub limit: u32,
}

impl Node {
    pub fn request(
        &self,
        http: &reqwest::Client,
        edge: &str,
        fields: String,
        cursor: &Cursor,
        page: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/{}/{}/{edge}",
            self.base.trim_end_matches('/'),
            self.version,
            self.id
        );
        let mut query = vec![("fields", fields), ("limit", self.limit.to_string())];
        if let Some(since) = since(cursor, self.posts_within) {
            query.push(("since", since));
        }
        if let Some(after) = page {
            query.push(("after", after.to_string()));
        }
        http.get(url).query(&query).bearer_auth(&self.token)
    }
}

/// The `since` of a walk: posts made within `within` before the newest
/// comment stored (new comments come mostly on recent posts); none on a
/// first poll, which walks back `max_pages` pages.
pub fn since(cursor: &Cursor, within: Span) -> Option<String> {
    cursor
        .time
        .and_then(|t| t.checked_sub_signed(within.0))
        .map(|t| t.timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_times_with_and_without_the_colon() {
        let t = parse_time(&Some("2026-11-21T09:12:44+0000".into()), "created_time").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-21T09:12:44+00:00");
        let t = parse_time(&Some("2026-11-21T10:12:44+01:00".into()), "created_time").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-21T09:12:44+00:00");
        assert!(parse_time(&Some("yesterday".into()), "created_time").is_err());
        let day = Span(chrono::Duration::days(1));
        assert!(walk_problems(day, "v21.0").is_empty());
        assert_eq!(walk_problems(day, "v21.0/../../me")[0].0, "graph_version");
        assert_eq!(
            walk_problems(Span(chrono::Duration::zero()), "v21.0")[0].0,
            "posts_within"
        );
    }
}
