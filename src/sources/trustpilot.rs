//! Trustpilot business-unit reviews (`GET /v1/business-units/{id}/reviews`,
//! newest first), with the API key as `apikey`; paged by the `next-page`
//! link. The star rating decides the label.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{required, time_of, Connector, Cursor, Page, ParseError, SourceConfig};
use crate::mention::{Author, Mention, Metrics};
use crate::secret::Secret;

pub struct Trustpilot {
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
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    rel: Option<String>,
    href: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    id: Option<String>,
    stars: Option<u8>,
    title: Option<String>,
    text: Option<String>,
    created_at: Option<String>,
    language: Option<String>,
    number_of_likes: Option<u64>,
    consumer: Option<Consumer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consumer {
    display_name: Option<String>,
}

/// `kind = "trustpilot"`: a business unit's reviews.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustpilotConfig {
    pub business_id: String,
    /// The API key: use `${ENV_VAR}`.
    pub api_key: Secret,
}

impl Trustpilot {
    pub fn new(config: &SourceConfig, own: &TrustpilotConfig) -> Self {
        Trustpilot {
            base: config
                .base_url
                .clone()
                .unwrap_or_else(|| "https://api.trustpilot.com".into()),
            business_id: own.business_id.clone(),
            limit: config.page_size.min(100),
            key: Some(own.api_key.expose().to_string()),
            brand: config.brand.clone(),
        }
    }

    fn mention(&self, r: Review) -> Result<Mention, String> {
        let id = required(&r.id, "id")?.to_string();
        let created_at = time_of(&r.created_at, "createdAt")?;
        let stars = r
            .stars
            .filter(|s| (1..=5).contains(s))
            .ok_or("review without a 1-5 star rating")?;
        let text = format!("{}\n{}", r.title.unwrap_or_default(), r.text.unwrap_or_default())
            .trim()
            .to_string();
        Ok(Mention {
            source: "trustpilot".into(),
            url: Some(format!("https://www.trustpilot.com/reviews/{id}")),
            source_id: id,
            created_at,
            author: Author {
                handle: r.consumer.and_then(|c| c.display_name),
                followers: None,
                karma: None,
            },
            text_chars: text.chars().count() as u64,
            text,
            metrics: Metrics {
                likes: r.number_of_likes,
                ..Metrics::default()
            },
            rating: Some(stars),
            lang: r.language,
            brand: self.brand.clone(),
            time_estimated: false,
            reply: None,
        })
    }
}

impl Connector for Trustpilot {
    fn revisable(&self) -> bool {
        true
    }

    fn request(&self, http: &reqwest::Client, _cursor: &Cursor, page: Option<&str>) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/v1/business-units/{}/reviews",
            self.base.trim_end_matches('/'),
            self.business_id
        );
        let mut query = vec![
            ("orderBy", "createdat.desc".to_string()),
            ("perPage", self.limit.to_string()),
            ("page", page.unwrap_or("1").to_string()),
        ];
        if let Some(key) = &self.key {
            query.push(("apikey", key.clone()));
        }
        http.get(url).query(&query)
    }

    fn parse(&self, body: &[u8], _headers: &HeaderMap, _cursor: &Cursor) -> Result<Page, ParseError> {
        let response: Response = super::from_json(body, "a reviews response")?;
        let mut page = Page::default();
        page.read::<Review>(response.reviews, |item| self.mention(item));
        page.items.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        page.next = response.links.iter().find_map(|l| {
            let href = l.href.as_deref().filter(|_| l.rel.as_deref() == Some("next-page"))?;
            let number = href.split("page=").nth(1)?.split('&').next()?;
            number.parse::<u32>().ok().map(|n| n.to_string())
        });
        Ok(page)
    }
}
