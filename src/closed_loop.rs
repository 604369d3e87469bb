//! Whether answering won the detractor back: after a negative mention is
//! answered, its author's next mentions of the same brand on the same
//! network within `[inbox] follow_up` (default 14 days) are linked to the
//! case. The latest word decides:
//!
//! * **recovered**: a later mention is positive, or the review itself was
//!   re-rated up after the response;
//! * **lost**: a later mention is negative, or the review was re-rated down;
//! * **waiting**: nothing yet, and the follow-up window is still open;
//! * **no word**: the window closed without a positive or negative mention
//!   (a neutral one decides nothing).
//!
//! The recovery rate is recovered ÷ (recovered + lost + no word): cases
//! still waiting are left out until they are decided or their window ends.
//! `docs/closed-loop.md` explains the definitions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::sql_params;
use crate::store::sql::Sql;
use crate::store::{from_ms, StoreError};

/// Where one answered case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Waiting,
    Recovered,
    Lost,
    NoWord,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Waiting => "waiting",
            Outcome::Recovered => "recovered",
            Outcome::Lost => "lost",
            Outcome::NoWord => "no word",
        }
    }
}

/// One answered negative mention and what followed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Case {
    pub mention_id: i64,
    pub source: String,
    /// The first response (not undone).
    pub responded_at: String,
    pub outcome: Outcome,
    /// The mention that decided it (`None` for a re-rating, or undecided).
    pub decided_by: Option<i64>,
    pub decided_at: Option<String>,
    /// The author's later mentions of the brand in the window.
    pub follow_ups: Vec<i64>,
    /// For a review: its stars when answered, and now.
    pub rating_when_answered: Option<u8>,
    pub rating_now: Option<u8>,
}

/// Answered detractors and how many came back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    pub responded: u64,
    pub recovered: u64,
    pub lost: u64,
    pub waiting: u64,
    pub no_word: u64,
    /// recovered ÷ (recovered + lost + no word).
    pub recovery_rate: Option<f64>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        self.responded += 1;
        match outcome {
            Outcome::Recovered => self.recovered += 1,
            Outcome::Lost => self.lost += 1,
            Outcome::Waiting => self.waiting += 1,
            Outcome::NoWord => self.no_word += 1,
        }
        let settled = self.recovered + self.lost + self.no_word;
        self.recovery_rate = (settled > 0).then(|| self.recovered as f64 / settled as f64);
    }
}

/// A brand's closed loop over the cases answered in a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// Cases answered from `since` (inclusive) to `until`.
    pub since: String,
    pub until: String,
    pub follow_up_days: f64,
    #[serde(flatten)]
    pub total: Tally,
    pub by_source: BTreeMap<String, Tally>,
    /// NPS (from −100 to 100) of the answered reviews' stars when answered,
    /// and as they are now (re-rated or not); `None` without reviews.
    pub answered_reviews: u64,
    pub nps_when_answered: Option<f64>,
    pub nps_now: Option<f64>,
}

/// The mention (`r.mention_id`, answered at `r.at`, of brand row `f`) was
/// negative when it was answered: an edit since (a review re-rated up) has
/// moved the answered version to `mention_revisions`, where its label is.
const NEGATIVE_WHEN_ANSWERED: &str = "coalesce((SELECT v.label FROM mention_revisions v \
     WHERE v.mention_id = r.mention_id AND v.replaced_at > r.at ORDER BY v.replaced_at, v.id LIMIT 1), f.label) = 'negative'";

/// Which answers are looked at, and when.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// Cases whose first response falls in `[since, until)`…
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// …followed for this long after it…
    pub follow_up: chrono::Duration,
    /// …as far as is known at `now`.
    pub now: DateTime<Utc>,
}

/// The cases of `brand` answered in `period`.
pub fn cases(db: &dyn Sql, brand: &str, period: Period) -> Result<Vec<Case>, StoreError> {
    let Period {
        since,
        until,
        follow_up,
        now,
    } = period;
    let answered = db.rows(
        &format!(
            "SELECT r.mention_id, m.source, m.author, r.at, m.rating FROM \
               (SELECT mention_id, min(at) AS at FROM mention_actions \
                WHERE action = 'respond' AND undone_at IS NULL GROUP BY mention_id) r \
             JOIN mention_brands f ON f.mention_id = r.mention_id AND f.brand = ?1 \
             JOIN mentions m ON m.id = r.mention_id \
             WHERE r.at >= ?2 AND r.at < ?3 AND {NEGATIVE_WHEN_ANSWERED} ORDER BY r.at, r.mention_id"
        ),
        &sql_params![brand, since.timestamp_millis(), until.timestamp_millis()],
        |r| {
            Ok((
                r.required_int(0)?,
                r.required_text(1)?,
                r.text(2)?,
                r.required_int(3)?,
                r.int(4)?,
            ))
        },
    )?;
    answered
        .into_iter()
        .map(|(id, source, author, at, rating)| {
            follow(db, brand, id, &source, author.as_deref(), at, rating, follow_up, now)
        })
        .collect()
}

