//! App Store reviews of the brand's own app through App Store Connect:
//! `GET /v1/apps/{id}/customerReviews?sort=-createdDate&include=response`,
//! with a bearer the source signs itself (an ES256 JWT from the team's API
//! key, 20 minutes at most, see [`super::auth`]), paged by the `cursor` of
//! `links.next`. Unlike the public RSS feed (`appstore`) it reaches every
//! review of every territory, with the team's published response. Use one
//! of the two for an app, not both: their review ids differ.

use chrono::{DateTime, Utc};
use jsonwebtoken::Algorithm;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::reply::{unreadable, Draft, Net, Posted, ReplyError};
use super::{required, time_of, Connector, Cursor, OAuth, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics, OwnerReply};
use crate::secret::Secret;

/// How long a signed bearer is used (Apple refuses more than 20 minutes).
const BEARER_LIFETIME: chrono::Duration = chrono::Duration::minutes(20);

/// How long to hold off when `X-Rate-Limit` says the hourly budget is
/// spent: the window is a rolling hour, so part of it frees up soon.
const SPENT_BUDGET_WAIT: chrono::Duration = chrono::Duration::minutes(5);

/// `kind = "appstoreconnect"`: customer reviews of one of the brand's apps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppStoreConnectConfig {
    /// The app's Apple ID (numeric).
    pub app_id: String,
    /// The API key's issuer id and key id (Users and Access → Integrations).
    pub issuer_id: String,
    pub key_id: String,
    /// The `.p8` private key's text, from the environment: `${ASC_KEY}`.
    pub private_key: Secret,
    /// Only this territory's reviews (`USA`, `GBR`, …); all when absent.
    #[serde(default)]
    pub territory: Option<String>,
    /// Answer reviews from the inbox with this key (`reply = true`; its role
    /// must allow customer review responses).
    #[serde(default)]
    pub reply: bool,
}

impl AppStoreConnectConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = super::numeric_id("app_id", &self.app_id, "the app's numeric Apple ID");
        problems.extend(super::not_blank("issuer_id", &self.issuer_id));
        problems.extend(super::not_blank("key_id", &self.key_id));
        if let Err(e) = super::auth::check_key(Algorithm::ES256, self.private_key.expose()) {
            problems.push(("private_key", format!("{e} (the .p8 file App Store Connect gave)")));
        }
        if let Some(t) = &self.territory {
            if t.len() != 3 || !t.bytes().all(|b| b.is_ascii_uppercase()) {
                problems.push(("territory", "is a three-letter territory code such as USA".to_string()));
            }
        }
        problems
    }
}

pub struct AppStoreConnect {
    base: String,
    app_id: String,
    territory: Option<String>,
    limit: u32,
    oauth: OAuth,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    data: Vec<serde_json::Value>,
    #[serde(default)]
    included: Vec<serde_json::Value>,
    links: Option<Links>,
}

#[derive(Deserialize)]
struct Links {
    next: Option<String>,
}

