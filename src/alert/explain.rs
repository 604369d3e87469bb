//! Why an incident fired: what changed in its negative mentions against
//! the scope's recent past. Staff read this before the numbers: the words
//! and phrases that are suddenly everywhere, where they come from, and
//! whether it is a crowd or one angry account posting forty times.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::mention::format_time;
use crate::sql_params;
use crate::store::sql::Sql;
use crate::store::StoreError;
use crate::terms::Tokenizer;

/// Negative mentions of the incident read at most (the earliest first).
const MAX_INCIDENT_ROWS: u32 = 5_000;
/// Negative mentions of the week before read at most (the latest first).
const MAX_BASELINE_ROWS: u32 = 20_000;
/// Authors of the four weeks before remembered at most.
const MAX_KNOWN_AUTHORS: u32 = 200_000;
const TERMS: usize = 5;
const PHRASES: usize = 3;
const NAMED: usize = 5;

/// The incident's negative mentions, earliest first (public so that a test
/// checks the plan of this very text).
pub const INCIDENT_MENTIONS_SQL: &str =
    "SELECT m.author, m.source, m.lang, m.text, f.created_at, g.id, g.kind FROM mention_brands f \
     JOIN mentions m ON m.id = f.mention_id LEFT JOIN spam_groups g ON g.id = f.group_id \
     WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3 \
       AND (CAST(?4 AS TEXT) IS NULL OR m.source = ?4) \
     ORDER BY f.created_at, f.mention_id LIMIT ?5";

/// A name (source, language, author) and how many negative mentions it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    pub name: String,
    pub count: u64,
}

/// What an incident's negative mentions say, beside its numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Explanation {
    /// Words far more frequent than in the week before, most telling first.
    pub terms: Vec<String>,
    /// Two-word phrases, likewise.
    pub phrases: Vec<String>,
    /// Negative mentions read for the explanation.
    pub negative_mentions: u64,
    /// How many accounts wrote them (one angry account is not a wave).
    pub distinct_authors: u64,
    /// The account that wrote the most of them.
    pub top_author: Option<Counted>,
    /// Share of the authors who had not mentioned the brand in the four
    /// weeks before (a new crowd, or the usual critics).
    pub new_author_share: Option<f64>,
    pub sources: Vec<Counted>,
    pub languages: Vec<Counted>,
    /// When the first of them was posted.
    pub first_mention_at: Option<String>,
    /// The copy-paste campaign half or more of them belong to: then the
    /// wave is one message posted by many accounts, not many customers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignShare>,
}

/// A campaign's part in an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignShare {
    /// The group's id (`/?group=`).
    pub id: i64,
    /// The incident's negative mentions in it.
    pub mentions: u64,
    /// The accounts that posted them.
    pub accounts: u64,
    /// Its share of the incident's negative mentions.
    pub share: f64,
    /// The words they share (the first copy's text).
    pub text: String,
}

impl Explanation {
    /// One line for people: "refund, cancelled flight; 42 negative mentions
    /// by 3 authors (40 by @x); 10% new; x 30, reddit 12; en 40".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let words: Vec<&str> = self.terms.iter().chain(&self.phrases).map(String::as_str).collect();
        if !words.is_empty() {
            parts.push(format!("about {}", words.join(", ")));
        }
        let mut who = format!(
            "{} negative mentions by {} author{}",
            self.negative_mentions,
            self.distinct_authors,
            if self.distinct_authors == 1 { "" } else { "s" }
        );
        if let Some(top) = self.top_author.as_ref().filter(|t| t.count > 1) {
            who.push_str(&format!(" ({} by {})", top.count, top.name));
        }
        parts.push(who);
        if let Some(c) = &self.campaign {
            parts.push(format!(
                "mostly one copy-paste campaign: {} copies from {} accounts ({:.0}%), \"{}\"",
                c.mentions,
                c.accounts,
                c.share * 100.0,
                crate::mention::snippet(&c.text, 80)
            ));
        }
        if let Some(share) = self.new_author_share {
            parts.push(format!("{:.0}% of authors new to the brand", share * 100.0));
        }
        let list = |items: &[Counted]| {
            items
                .iter()
                .map(|c| format!("{} {}", c.name, c.count))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.sources.is_empty() {
            parts.push(format!("sources: {}", list(&self.sources)));
        }
        if !self.languages.is_empty() {
            parts.push(format!("languages: {}", list(&self.languages)));
        }
        parts.join("; ")
    }
}

