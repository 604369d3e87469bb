//! YouTube comment threads of one video (`video_id`) or of everything on a
//! channel (`channel_id`), newest first (`order=time`), with an API key. The
//! API has no "since": the core stops the page walk at the newest comment it
//! stored. Over quota is an HTTP 403 with `quotaExceeded`: the daily quota
//! resets at midnight US Pacific time (the Data API's documentation), so the
//! source waits until then rather than asking again every minute and
//! spending nothing but refusals; `/healthz` shows the time.

use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::reply::{unreadable, Draft, Net, Posted, ReplyError};
use super::{required, time_of, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

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

#[derive(Deserialize)]
struct ErrorResponse {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorReason>,
}

#[derive(Deserialize)]
struct ErrorReason {
    reason: Option<String>,
}

/// The first midnight in US Pacific time after `now`.
fn next_pacific_midnight(now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let zone = chrono_tz::America::Los_Angeles;
    let tomorrow = now.with_timezone(&zone).date_naive().succ_opt()?;
    // Midnight exists on every US Pacific day (DST moves at 2 a.m.).
    let midnight = tomorrow.and_hms_opt(0, 0, 0)?;
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// `kind = "youtube"`: comment threads of a video or a whole channel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YouTubeConfig {
    /// The video whose comments to watch, or a whole channel's.
    #[serde(default)]
    pub video_id: Option<String>,
    #[serde(default)]
    pub channel_id: Option<String>,
    /// Only threads with these terms (`searchTerms`).
    #[serde(default)]
    pub query: Option<String>,
    /// The Data API key: use `${ENV_VAR}`.
    pub api_key: Secret,
    /// The brand's channel, to answer from the inbox.
    #[serde(default)]
    pub reply: Option<YouTubeReply>,
}

/// `reply = { client_id = "…", client_secret = "${YT_CLIENT_SECRET}", refresh_token = "${YT_REFRESH_TOKEN}" }`:
/// an OAuth client and the refresh token the brand's channel granted it
/// (scope `https://www.googleapis.com/auth/youtube.force-ssl`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YouTubeReply {
    pub client_id: Secret,
    pub client_secret: Secret,
    pub refresh_token: Secret,
    /// Where to fetch tokens (default: Google's own).
    #[serde(default)]
    pub auth_url: Option<String>,
}

impl YouTubeConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if given(&self.video_id) || given(&self.channel_id) {
            Vec::new()
        } else {
            vec![("video_id", "YouTube needs video_id or channel_id".to_string())]
        }
    }
}

