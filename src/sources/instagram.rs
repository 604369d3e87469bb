//! Comments on the brand's own Instagram media: `GET /{ig_user_id}/media`
//! (Instagram Graph API, a professional account linked to a Page) with each
//! medium's newest comments and their replies embedded by field expansion.
//! As on Facebook, pages are media, not comments, so every poll walks the
//! recent media and the store keeps each comment once; the account's own
//! comments are its answers. Mentions of the brand outside its own media
//! (other people's posts, stories) are not reachable through this API.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::graph::{self, Edge, Paging};
use super::{required, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::clock::Span;
use crate::mention::{Author, Mention, Metrics, OwnerReply};
use crate::secret::Secret;

/// Comments read per medium in one request (the newest).
const COMMENTS_PER_MEDIUM: u32 = 50;

/// `kind = "instagram"`: comments on the brand's Instagram media.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstagramConfig {
    /// The Instagram professional account's numeric id.
    pub ig_user_id: String,
    /// The account's own username: its comments are the brand's answers.
    pub username: String,
    /// A Page access token with `instagram_basic` and
    /// `instagram_manage_comments`, from the environment.
    pub access_token: Secret,
    #[serde(default = "graph::default_posts_within")]
    pub posts_within: Span,
    #[serde(default = "graph::default_version")]
    pub graph_version: String,
    /// Answer comments from the inbox as the account (`reply = true`).
    #[serde(default)]
    pub reply: bool,
}

impl InstagramConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = super::numeric_id("ig_user_id", &self.ig_user_id, "the Instagram account's numeric id");
        problems.extend(super::not_blank("username", &self.username));
        problems.extend(graph::walk_problems(self.posts_within, &self.graph_version));
        problems
    }
}

pub struct Instagram {
    account: graph::Node,
    username: String,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    data: Vec<Medium>,
    #[serde(default)]
    paging: Paging,
}

#[derive(Deserialize)]
struct Medium {
    permalink: Option<String>,
    comments: Option<Edge<serde_json::Value>>,
}

#[derive(Deserialize)]
struct Comment {
    id: Option<String>,
    text: Option<String>,
    timestamp: Option<String>,
    username: Option<String>,
    like_count: Option<u64>,
    replies: Option<Edge<Answer>>,
}

#[derive(Deserialize)]
struct Answer {
    text: Option<String>,
    timestamp: Option<String>,
    username: Option<String>,
}

impl Instagram {
    pub fn new(config: &SourceConfig, own: &InstagramConfig) -> Self {
        Instagram {
            account: graph::Node {
                base: config
                    .base_url
                    .clone()
                    .unwrap_or_else(|| "https://graph.facebook.com".into()),
                version: own.graph_version.clone(),
                id: own.ig_user_id.clone(),
                token: own.access_token.expose().to_string(),
                posts_within: own.posts_within,
                limit: config.page_size.clamp(1, 100),
            },
            username: own.username.trim_start_matches('@').to_string(),
            brand: config.brand.clone(),
        }
    }

    fn is_brand(&self, username: &Option<String>) -> bool {
        username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(&self.username))
    }

    fn mention(&self, c: Comment, permalink: &Option<String>) -> Result<Mention, String> {
        let id = required(&c.id, "id")?.to_string();
        let created_at = graph::parse_time(&c.timestamp, "timestamp")?;
        let text = c.text.unwrap_or_default().trim().to_string();
        let replies = c.replies.map(|r| r.data).unwrap_or_default();
        let reply = replies
            .into_iter()
            .filter(|a| self.is_brand(&a.username))
            .find_map(|a| {
                Some(OwnerReply {
                    text: a.text.filter(|t| !t.trim().is_empty())?,
                    at: graph::parse_time(&a.timestamp, "timestamp").ok()?,
                })
            });
        Ok(Mention {
            source: "instagram".into(),
            source_id: id,
            created_at,
            time_estimated: false,
            author: Author {
                handle: c.username.filter(|u| !u.trim().is_empty()),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url: permalink.clone(),
            metrics: Metrics {
                likes: c.like_count,
                ..Metrics::default()
            },
            rating: None,
            lang: None,
            brand: self.brand.clone(),
            reply,
        })
    }
}

impl Connector for Instagram {
    fn revisable(&self) -> bool {
        true
    }

    fn pages_by_time(&self) -> bool {
        false
    }

    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let fields = format!(
            "id,timestamp,permalink,comments.limit({COMMENTS_PER_MEDIUM})\
             {{id,text,timestamp,username,like_count,replies.limit(10){{text,timestamp,username}}}}"
        );
        self.account.request(http, "media", fields, cursor, page)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a media response")?;
        let mut page = Page {
            next: response.paging.next_after(),
            ..Page::default()
        };
        for medium in response.data {
            for value in medium.comments.map(|c| c.data).unwrap_or_default() {
                match serde_json::from_value::<Comment>(value) {
                    Ok(c) if self.is_brand(&c.username) => {}
                    Ok(c) => page.add(self.mention(c, &medium.permalink)),
                    Err(e) => page.add(Err(e.to_string())),
                }
            }
        }
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        Ok(page)
    }
}

/// Answers a comment as the account: `POST /{ig-comment-id}/replies`.
pub fn replier(config: &SourceConfig, own: &InstagramConfig) -> Option<graph::GraphReplier> {
    if !own.reply {
        return None;
    }
    let account = Instagram::new(config, own);
    let username = account.username.clone();
    Some(graph::GraphReplier {
        node: account.account,
        edge: "replies",
        ours: Box::new(move |c| c.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&username))),
        fields: "id,username,timestamp",
    })
}
