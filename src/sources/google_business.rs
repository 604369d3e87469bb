//! Google Business Profile reviews of the brand's own locations:
//! `GET /v4/accounts/{a}/locations/{l}/reviews?orderBy=updateTime desc` on
//! mybusiness.googleapis.com, signed in with the refresh token the brand's
//! account granted once (exchanged for access tokens, see [`super::auth`]),
//! paged by `nextPageToken`. Unlike the Places API (`google_places`, five
//! reviews at most) it lists every review, with the owner's reply; an edited
//! review comes back changed and is stored as a revision.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::reply::{unreadable, Draft, Net, Posted, ReplyError};
use super::{required, time_of, Connector, Cursor, OAuth, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics, OwnerReply};
use crate::secret::Secret;

/// `kind = "google_business"`: reviews of one location the brand manages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleBusinessConfig {
    /// The numeric ids in `accounts/{account_id}/locations/{location_id}`.
    pub account_id: String,
    pub location_id: String,
    /// The OAuth client and the refresh token its consent screen gave
    /// (scope `business.manage`), from the environment.
    pub client_id: Secret,
    pub client_secret: Secret,
    pub refresh_token: Secret,
    /// Where to exchange the refresh token (default: Google's).
    #[serde(default)]
    pub auth_url: Option<String>,
    /// Answer reviews from the inbox as the business (`reply = true`).
    #[serde(default)]
    pub reply: bool,
}

impl GoogleBusinessConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = super::numeric_id(
            "account_id",
            &self.account_id,
            "the account's numeric id (accounts/{id})",
        );
        problems.extend(super::numeric_id(
            "location_id",
            &self.location_id,
            "the location's numeric id (locations/{id})",
        ));
        problems
    }
}

pub struct GoogleBusiness {
    base: String,
    account: String,
    location: String,
    limit: u32,
    oauth: OAuth,
    brand: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    reviews: Vec<serde_json::Value>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    review_id: Option<String>,
    reviewer: Option<Reviewer>,
    star_rating: Option<String>,
    comment: Option<String>,
    create_time: Option<String>,
    review_reply: Option<Reply>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reviewer {
    display_name: Option<String>,
    #[serde(default)]
    is_anonymous: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply {
    comment: Option<String>,
    update_time: Option<String>,
}

/// The API's `StarRating` enum.
fn stars(rating: Option<&str>) -> Option<u8> {
    match rating? {
        "ONE" => Some(1),
        "TWO" => Some(2),
        "THREE" => Some(3),
        "FOUR" => Some(4),
        "FIVE" => Some(5),
        _ => None,
    }
}

impl GoogleBusiness {
    pub fn new(config: &SourceConfig, own: &GoogleBusinessConfig) -> Self {
        GoogleBusiness {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://mybusiness.googleapis.com".into()),
            account: own.account_id.clone(),
            location: own.location_id.clone(),
            limit: config.page_size.clamp(1, 50),
            oauth: OAuth::RefreshToken {
                token_url: own
                    .auth_url
                    .clone()
                    .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into()),
                client_id: own.client_id.clone(),
                client_secret: own.client_secret.clone(),
                refresh_token: own.refresh_token.clone(),
                client_auth: super::auth::ClientAuth::Form,
            },
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, r: Review) -> Result<Mention, String> {
        let id = required(&r.review_id, "reviewId")?.to_string();
        let created_at = time_of(&r.create_time, "createTime")?;
        let rating = stars(r.star_rating.as_deref()).ok_or("review without a ONE to FIVE starRating")?;
        // A rating without words has no comment at all.
        let text = r.comment.unwrap_or_default().trim().to_string();
        let handle = r
            .reviewer
            .filter(|a| !a.is_anonymous)
            .and_then(|a| a.display_name)
            .filter(|n| !n.trim().is_empty());
        let reply = r.review_reply.and_then(|reply| {
            Some(OwnerReply {
                text: reply.comment.filter(|t| !t.trim().is_empty())?,
                at: time_of(&reply.update_time, "reviewReply.updateTime").ok()?,
            })
        });
        Ok(Mention {
            source: "google_business".into(),
            source_id: id,
            created_at,
            time_estimated: false,
            author: Author {
                handle,
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url: None,
            metrics: Metrics::default(),
            rating: Some(rating),
            lang: None,
            brand: self.brand.clone(),
            reply,
        })
    }
}

impl Connector for GoogleBusiness {
    fn oauth(&self) -> Option<&OAuth> {
        Some(&self.oauth)
    }

    fn revisable(&self) -> bool {
        true
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/v4/accounts/{}/locations/{}/reviews",
            self.base.trim_end_matches('/'),
            self.account,
            self.location
        );
        let mut query = vec![
            ("pageSize", self.limit.to_string()),
            ("orderBy", "updateTime desc".to_string()),
        ];
        if let Some(token) = page {
            query.push(("pageToken", token.to_string()));
        }
        http.get(url).query(&query)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a reviews list response")?;
        let mut page = Page {
            next: response.next_page_token.filter(|t| !t.is_empty()),
            ..Page::default()
        };
        page.read::<Review>(response.reviews, |r| self.mention(r));
        Ok(page)
    }
}

/// Answers a review as the business: `PUT
/// /v4/accounts/{a}/locations/{l}/reviews/{id}/reply` with `comment`. A
/// review has one reply and putting it again replaces it: nothing to look
/// for after an unknown outcome.
pub struct GoogleBusinessReplier {
    source: GoogleBusiness,
}

impl GoogleBusinessReplier {
    pub fn new(config: &SourceConfig, own: &GoogleBusinessConfig) -> Option<Self> {
        own.reply.then(|| GoogleBusinessReplier {
            source: GoogleBusiness::new(config, own),
        })
    }

    pub async fn post(&self, net: &Net, draft: &Draft) -> Result<Posted, ReplyError> {
        let s = &self.source;
        let token = net.bearer(&s.oauth).await?;
        let request = net
            .http()
            .put(format!(
                "{}/v4/accounts/{}/locations/{}/reviews/{}/reply",
                s.base.trim_end_matches('/'),
                s.account,
                s.location,
                draft.target.source_id
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({ "comment": draft.text }));
        let body = net.send(request, true).await?;
        let reply: Reply = serde_json::from_slice(&body).map_err(|e| unreadable("the reply", e))?;
        reply.comment.ok_or_else(|| unreadable("the reply", "no comment"))?;
        Ok(Posted {
            id: draft.target.source_id.clone(),
            url: draft.target.url.clone(),
        })
    }
}
