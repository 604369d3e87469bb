//! Bluesky: `app.bsky.feed.searchPosts` with `sort=latest`, asked for with
//! `since` (the newest post time seen), paged with the response's `cursor`.
//! Posts are deduplicated by their `uri` (the store's unique key). Search
//! results carry no follower counts: the core asks `getProfiles` for them,
//! 25 authors a call, and caches them.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::reply::{unreadable, Draft, Net, Posted, ReplyError};
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
    /// The brand's account, to answer from the inbox.
    #[serde(default)]
    pub reply: Option<BlueskyReply>,
}

/// `reply = { identifier = "acme.bsky.social", app_password = "${BSKY_APP_PASSWORD}" }`:
/// the brand's handle (or DID) and an app password (Settings → App
/// passwords), signed in at `service`, the account's PDS (default
/// `https://bsky.social`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyReply {
    pub identifier: String,
    pub app_password: Secret,
    #[serde(default)]
    pub service: Option<String>,
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

/// Answers as the brand's account: an app-password session
/// (`com.atproto.server.createSession`), the parent's `cid` and its
/// thread's root from `app.bsky.feed.getPosts`, then
/// `com.atproto.repo.createRecord` of an `app.bsky.feed.post` with the
/// reply's root and parent refs and the queued reply's own record key.
/// That key is what makes it exactly once: after an unknown outcome,
/// `com.atproto.repo.getRecord` with it says whether the post exists.
pub struct BlueskyReplier {
    service: String,
    identifier: String,
    app_password: Secret,
    /// The session's access token and the account's DID.
    session: tokio::sync::Mutex<Option<(String, String)>>,
}

#[derive(Deserialize, serde::Serialize, Clone)]
struct Ref {
    uri: String,
    cid: String,
}

impl BlueskyReplier {
    pub fn new(own: &BlueskyConfig) -> Option<Self> {
        let reply = own.reply.as_ref()?;
        Some(BlueskyReplier {
            service: super::reply::given(&reply.service)
                .unwrap_or_else(|| "https://bsky.social".into())
                .trim_end_matches('/')
                .to_string(),
            identifier: reply.identifier.trim().to_string(),
            app_password: reply.app_password.clone(),
            session: tokio::sync::Mutex::new(None),
        })
    }

    async fn session(&self, net: &Net) -> Result<(String, String), ReplyError> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref() {
            return Ok(s.clone());
        }
        let request = net
            .http()
            .post(format!("{}/xrpc/com.atproto.server.createSession", self.service))
            .json(&serde_json::json!({
                "identifier": self.identifier,
                "password": self.app_password.expose(),
            }));
        let body = net.send(request, false).await?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Session {
            access_jwt: String,
            did: String,
        }
        let s: Session =
            serde_json::from_slice(&body).map_err(|e| ReplyError::not_posted(format!("unreadable session: {e}")))?;
        *session = Some((s.access_jwt, s.did));
        Ok(session.clone().unwrap_or_default())
    }

    /// Runs `call` with a session, once more with a new one if the network
    /// says the session expired.
    async fn signed_in<T, F, Fut>(&self, net: &Net, call: F) -> Result<T, ReplyError>
    where
        F: Fn((String, String)) -> Fut,
        Fut: std::future::Future<Output = Result<T, ReplyError>>,
    {
        match call(self.session(net).await?).await {
            Err(ReplyError::Refused(reason)) if reason.contains("401") || reason.contains("xpired") => {
                *self.session.lock().await = None;
                call(self.session(net).await?).await
            }
            other => other,
        }
    }

    fn url(did: &str, rkey: &str) -> String {
        format!("https://bsky.app/profile/{did}/post/{rkey}")
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        self.signed_in(net, |(jwt, did)| async move {
            let request = net
                .http()
                .get(format!("{}/xrpc/app.bsky.feed.getPosts", self.service))
                .query(&[("uris", draft.target.source_id.as_str())])
                .bearer_auth(&jwt);
            let body = net.send(request, false).await?;
            #[derive(Deserialize)]
            struct Posts {
                posts: Vec<Parent>,
            }
            #[derive(Deserialize)]
            struct Parent {
                uri: String,
                cid: String,
                record: Option<ParentRecord>,
            }
            #[derive(Deserialize)]
            struct ParentRecord {
                reply: Option<Thread>,
            }
            #[derive(Deserialize)]
            struct Thread {
                root: Ref,
            }
            let posts: Posts =
                serde_json::from_slice(&body).map_err(|e| ReplyError::not_posted(format!("unreadable post: {e}")))?;
            let parent = posts
                .posts
                .into_iter()
                .next()
                .ok_or_else(|| ReplyError::Refused("the post is gone (deleted, or hidden from us)".into()))?;
            let parent_ref = Ref {
                uri: parent.uri,
                cid: parent.cid,
            };
            let root = parent
                .record
                .and_then(|r| r.reply)
                .map(|t| t.root)
                .unwrap_or_else(|| parent_ref.clone());
            let request = net
                .http()
                .post(format!("{}/xrpc/com.atproto.repo.createRecord", self.service))
                .bearer_auth(&jwt)
                .json(&serde_json::json!({
                    "repo": did,
                    "collection": "app.bsky.feed.post",
                    "rkey": draft.key,
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "text": draft.text,
                        "createdAt": crate::mention::format_time(net.now()),
                        "reply": { "root": root, "parent": parent_ref },
                    },
                }));
            let body = net.send(request, true).await?;
            #[derive(Deserialize)]
            struct Created {
                uri: String,
            }
            let created: Created = serde_json::from_slice(&body).map_err(|e| unreadable("the new post", e))?;
            Ok(Posted {
                url: Some(Self::url(&did, &draft.key)),
                id: created.uri,
            })
        })
        .await
    }

    pub async fn find(&self, net: &Net, draft: &Draft) -> Result<Option<Posted>, ReplyError> {
        self.signed_in(net, |(jwt, did)| async move {
            let request = net
                .http()
                .get(format!("{}/xrpc/com.atproto.repo.getRecord", self.service))
                .query(&[
                    ("repo", did.as_str()),
                    ("collection", "app.bsky.feed.post"),
                    ("rkey", draft.key.as_str()),
                ])
                .bearer_auth(&jwt);
            let (status, body) = net.exchange(request, false).await?;
            if status.is_success() {
                #[derive(Deserialize)]
                struct Found {
                    uri: String,
                }
                let found: Found = serde_json::from_slice(&body)
                    .map_err(|e| ReplyError::not_posted(format!("unreadable record: {e}")))?;
                return Ok(Some(Posted {
                    id: found.uri,
                    url: Some(Self::url(&did, &draft.key)),
                }));
            }
            // The PDS answers 400 RecordNotFound (some 404) for a key never written.
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| Some(v.get("error")?.as_str()?.to_string()));
            if status == reqwest::StatusCode::NOT_FOUND || code.as_deref() == Some("RecordNotFound") {
                Ok(None)
            } else {
                Err(ReplyError::Refused(super::reply::refusal(status, &body)))
            }
        })
        .await
    }
}