impl YouTube {
    pub fn new(config: &SourceConfig, own: &YouTubeConfig) -> Self {
        YouTube {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://www.googleapis.com".into()),
            video_id: own.video_id.clone(),
            channel_id: own.channel_id.clone(),
            search: own.query.clone(),
            limit: config.page_size.min(100),
            key: Some(own.api_key.expose().to_string()),
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
                karma: None,
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
            time_estimated: false,
            reply: None,
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

    fn quota_reset(
        &self,
        status: reqwest::StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if status != reqwest::StatusCode::FORBIDDEN {
            return None;
        }
        let error: ErrorResponse = serde_json::from_slice(body).ok()?;
        // `rateLimitExceeded` is a short-term limit: the shared rules wait a minute.
        let daily = error
            .error
            .errors
            .iter()
            .any(|e| matches!(e.reason.as_deref(), Some("quotaExceeded" | "dailyLimitExceeded")));
        daily.then(|| next_pacific_midnight(now)).flatten()
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a commentThreads response")?;
        let mut page = Page {
            next: response.next_page_token,
            ..Page::default()
        };
        page.read::<Thread>(response.items, |t| self.mention(t));
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_quota_resets_at_the_next_midnight_pacific_in_winter_and_summer() {
        // PST (UTC-8): 10:00 UTC on 20 November is 02:00 there.
        assert_eq!(
            next_pacific_midnight(utc("2026-11-20T10:00:00Z")),
            Some(utc("2026-11-21T08:00:00Z"))
        );
        // PDT (UTC-7), and just before midnight there.
        assert_eq!(
            next_pacific_midnight(utc("2026-07-01T06:59:00Z")),
            Some(utc("2026-07-01T07:00:00Z"))
        );
        // The night the clocks go back (1 November 2026): midnight is still PDT.
        assert_eq!(
            next_pacific_midnight(utc("2026-10-31T12:00:00Z")),
            Some(utc("2026-11-01T07:00:00Z"))
        );
    }

    #[test]
    fn only_the_daily_quota_waits_for_midnight() {
        let table = toml::from_str("name = \"yt\"\nkind = \"youtube\"\nvideo_id = \"v\"\napi_key = \"k\"").unwrap();
        let config = SourceConfig::from_toml(table).unwrap();
        let crate::sources::SourceSpec::Youtube(own) = &config.spec else {
            panic!("a youtube source")
        };
        let source = YouTube::new(&config, own);
        let now = utc("2026-11-20T10:00:00Z");
        let body = |reason: &str| format!(r#"{{"error":{{"code":403,"errors":[{{"reason":"{reason}"}}]}}}}"#);
        let forbidden = reqwest::StatusCode::FORBIDDEN;
        assert_eq!(
            source.quota_reset(forbidden, &HeaderMap::new(), body("quotaExceeded").as_bytes(), now),
            Some(utc("2026-11-21T08:00:00Z"))
        );
        assert_eq!(
            source.quota_reset(forbidden, &HeaderMap::new(), body("rateLimitExceeded").as_bytes(), now),
            None
        );
        assert_eq!(
            source.quota_reset(forbidden, &HeaderMap::new(), body("forbidden").as_bytes(), now),
            None
        );
        assert_eq!(source.quota_reset(forbidden, &HeaderMap::new(), b"not json", now), None);
        assert_eq!(
            source.quota_reset(
                reqwest::StatusCode::OK,
                &HeaderMap::new(),
                body("quotaExceeded").as_bytes(),
                now
            ),
            None
        );
    }
}

/// Answers as the brand's channel: `POST /youtube/v3/comments?part=snippet`
/// with the thread's id as `parentId`, on a user token from the channel's
/// refresh token. YouTube takes no idempotency key, so after an unknown
/// outcome the thread's replies are searched for the same text posted
/// since the first attempt.
pub struct YouTubeReplier {
    base: String,
    oauth: super::OAuth,
}

#[derive(Deserialize)]
struct CommentResource {
    id: Option<String>,
    snippet: Option<CommentSnippet>,
}

impl YouTubeReplier {
    pub fn new(config: &SourceConfig, own: &YouTubeConfig) -> Option<Self> {
        let reply = own.reply.as_ref()?;
        Some(YouTubeReplier {
            base: YouTube::new(config, own).base.trim_end_matches('/').to_string(),
            oauth: super::OAuth::RefreshToken {
                token_url: super::reply::given(&reply.auth_url)
                    .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into()),
                client_id: reply.client_id.clone(),
                client_secret: reply.client_secret.clone(),
                refresh_token: reply.refresh_token.clone(),
                client_auth: super::auth::ClientAuth::Form,
            },
        })
    }

    /// The reply's link: the mention's video, highlighting the new comment.
    fn url(draft: &Draft, id: &str) -> Option<String> {
        let video = draft.target.url.as_deref()?.split_once("v=")?.1.split('&').next()?;
        Some(format!("https://www.youtube.com/watch?v={video}&lc={id}"))
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        let token = net.bearer(&self.oauth).await?;
        let request = net
            .http()
            .post(format!("{}/youtube/v3/comments", self.base))
            .query(&[("part", "snippet")])
            .bearer_auth(token)
            .json(&serde_json::json!({
                "snippet": { "parentId": draft.target.source_id, "textOriginal": draft.text },
            }));
        let body = net.send(request, true).await?;
        let created: CommentResource = serde_json::from_slice(&body).map_err(|e| unreadable("the comment", e))?;
        let id = created.id.ok_or_else(|| unreadable("the comment", "no id"))?;
        Ok(Posted {
            url: Self::url(draft, &id),
            id,
        })
    }

    pub async fn find(&self, net: &Net, draft: &Draft) -> Result<Option<Posted>, ReplyError> {
        let token = net.bearer(&self.oauth).await?;
        let request = net
            .http()
            .get(format!("{}/youtube/v3/comments", self.base))
            .query(&[
                ("part", "snippet"),
                ("parentId", draft.target.source_id.as_str()),
                ("maxResults", "100"),
                ("textFormat", "plainText"),
            ])
            .bearer_auth(token);
        let body = net.send(request, false).await?;
        #[derive(Deserialize)]
        struct Comments {
            #[serde(default)]
            items: Vec<CommentResource>,
        }
        let comments: Comments =
            serde_json::from_slice(&body).map_err(|e| ReplyError::not_posted(format!("unreadable comments: {e}")))?;
        let since = draft.since - chrono::Duration::minutes(5);
        Ok(comments.items.into_iter().find_map(|c| {
            let snippet = c.snippet?;
            let same = snippet.text_original.as_deref().map(str::trim) == Some(draft.text.trim())
                && time_of(&snippet.published_at, "publishedAt").is_ok_and(|t| t >= since);
            let id = c.id.filter(|_| same)?;
            Some(Posted {
                url: Self::url(draft, &id),
                id,
            })
        }))
    }
}
