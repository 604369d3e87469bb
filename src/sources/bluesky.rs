//! Bluesky: `app.bsky.feed.searchPosts` with `sort=latest`, asked for with
//! `since` (the newest post time seen), paged with the response's `cursor`.
//! Posts are deduplicated by their `uri` (the store's unique key). Search
//! results carry no follower counts: the core asks `getProfiles` for them,
//! 25 authors a call, and caches them.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{required, time_of, with_bearer, Audience, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

pub struct Bluesky {
    base: String,
    query: String,
    limit: u32,
    token: Option<String>,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    posts: Vec<serde_json::Value>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Post {
    uri: Option<String>,
    author: Option<PostAuthor>,
    record: Option<Record>,
    reply_count: Option<u64>,
    repost_count: Option<u64>,
    like_count: Option<u64>,
    quote_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostAuthor {
    handle: Option<String>,
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    text: Option<String>,
    created_at: Option<String>,
    langs: Option<Vec<String>>,
}

/// `kind = "bluesky"`: post search on the public AppView.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyConfig {
    pub query: String,
    /// An access token, if wanted: use `${ENV_VAR}`.
    #[serde(default)]
    pub token: Option<Secret>,
}

impl Bluesky {
    pub fn new(config: &SourceConfig, own: &BlueskyConfig) -> Self {
        Bluesky {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://public.api.bsky.app".into()),
            query: own.query.clone(),
            limit: config.page_size.min(100),
            token: own.token.as_ref().map(|t| t.expose().to_string()),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, p: Post) -> Result<Mention, String> {
        let uri = required(&p.uri, "uri")?.to_string();
        let record = p.record.ok_or("post without record")?;
        let created_at = time_of(&record.created_at, "record.createdAt")?;
        let author = p.author.unwrap_or(PostAuthor {
            handle: None,
            followers_count: None,
        });
        let url = match (&author.handle, uri.rsplit('/').next()) {
            (Some(handle), Some(rkey)) => Some(format!("https://bsky.app/profile/{handle}/post/{rkey}")),
            _ => None,
        };
        let text = record.text.unwrap_or_default();
        Ok(Mention {
            source: "bluesky".into(),
            source_id: uri,
            created_at,
            author: Author {
                handle: author.handle,
                followers: author.followers_count,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url,
            metrics: Metrics {
                likes: p.like_count,
                reposts: match (p.repost_count, p.quote_count) {
                    (None, None) => None,
                    (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
                },
                replies: p.reply_count,
                views: None,
            },
            rating: None,
            lang: record.langs.and_then(|l| l.into_iter().next()),
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }
}

#[derive(Deserialize)]
struct Profiles {
    #[serde(default)]
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    handle: Option<String>,
    followers_count: Option<u64>,
}

impl Connector for Bluesky {
    fn wants_audience(&self, m: &Mention) -> bool {
        m.author.followers.is_none()
    }

    fn audience_request(&self, http: &reqwest::Client, handles: &[String]) -> Option<reqwest::RequestBuilder> {
        let url = format!("{}/xrpc/app.bsky.actor.getProfiles", self.base.trim_end_matches('/'));
        let query: Vec<(&str, &str)> = handles.iter().map(|h| ("actors", h.as_str())).collect();
        Some(with_bearer(http.get(url).query(&query), &self.token))
    }

    fn parse_audiences(&self, body: &[u8]) -> Result<Vec<(String, Audience)>, ParseError> {
        let profiles: Profiles = super::from_json(body, "a getProfiles response")?;
        Ok(profiles
            .profiles
            .into_iter()
            .filter_map(|p| {
                let audience = Audience {
                    followers: Some(p.followers_count?),
                    karma: None,
                };
                Some((p.handle?, audience))
            })
            .collect())
    }

    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!("{}/xrpc/app.bsky.feed.searchPosts", self.base.trim_end_matches('/'));
        let mut query = vec![
            ("q", self.query.clone()),
            ("sort", "latest".to_string()),
            ("limit", self.limit.to_string()),
        ];
        if let Some(t) = cursor.time {
            query.push(("since", t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        }
        if let Some(p) = page {
            query.push(("cursor", p.to_string()));
        }
        with_bearer(http.get(url).query(&query), &self.token)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a searchPosts response")?;
        let mut page = Page::default();
        // Real search pages often come back shorter than asked for with more
        // behind them: the cursor, not the page's length, says whether to go on.
        // An empty page ends the walk even with a cursor, so it cannot loop.
        let had_posts = !response.posts.is_empty();
        page.read::<Post>(response.posts, |item| self.mention(item));
        page.next = response.cursor.filter(|c| had_posts && !c.is_empty());
        Ok(page)
    }
}