/// Explains the negative mentions of `brand` (on `source`, if given) in
/// `[from, until)` against the week before `from`.
pub fn explain(
    db: &dyn Sql,
    brand: &str,
    source: Option<&str>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Explanation, StoreError> {
    let tokenizer = Tokenizer::without([brand]);
    let mut explanation = Explanation::default();
    let (mut words, mut phrases) = (HashMap::new(), HashMap::new());
    let mut authors: HashMap<String, u64> = HashMap::new();
    let mut sources: HashMap<String, u64> = HashMap::new();
    let mut languages: HashMap<String, u64> = HashMap::new();
    // Campaign id → (first copy's text, its authors, its mentions).
    let mut campaigns: HashMap<i64, (String, HashSet<String>, u64)> = HashMap::new();
    db.for_each(
        INCIDENT_MENTIONS_SQL,
        &sql_params![brand, ms(from), ms(until), source, MAX_INCIDENT_ROWS],
        &mut |row| {
            let author = row.text(0)?;
            let text = row.required_text(3)?;
            if explanation.first_mention_at.is_none() {
                explanation.first_mention_at = DateTime::from_timestamp_millis(row.required_int(4)?).map(format_time);
            }
            explanation.negative_mentions += 1;
            if let (Some(id), Some("campaign")) = (row.int(5)?, row.text(6)?.as_deref()) {
                let entry = campaigns.entry(id).or_insert_with(|| (text.clone(), HashSet::new(), 0));
                entry.2 += 1;
                entry.1.insert(author.as_deref().unwrap_or_default().to_lowercase());
            }
            if let Some(author) = author.filter(|a| !a.trim().is_empty()) {
                *authors.entry(author.to_lowercase()).or_default() += 1;
            }
            *sources.entry(row.required_text(1)?).or_default() += 1;
            if let Some(lang) = row.text(2)? {
                *languages.entry(lang).or_default() += 1;
            }
            tokenizer.count(&text, &mut words, &mut phrases);
            Ok(())
        },
    )?;
    explanation.distinct_authors = authors.len() as u64;
    explanation.campaign = campaigns
        .into_iter()
        .max_by_key(|(id, (_, _, n))| (*n, -id))
        .filter(|(_, (_, _, n))| 2 * n >= explanation.negative_mentions)
        .map(|(id, (text, accounts, n))| CampaignShare {
            id,
            mentions: n,
            accounts: accounts.len() as u64,
            share: (n as f64 / explanation.negative_mentions.max(1) as f64 * 1000.0).round() / 1000.0,
            text,
        });
    explanation.top_author = ranked(&authors, 1).into_iter().next();
    explanation.sources = ranked(&sources, NAMED);
    explanation.languages = ranked(&languages, NAMED);

    let baseline_from = from - Duration::days(7);
    let (mut usual_words, mut usual_phrases) = (HashMap::new(), HashMap::new());
    let mut usual_mentions = 0u64;
    db.for_each(
        "SELECT m.text FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
         WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3 \
           AND (CAST(?4 AS TEXT) IS NULL OR m.source = ?4) \
         ORDER BY f.created_at DESC LIMIT ?5",
        &sql_params![brand, ms(baseline_from), ms(from), source, MAX_BASELINE_ROWS],
        &mut |row| {
            usual_mentions += 1;
            tokenizer.count(&row.required_text(0)?, &mut usual_words, &mut usual_phrases);
            Ok(())
        },
    )?;
    let shares = (explanation.negative_mentions, usual_mentions);
    explanation.terms = over_represented(&words, &usual_words, shares, TERMS);
    explanation.phrases = over_represented(&phrases, &usual_phrases, shares, PHRASES);

    if !authors.is_empty() {
        let mut known: HashSet<String> = HashSet::new();
        db.for_each(
            "SELECT DISTINCT lower(m.author) FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
             WHERE f.brand = ?1 AND f.created_at >= ?2 AND f.created_at < ?3 AND m.author IS NOT NULL LIMIT ?4",
            &sql_params![brand, ms(from - Duration::days(28)), ms(from), MAX_KNOWN_AUTHORS],
            &mut |row| {
                known.insert(row.required_text(0)?);
                Ok(())
            },
        )?;
        let new = authors.keys().filter(|a| !known.contains(*a)).count();
        explanation.new_author_share = Some((new as f64 / authors.len() as f64 * 1000.0).round() / 1000.0);
    }
    Ok(explanation)
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn ranked(counts: &HashMap<String, u64>, n: usize) -> Vec<Counted> {
    let mut items: Vec<Counted> = counts
        .iter()
        .map(|(name, &count)| Counted {
            name: name.clone(),
            count,
        })
        .collect();
    items.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    items.truncate(n);
    items
}

/// Terms seen at least three times and in at least twice the share of
/// negative mentions they had in the week before (`mentions` = (now,
/// usual)), ranked by count × log of that ratio (frequent and new beats
/// either alone). Shares, not counts: in a wave every usual word is more
/// frequent too; what is news is the word that was rare.
fn over_represented(
    now: &HashMap<String, u64>,
    usual: &HashMap<String, u64>,
    mentions: (u64, u64),
    n: usize,
) -> Vec<String> {
    let (now_mentions, usual_mentions) = (mentions.0.max(1) as f64, mentions.1 as f64);
    let mut scored: Vec<(f64, &String)> = now
        .iter()
        .filter_map(|(term, &count)| {
            let share = count as f64 / now_mentions;
            let usual_share = (usual.get(term).copied().unwrap_or(0) as f64 + 0.5) / (usual_mentions + 1.0);
            let ratio = share / usual_share;
            (count >= 3 && ratio >= 2.0).then(|| (count as f64 * ratio.ln(), term))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, t)| t.clone()).collect()
}
