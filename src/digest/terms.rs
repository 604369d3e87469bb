//! What people complain about: the most frequent words and two-word phrases
//! in a day's negative mentions, without stop words and without the brand's
//! own keywords, compared with their 7-day average.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::{DigestError, Term};
use crate::config::BrandConfig;

const WORDS: usize = 10;
const PHRASES: usize = 5;

/// Common English function words, social-media filler and words that carry
/// no complaint on their own.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyone",
    "are",
    "as",
    "at",
    "back",
    "be",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "done",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "know",
    "like",
    "lol",
    "me",
    "more",
    "most",
    "my",
    "no",
    "not",
    "now",
    "of",
    "off",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "please",
    "really",
    "right",
    "same",
    "she",
    "should",
    "so",
    "some",
    "still",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "today",
    "too",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yet",
    "every",
    "single",
    "thanks",
    "nothing",
    "never",
    "ever",
    "even",
    "been",
    "seriously",
    "anymore",
    "day",
    "time",
    "https",
    "http",
    "www",
    "com",
];

struct Tokenizer {
    stop: HashSet<String>,
}

impl Tokenizer {
    fn new(brand: &BrandConfig) -> Self {
        let mut stop: HashSet<String> = STOP_WORDS.iter().map(|w| w.to_string()).collect();
        let brand_terms = brand
            .keywords
            .iter()
            .chain(&brand.handles)
            .chain(&brand.hashtags)
            .chain(std::iter::once(&brand.name));
        for term in brand_terms {
            for word in term.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
                if !word.is_empty() {
                    stop.insert(word.to_string());
                }
            }
        }
        Tokenizer { stop }
    }

    /// Words worth counting in `text`, in order; `None` marks where a removed
    /// word was, so phrases never span one.
    fn words(&self, text: &str) -> Vec<Option<String>> {
        text.split_whitespace()
            .map(|raw| {
                if raw.contains('@') || raw.contains("://") {
                    return None;
                }
                let word: String = raw
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .chars()
                    .flat_map(char::to_lowercase)
                    .collect();
                let plain = word.chars().all(|c| c.is_alphabetic() || c == '\'');
                (word.chars().count() >= 3 && plain && !self.stop.contains(&word)).then_some(word)
            })
            .collect()
    }

    fn count(&self, text: &str, words: &mut HashMap<String, u64>, phrases: &mut HashMap<String, u64>) {
        let tokens = self.words(text);
        for w in tokens.iter().flatten() {
            *words.entry(w.clone()).or_default() += 1;
        }
        for pair in tokens.windows(2) {
            if let [Some(a), Some(b)] = pair {
                *phrases.entry(format!("{a} {b}")).or_default() += 1;
            }
        }
    }
}

/// The texts of a brand's negative mentions in a time range.
pub(crate) const NEGATIVE_TEXTS_SQL: &str = "SELECT f.created_at, m.text FROM mention_brands f \
     JOIN mentions m ON m.id = f.mention_id \
     WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3";

/// Top words and phrases of the negative mentions in `[start, end)`, each with
/// its daily average over `[week_start, start)`.
pub fn complaints(
    conn: &Connection,
    brand: &BrandConfig,
    week_start: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Term>, DigestError> {
    let tokenizer = Tokenizer::new(brand);
    let mut stmt = conn.prepare_cached(NEGATIVE_TEXTS_SQL)?;
    let mut rows = stmt.query(params![
        brand.name,
        week_start.timestamp_millis(),
        end.timestamp_millis()
    ])?;
    let (mut day_words, mut day_phrases) = (HashMap::new(), HashMap::new());
    let (mut week_words, mut week_phrases) = (HashMap::new(), HashMap::new());
    while let Some(row) = rows.next()? {
        let at: i64 = row.get(0)?;
        let text: String = row.get(1)?;
        if at >= start.timestamp_millis() {
            tokenizer.count(&text, &mut day_words, &mut day_phrases);
        } else {
            tokenizer.count(&text, &mut week_words, &mut week_phrases);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_words_stop_words_handles_and_links_are_left_out() {
        let brand = BrandConfig {
            name: "Acme Air".into(),
            keywords: vec!["acme air".into()],
            handles: vec!["@acmeair".into()],
            hashtags: vec!["#acmeair".into()],
            exclude: vec![],
        };
        let t = Tokenizer::new(&brand);
        let words: Vec<String> = t
            .words("@acmeair Acme Air LOST my luggage again!!! https://t.co/x #acmeair lost luggage")
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(words, ["lost", "luggage", "lost", "luggage"]);
        let (mut w, mut p) = (HashMap::new(), HashMap::new());
        t.count("lost luggage, lost luggage", &mut w, &mut p);
        assert_eq!(p.get("lost luggage"), Some(&2));
        assert_eq!(p.get("luggage lost"), Some(&1));
    }
}
