//! Mastodon: a hashtag's public timeline on a chosen instance
//! (`GET /api/v1/timelines/tag/:hashtag`). New items are asked for with
//! `min_id` (the newest status seen); a first poll walks back with `max_id`.
//! Post content is HTML: it becomes plain text. A content warning
//! (`spoiler_text`) is what the author wrote above the post, so it leads
//! the text.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::reply::{unreadable, Draft, Net, ReplyError};
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
    /// The brand's account on this instance, to answer from the inbox.
    #[serde(default)]
    pub reply: Option<MastodonReply>,
}

/// `reply = { token = "${MASTODON_REPLY_TOKEN}" }`: a user token of the
/// brand's account with the `write:statuses` and `read` scopes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonReply {
    pub token: Secret,
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

/// A reply's text as posted on Mastodon: the author's handle first, unless
/// already there (without it they are not notified).
pub fn posted_text(text: &str, author: Option<&str>) -> String {
    match author.map(|a| a.trim_start_matches('@')) {
        Some(handle) if !handle.is_empty() && !text.contains(&format!("@{handle}")) => format!("@{handle} {text}"),
        _ => text.to_string(),
    }
}

/// Answers as the brand's account: the status is looked up on the brand's
/// instance by its URL (`/api/v2/search?resolve=true`: ids are local to
/// each instance), then `POST /api/v1/statuses` with `in_reply_to_id`,
/// the author's handle leading the text (or they are not notified), and an
/// `Idempotency-Key` (Mastodon returns the first status for a repeated key
/// within an hour). After an unknown outcome, the thread's descendants are
/// searched for the brand account's reply.
pub struct MastodonReplier {
    base: String,
    token: Secret,
}

#[derive(Deserialize)]
struct Posted {
    id: Option<String>,
    url: Option<String>,
    in_reply_to_id: Option<String>,
    created_at: Option<String>,
    account: Option<PostedBy>,
}

#[derive(Deserialize)]
struct PostedBy {
    id: Option<String>,
}

impl MastodonReplier {
    pub fn new(config: &SourceConfig, own: &MastodonConfig) -> Option<Self> {
        let reply = own.reply.as_ref()?;
        Some(MastodonReplier {
            base: Mastodon::new(config, own).base.trim_end_matches('/').to_string(),
            token: reply.token.clone(),
        })
    }

    /// The text as posted: the author's handle first, unless already there.
    pub fn text(draft: &Draft) -> String {
        posted_text(&draft.text, draft.target.author.as_deref())
    }

    /// The status's id on the brand's instance.
    async fn local_id(&self, net: &Net, draft: &Draft) -> Result<String, ReplyError> {
        let Some(url) = &draft.target.url else {
            return Ok(draft.target.source_id.clone());
        };
        let request = net
            .http()
            .get(format!("{}/api/v2/search", self.base))
            .query(&[
                ("q", url.as_str()),
                ("type", "statuses"),
                ("resolve", "true"),
                ("limit", "1"),
            ])
            .bearer_auth(self.token.expose());
        let body = net.send(request, false).await?;
        #[derive(Deserialize)]
        struct Found {
            statuses: Vec<Posted>,
        }
        let found: Found = serde_json::from_slice(&body)
            .map_err(|e| ReplyError::not_posted(format!("unreadable search answer: {e}")))?;
        found.statuses.into_iter().find_map(|s| s.id).ok_or_else(|| {
            ReplyError::Refused("the brand's instance cannot find the post (deleted, or its server blocks ours)".into())
        })
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<super::reply::Posted, ReplyError> {
        let parent = self.local_id(net, draft).await?;
        let request = net
            .http()
            .post(format!("{}/api/v1/statuses", self.base))
            .bearer_auth(self.token.expose())
            .header("Idempotency-Key", &draft.key)
            .json(&serde_json::json!({
                "status": Self::text(draft),
                "in_reply_to_id": parent,
                "visibility": "public",
            }));
        let body = net.send(request, true).await?;
        let posted: Posted = serde_json::from_slice(&body).map_err(|e| unreadable("the new status", e))?;
        Ok(super::reply::Posted {
            id: posted.id.ok_or_else(|| unreadable("the new status", "no id"))?,
            url: posted.url,
        })
    }

    pub async fn find(&self, net: &Net, draft: &Draft) -> Result<Option<super::reply::Posted>, ReplyError> {
        let parent = self.local_id(net, draft).await?;
        let me = net
            .send(
                net.http()
                    .get(format!("{}/api/v1/accounts/verify_credentials", self.base))
                    .bearer_auth(self.token.expose()),
                false,
            )
            .await?;
        let me: PostedBy =
            serde_json::from_slice(&me).map_err(|e| ReplyError::not_posted(format!("unreadable account: {e}")))?;
        let context = net
            .send(
                net.http()
                    .get(format!("{}/api/v1/statuses/{parent}/context", self.base))
                    .bearer_auth(self.token.expose()),
                false,
            )
            .await?;
        #[derive(Deserialize)]
        struct Context {
            descendants: Vec<Posted>,
        }
        let context: Context =
            serde_json::from_slice(&context).map_err(|e| ReplyError::not_posted(format!("unreadable thread: {e}")))?;
        let since = draft.since - chrono::Duration::minutes(5);
        Ok(context.descendants.into_iter().find_map(|s| {
            let by = s.account.as_ref().and_then(|a| a.id.as_deref());
            let ours = s.in_reply_to_id.as_deref() == Some(parent.as_str())
                && by.is_some()
                && by == me.id.as_deref()
                && time_of(&s.created_at, "created_at").is_ok_and(|t| t >= since);
            ours.then_some(super::reply::Posted { id: s.id?, url: s.url })
        }))
    }
}
