//! Scoring throughput on tweet-length texts: `cargo bench -p vader-sentiment`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const TWEETS: &[&str] = &[
    "@acmeair lost my bag AGAIN. 3 hours on hold and nobody answers!!! never flying with you again 😡",
    "Honestly the new app update is pretty good, checkout was fast and the staff were lovely :)",
    "is the acme air website down for anyone else?? can't check in",
    "Not bad at all, but the seats were kinda cramped and the food was barely edible.",
    "THANK YOU @acmeair for the upgrade, best flight ever 😍😍",
    "Flight delayed again. Great. Just great. #acmeair",
    "The service was okay, nothing special. Would probably book again if the price is right.",
    "worst customer service I have ever experienced, absolutely horrible and rude agents",
];

fn scoring(c: &mut Criterion) {
    let mut group = c.benchmark_group("vader");
    group.throughput(Throughput::Elements(TWEETS.len() as u64));
    group.bench_function("tweets", |b| {
        b.iter(|| {
            for text in TWEETS {
                black_box(vader_sentiment::polarity_scores(black_box(text)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
