//! Comments on the brand's own Facebook Page: `GET /{page_id}/published_posts`
//! with each post's newest comments embedded by field expansion (and, under
//! each comment, the Page's own reply if it has made one), with a Page access
//! token. Posts come newest first, not comments: a new comment can land on an
//! older post, so every poll walks the recent posts (`posts_within` before
//! the newest stored comment, up to `max_pages`) and the store keeps each
//! comment once. The Page's own comments are its answers, not mentions.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::graph::{self, Edge, Paging};
use super::{required, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::clock::Span;
use crate::mention::{Author, Mention, Metrics, OwnerReply};
use crate::secret::Secret;

/// Comments read per post in one request (the newest).
const COMMENTS_PER_POST: u32 = 50;

/// `kind = "facebook"`: comments on the brand's Page posts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookConfig {
    /// The Page's numeric id.
    pub page_id: String,
    /// A Page access token with `pages_read_engagement` and
    /// `pages_read_user_content`, from the environment.
    pub access_token: Secret,
    /// Posts walked for new comments: those made this long before the
    /// newest stored comment, and newer.
    #[serde(default = "graph::default_posts_within")]
    pub posts_within: Span,
    #[serde(default = "graph::default_version")]
    pub graph_version: String,
    /// Answer comments from the inbox as the Page (`reply = true`; the
    /// token needs `pages_manage_engagement`).
    #[serde(default)]
    pub reply: bool,
}

impl FacebookConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = super::numeric_id("page_id", &self.page_id, "the Page's numeric id");
        problems.extend(graph::walk_problems(self.posts_within, &self.graph_version));
        problems
    }
}

pub struct Facebook {
    page: graph::Node,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    data: Vec<Post>,
    #[serde(default)]
    paging: Paging,
}

#[derive(Deserialize)]
struct Post {
    comments: Option<Edge<serde_json::Value>>,
}

#[derive(Deserialize)]
struct Comment {
    id: Option<String>,
    message: Option<String>,
    created_time: Option<String>,
    from: Option<From>,
    like_count: Option<u64>,
    comment_count: Option<u64>,
    permalink_url: Option<String>,
    comments: Option<Edge<Answer>>,
}

#[derive(Deserialize)]
struct From {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    message: Option<String>,
    created_time: Option<String>,
    from: Option<From>,
}

impl Facebook {
    pub fn new(config: &SourceConfig, own: &FacebookConfig) -> Self {
        Facebook {
            page: graph::Node {
                base: config
                    .base_url
                    .clone()
                    .unwrap_or_else(|| "https://graph.facebook.com".into()),
                version: own.graph_version.clone(),
                id: own.page_id.clone(),
                token: own.access_token.expose().to_string(),
                posts_within: own.posts_within,
                limit: config.page_size.clamp(1, 100),
            },
            brand: config.brand.clone(),
        }
    }

    fn is_page(&self, from: &Option<From>) -> bool {
        from.as_ref().and_then(|f| f.id.as_deref()) == Some(self.page.id.as_str())
    }

    fn mention(&self, c: Comment) -> Result<Mention, String> {
        let id = required(&c.id, "id")?.to_string();
        let created_at = graph::parse_time(&c.created_time, "created_time")?;
        let text = c.message.unwrap_or_default().trim().to_string();
        let reply = c.comments.and_then(|answers| {
            answers
                .data
                .into_iter()
                .filter(|a| self.is_page(&a.from))
                .find_map(|a| {
                    Some(OwnerReply {
                        text: a.message.filter(|m| !m.trim().is_empty())?,
                        at: graph::parse_time(&a.created_time, "created_time").ok()?,
                    })
                })
        });
        Ok(Mention {
            source: "facebook".into(),
            source_id: id,
            created_at,
            time_estimated: false,
            author: Author {
                // Graph leaves `from` out where the commenter's privacy says so.
                handle: c.from.and_then(|f| f.name).filter(|n| !n.trim().is_empty()),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url: c.permalink_url,
            metrics: Metrics {
                likes: c.like_count,
                reposts: None,
                replies: c.comment_count,
                views: None,
            },
            rating: None,
            lang: None,
            brand: self.brand.clone(),
            reply,
        })
    }
}

impl Connector for Facebook {
    fn revisable(&self) -> bool {
        true
    }

    fn pages_by_time(&self) -> bool {
        false
    }

    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let fields = format!(
            "id,created_time,comments.order(reverse_chronological).limit({COMMENTS_PER_POST})\
             {{id,message,created_time,from{{id,name}},like_count,comment_count,permalink_url,\
             comments.limit(10){{message,created_time,from{{id,name}}}}}}"
        );
        self.page.request(http, "published_posts", fields, cursor, page)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a published_posts response")?;
        let mut page = Page {
            next: response.paging.next_after(),
            ..Page::default()
        };
        for post in response.data {
            let comments = post.comments.map(|c| c.data).unwrap_or_default();
            for value in comments {
                match serde_json::from_value::<Comment>(value) {
                    Ok(c) if self.is_page(&c.from) => {}
                    Ok(c) => page.add(self.mention(c)),
                    Err(e) => page.add(Err(e.to_string())),
                }
            }
        }
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        Ok(page)
    }
}

/// Answers a comment as the Page: `POST /{comment-id}/comments`.
pub fn replier(config: &SourceConfig, own: &FacebookConfig) -> Option<graph::GraphReplier> {
    if !own.reply {
        return None;
    }
    let page = Facebook::new(config, own).page;
    let page_id = page.id.clone();
    Some(graph::GraphReplier {
        node: page,
        edge: "comments",
        ours: Box::new(move |c| c.from.as_ref().and_then(|f| f.id.as_deref()) == Some(page_id.as_str())),
        fields: "id,from,created_time",
    })
}
