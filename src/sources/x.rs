//! X (Twitter) v2 recent search, app-only bearer token: `since_id` from the
//! newest post seen, `next_token` paging, authors' follower counts from the
//! `author_id` expansion, engagement from `public_metrics` (impressions
//! become views).

use std::collections::HashMap;

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::reply::{unreadable, Draft, Net, Posted, ReplyError};
use super::{required, time_of, with_bearer, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

pub struct X {
    base: String,
    query: String,
    limit: u32,
    token: Option<String>,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    data: Vec<serde_json::Value>,
    includes: Option<Includes>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Includes {
    #[serde(default)]
    users: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    id: Option<String>,
    username: Option<String>,
    public_metrics: Option<UserMetrics>,
}

#[derive(Deserialize)]
struct UserMetrics {
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct Meta {
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct Tweet {
    id: Option<String>,
    text: Option<String>,
    created_at: Option<String>,
    lang: Option<String>,
    author_id: Option<String>,
    public_metrics: Option<TweetMetrics>,
}

#[derive(Deserialize)]
struct TweetMetrics {
    retweet_count: Option<u64>,
    reply_count: Option<u64>,
    like_count: Option<u64>,
    quote_count: Option<u64>,
    impression_count: Option<u64>,
}

/// `kind = "x"`: recent search with an app-only bearer token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XConfig {
    pub query: String,
    /// The app-only bearer token: use `${ENV_VAR}`.
    pub token: Secret,
    /// The brand's account, to answer from the inbox.
    #[serde(default)]
    pub reply: Option<XReply>,
}

/// `reply = { user_token = "${X_USER_TOKEN}" }`: an OAuth 2.0 user access
/// token of the brand's account with the `tweet.read`, `tweet.write` and
/// `users.read` scopes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XReply {
    pub user_token: Secret,
}

impl X {
    pub fn new(config: &SourceConfig, own: &XConfig) -> Self {
        X {
            base: config.base_url.clone().unwrap_or_else(|| "https://api.x.com".into()),
            query: own.query.clone(),
            limit: config.page_size.clamp(10, 100),
            token: Some(own.token.expose().to_string()),
            brand: config.brand.clone(),
        }
    }
}

impl Connector for X {
    fn request(&self, http: &reqwest::Client, cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!("{}/2/tweets/search/recent", self.base.trim_end_matches('/'));
        let mut query = vec![
            ("query", self.query.clone()),
            ("max_results", self.limit.to_string()),
            ("expansions", "author_id".into()),
            ("user.fields", "public_metrics".into()),
            ("tweet.fields", "created_at,lang,public_metrics".into()),
        ];
        if let Some(id) = &cursor.id {
            query.push(("since_id", id.clone()));
        }
        if let Some(p) = page {
            query.push(("next_token", p.to_string()));
        }
        with_bearer(http.get(url).query(&query), &self.token)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a search response")?;
        let users: HashMap<String, User> = response
            .includes
            .map(|i| i.users)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|u| Some((u.id.clone()?, u)))
            .collect();
        let mut page = Page {
            next: response.meta.and_then(|m| m.next_token),
            ..Page::default()
        };
        for value in response.data {
            let item = serde_json::from_value::<Tweet>(value)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    let id = required(&t.id, "id")?.to_string();
                    let created_at = time_of(&t.created_at, "created_at")?;
                    let user = t.author_id.as_ref().and_then(|a| users.get(a));
                    let username = user.and_then(|u| u.username.clone());
                    let m = t.public_metrics;
                    let text = t.text.unwrap_or_default();
                    Ok(Mention {
                        source: "x".into(),
                        url: username.as_ref().map(|u| format!("https://x.com/{u}/status/{id}")),
                        source_id: id,
                        created_at,
                        author: Author {
                            handle: username,
                            followers: user.and_then(|u| u.public_metrics.as_ref()?.followers_count),
                            karma: None,
                        },
                        text_chars: text.chars().count() as u64,
                        text,
                        metrics: Metrics {
                            likes: m.as_ref().and_then(|m| m.like_count),
                            reposts: m
                                .as_ref()
                                .map(|m| m.retweet_count.unwrap_or(0).saturating_add(m.quote_count.unwrap_or(0))),
                            replies: m.as_ref().and_then(|m| m.reply_count),
                            views: m.as_ref().and_then(|m| m.impression_count),
                        },
                        rating: None,
                        lang: t.lang,
                        brand: self.brand.clone(),
                        time_estimated: false,
                        reply: None,
                    })
                });
            page.add(item);
        }
        Ok(page)
    }
}

