//! What people complain about: the most frequent words and two-word phrases
//! in a day's negative mentions, without stop words and without the brand's
//! own keywords, compared with their 7-day average.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{DigestError, Term};
use crate::brand::BrandConfig;
use crate::sql_params;
use crate::store::sql::Sql;
use crate::terms::Tokenizer;

const WORDS: usize = 10;
const PHRASES: usize = 5;

/// The texts of a brand's negative mentions in a time range.
pub const NEGATIVE_TEXTS_SQL: &str = "SELECT f.created_at, m.text FROM mention_brands f \
     JOIN mentions m ON m.id = f.mention_id \
     WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3";

/// Top words and phrases of the negative mentions in `[start, end)`, each with
/// its daily average over `[week_start, start)`.
pub fn complaints(
    db: &dyn Sql,
    brand: &BrandConfig,
    week_start: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Term>, DigestError> {
    let tokenizer = Tokenizer::for_brand(brand);
    let (mut day_words, mut day_phrases) = (HashMap::new(), HashMap::new());
    let (mut week_words, mut week_phrases) = (HashMap::new(), HashMap::new());
    db.for_each(
        NEGATIVE_TEXTS_SQL,
        &sql_params![&brand.name, week_start.timestamp_millis(), end.timestamp_millis()],
        &mut |row| {
            let at = row.required_int(0)?;
            let text = row.required_text(1)?;
            if at >= start.timestamp_millis() {
                tokenizer.count(&text, &mut day_words, &mut day_phrases);
            } else {
                tokenizer.count(&text, &mut week_words, &mut week_phrases);
            }
            Ok(())
        },
    )?;
    let days = ((start - week_start).num_hours() as f64 / 24.0).round().max(1.0);
    let top = |today: HashMap<String, u64>, week: &HashMap<String, u64>, n: usize, min: u64| {
        let mut ranked: Vec<(String, u64)> = today.into_iter().filter(|(_, c)| *c >= min).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(n)
            .map(|(term, count)| Term {
                average_7d: (week.get(&term).copied().unwrap_or(0) as f64 / days * 10.0).round() / 10.0,
                term,
                count,
            })
            .collect::<Vec<_>>()
    };
    let mut terms = top(day_words, &week_words, WORDS, 1);
    terms.extend(top(day_phrases, &week_phrases, PHRASES, 2));
    Ok(terms)
}
