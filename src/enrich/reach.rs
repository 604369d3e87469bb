//! How many people a mention reaches within 24 hours of posting: an estimate
//! from the author's audience, reposts and engagement for social posts, and
//! from the site's readership for reviews. `docs/reach.md` explains the
//! formulas; every constant comes from [`ReachConfig`].

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::mention::scored::{Reach, ReachInputs, MAX_REACH};
use crate::mention::Mention;

/// Constants of the reach model (see `docs/reach.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReachConfig {
    /// Audience assumed for an author whose network reports none.
    pub default_audience: f64,
    /// Average audience of one reposter, each repost exposing the post to it.
    pub reposter_audience: f64,
    /// People reached per like or reply, beyond the author's own audience
    /// (engagement pushes a post into feeds and ranking).
    pub engagement_reach: f64,
    /// Source kinds that are review sites: their mentions are read by visitors
    /// of the reviewed page, not by followers.
    pub review_sources: Vec<String>,
    /// People who read one review on each site within a day, by source kind.
    pub review_readership: BTreeMap<String, f64>,
    /// Readership for a review site not listed in `review_readership`.
    pub default_review_readership: f64,
    /// Extra share of readership per helpful vote on a review.
    pub helpful_vote_factor: f64,
}

impl Default for ReachConfig {
    fn default() -> Self {
        let sites = [
            ("appstore", 400.0),
            ("googleplay", 400.0),
            ("appstoreconnect", 400.0),
            ("google_business", 250.0),
            ("google_places", 250.0),
            ("yelp", 150.0),
            ("trustpilot", 120.0),
        ];
        ReachConfig {
            default_audience: 50.0,
            reposter_audience: 150.0,
            engagement_reach: 3.0,
            review_sources: sites.iter().map(|(s, _)| s.to_string()).collect(),
            review_readership: sites.iter().map(|&(s, r)| (s.to_string(), r)).collect(),
            default_review_readership: 100.0,
            helpful_vote_factor: 0.25,
        }
    }
}

/// Estimates the reach of `mention`.
pub fn estimate(mention: &Mention, config: &ReachConfig) -> Reach {
    let m = &mention.metrics;
    let is_review = mention.rating.is_some() || config.review_sources.contains(&mention.source);
    let (estimate, inputs) = if is_review {
        let readership = config
            .review_readership
            .get(&mention.source)
            .copied()
            .unwrap_or(config.default_review_readership);
        let helpful_votes = m.likes.unwrap_or(0);
        let people = readership * (1.0 + helpful_votes as f64 * config.helpful_vote_factor);
        let inputs = ReachInputs::Review {
            site: mention.source.clone(),
            readership,
            helpful_votes,
            helpful_vote_factor: config.helpful_vote_factor,
        };
        (people, inputs)
    } else {
        let audience = mention.author.followers.map_or(config.default_audience, |f| f as f64);
        let reposts = m.reposts.unwrap_or(0);
        let engagements = m.likes.unwrap_or(0).saturating_add(m.replies.unwrap_or(0));
        let spread =
            audience + reposts as f64 * config.reposter_audience + engagements as f64 * config.engagement_reach;
        let people = m.views.map_or(spread, |v| spread.max(v as f64));
        let inputs = ReachInputs::Social {
            audience,
            audience_known: mention.author.followers.is_some(),
            reposts,
            reposter_audience: config.reposter_audience,
            engagements,
            engagement_reach: config.engagement_reach,
            views: m.views,
        };
        (people, inputs)
    };
    Reach {
        people: saturate(estimate),
        inputs,
    }
}

/// Rounds to whole people, treating NaN and negatives as nobody and capping at [`MAX_REACH`].
fn saturate(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= MAX_REACH as f64 {
        MAX_REACH
    } else {
        x.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mention::{Author, Metrics};
    use proptest::prelude::*;

    fn mention(source: &str, followers: Option<u64>, metrics: Metrics, rating: Option<u8>) -> Mention {
        Mention {
            source: source.into(),
            source_id: "1".into(),
            created_at: chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default(),
            author: Author {
                handle: Some("a".into()),
                followers,
                karma: None,
            },
            text: "t".into(),
            text_chars: 1,
            url: None,
            metrics,
            rating,
            lang: None,
            brand: None,
            time_estimated: false,
            reply: None,
        }
    }

    #[test]
    fn social_reach_adds_audience_reposts_and_engagement() {
        let config = ReachConfig::default();
        let metrics = Metrics {
            likes: Some(10),
            reposts: Some(2),
            replies: Some(5),
            views: None,
        };
        let r = estimate(&mention("mastodon", Some(1000), metrics, None), &config);
        assert_eq!(r.people, 1000 + 2 * 150 + 15 * 3);
        let unknown = estimate(&mention("mastodon", None, Metrics::default(), None), &config);
        assert_eq!(unknown.people, 50);
    }

    #[test]
    fn views_win_when_larger() {
        let config = ReachConfig::default();
        let metrics = Metrics {
            views: Some(90_000),
            ..Metrics::default()
        };
        assert_eq!(
            estimate(&mention("x", Some(100), metrics, None), &config).people,
            90_000
        );
    }

    #[test]
    fn reviews_use_site_readership_scaled_by_helpful_votes() {
        let config = ReachConfig::default();
        let metrics = Metrics {
            likes: Some(4),
            ..Metrics::default()
        };
        assert_eq!(
            estimate(&mention("appstore", None, metrics, Some(1)), &config).people,
            800
        );
        assert_eq!(
            estimate(&mention("somesite", None, Metrics::default(), Some(2)), &config).people,
            100
        );
    }

    #[test]
    fn huge_counts_saturate() {
        let config = ReachConfig::default();
        let metrics = Metrics {
            likes: Some(u64::MAX),
            reposts: Some(u64::MAX),
            replies: Some(u64::MAX),
            views: Some(u64::MAX),
        };
        assert_eq!(
            estimate(&mention("x", Some(u64::MAX), metrics, None), &config).people,
            MAX_REACH
        );
        assert_eq!(
            estimate(&mention("yelp", None, metrics, Some(1)), &config).people,
            MAX_REACH
        );
    }

    proptest! {
        #[test]
        fn reach_is_never_negative_nan_or_over_the_cap(
            followers in proptest::option::of(any::<u64>()),
            likes in proptest::option::of(any::<u64>()),
            reposts in proptest::option::of(any::<u64>()),
            replies in proptest::option::of(any::<u64>()),
            views in proptest::option::of(any::<u64>()),
            rating in proptest::option::of(1u8..=5),
            reposter in 0.0f64..1e12,
        ) {
            let config = ReachConfig { reposter_audience: reposter, ..ReachConfig::default() };
            let metrics = Metrics { likes, reposts, replies, views };
            let r = estimate(&mention("bluesky", followers, metrics, rating), &config);
            prop_assert!(r.people <= MAX_REACH);
            if followers.is_some_and(|f| f > 0) && rating.is_none() {
                prop_assert!(r.people > 0);
            }
        }
    }
}
