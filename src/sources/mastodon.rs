//! Mastodon: a hashtag's public timeline on a chosen instance
//! (`GET /api/v1/timelines/tag/:hashtag`). New items are asked for with
//! `min_id` (the newest status seen); a first poll walks back with `max_id`.
//! Post content is HTML: it becomes plain text. A content warning
//! (`spoiler_text`) is what the author wrote above the post, so it leads
//! the text.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{html_to_text, required, time_of, with_bearer, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

pub struct Mastodon {
    base: String,
    hashtag: String,
    limit: u32,
    token: Option<String>,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: Option<String>,
    created_at: Option<String>,
    content: Option<String>,
    #[serde(default)]
    spoiler_text: Option<String>,
    language: Option<String>,
    url: Option<String>,
    account: Option<Account>,
    replies_count: Option<u64>,
    reblogs_count: Option<u64>,
    favourites_count: Option<u64>,
}

#[derive(Deserialize)]
struct Account {
    acct: Option<String>,
    followers_count: Option<u64>,
}

/// `kind = "mastodon"`: a hashtag's public timeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonConfig {
    /// The hashtag, with or without `#`.
    pub hashtag: String,
    /// An access token, if the instance wants one: use `${ENV_VAR}`.
    #[serde(default)]
    pub token: Option<Secret>,
}

impl MastodonConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        super::not_blank("hashtag", self.hashtag.trim_start_matches('#'))
    }
}

impl Mastodon {
    pub fn new(config: &SourceConfig, own: &MastodonConfig) -> Self {
        Mastodon {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://mastodon.social".into()),
            hashtag: own.hashtag.trim_start_matches('#').to_string(),
            limit: config.page_size.min(40),
            token: own.token.as_ref().map(|t| t.expose().to_string()),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, s: Status) -> Result<Mention, String> {
        let id = required(&s.id, "id")?.to_string();
        let created_at = time_of(&s.created_at, "created_at")?;
        let content = html_to_text(s.content.as_deref().unwrap_or(""));
        // `spoiler_text` is plain text in the API, not HTML.
        let warning = s.spoiler_text.as_deref().map(str::trim).filter(|w| !w.is_empty());
        let text = match warning {
            Some(w) => format!("{w}\n{content}"),
            None => content,
        };
        let account = s.account.unwrap_or(Account {
            acct: None,
            followers_count: None,
        });
        Ok(Mention {
            source: "mastodon".into(),
            source_id: id,
            created_at,
            author: Author {
                handle: account.acct,
                followers: account.followers_count,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url: s.url,
            metrics: Metrics {
                likes: s.favourites_count,
                reposts: s.reblogs_count,
                replies: s.replies_count,
                views: None,
            },
            rating: None,
            lang: s.language,
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }
}

/// Mastodon ids are decimal snowflakes: numeric order is time order.
fn id_order(id: &str) -> (usize, &str) {
    (id.len(), id)
}

impl Connector for Mastodon {
    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/api/v1/timelines/tag/{}",
            self.base.trim_end_matches('/'),
            self.hashtag
        );
        let mut query = vec![("limit", self.limit.to_string())];
        match page.and_then(|p| p.split_once('=')) {
            Some((key @ ("min_id" | "max_id"), value)) => query.push((key, value.to_string())),
            _ => {
                if let Some(id) = &cursor.id {
                    query.push(("min_id", id.clone()));
                }
            }
        }
        with_bearer(http.get(url).query(&query), &self.token)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, cursor: &Cursor) -> Result<Page, ParseError> {
        let statuses: Vec<serde_json::Value> = super::from_json(body, "a JSON array of statuses")?;
        let full = statuses.len() as u32 >= self.limit;
        let mut page = Page::default();
        page.read::<Status>(statuses, |item| self.mention(item));
        if full {
            let ids = page.items.iter().map(|m| m.source_id.as_str());
            page.next = if cursor.id.is_some() {
                ids.max_by_key(|id| id_order(id)).map(|id| format!("min_id={id}"))
            } else {
                ids.min_by_key(|id| id_order(id)).map(|id| format!("max_id={id}"))
            };
        }
        Ok(page)
    }
}
