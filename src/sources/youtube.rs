//! YouTube comment threads of one video (`video_id`) or of everything on a
//! channel (`channel_id`), newest first (`order=time`), with an API key. The
//! API has no "since": the core stops the page walk at the newest comment it
//! stored. Over quota is an HTTP 403 with `quotaExceeded`, which the core
//! treats as "wait", not as a failure.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{required, time_of, Connector, Cursor, Page, SourceConfig};
use crate::mention::{Author, Mention, Metrics};

pub struct YouTube {
    base: String,
    video_id: Option<String>,
    channel_id: Option<String>,
    search: Option<String>,
    limit: u32,
    key: Option<String>,
    brand: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    items: Vec<serde_json::Value>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Thread {
    id: Option<String>,
    snippet: Option<ThreadSnippet>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadSnippet {
    video_id: Option<String>,
    total_reply_count: Option<u64>,
    top_level_comment: Option<Comment>,
}

#[derive(Deserialize)]
struct Comment {
    snippet: Option<CommentSnippet>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentSnippet {
    text_original: Option<String>,
    author_display_name: Option<String>,
    like_count: Option<u64>,
    published_at: Option<String>,
}

impl YouTube {
    pub fn new(config: &SourceConfig) -> Self {
        YouTube {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://www.googleapis.com".into()),
            video_id: config.video_id.clone(),
            channel_id: config.channel_id.clone(),
            search: config.query.clone(),
            limit: config.page_size.min(100),
            key: config.api_key.as_ref().map(|k| k.expose().to_string()),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, t: Thread) -> Result<Mention, String> {
        let id = required(&t.id, "id")?.to_string();
        let snippet = t.snippet.ok_or("thread without snippet")?;
        let comment = snippet
            .top_level_comment
            .and_then(|c| c.snippet)
            .ok_or("thread without its comment")?;
        let created_at = time_of(&comment.published_at, "publishedAt")?;
        let text = comment.text_original.unwrap_or_default();
        Ok(Mention {
            source: "youtube".into(),
            url: snippet
                .video_id
                .map(|v| format!("https://www.youtube.com/watch?v={v}&lc={id}")),
            source_id: id,
            created_at,
            author: Author {
                handle: comment.author_display_name,
                followers: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            metrics: Metrics {
                likes: comment.like_count,
                reposts: None,
                replies: snippet.total_reply_count,
                views: None,
            },
            rating: None,
            lang: None,
            brand: self.brand.clone(),
        })
    }
}

impl Connector for YouTube {
    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!("{}/youtube/v3/commentThreads", self.base.trim_end_matches('/'));
        let mut query = vec![
            ("part", "snippet".to_string()),
            ("order", "time".into()),
            ("maxResults", self.limit.to_string()),
            ("textFormat", "plainText".into()),
        ];
        match (&self.video_id, &self.channel_id) {
            (Some(video), _) => query.push(("videoId", video.clone())),
            (None, Some(channel)) => query.push(("allThreadsRelatedToChannelId", channel.clone())),
            (None, None) => {}
        }
        if let Some(terms) = &self.search {
            query.push(("searchTerms", terms.clone()));
        }
        if let Some(key) = &self.key {
            query.push(("key", key.clone()));
        }
        if let Some(p) = page {
            query.push(("pageToken", p.to_string()));
        }
        http.get(url).query(&query)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, String> {
        let response: Response =
            serde_json::from_slice(body).map_err(|e| format!("not a commentThreads response: {e}"))?;
        let mut page = Page {
            next: response.next_page_token,
            ..Page::default()
        };
        page.read::<Thread>(response.items, |t| self.mention(t));
        Ok(page)
    }
}