#[derive(Deserialize)]
struct Review {
    id: Option<String>,
    attributes: Option<ReviewAttributes>,
    relationships: Option<ReviewRelationships>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReviewAttributes {
    rating: Option<i64>,
    title: Option<String>,
    body: Option<String>,
    reviewer_nickname: Option<String>,
    created_date: Option<String>,
    territory: Option<String>,
}

#[derive(Deserialize)]
struct ReviewRelationships {
    response: Option<Relationship>,
}

#[derive(Deserialize)]
struct Relationship {
    data: Option<Linkage>,
}

#[derive(Deserialize)]
struct Linkage {
    id: Option<String>,
}

#[derive(Deserialize)]
struct ResponseResource {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<String>,
    attributes: Option<ResponseAttributes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseAttributes {
    response_body: Option<String>,
    last_modified_date: Option<String>,
    state: Option<String>,
}

/// The `cursor` of a `links.next` URL: the next page is asked for on our
/// own base, so the bearer never goes to a host a response names.
fn cursor_of(next: &str) -> Option<String> {
    let url = reqwest::Url::parse(next).ok()?;
    let cursor = url.query_pairs().find(|(k, _)| k == "cursor")?.1;
    Some(cursor.into_owned()).filter(|c| !c.is_empty() && c.len() <= 512)
}

/// `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:0;`: the requests left
/// in the rolling hour.
fn hourly_remaining(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get("x-rate-limit")?.to_str().ok()?;
    value.split(';').find_map(|part| {
        let (key, n) = part.trim().split_once(':')?;
        (key.trim() == "user-hour-rem").then(|| n.trim().parse().ok()).flatten()
    })
}

impl AppStoreConnect {
    pub fn new(config: &SourceConfig, own: &AppStoreConnectConfig) -> Self {
        AppStoreConnect {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://api.appstoreconnect.apple.com".into()),
            app_id: own.app_id.clone(),
            territory: own.territory.clone(),
            limit: config.page_size.clamp(1, 200),
            oauth: OAuth::SignedBearer {
                algorithm: Algorithm::ES256,
                key_id: own.key_id.clone(),
                issuer: own.issuer_id.clone(),
                audience: "appstoreconnect-v1".into(),
                private_key: own.private_key.clone(),
                lifetime: BEARER_LIFETIME,
            },
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, r: Review, replies: &[(String, OwnerReply)]) -> Result<Mention, String> {
        let id = required(&r.id, "id")?.to_string();
        let a = r.attributes.ok_or("review without attributes")?;
        let created_at = time_of(&a.created_date, "createdDate")?;
        let rating = a
            .rating
            .filter(|s| (1..=5).contains(s))
            .map(|s| s as u8)
            .ok_or("review without a 1-5 star rating")?;
        let title = a.title.unwrap_or_default();
        let body = a.body.unwrap_or_default();
        let territory = a.territory.map(|t| format!(" (App Store {t})")).unwrap_or_default();
        let text = format!("{title}\n{body}").trim().to_string() + &territory;
        let reply_id = r
            .relationships
            .and_then(|rel| rel.response)
            .and_then(|rel| rel.data)
            .and_then(|d| d.id);
        let reply = reply_id.and_then(|rid| replies.iter().find(|(id, _)| *id == rid).map(|(_, r)| r.clone()));
        Ok(Mention {
            source: "appstoreconnect".into(),
            url: Some(format!("https://apps.apple.com/app/id{}?see-all=reviews", self.app_id)),
            source_id: id,
            created_at,
            time_estimated: false,
            author: Author {
                handle: a.reviewer_nickname.filter(|n| !n.trim().is_empty()),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            metrics: Metrics::default(),
            rating: Some(rating),
            lang: None,
            brand: self.brand.clone(),
            reply,
        })
    }
}

/// The published responses among `included`, by their id.
fn published_replies(included: Vec<serde_json::Value>) -> Vec<(String, OwnerReply)> {
    included
        .into_iter()
        .filter_map(|v| serde_json::from_value::<ResponseResource>(v).ok())
        .filter(|r| r.kind.as_deref() == Some("customerReviewResponses"))
        .filter_map(|r| {
            let a = r.attributes?;
            // A response still being reviewed by Apple is not public yet.
            if a.state.as_deref().is_some_and(|s| s != "PUBLISHED") {
                return None;
            }
            let at: DateTime<Utc> = time_of(&a.last_modified_date, "lastModifiedDate").ok()?;
            let text = a.response_body.filter(|t| !t.trim().is_empty())?;
            Some((r.id?, OwnerReply { text, at }))
        })
        .collect()
}

impl Connector for AppStoreConnect {
    fn oauth(&self) -> Option<&OAuth> {
        Some(&self.oauth)
    }

    fn revisable(&self) -> bool {
        true
    }

    fn quota_reset(
        &self,
        _status: reqwest::StatusCode,
        headers: &HeaderMap,
        _body: &[u8],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        (hourly_remaining(headers) == Some(0)).then(|| now + SPENT_BUDGET_WAIT)
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/v1/apps/{}/customerReviews",
            self.base.trim_end_matches('/'),
            self.app_id
        );
        let mut query = vec![
            ("sort", "-createdDate".to_string()),
            ("limit", self.limit.to_string()),
            ("include", "response".into()),
        ];
        if let Some(t) = &self.territory {
            query.push(("filter[territory]", t.clone()));
        }
        if let Some(cursor) = page {
            query.push(("cursor", cursor.to_string()));
        }
        http.get(url).query(&query)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a customerReviews response")?;
        let replies = published_replies(response.included);
        let mut page = Page {
            next: response.links.and_then(|l| l.next).as_deref().and_then(cursor_of),
            ..Page::default()
        };
        page.read::<Review>(response.data, |r| self.mention(r, &replies));
        Ok(page)
    }
}

/// Answers a review as the developer: `POST /v1/customerReviewResponses`
/// with the review in `relationships.review`. A review has one response
/// (a new one replaces it), and `GET /v1/customerReviews/{id}/response`
/// says whether it is there after an unknown outcome.
pub struct AppStoreConnectReplier {
    base: String,
    oauth: OAuth,
}

impl AppStoreConnectReplier {
    pub fn new(config: &SourceConfig, own: &AppStoreConnectConfig) -> Option<Self> {
        if !own.reply {
            return None;
        }
        let source = AppStoreConnect::new(config, own);
        Some(AppStoreConnectReplier {
            base: source.base.trim_end_matches('/').to_string(),
            oauth: source.oauth,
        })
    }

