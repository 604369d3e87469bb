//! App Store customer reviews of one app in one storefront, from Apple's
//! public (undocumented) RSS in JSON, most recent first, pages 1 to 10. The
//! star rating decides the review's label; helpful votes scale its reach.

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{time_of, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};

/// Apple serves at most this many pages of reviews.
const MAX_PAGE: u32 = 10;

pub struct AppStore {
    base: String,
    app_id: String,
    country: String,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    feed: FeedBody,
}

#[derive(Deserialize)]
struct FeedBody {
    /// Apple sends an object instead of a list when there is one entry.
    #[serde(default)]
    entry: Option<serde_json::Value>,
    /// Navigation links; the one with `rel="next"` names the next page.
    #[serde(default)]
    link: Vec<Link>,
    /// When Apple produced the feed: the time an entry without its own
    /// `updated` is first seen.
    updated: Option<Label>,
}

#[derive(Deserialize)]
struct Link {
    attributes: Option<LinkAttributes>,
}

#[derive(Deserialize)]
struct LinkAttributes {
    rel: Option<String>,
    href: Option<String>,
}

#[derive(Deserialize)]
struct Label {
    label: Option<String>,
}

#[derive(Deserialize)]
struct Entry {
    id: Option<Label>,
    author: Option<EntryAuthor>,
    #[serde(rename = "im:rating")]
    rating: Option<Label>,
    title: Option<Label>,
    content: Option<Label>,
    #[serde(rename = "im:version")]
    version: Option<Label>,
    #[serde(rename = "im:voteSum")]
    vote_sum: Option<Label>,
    updated: Option<Label>,
}

#[derive(Deserialize)]
struct EntryAuthor {
    name: Option<Label>,
}

fn label(l: &Option<Label>) -> Option<String> {
    l.as_ref().and_then(|l| l.label.clone())
}

/// `kind = "appstore"`: an app's reviews in one storefront's RSS feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppStoreConfig {
    /// The app's numeric id.
    pub app_id: String,
    /// The storefront country (default `us`).
    #[serde(default)]
    pub country: Option<String>,
}

impl AppStore {
    pub fn new(config: &SourceConfig, own: &AppStoreConfig) -> Self {
        AppStore {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://itunes.apple.com".into()),
            app_id: own.app_id.clone(),
            country: own.country.clone().unwrap_or_else(|| "us".into()),
            brand: config.brand.clone(),
        }
    }

    /// `seen_at` is the feed's own time, taken for an entry that has none
    /// (whole countries' feeds came without `updated` in 2020); the store
    /// keeps a review's first time, so it stays the time it was first seen,
    /// and the mention says so (`time_estimated`).
    fn mention(&self, e: Entry, seen_at: Option<DateTime<Utc>>) -> Result<Mention, String> {
        let id = label(&e.id)
            .filter(|i| !i.trim().is_empty())
            .ok_or("review without id")?;
        let (created_at, time_estimated) = match (label(&e.updated), seen_at) {
            (None, Some(seen)) => (seen, true),
            (None, None) => return Err("review without updated, in a feed without its own time".into()),
            (updated, _) => (time_of(&updated, "updated")?, false),
        };
        let stars: u8 = label(&e.rating)
            .and_then(|r| r.trim().parse().ok())
            .filter(|r| (1..=5).contains(r))
            .ok_or("review without a 1-5 star rating")?;
        let title = label(&e.title).unwrap_or_default();
        let body = label(&e.content).unwrap_or_default();
        let version = label(&e.version).map(|v| format!(" (version {v})")).unwrap_or_default();
        let text = format!("{title}\n{body}{version}").trim().to_string();
        Ok(Mention {
            source: "appstore".into(),
            url: Some(format!(
                "https://apps.apple.com/{}/app/id{}?see-all=reviews",
                self.country, self.app_id
            )),
            source_id: id,
            created_at,
            author: Author {
                handle: e.author.and_then(|a| label(&a.name)),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            metrics: Metrics {
                likes: label(&e.vote_sum)
                    .and_then(|v| v.parse::<i64>().ok())
                    .map(|v| v.max(0) as u64),
                ..Metrics::default()
            },
            rating: Some(stars),
            lang: None,
            brand: self.brand.clone(),
            time_estimated,
            reply: None,
        })
    }
}

impl Connector for AppStore {
    fn revisable(&self) -> bool {
        true
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let page = page.unwrap_or("1");
        let url = format!(
            "{}/{}/rss/customerreviews/page={page}/id={}/sortby=mostrecent/json",
            self.base.trim_end_matches('/'),
            self.country,
            self.app_id
        );
        http.get(url)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a reviews feed")?;
        let entries = match response.feed.entry {
            Some(serde_json::Value::Array(list)) => list,
            Some(one) => vec![one],
            None => Vec::new(),
        };
        let mut page = Page::default();
        let next = response
            .feed
            .link
            .iter()
            .filter_map(|l| l.attributes.as_ref())
            .find_map(|a| {
                let href = a.href.as_deref().filter(|_| a.rel.as_deref() == Some("next"))?;
                let number = href.split("page=").nth(1)?.split('/').next()?;
                number.parse::<u32>().ok().filter(|n| (2..=MAX_PAGE).contains(n))
            });
        let seen_at = label(&response.feed.updated).and_then(|t| time_of(&Some(t), "updated").ok());
        page.read::<Entry>(entries, |item| self.mention(item, seen_at));
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        // Apple keeps linking a next page past the last review: follow it only
        // from a page that had some.
        if !page.items.is_empty() || !page.rejected.is_empty() {
            page.next = next.map(|n| n.to_string());
        }
        Ok(page)
    }
}
