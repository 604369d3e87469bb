//! Hacker News through Algolia's `search_by_date`: stories and comments
//! matching a query, newest first, asked for with
//! `numericFilters=created_at_i>T` from the last poll's newest time.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{html_to_text, required, time_of, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};

pub struct HackerNews {
    base: String,
    query: String,
    limit: u32,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    hits: Vec<serde_json::Value>,
    page: Option<u32>,
    #[serde(rename = "nbPages")]
    pages: Option<u32>,
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "objectID")]
    id: Option<String>,
    created_at: Option<String>,
    author: Option<String>,
    title: Option<String>,
    story_text: Option<String>,
    comment_text: Option<String>,
    points: Option<u64>,
    num_comments: Option<u64>,
}

/// `kind = "hackernews"`: the Algolia search of stories and comments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HackerNewsConfig {
    pub query: String,
}

impl HackerNews {
    pub fn new(config: &SourceConfig, own: &HackerNewsConfig) -> Self {
        HackerNews {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://hn.algolia.com".into()),
            query: own.query.clone(),
            limit: config.page_size.min(1000),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, h: Hit) -> Result<Mention, String> {
        let id = required(&h.id, "objectID")?.to_string();
        let created_at = time_of(&h.created_at, "created_at")?;
        let body = h
            .comment_text
            .or(h.story_text)
            .map(|t| html_to_text(&t))
            .unwrap_or_default();
        let text = match h.title {
            Some(title) if !body.is_empty() => format!("{title}\n{body}"),
            Some(title) => title,
            None => body,
        };
        Ok(Mention {
            source: "hackernews".into(),
            url: Some(format!("https://news.ycombinator.com/item?id={id}")),
            source_id: id,
            created_at,
            author: Author {
                handle: h.author,
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            metrics: Metrics {
                likes: h.points,
                reposts: None,
                replies: h.num_comments,
                views: None,
            },
            rating: None,
            lang: None,
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }
}

impl Connector for HackerNews {
    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!("{}/api/v1/search_by_date", self.base.trim_end_matches('/'));
        let mut query = vec![
            ("query", self.query.clone()),
            ("tags", "(story,comment)".to_string()),
            ("hitsPerPage", self.limit.to_string()),
        ];
        if let Some(t) = cursor.time {
            // Equal times are fetched again and dropped as duplicates: none is missed.
            query.push(("numericFilters", format!("created_at_i>={}", t.timestamp())));
        }
        if let Some(p) = page {
            query.push(("page", p.to_string()));
        }
        http.get(url).query(&query)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a search response")?;
        let mut page = Page::default();
        page.read::<Hit>(response.hits, |item| self.mention(item));
        if let (Some(p), Some(n)) = (response.page, response.pages) {
            if p + 1 < n {
                page.next = Some((p + 1).to_string());
            }
        }
        Ok(page)
    }
}
