//! Reddit search (`/search`, or `/r/{subreddit}/search`) with `sort=new`,
//! through OAuth app-only tokens (client credentials, fetched and refreshed by
//! the core), paged with `after`; the core stops at the newest post stored.
//! Each new author is looked up once (`/user/{name}/about`, cached, under
//! the source's `author_lookups` budget) for their karma and the people who
//! follow their profile.

use chrono::DateTime;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::reply::{unreadable, Draft, Net, Posted, ReplyError};
use super::{required, Audience, Connector, Cursor, OAuth, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

pub struct Reddit {
    base: String,
    query: String,
    subreddit: Option<String>,
    limit: u32,
    oauth: Option<OAuth>,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Listing {
    data: ListingData,
}

#[derive(Deserialize)]
struct ListingData {
    #[serde(default)]
    children: Vec<Child>,
    after: Option<String>,
}

#[derive(Deserialize)]
struct Child {
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct Post {
    name: Option<String>,
    created_utc: Option<f64>,
    title: Option<String>,
    selftext: Option<String>,
    author: Option<String>,
    score: Option<i64>,
    num_comments: Option<u64>,
    permalink: Option<String>,
    subreddit_subscribers: Option<u64>,
}

/// `/user/{name}/about`: a `t2` thing.
#[derive(Deserialize)]
struct About {
    data: AboutData,
}

#[derive(Deserialize)]
struct AboutData {
    name: Option<String>,
    total_karma: Option<i64>,
    link_karma: Option<i64>,
    comment_karma: Option<i64>,
    #[serde(default)]
    is_suspended: bool,
    /// The profile, a subreddit of its own: its subscribers follow the user.
    subreddit: Option<ProfileSubreddit>,
}

#[derive(Deserialize)]
struct ProfileSubreddit {
    subscribers: Option<i64>,
}

/// Reddit user names: 3 to 20 of these (Reddit's rule); anything else is
/// not looked up, so a strange author field never shapes a request path.
fn is_user_name(name: &str) -> bool {
    (3..=20).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The share of a subreddit's subscribers a new post is taken to reach:
/// Reddit shows a post to few of them (feeds are ranked, most subscribers
/// are not active), and a post has no follower count of its own. One in a
/// hundred makes a post in r/AskReddit (33 million) reach about 330,000,
/// and one in a 2,000-member community 20; `docs/sources.md` says so.
const SUBSCRIBERS_REACHED: f64 = 0.01;

/// `kind = "reddit"`: search, through an OAuth app's client credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedditConfig {
    pub query: String,
    /// Search one subreddit instead of all of Reddit.
    #[serde(default)]
    pub subreddit: Option<String>,
    /// The OAuth app's credentials: use `${ENV_VAR}`.
    pub client_id: Secret,
    pub client_secret: Secret,
    /// Where to fetch tokens (default: Reddit's own).
    #[serde(default)]
    pub auth_url: Option<String>,
    /// The brand's account, to answer from the inbox.
    #[serde(default)]
    pub reply: Option<RedditReply>,
}

/// `reply = { username = "acme_support", refresh_token = "${REDDIT_REFRESH_TOKEN}" }`:
/// the brand's account and a refresh token it granted this app (the
/// `submit`, `history` and `identity` scopes, `duration=permanent`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedditReply {
    pub username: String,
    pub refresh_token: Secret,
}

impl RedditConfig {
    /// Where tokens come from: `auth_url`, or Reddit's own.
    fn token_url(&self) -> String {
        self.auth_url
            .clone()
            .unwrap_or_else(|| "https://www.reddit.com/api/v1/access_token".into())
    }
}

impl Reddit {
    pub fn new(config: &SourceConfig, own: &RedditConfig) -> Self {
        let oauth = Some(OAuth::ClientCredentials {
            token_url: own.token_url(),
            client_id: own.client_id.clone(),
            client_secret: own.client_secret.clone(),
        });
        Reddit {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://oauth.reddit.com".into()),
            query: own.query.clone(),
            subreddit: own.subreddit.clone(),
            limit: config.page_size.min(100),
            oauth,
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, p: Post) -> Result<Mention, String> {
        let id = required(&p.name, "name")?.to_string();
        let created = p.created_utc.ok_or("post without created_utc")?;
        let created_at = DateTime::from_timestamp_millis((created * 1000.0) as i64)
            .filter(|_| created.is_finite())
            .ok_or("created_utc out of range")?;
        let text = match (p.title, p.selftext.filter(|s| !s.trim().is_empty())) {
            (Some(t), Some(body)) => format!("{t}\n{body}"),
            (Some(t), None) => t,
            (None, body) => body.unwrap_or_default(),
        };
        Ok(Mention {
            source: "reddit".into(),
            source_id: id,
            created_at,
            author: Author {
                handle: p.author,
                followers: p
                    .subreddit_subscribers
                    .map(|n| (n as f64 * SUBSCRIBERS_REACHED).round() as u64),
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url: p.permalink.map(|l| format!("https://www.reddit.com{l}")),
            metrics: Metrics {
                likes: p.score.map(|s| s.max(0) as u64),
                reposts: None,
                replies: p.num_comments,
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

impl Connector for Reddit {
    fn oauth(&self) -> Option<&OAuth> {
        self.oauth.as_ref()
    }

    fn audience_batch(&self) -> usize {
        1
    }

    fn wants_audience(&self, m: &Mention) -> bool {
        m.author.karma.is_none() && m.author.handle.as_deref().is_some_and(is_user_name)
    }

    fn audience_request(&self, http: &reqwest::Client, handles: &[String]) -> Option<reqwest::RequestBuilder> {
        let name = handles.first().filter(|h| is_user_name(h))?;
        let url = format!("{}/user/{name}/about", self.base.trim_end_matches('/'));
        Some(http.get(url).query(&[("raw_json", "1")]))
    }

    fn parse_audiences(&self, body: &[u8]) -> Result<Vec<(String, Audience)>, ParseError> {
        let about: About = super::from_json(body, "a user about")?;
        let d = about.data;
        let Some(name) = d.name else {
            return Ok(Vec::new());
        };
        if d.is_suspended {
            return Ok(vec![(name, Audience::default())]);
        }
        let count = |n: Option<i64>| n.map(|n| n.max(0) as u64);
        let karma = count(d.total_karma).or_else(|| match (count(d.link_karma), count(d.comment_karma)) {
            (None, None) => None,
            (link, comment) => Some(link.unwrap_or(0).saturating_add(comment.unwrap_or(0))),
        });
        let followers = count(d.subreddit.and_then(|s| s.subscribers));
        Ok(vec![(name, Audience { followers, karma })])
    }

    /// The post reaches its share of the subreddit plus the author's own
    /// followers, who see it in their feed.
    fn apply_audience(&self, m: &mut Mention, audience: &Audience) {
        if let Some(own) = audience.followers {
            m.author.followers = Some(m.author.followers.unwrap_or(0).saturating_add(own));
        }
        m.author.karma = m.author.karma.or(audience.karma);
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let base = self.base.trim_end_matches('/');
        let url = match &self.subreddit {
            Some(sub) => format!("{base}/r/{sub}/search"),
            None => format!("{base}/search"),
        };
        let mut query = vec![
            ("q", self.query.clone()),
            ("sort", "new".to_string()),
            ("type", "link".into()),
            ("limit", self.limit.to_string()),
            ("raw_json", "1".into()),
        ];
        if self.subreddit.is_some() {
            query.push(("restrict_sr", "1".into()));
        }
        if let Some(after) = page {
            query.push(("after", after.to_string()));
        }
        http.get(url).query(&query)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let listing: Listing = super::from_json(body, "a listing")?;
        let mut page = Page {
            next: listing.data.after,
            ..Page::default()
        };
        page.read::<Post>(listing.data.children.into_iter().map(|c| c.data).collect(), |p| {
            self.mention(p)
        });
        Ok(page)
    }
}

/// Answers as the brand's account: `POST /api/comment` with the post's or
/// comment's fullname (`thing_id`) and `api_type=json`, on a user token
/// from the account's refresh token. Reddit takes no idempotency key, so
/// after an unknown outcome the account's newest comments are searched for
/// one under the same parent.
pub struct RedditReplier {
    base: String,
    username: String,
    oauth: OAuth,
}

#[derive(Deserialize)]
struct Comment {
    name: Option<String>,
    parent_id: Option<String>,
    permalink: Option<String>,
    created_utc: Option<f64>,
}

impl RedditReplier {
    pub fn new(config: &SourceConfig, own: &RedditConfig) -> Option<Self> {
        let reply = own.reply.as_ref()?;
        Some(RedditReplier {
            base: Reddit::new(config, own).base.trim_end_matches('/').to_string(),
            username: reply.username.trim().trim_start_matches("u/").to_string(),
            oauth: OAuth::RefreshToken {
                token_url: own.token_url(),
                client_id: own.client_id.clone(),
                client_secret: own.client_secret.clone(),
                refresh_token: reply.refresh_token.clone(),
                client_auth: super::auth::ClientAuth::Basic,
            },
        })
    }

    fn posted(c: Comment) -> Option<Posted> {
        Some(Posted {
            url: c.permalink.map(|p| format!("https://www.reddit.com{p}")),
            id: c.name?,
        })
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        let token = net.bearer(&self.oauth).await?;
        let request = net
            .http()
            .post(format!("{}/api/comment", self.base))
            .bearer_auth(token)
            .form(&[
                ("api_type", "json"),
                ("thing_id", draft.target.source_id.as_str()),
                ("text", draft.text.as_str()),
            ]);
        let body = match net.send(request, true).await {
            Err(ReplyError::Refused(reason)) if reason.contains("401") => {
                net.forget_token().await;
                return Err(ReplyError::not_posted(reason));
            }
            other => other?,
        };
        // Refusals come back as 200 with `json.errors`: [[code, message, field]].
        #[derive(Deserialize)]
        struct Answer {
            json: AnswerJson,
        }
        #[derive(Deserialize)]
        struct AnswerJson {
            #[serde(default)]
            errors: Vec<Vec<serde_json::Value>>,
            data: Option<Things>,
            /// Seconds to wait, with a `RATELIMIT` error.
            ratelimit: Option<f64>,
        }
        #[derive(Deserialize)]
        struct Things {
            things: Vec<Thing>,
        }
        #[derive(Deserialize)]
        struct Thing {
            data: Comment,
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| unreadable("the comment", e))?;
        if let Some(error) = answer.json.errors.first() {
            let code = error.first().and_then(|v| v.as_str()).unwrap_or("");
            let message = error.get(1).and_then(|v| v.as_str()).unwrap_or("");
            let reason = format!("Reddit refused the comment: {code} {message}");
            return Err(if code == "RATELIMIT" {
                ReplyError::NotPosted {
                    reason,
                    after: answer
                        .json
                        .ratelimit
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(|s| std::time::Duration::from_secs_f64(s.min(86_400.0))),
                }
            } else {
                ReplyError::Refused(reason)
            });
        }
        answer
            .json
            .data
            .and_then(|d| d.things.into_iter().next())
            .and_then(|t| Self::posted(t.data))
            .ok_or_else(|| unreadable("the comment", "no comment in it"))
    }

    pub async fn find(&self, net: &Net, draft: &Draft) -> Result<Option<Posted>, ReplyError> {
        let token = net.bearer(&self.oauth).await?;
        let request = net
            .http()
            .get(format!("{}/user/{}/comments", self.base, self.username))
            .query(&[("sort", "new"), ("limit", "100"), ("raw_json", "1")])
            .bearer_auth(token);
        let body = net.send(request, false).await?;
        let listing: Listing =
            serde_json::from_slice(&body).map_err(|e| ReplyError::not_posted(format!("unreadable comments: {e}")))?;
        let since = (draft.since - chrono::Duration::minutes(5)).timestamp() as f64;
        Ok(listing
            .data
            .children
            .into_iter()
            .filter_map(|child| serde_json::from_value::<Comment>(child.data).ok())
            .find(|c| {
                c.parent_id.as_deref() == Some(draft.target.source_id.as_str())
                    && c.created_utc.is_some_and(|t| t >= since)
            })
            .and_then(Self::posted))
    }
}
