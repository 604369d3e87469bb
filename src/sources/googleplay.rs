//! Google Play reviews of the brand's own app: the Android Publisher API's
//! `GET /androidpublisher/v3/applications/{package}/reviews`, signed in as
//! the brand's service account (an RS256 JWT exchanged for a token, see
//! [`super::auth`]), paged by `tokenPagination.nextPageToken`. The API
//! lists reviews created or changed in the last week, the most recently
//! changed first, each with the developer's reply if there is one; a review
//! the author edits comes back changed and is stored as a revision.

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::auth::ServiceAccountKey;
use super::reply::{unreadable, Draft, Net, Posted, ReplyError};
use super::{required, Connector, Cursor, OAuth, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics, OwnerReply};
use crate::secret::Secret;

/// The scope the Reply to Reviews API asks for.
const SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";

/// `kind = "googleplay"`: reviews of one of the brand's own Android apps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GooglePlayConfig {
    /// The app's package name, e.g. `com.acme.air`.
    pub package_name: String,
    /// The service account's JSON key (the whole file, as Google Cloud
    /// hands it out), from the environment: `${GOOGLE_PLAY_KEY}`. The
    /// account needs the "Reply to reviews" permission in Play Console.
    pub service_account: Secret,
    /// Ask for reviews translated to this language too (`translationLanguage`).
    #[serde(default)]
    pub translation_language: Option<String>,
    /// Answer reviews from the inbox through this service account
    /// (`reply = true`).
    #[serde(default)]
    pub reply: bool,
}

impl GooglePlayConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = super::not_blank("package_name", &self.package_name);
        if !self
            .package_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            problems.push((
                "package_name",
                "is not an Android package name (letters, digits, `.` and `_`)".into(),
            ));
        }
        if let Err(e) = ServiceAccountKey::parse(self.service_account.expose()) {
            problems.push(("service_account", e));
        }
        problems
    }
}

