//! Enrichment: turns a [`Mention`] into a [`ScoredMention`] by matching it to
//! brands ([`matcher`]), scoring its sentiment ([`sentiment`]) and estimating
//! its reach ([`reach`]). Pure and synchronous: the same code serves replay,
//! live polling and benchmarks.

pub mod matcher;
pub mod query;
pub mod reach;
pub mod sentiment;

use std::sync::Arc;

use crate::brand::BrandConfig;
pub use crate::mention::scored::ScoredMention;
use crate::mention::Mention;
use matcher::{BrandMatcher, MatcherError};

/// What enrichment made of one mention.
#[derive(Debug)]
pub enum Enriched {
    Scored(Box<ScoredMention>),
    /// About none of the configured brands; not stored.
    Unmatched,
    /// The mention named a brand that is not configured.
    UnknownBrand(String),
}

pub struct Enricher {
    matcher: BrandMatcher,
    brand_names: Vec<Arc<str>>,
    reach: reach::ReachConfig,
}

impl Enricher {
    pub fn new(brands: &[BrandConfig], reach: &reach::ReachConfig) -> Result<Self, MatcherError> {
        let matcher = BrandMatcher::new(brands)?;
        let brand_names = matcher.brand_names().iter().map(|n| Arc::from(n.as_str())).collect();
        Ok(Enricher {
            matcher,
            brand_names,
            reach: reach.clone(),
        })
    }

    pub fn enrich(&self, mut mention: Mention) -> Enriched {
        let brand_ids = match &mention.brand {
            Some(name) => match self.matcher.brand_id(name) {
                Some(id) if self.matcher.keeps_attribution(id, &mention.text) => vec![id],
                Some(_) => Vec::new(),
                None => return Enriched::UnknownBrand(name.clone()),
            },
            None => self.matcher.matches_input(&query::Input {
                text: &mention.text,
                lang: mention.lang.as_deref(),
                source: Some(&mention.source),
                author: mention.author.handle.as_deref(),
                url: mention.url.as_deref(),
            }),
        };
        if brand_ids.is_empty() {
            return Enriched::Unmatched;
        }
        let sentiment = sentiment::score(&mention.text);
        let label = sentiment::mention_label(&sentiment, mention.rating);
        let unread = sentiment::unread_language(&sentiment, mention.rating, mention.lang.as_deref(), &mention.text);
        if let (Some(lang), None) = (&unread, &mention.lang) {
            mention.lang = Some(lang.clone());
        }
        let reach = reach::estimate(&mention, &self.reach);
        Enriched::Scored(Box::new(ScoredMention {
            brands: brand_ids.iter().map(|&id| self.brand_names[id].clone()).collect(),
            sentiment,
            label,
            reach,
            not_scored: unread.is_some(),
            mention,
        }))
    }
}