/// Answers as the brand's account: `POST /2/tweets` with
/// `reply.in_reply_to_tweet_id`. X takes no idempotency key, so after an
/// unknown outcome the account's own recent posts (`/2/users/{id}/tweets`
/// since the first attempt) are searched for a reply to the same post.
pub struct XReplier {
    base: String,
    token: Secret,
}

impl XReplier {
    pub fn new(config: &SourceConfig, own: &XConfig) -> Option<Self> {
        let reply = own.reply.as_ref()?;
        Some(XReplier {
            base: X::new(config, own).base.trim_end_matches('/').to_string(),
            token: reply.user_token.clone(),
        })
    }

    fn url(id: &str) -> String {
        format!("https://x.com/i/web/status/{id}")
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        let request = net
            .http()
            .post(format!("{}/2/tweets", self.base))
            .bearer_auth(self.token.expose())
            .json(&serde_json::json!({
                "text": draft.text,
                "reply": { "in_reply_to_tweet_id": draft.target.source_id },
            }));
        let body = net.send(request, true).await?;
        #[derive(Deserialize)]
        struct Created {
            data: CreatedTweet,
        }
        #[derive(Deserialize)]
        struct CreatedTweet {
            id: String,
        }
        let created: Created = serde_json::from_slice(&body).map_err(|e| unreadable("the new post", e))?;
        Ok(Posted {
            url: Some(Self::url(&created.data.id)),
            id: created.data.id,
        })
    }

    pub async fn find(&self, net: &Net, draft: &Draft) -> Result<Option<Posted>, ReplyError> {
        let me = net
            .send(
                net.http()
                    .get(format!("{}/2/users/me", self.base))
                    .bearer_auth(self.token.expose()),
                false,
            )
            .await?;
        #[derive(Deserialize)]
        struct Me {
            data: MeData,
        }
        #[derive(Deserialize)]
        struct MeData {
            id: String,
        }
        let me: Me =
            serde_json::from_slice(&me).map_err(|e| ReplyError::not_posted(format!("unreadable account: {e}")))?;
        let since = (draft.since - chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let request = net
            .http()
            .get(format!("{}/2/users/{}/tweets", self.base, me.data.id))
            .query(&[
                ("max_results", "100"),
                ("start_time", since.as_str()),
                ("tweet.fields", "referenced_tweets,created_at"),
            ])
            .bearer_auth(self.token.expose());
        let body = net.send(request, false).await?;
        #[derive(Deserialize)]
        struct Timeline {
            #[serde(default)]
            data: Vec<Own>,
        }
        #[derive(Deserialize)]
        struct Own {
            id: String,
            #[serde(default)]
            referenced_tweets: Vec<Referenced>,
        }
        #[derive(Deserialize)]
        struct Referenced {
            #[serde(rename = "type")]
            kind: String,
            id: String,
        }
        let timeline: Timeline =
            serde_json::from_slice(&body).map_err(|e| ReplyError::not_posted(format!("unreadable posts: {e}")))?;
        Ok(timeline
            .data
            .into_iter()
            .find(|t| {
                t.referenced_tweets
                    .iter()
                    .any(|r| r.kind == "replied_to" && r.id == draft.target.source_id)
            })
            .map(|t| Posted {
                url: Some(Self::url(&t.id)),
                id: t.id,
            }))
    }
}