pub struct GooglePlay {
    base: String,
    package: String,
    limit: u32,
    translation: Option<String>,
    oauth: Option<OAuth>,
    brand: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    reviews: Vec<serde_json::Value>,
    token_pagination: Option<TokenPagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenPagination {
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    review_id: Option<String>,
    author_name: Option<String>,
    #[serde(default)]
    comments: Vec<Comment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Comment {
    user_comment: Option<UserComment>,
    developer_comment: Option<DeveloperComment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserComment {
    text: Option<String>,
    last_modified: Option<Timestamp>,
    star_rating: Option<i64>,
    reviewer_language: Option<String>,
    device: Option<String>,
    app_version_name: Option<String>,
    thumbs_up_count: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeveloperComment {
    text: Option<String>,
    last_modified: Option<Timestamp>,
}

/// A protobuf `Timestamp` in JSON: `seconds` is an int64, which Google
/// writes as a string (and some clients as a number).
#[derive(Deserialize)]
struct Timestamp {
    seconds: Option<Int64>,
    #[serde(default)]
    nanos: Option<i64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Int64 {
    Number(i64),
    Text(String),
}

impl Timestamp {
    fn time(&self) -> Option<DateTime<Utc>> {
        let seconds = match self.seconds.as_ref()? {
            Int64::Number(n) => *n,
            Int64::Text(t) => t.trim().parse().ok()?,
        };
        let nanos = self.nanos.filter(|n| (0..1_000_000_000).contains(n)).unwrap_or(0);
        DateTime::from_timestamp(seconds, nanos as u32)
    }
}

impl GooglePlay {
    pub fn new(config: &SourceConfig, own: &GooglePlayConfig) -> Self {
        // `check-config` refuses a key that does not read; without one the
        // requests go unsigned and the API says why.
        let oauth = ServiceAccountKey::parse(own.service_account.expose())
            .ok()
            .map(|key| OAuth::ServiceAccount {
                token_url: key.token_uri,
                client_email: key.client_email,
                private_key: Secret::new(key.private_key),
                scope: SCOPE.into(),
            });
        GooglePlay {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://androidpublisher.googleapis.com".into()),
            package: own.package_name.clone(),
            limit: config.page_size.min(100),
            translation: own.translation_language.clone(),
            oauth,
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, r: Review) -> Result<Mention, String> {
        let id = required(&r.review_id, "reviewId")?.to_string();
        let mut user = None;
        let mut reply = None;
        for c in r.comments {
            user = user.or(c.user_comment);
            reply = reply.or(c.developer_comment);
        }
        let user = user.ok_or("review without its userComment")?;
        let created_at = user
            .last_modified
            .as_ref()
            .and_then(Timestamp::time)
            .ok_or("userComment without a readable lastModified")?;
        let rating = user
            .star_rating
            .filter(|s| (1..=5).contains(s))
            .map(|s| s as u8)
            .ok_or("review without a 1-5 star rating")?;
        // A title and a body come joined by a tab.
        let body = user.text.unwrap_or_default().trim().replace('\t', "\n");
        let context = match (user.app_version_name, user.device) {
            (Some(v), Some(d)) => format!(" (version {v} on {d})"),
            (Some(v), None) => format!(" (version {v})"),
            (None, Some(d)) => format!(" (on {d})"),
            (None, None) => String::new(),
        };
        let text = format!("{body}{context}");
        let reply = reply.and_then(|d| {
            Some(OwnerReply {
                text: d.text.filter(|t| !t.trim().is_empty())?,
                at: d.last_modified.as_ref().and_then(Timestamp::time)?,
            })
        });
        Ok(Mention {
            source: "googleplay".into(),
            url: Some(format!(
                "https://play.google.com/store/apps/details?id={}&reviewId={id}",
                self.package
            )),
            source_id: id,
            created_at,
            time_estimated: false,
            author: Author {
                handle: r.author_name.filter(|a| !a.trim().is_empty()),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            metrics: Metrics {
                likes: user.thumbs_up_count.map(|n| n.max(0) as u64),
                ..Metrics::default()
            },
            rating: Some(rating),
            lang: user.reviewer_language,
            brand: self.brand.clone(),
            reply,
        })
    }
}

impl Connector for GooglePlay {
    fn oauth(&self) -> Option<&OAuth> {
        self.oauth.as_ref()
    }

    fn revisable(&self) -> bool {
        true
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/androidpublisher/v3/applications/{}/reviews",
            self.base.trim_end_matches('/'),
            self.package
        );
        let mut query = vec![("maxResults", self.limit.to_string())];
        if let Some(language) = &self.translation {
            query.push(("translationLanguage", language.clone()));
        }
        if let Some(token) = page {
            query.push(("token", token.to_string()));
        }
        http.get(url).query(&query)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a reviews.list response")?;
        let mut page = Page {
            next: response.token_pagination.and_then(|t| t.next_page_token),
            ..Page::default()
        };
        page.read::<Review>(response.reviews, |r| self.mention(r));
        Ok(page)
    }
}

/// Answers a review as the developer: `POST …/reviews/{reviewId}:reply`
/// with `replyText`. A review has one developer reply and posting again
/// replaces it, so a repeated attempt can never make a second one.
pub struct GooglePlayReplier {
    base: String,
    package: String,
    oauth: OAuth,
}

impl GooglePlayReplier {
    pub fn new(config: &SourceConfig, own: &GooglePlayConfig) -> Option<Self> {
        if !own.reply {
            return None;
        }
        let poller = GooglePlay::new(config, own);
        Some(GooglePlayReplier {
            base: poller.base.trim_end_matches('/').to_string(),
            package: poller.package,
            oauth: poller.oauth?,
        })
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        let token = net.bearer(&self.oauth).await?;
        let request = net
            .http()
            .post(format!(
                "{}/androidpublisher/v3/applications/{}/reviews/{}:reply",
                self.base, self.package, draft.target.source_id
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({ "replyText": draft.text }));
        let body = net.send(request, true).await?;
        #[derive(Deserialize)]
        struct Answer {
            result: Option<serde_json::Value>,
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| unreadable("the reply", e))?;
        answer.result.ok_or_else(|| unreadable("the reply", "no result"))?;
        Ok(Posted {
            id: draft.target.source_id.clone(),
            url: draft.target.url.clone(),
        })
    }
}
