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

/// One comment a Graph reply lookup returns: Facebook names its author in
/// `from`, Instagram in `username`.
#[derive(Debug, Deserialize)]
pub struct PostedComment {
    pub id: Option<String>,
    pub from: Option<PostedBy>,
    pub username: Option<String>,
    pub created_time: Option<String>,
    pub timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PostedBy {
    pub id: Option<String>,
}

/// Answers a comment on the Graph API as the brand's Page or account:
/// `POST /{comment-id}/{edge}` with `message` (Facebook's edge is
/// `comments`, Instagram's `replies`). After an unknown outcome the same
/// edge is read back for an answer by the brand since the first attempt.
pub struct GraphReplier {
    pub node: Node,
    /// `comments` or `replies`.
    pub edge: &'static str,
    /// Whether a listed comment is the brand's own.
    pub ours: Box<dyn Fn(&PostedComment) -> bool + Send + Sync>,
    /// The fields a lookup asks for.
    pub fields: &'static str,
}

impl GraphReplier {
    fn url(&self, comment: &str) -> String {
        format!(
            "{}/{}/{}/{}",
            self.node.base.trim_end_matches('/'),
            self.node.version,
            comment,
            self.edge
        )
    }

    pub async fn post(
        &self,
        net: &super::reply::Net,
        draft: &super::reply::Draft,
    ) -> Result<super::reply::Posted, super::reply::ReplyError> {
        let request = net
            .http()
            .post(self.url(&draft.target.source_id))
            .bearer_auth(&self.node.token)
            .form(&[("message", draft.text.as_str())]);
        let body = net.send(request, true).await?;
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        let created: Created = serde_json::from_slice(&body).map_err(|e| super::reply::unreadable("the comment", e))?;
        Ok(super::reply::Posted {
            id: created.id,
            url: draft.target.url.clone(),
        })
    }

    pub async fn find(
        &self,
        net: &super::reply::Net,
        draft: &super::reply::Draft,
    ) -> Result<Option<super::reply::Posted>, super::reply::ReplyError> {
        let request = net
            .http()
            .get(self.url(&draft.target.source_id))
            .query(&[("fields", self.fields), ("limit", "100")])
            .bearer_auth(&self.node.token);
        let body = net.send(request, false).await?;
        #[derive(Deserialize)]
        struct Listed {
            #[serde(default)]
            data: Vec<PostedComment>,
        }
        let listed: Listed = serde_json::from_slice(&body)
            .map_err(|e| super::reply::ReplyError::not_posted(format!("unreadable comments: {e}")))?;
        let since = draft.since - chrono::Duration::minutes(5);
        Ok(listed.data.into_iter().find_map(|c| {
            let at = parse_time(&c.created_time, "created_time")
                .or_else(|_| parse_time(&c.timestamp, "timestamp"))
                .ok()?;
            let ours = at >= since && (self.ours)(&c);
            Some(super::reply::Posted {
                id: c.id.filter(|_| ours)?,
                url: draft.target.url.clone(),
            })
        }))
    }
}
