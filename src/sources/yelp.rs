//! Yelp business reviews (`GET /v3/businesses/{id}/reviews`, newest first),
//! with an API key as bearer token. Yelp sends at most a few review excerpts
//! per business and no paging, so each poll is one request; new reviews are
//! the ones newer than the cursor. The star rating decides the label. Rate limits come as
//! `RateLimit-Remaining` / `RateLimit-ResetTime` (an ISO time).

use chrono::NaiveDateTime;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{required, with_bearer, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

pub struct Yelp {
    base: String,
    business_id: String,
    limit: u32,
    key: Option<String>,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    reviews: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Review {
    id: Option<String>,
    url: Option<String>,
    text: Option<String>,
    rating: Option<u8>,
    time_created: Option<String>,
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    name: Option<String>,
}

/// Reads Yelp's `time_created`, "YYYY-MM-DD HH:MM:SS" in US Pacific time
/// (the API reference: "The time that the review was created in PST"; in
/// practice the local time of Los Angeles, so PDT in summer). In the hour
/// the clocks go back, the earlier reading is taken; a time inside the hour
/// they skip is read as if the clocks had not yet changed.
fn pacific_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{LocalResult, TimeZone};
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .map_err(|_| format!("time_created {text:?} is not YYYY-MM-DD HH:MM:SS"))?;
    let zone = chrono_tz::America::Los_Angeles;
    let t = match zone.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
        LocalResult::None => zone
            .from_local_datetime(&(local - chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t + chrono::Duration::hours(1))
            .ok_or_else(|| format!("time_created {text:?} does not exist in US Pacific time"))?,
    };
    Ok(t.with_timezone(&chrono::Utc))
}

/// `kind = "yelp"`: a business's reviews (Fusion API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YelpConfig {
    pub business_id: String,
    /// The Fusion API key: use `${ENV_VAR}`.
    pub api_key: Secret,
}

impl Yelp {
    pub fn new(config: &SourceConfig, own: &YelpConfig) -> Self {
        Yelp {
            base: config.base_url.clone().unwrap_or_else(|| "https://api.yelp.com".into()),
            business_id: own.business_id.clone(),
            limit: config.page_size.min(50),
            key: Some(own.api_key.expose().to_string()),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, r: Review) -> Result<Mention, String> {
        let id = required(&r.id, "id")?.to_string();
        let created = required(&r.time_created, "time_created")?;
        let created_at = pacific_time(created)?;
        let rating = r
            .rating
            .filter(|s| (1..=5).contains(s))
            .ok_or("review without a 1-5 star rating")?;
        let text = r.text.unwrap_or_default();
        Ok(Mention {
            source: "yelp".into(),
            source_id: id,
            created_at,
            author: Author {
                handle: r.user.and_then(|u| u.name),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            url: r.url,
            metrics: Metrics::default(),
            rating: Some(rating),
            lang: None,
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }
}

impl Connector for Yelp {
    fn revisable(&self) -> bool {
        true
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, _page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/v3/businesses/{}/reviews",
            self.base.trim_end_matches('/'),
            self.business_id
        );
        let query = [("sort_by", "newest".to_string()), ("limit", self.limit.to_string())];
        with_bearer(http.get(url).query(&query), &self.key)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a reviews response")?;
        let mut page = Page::default();
        page.read::<Review>(response.reviews, |item| self.mention(item));
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::pacific_time;

    #[test]
    fn review_times_are_us_pacific_standard_and_daylight() {
        let utc = |s: &str| crate::mention::format_time(pacific_time(s).unwrap());
        assert_eq!(utc("2026-11-20 16:40:31"), "2026-11-21T00:40:31Z"); // PST, UTC−8
        assert_eq!(utc("2026-07-04 09:15:00"), "2026-07-04T16:15:00Z"); // PDT, UTC−7
        assert_eq!(utc("2026-11-01 01:30:00"), "2026-11-01T08:30:00Z"); // the repeated hour: the first
        assert_eq!(utc("2026-03-08 02:30:00"), "2026-03-08T10:30:00Z"); // the skipped hour
        assert!(pacific_time("2026-11-20T16:40:31Z").is_err());
    }
}
