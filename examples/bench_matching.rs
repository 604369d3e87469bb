//! Brand matching throughput against 10, 100 and 1,000 brands of 10
//! keywords each, and the same brands as Boolean queries of 20 terms, for
//! `bench/run.sh`. One thread, a fixed set of texts.
//!
//! usage: bench_matching FEED
//! Prints one JSON object per kind and brand count: brands, kind, texts,
//! matched, texts_per_second.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use complaint_monitor::brand::BrandConfig;
use complaint_monitor::enrich::matcher::BrandMatcher;
use complaint_monitor::mention::Mention;

/// `n` brands: the two the feed talks about plus made-up ones, each with a
/// phrase, a single word, a handle, a hashtag and more phrases (10 terms).
fn brands(n: usize) -> Vec<BrandConfig> {
    (0..n)
        .map(|i| {
            let (name, stem) = match i {
                0 => ("Acme Air".to_string(), "acme air".to_string()),
                1 => ("Globex Bank".to_string(), "globex bank".to_string()),
                _ => (format!("Brand {i}"), format!("brandname{i}")),
            };
            let tag = stem.replace(' ', "");
            BrandConfig {
                name,
                keywords: vec![
                    stem.clone(),
                    format!("{stem} app"),
                    format!("{stem} support"),
                    format!("{stem} card"),
                    format!("{tag}help"),
                    format!("{stem} store"),
                ],
                handles: vec![format!("@{tag}"), format!("@{tag}help")],
                hashtags: vec![format!("#{tag}"), format!("#{tag}fail")],
                exclude: vec![],
                query: None,
                ..Default::default()
            }
        })
        .collect()
}

/// The same brands written as Boolean queries of 20 terms each: phrases,
/// words, handles, hashtags, a wildcard, a NEAR and exclusions
/// (`docs/matching.md`).
fn query_brands(n: usize) -> Vec<BrandConfig> {
    brands(n)
        .into_iter()
        .map(|b| {
            let stem = b.keywords[0].clone();
            let tag = stem.replace(' ', "");
            let query = format!(
                "(\"{stem}\" OR \"{stem} app\" OR \"{stem} support\" OR \"{stem} card\" OR {tag}help OR \"{stem} store\" \
                 OR @{tag} OR @{tag}help OR #{tag} OR #{tag}fail OR {tag}* OR (\"{stem}\" NEAR/3 refund*)) \
                 AND NOT (\"{stem} fryer\" OR \"{stem} toy\" OR giveaway OR lang:xx OR url:{tag}-jobs.example \
                 OR author:{tag}bot OR \"{stem} stock\" OR \"{stem} shares\")"
            );
            BrandConfig {
                keywords: Vec::new(),
                handles: Vec::new(),
                hashtags: Vec::new(),
                query: Some(query),
                ..b
            }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let feed = std::env::args().nth(1).ok_or("usage: bench_matching FEED")?;
    let texts: Vec<String> = BufReader::new(std::fs::File::open(feed)?)
        .split(b'\n')
        .filter_map(|l| l.ok())
        .filter_map(|l| Mention::from_feed_line(&l).ok())
        .map(|m| m.text)
        .take(100_000)
        .collect();
    for (kind, make) in [
        ("keywords", brands as fn(usize) -> Vec<BrandConfig>),
        ("queries", query_brands),
    ] {
        for n in [10, 100, 1000] {
            let matcher = BrandMatcher::new(&make(n))?;
            let mut matched = 0usize;
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let started = Instant::now();
                matched = texts.iter().filter(|t| !matcher.matches(t).is_empty()).count();
                best = best.min(started.elapsed().as_secs_f64());
            }
            println!(
                "{}",
                serde_json::json!({"brands": n, "kind": kind, "texts": texts.len(), "matched": matched,
                                   "texts_per_second": texts.len() as f64 / best,
                                   "automaton_bytes": matcher.memory_usage()})
            );
        }
    }
    Ok(())
}
