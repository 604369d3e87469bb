//! Micro-benchmarks of the per-mention enrichment steps: brand matching,
//! reach, and the whole enrichment (with VADER). `cargo bench --bench enrich`.

use chrono::Utc;
use complaint_monitor::brand::BrandConfig;
use complaint_monitor::config::Config;
use complaint_monitor::enrich::matcher::BrandMatcher;
use complaint_monitor::enrich::reach;
use complaint_monitor::enrich::reach::ReachConfig;
use complaint_monitor::mention::{Author, Mention, Metrics};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const TEXTS: &[&str] = &[
    "@acmeair lost my bag AGAIN. 3 hours on hold and nobody answers!!! never flying with you again",
    "Honestly the new globex app update is pretty good, checkout was fast :)",
    "Just had the best coffee in Lisbon, no complaints at all",
    "My acme air fryer makes the best fries, highly recommend",
    "#acmeair flight AA718 boarding at gate B6",
    "Globex Bank froze my card while I was abroad. No warning, no help",
];

fn mention(text: &str) -> Mention {
    Mention {
        source: "mastodon".into(),
        source_id: "1".into(),
        created_at: Utc::now(),
        author: Author {
            handle: Some("jane@example.social".into()),
            followers: Some(1240),
            karma: None,
        },
        text: text.into(),
        text_chars: text.chars().count() as u64,
        url: None,
        metrics: Metrics {
            likes: Some(3),
            reposts: Some(1),
            replies: Some(0),
            views: None,
        },
        rating: None,
        lang: Some("en".into()),
        brand: None,
        time_estimated: false,
        reply: None,
    }
}

fn brands(n: usize) -> Vec<BrandConfig> {
    let mut brands = Config::load_or_demo(None).expect("demo config").brands;
    for i in brands.len()..n {
        brands.push(BrandConfig {
            name: format!("Brand {i}"),
            keywords: (0..6).map(|k| format!("brandname{i} thing{k}")).collect(),
            handles: vec![format!("@brandname{i}"), format!("@brandname{i}help")],
            hashtags: vec![format!("#brandname{i}"), format!("#brandname{i}fail")],
            exclude: vec![],
            query: None,
            ..Default::default()
        });
    }
    brands
}

fn matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("match");
    group.throughput(Throughput::Elements(TEXTS.len() as u64));
    for n in [10, 1000] {
        let matcher = BrandMatcher::new(&brands(n)).expect("matcher");
        group.bench_function(format!("{n}_brands"), |b| {
            b.iter(|| {
                for text in TEXTS {
                    black_box(matcher.matches(black_box(text)));
                }
            })
        });
    }
    group.finish();
}

fn reach_and_enrich(c: &mut Criterion) {
    let config = ReachConfig::default();
    let m = mention(TEXTS[0]);
    c.bench_function("reach", |b| {
        b.iter(|| black_box(reach::estimate(black_box(&m), &config)))
    });
    let enricher = Config::load_or_demo(None)
        .expect("demo config")
        .enricher()
        .expect("enricher");
    let mentions: Vec<Mention> = TEXTS.iter().map(|t| mention(t)).collect();
    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(mentions.len() as u64));
    group.bench_function("mentions", |b| {
        b.iter(|| {
            for m in &mentions {
                black_box(enricher.enrich(m.clone()));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, matching, reach_and_enrich);
criterion_main!(benches);