    fn posted(body: &[u8], draft: &Draft) -> Result<Option<Posted>, String> {
        #[derive(Deserialize)]
        struct Document {
            data: Option<ResponseResource>,
        }
        let document: Document = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        Ok(document.data.and_then(|d| d.id).map(|id| Posted {
            id,
            url: draft.target.url.clone(),
        }))
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        let token = net.bearer(&self.oauth).await?;
        let request = net
            .http()
            .post(format!("{}/v1/customerReviewResponses", self.base))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "data": {
                    "type": "customerReviewResponses",
                    "attributes": { "responseBody": draft.text },
                    "relationships": {
                        "review": { "data": { "type": "customerReviews", "id": draft.target.source_id } }
                    },
                }
            }));
        let body = net.send(request, true).await?;
        Self::posted(&body, draft)
            .map_err(|e| unreadable("the response", e))?
            .ok_or_else(|| unreadable("the response", "no data"))
    }

    pub async fn find(&self, net: &Net, draft: &Draft) -> Result<Option<Posted>, ReplyError> {
        let token = net.bearer(&self.oauth).await?;
        let request = net
            .http()
            .get(format!(
                "{}/v1/customerReviews/{}/response",
                self.base, draft.target.source_id
            ))
            .bearer_auth(token);
        let (status, body) = net.exchange(request, false).await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(ReplyError::Refused(super::reply::refusal(status, &body)));
        }
        Self::posted(&body, draft).map_err(|e| ReplyError::not_posted(format!("unreadable response: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hourly_budget_and_the_next_cursor_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit", "user-hour-lim:3600;user-hour-rem:0;".parse().unwrap());
        assert_eq!(hourly_remaining(&headers), Some(0));
        headers.insert(
            "x-rate-limit",
            "user-hour-lim:3600;user-hour-rem:3120;".parse().unwrap(),
        );
        assert_eq!(hourly_remaining(&headers), Some(3120));
        headers.insert("x-rate-limit", "nonsense".parse().unwrap());
        assert_eq!(hourly_remaining(&headers), None);
        assert_eq!(
            cursor_of("https://api.appstoreconnect.apple.com/v1/apps/1/customerReviews?cursor=Mg.ADiz&limit=2"),
            Some("Mg.ADiz".into())
        );
        assert_eq!(cursor_of("not a url"), None);
        assert_eq!(cursor_of("https://evil.example/?page=2"), None);
    }
}