/// The case of one mention, if it was answered.
pub fn case_of(
    db: &dyn Sql,
    id: i64,
    follow_up: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Option<Case>, StoreError> {
    let row = db.row(
        &format!(
            "SELECT m.source, m.author, m.rating, r.at, f.brand FROM mentions m \
             JOIN (SELECT mention_id, min(at) AS at FROM mention_actions \
                   WHERE mention_id = ?1 AND action = 'respond' AND undone_at IS NULL GROUP BY mention_id) r \
               ON r.mention_id = m.id \
             JOIN mention_brands f ON f.mention_id = m.id \
             WHERE m.id = ?1 AND {NEGATIVE_WHEN_ANSWERED} ORDER BY f.brand LIMIT 1"
        ),
        &sql_params![id],
        |r| {
            Ok((
                r.required_text(0)?,
                r.text(1)?,
                r.int(2)?,
                r.required_int(3)?,
                r.required_text(4)?,
            ))
        },
    )?;
    let Some((source, author, rating, at, brand)) = row else {
        return Ok(None);
    };
    follow(db, &brand, id, &source, author.as_deref(), at, rating, follow_up, now).map(Some)
}

#[allow(clippy::too_many_arguments)]
fn follow(
    db: &dyn Sql,
    brand: &str,
    id: i64,
    source: &str,
    author: Option<&str>,
    responded_ms: i64,
    rating: Option<i64>,
    follow_up: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Case, StoreError> {
    let window_end = responded_ms.saturating_add(follow_up.num_milliseconds());
    let seen_until = window_end.min(now.timestamp_millis());
    // (time, mention, label) of each later word, oldest first.
    let mut words: Vec<(i64, Option<i64>, &'static str)> = Vec::new();
    let mut follow_ups = Vec::new();
    if let Some(author) = author {
        let later_words = db.rows(
            "SELECT m.id, m.created_at, f.label FROM mentions m \
             JOIN mention_brands f ON f.mention_id = m.id AND f.brand = ?3 \
             WHERE m.source = ?1 AND m.author = ?2 AND m.author IS NOT NULL \
               AND m.created_at > ?4 AND m.created_at <= ?5 AND m.id != ?6 ORDER BY m.created_at, m.id",
            &sql_params![source, author, brand, responded_ms, seen_until, id],
            |r| Ok((r.required_int(0)?, r.required_int(1)?, r.required_text(2)?)),
        )?;
        for (later, created, label) in later_words {
            follow_ups.push(later);
            match label.as_str() {
                "positive" => words.push((created, Some(later), "positive")),
                "negative" => words.push((created, Some(later), "negative")),
                _ => {}
            }
        }
    }
    // A review re-rated after the answer: its stars then (the first version
    // replaced after it) against its stars now.
    let rating_now = rating.and_then(|r| u8::try_from(r).ok());
    let mut rating_when_answered = rating_now;
    if rating.is_some() {
        let revisions: Vec<(i64, Option<i64>)> = db.rows(
            "SELECT replaced_at, rating FROM mention_revisions WHERE mention_id = ?1 AND replaced_at > ?2 \
             ORDER BY replaced_at, id",
            &sql_params![id, responded_ms],
            |r| Ok((r.required_int(0)?, r.int(1)?)),
        )?;
        if let (Some((_, Some(then))), Some((last, _))) = (revisions.first(), revisions.last()) {
            rating_when_answered = u8::try_from(*then).ok();
            match (rating_now, rating_when_answered) {
                (Some(now_stars), Some(then_stars)) if now_stars > then_stars => words.push((*last, None, "positive")),
                (Some(now_stars), Some(then_stars)) if now_stars < then_stars => words.push((*last, None, "negative")),
                _ => {}
            }
        }
    }
    words.sort_by_key(|w| w.0);
    let latest = words.last();
    let outcome = match latest {
        Some((_, _, "positive")) => Outcome::Recovered,
        Some(_) => Outcome::Lost,
        None if now.timestamp_millis() >= window_end => Outcome::NoWord,
        None => Outcome::Waiting,
    };
    Ok(Case {
        mention_id: id,
        source: source.to_string(),
        responded_at: crate::mention::format_time(from_ms(responded_ms)),
        outcome,
        decided_by: latest.and_then(|w| w.1),
        decided_at: latest.map(|w| crate::mention::format_time(from_ms(w.0))),
        follow_ups,
        rating_when_answered,
        rating_now,
    })
}

/// A brand's closed loop: the cases answered in `period`.
pub fn summary(db: &dyn Sql, brand: &str, period: Period) -> Result<Summary, StoreError> {
    let mut out = Summary {
        since: crate::mention::format_time(period.since),
        until: crate::mention::format_time(period.until),
        follow_up_days: period.follow_up.num_minutes() as f64 / 1440.0,
        ..Summary::default()
    };
    let (mut then, mut now_stars) = (Stars::default(), Stars::default());
    for case in cases(db, brand, period)? {
        out.total.add(case.outcome);
        out.by_source.entry(case.source.clone()).or_default().add(case.outcome);
        if let (Some(a), Some(b)) = (case.rating_when_answered, case.rating_now) {
            out.answered_reviews += 1;
            then.add(a);
            now_stars.add(b);
        }
    }
    out.nps_when_answered = then.nps();
    out.nps_now = now_stars.nps();
    Ok(out)
}

/// Promoters (5★) and detractors (1–3★) among reviews, the digest's mapping.
#[derive(Default)]
struct Stars {
    count: u64,
    promoters: u64,
    detractors: u64,
}

impl Stars {
    fn add(&mut self, stars: u8) {
        self.count += 1;
        match stars {
            5 => self.promoters += 1,
            4 => {}
            _ => self.detractors += 1,
        }
    }

    fn nps(&self) -> Option<f64> {
        (self.count > 0).then(|| (self.promoters as f64 - self.detractors as f64) / self.count as f64 * 100.0)
    }
}
