//! Any RSS or Atom feed (`base_url` is the feed's address), parsed with
//! `feed-rs`. Asked for conditionally (`If-None-Match` / `If-Modified-Since`
//! with the last response's validators), so an unchanged feed costs a 304.
//! Entries are keyed by their id (feed-rs derives a stable one for items
//! without a guid), or their link when even that is empty.

use reqwest::header::{HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH};

use serde::Deserialize;

use super::{html_to_text, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};

pub struct Feed {
    url: String,
    brand: Option<String>,
}

/// `kind = "rss"`: the feed at `base_url`; nothing else to set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RssConfig {}

impl Feed {
    pub fn new(config: &SourceConfig) -> Self {
        Feed {
            url: config.base_url.clone().unwrap_or_default(),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, entry: feed_rs::model::Entry) -> Result<Mention, String> {
        let link = entry.links.first().map(|l| l.href.clone());
        let id = match (entry.id.trim(), &link) {
            ("", Some(link)) => link.clone(),
            ("", None) => return Err("entry without id or link".into()),
            (id, _) => id.to_string(),
        };
        let created_at = entry.published.or(entry.updated).ok_or("entry without a date")?;
        let title = entry.title.map(|t| html_to_text(&t.content)).unwrap_or_default();
        let body = entry
            .summary
            .map(|s| s.content)
            .or_else(|| entry.content.and_then(|c| c.body))
            .map(|b| html_to_text(&b))
            .unwrap_or_default();
        let text = match (title.is_empty(), body.is_empty()) {
            (false, false) => format!("{title}\n{body}"),
            (false, true) => title,
            _ => body,
        };
        Ok(Mention {
            source: "rss".into(),
            source_id: id,
            created_at,
            author: Author {
                handle: entry.authors.first().map(|a| a.name.clone()),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url: link,
            metrics: Metrics::default(),
            rating: None,
            lang: entry.language,
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }
}

impl Connector for Feed {
    fn request(&self, http: &reqwest::Client, cursor: &Cursor, _page: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = http.get(&self.url);
        if let Some(etag) = &cursor.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &cursor.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        request
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let feed = feed_rs::parser::parse(body)?;
        let mut page = Page::default();
        for entry in feed.entries {
            page.add(self.mention(entry));
        }
        // Feeds list entries in any order: newest first, as the core expects.
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        Ok(page)
    }
}
