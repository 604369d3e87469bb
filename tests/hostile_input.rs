//! Text written by strangers, and files written by users, never panic the
//! parsers and never make them allocate without bound.

use complaint_monitor::config::{BrandConfig, Config};
use complaint_monitor::enrich::matcher::BrandMatcher;
use complaint_monitor::mention::Mention;
use proptest::prelude::*;

fn any_json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("source".to_string()),
                    Just("id".to_string()),
                    Just("created_at".to_string()),
                    Just("text".to_string()),
                    Just("author".to_string()),
                    Just("metrics".to_string()),
                    Just("rating".to_string()),
                    Just("brand".to_string()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn feed_lines_of_any_bytes_are_parsed_or_rejected(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Mention::from_feed_line(&bytes);
    }

    #[test]
    fn feed_lines_of_any_json_shape_are_parsed_or_rejected(value in any_json_value()) {
        let line = value.to_string();
        if let Ok(m) = Mention::from_feed_line(line.as_bytes()) {
            prop_assert!(!m.source.is_empty() && !m.source_id.is_empty());
            prop_assert!(m.rating.is_none_or(|r| (1..=5).contains(&r)));
        }
    }

    #[test]
    fn config_text_of_any_shape_is_loaded_or_refused(text in "(\\[\\[?[a-z.]{0,12}\\]\\]?\\n|[a-z_]{1,10} = (\"[^\"\\n]{0,12}\"|[0-9.e-]{1,6}|\\[\\]|true)\\n){0,12}") {
        let _ = Config::parse(&text, "fuzz.toml", &|_| None);
    }

    #[test]
    fn sentiment_and_matching_take_any_text(text in "\\PC{0,300}") {
        let scores = vader_sentiment::polarity_scores(&text);
        prop_assert!((-1.0..=1.0).contains(&scores.compound));
        let matcher = BrandMatcher::new(&[BrandConfig {
            name: "Acme".into(),
            keywords: vec!["acme".into(), "çà ñ".into()],
            handles: vec!["@acme".into()],
            hashtags: vec!["#acme".into()],
            exclude: vec!["acme fryer".into()],
        }]).unwrap();
        let _ = matcher.matches(&text);
    }
}

#[test]
fn deeply_nested_json_is_refused_not_a_stack_overflow() {
    let line = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = Mention::from_feed_line(line.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), "invalid_json");
    // Deep nesting inside an ignored field is skipped without recursion
    // trouble; the line still lacks its required fields.
    let object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    assert!(Mention::from_feed_line(object.as_bytes()).is_err());
    let in_text = format!(
        "{{\"source\":\"x\",\"id\":\"1\",\"created_at\":\"2026-11-20T10:00:00Z\",\"text\":{}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(Mention::from_feed_line(in_text.as_bytes()).is_err());
}

#[test]
fn texts_are_capped_with_their_length_kept() {
    let text = "ü".repeat(200_000);
    let line =
        serde_json::json!({"source": "x", "id": "1", "created_at": "2026-11-20T10:00:00Z", "text": text}).to_string();
    let m = Mention::from_feed_line(line.as_bytes()).unwrap();
    assert!(m.text.len() <= complaint_monitor::mention::MAX_TEXT_BYTES);
    assert_eq!(m.text_chars, 200_000);
}
