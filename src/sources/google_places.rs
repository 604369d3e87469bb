//! Google Places reviews through the new Places API (`GET /v1/places/{id}`
//! with the field mask `reviews`). Google returns at most the five newest
//! reviews and no paging, so each poll is one request: new reviews are found
//! by diffing against the store (its unique key) and the cursor's time. Only
//! the new API is supported; the legacy one, which reports over-quota as HTTP
//! 200 with `OVER_QUERY_LIMIT`, is not.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{required, time_of, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

pub struct GooglePlaces {
    base: String,
    place_id: String,
    key: Option<String>,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct Place {
    #[serde(default)]
    reviews: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    name: Option<String>,
    rating: Option<u8>,
    text: Option<LocalizedText>,
    original_text: Option<LocalizedText>,
    author_attribution: Option<Attribution>,
    publish_time: Option<String>,
    google_maps_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LocalizedText {
    text: Option<String>,
    language_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attribution {
    display_name: Option<String>,
}

/// `kind = "google_places"`: a place's reviews (Places API, new).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GooglePlacesConfig {
    pub place_id: String,
    /// The API key: use `${ENV_VAR}`.
    pub api_key: Secret,
}

impl GooglePlaces {
    pub fn new(config: &SourceConfig, own: &GooglePlacesConfig) -> Self {
        GooglePlaces {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://places.googleapis.com".into()),
            place_id: own.place_id.clone(),
            key: Some(own.api_key.expose().to_string()),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, r: Review) -> Result<Mention, String> {
        // "places/{place}/reviews/{review}": the review's identity.
        let id = required(&r.name, "name")?.to_string();
        let created_at = time_of(&r.publish_time, "publishTime")?;
        let rating = r
            .rating
            .filter(|s| (1..=5).contains(s))
            .ok_or("review without a 1-5 star rating")?;
        let text = r.original_text.or(r.text).unwrap_or(LocalizedText {
            text: None,
            language_code: None,
        });
        let body = text.text.unwrap_or_default();
        Ok(Mention {
            source: "google_places".into(),
            source_id: id,
            created_at,
            author: Author {
                handle: r.author_attribution.and_then(|a| a.display_name),
                followers: None,
                karma: None,
            },
            text_chars: body.chars().count() as u64,
            text: body,
            url: r.google_maps_uri,
            metrics: Metrics::default(),
            rating: Some(rating),
            lang: text.language_code,
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }
}

impl Connector for GooglePlaces {
    fn revisable(&self) -> bool {
        true
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, _page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!("{}/v1/places/{}", self.base.trim_end_matches('/'), self.place_id);
        let request = http.get(url).header("X-Goog-FieldMask", "reviews");
        match &self.key {
            Some(key) => request.header("X-Goog-Api-Key", key),
            None => request,
        }
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let place: Place = super::from_json(body, "a place")?;
        let mut page = Page::default();
        page.read::<Review>(place.reviews, |item| self.mention(item));
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        Ok(page)
    }
}
