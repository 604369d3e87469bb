//! Every connector's response parser against hostile bodies: each recorded
//! real-shape response with random parts replaced by arbitrary JSON (wrong
//! types, nulls, huge numbers, deep nesting, strange text), and arbitrary
//! bytes. A parser answers with a page (items plus rejections with reasons)
//! or an error; it never panics, and every item it keeps is within the
//! stored limits. `fuzz/run.sh source_responses` runs the same coverage-guided.

use std::path::Path;

use complaint_monitor::config::Config;
use complaint_monitor::mention::{earliest_time, latest_time, MAX_TEXT_BYTES};
use complaint_monitor::sources::{connector, Connector, Cursor};
use proptest::prelude::*;
use serde_json::Value;

/// One source of every kind; the first sixteen read the recorded bodies in
/// `RECORDED`, in order, the rest (a second JSON mapping, RSS) only
/// arbitrary bodies.
const SOURCES: &str = include_str!("../../fixtures/every-source.toml");

const RECORDED: [&str; 16] = [
    "mastodon/tag-page1.json",
    "bluesky/search-page1.json",
    "hackernews/search.json",
    "x/search-recent.json",
    "youtube/comment-threads.json",
    "reddit/search-page1.json",
    "appstore/reviews-page1.json",
    "yelp/reviews.json",
    "trustpilot/reviews.json",
    "google_places/place.json",
    "googleplay/reviews-page1.json",
    "appstoreconnect/customer-reviews-page1.json",
    "google_business/reviews-page1.json",
    "facebook/published-posts-page1.json",
    "instagram/media-page1.json",
    "json/lemmy-post-list-page1.json",
];

fn connectors() -> Vec<Box<dyn Connector>> {
    let config = Config::parse(SOURCES, "hostile.toml", &|_| None).unwrap();
    config.sources.iter().map(connector).collect()
}

fn recorded(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/recorded")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every JSON pointer in `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let next = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(next.clone());
                pointers(v, next, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let next = format!("{at}/{i}");
                out.push(next.clone());
                pointers(v, next, out);
            }
        }
        _ => {}
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,30}".prop_map(Value::from),
        Just(Value::from("2026-13-45T99:99:99Z")),
        Just(Value::from("-1")),
        Just(Value::from("\u{202e}<script>alert(1)</script>\u{0}")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Checks what a parser kept: within the stored limits, the rest rejected.
fn check(connector: &dyn Connector, body: &[u8]) {
    let headers = reqwest::header::HeaderMap::new();
    for cursor in [
        Cursor::default(),
        Cursor {
            id: Some("1".into()),
            ..Cursor::default()
        },
    ] {
        if let Ok(page) = connector.parse(body, &headers, &cursor) {
            for m in &page.items {
                assert!(!m.source_id.is_empty());
                assert!(m.text.len() <= MAX_TEXT_BYTES);
                assert!(m.rating.is_none_or(|r| (1..=5).contains(&r)));
                assert!(
                    m.created_at >= earliest_time() && m.created_at < latest_time(),
                    "kept {} from {}",
                    m.created_at,
                    String::from_utf8_lossy(body)
                );
            }
        }
        let _ = connector.parse_audiences(body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn recorded_responses_with_parts_replaced_are_parsed_or_rejected(
        which in 0..RECORDED.len(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), any_json()), 1..6),
    ) {
        let all = connectors();
        let mut body = recorded(RECORDED[which]);
        for (pick, replacement) in picks {
            let mut paths = Vec::new();
            pointers(&body, String::new(), &mut paths);
            if paths.is_empty() {
                body = replacement;
                continue;
            }
            if let Some(slot) = body.pointer_mut(&paths[pick.index(paths.len())]) {
                *slot = replacement;
            }
        }
        check(all[which].as_ref(), body.to_string().as_bytes());
    }

    /// Every field that carries a time (by its name anywhere on its path),
    /// replaced by any instant, in the shapes networks use: RFC 3339, Unix
    /// seconds or milliseconds, as a string or a number. Kept only inside
    /// the accepted range (the check in `check`), otherwise rejected.
    #[test]
    fn recorded_responses_with_any_times_keep_only_times_in_range(
        which in 0..RECORDED.len(),
        secs in prop_oneof![any::<i64>(), -100_000_000_000i64..100_000_000_000],
        shape in 0..5u8,
    ) {
        let all = connectors();
        let mut body = recorded(RECORDED[which]);
        let mut paths = Vec::new();
        pointers(&body, String::new(), &mut paths);
        let replacement = match shape {
            0 => chrono::DateTime::from_timestamp(secs, 0).map_or(Value::from("9999-12-31T23:59:59Z"), |t| t.to_rfc3339().into()),
            1 => Value::from(secs),
            2 => Value::from(secs.saturating_mul(1000)),
            3 => Value::from(secs.to_string()),
            _ => chrono::DateTime::from_timestamp(secs, 0).map_or(Value::from("0000-00-00 00:00:00"), |t| t.format("%Y-%m-%d %H:%M:%S").to_string().into()),
        };
        let timed = ["time", "created", "updated", "published", "date", "indexed"];
        for path in paths.iter().filter(|p| timed.iter().any(|t| p.to_ascii_lowercase().contains(t))) {
            if let Some(slot) = body.pointer_mut(path) {
                if !slot.is_object() && !slot.is_array() {
                    *slot = replacement.clone();
                }
            }
        }
        check(all[which].as_ref(), body.to_string().as_bytes());
    }

    #[test]
    fn any_bytes_are_parsed_or_rejected_by_every_connector(
        body in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        for c in connectors() {
            check(c.as_ref(), &body);
        }
    }
}

#[test]
fn a_feed_of_garbage_and_a_very_deep_document_are_refused_cleanly() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for c in connectors() {
        check(c.as_ref(), deep.as_bytes());
        check(
            c.as_ref(),
            b"<?xml version=\"1.0\"?><rss><channel><item><title>x</title></item>",
        );
        check(c.as_ref(), "\u{feff}{\"hits\": [".as_bytes());
    }
}
