//! Text written by strangers, and files written by users, never panic the
//! parsers and never make them allocate without bound.

use complaint_monitor::brand::BrandConfig;
use complaint_monitor::config::Config;
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
            query: None,
            ..Default::default()
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

proptest! {
    /// Any instant chrono can write, as a feed line's time: stored only
    /// inside the accepted range, rejected with its reason outside it.
    #[test]
    fn feed_times_of_any_instant_are_kept_in_range_or_rejected(secs in any::<i64>(), nanos in 0u32..1_000_000_000) {
        if let Some(t) = chrono::DateTime::from_timestamp(secs, nanos) {
            let line = format!(r#"{{"source":"x","id":"1","created_at":"{}","text":"t"}}"#, t.to_rfc3339());
            match Mention::from_feed_line(line.as_bytes()) {
                Ok(m) => {
                    prop_assert!(m.created_at >= complaint_monitor::mention::earliest_time());
                    prop_assert!(m.created_at < complaint_monitor::mention::latest_time());
                }
                Err(e) => prop_assert!(matches!(e.kind(), "time_out_of_range" | "bad_timestamp"), "{e}"),
            }
        }
    }

    #[test]
    fn feed_times_of_any_text_never_panic(text in "\\PC{0,40}") {
        let line = serde_json::json!({"source": "x", "id": "1", "created_at": text, "text": "t"}).to_string();
        let _ = Mention::from_feed_line(line.as_bytes());
    }

    /// Durations as operators type them, whatever they type: parsed within
    /// bounds or refused, never an overflow.
    #[test]
    fn durations_of_any_text_are_bounded_or_refused(number in any::<u64>(), unit in "(ms|s|m|min|h|d|w|y|)", junk in "\\PC{0,6}") {
        use complaint_monitor::clock::{parse_duration, parse_duration_within, MAX_DURATION};
        for text in [format!("{number}{unit}"), format!("{number}{unit}{junk}"), junk.clone()] {
            if let Ok(d) = parse_duration(&text) {
                prop_assert!(d >= chrono::Duration::zero() && d <= MAX_DURATION, "{text}");
                // What prune and silence then do with it stays representable.
                prop_assert!(chrono::Utc::now().checked_sub_signed(d).is_some());
            }
            let min = chrono::Duration::minutes(1);
            let max = chrono::Duration::days(366);
            if let Ok(d) = parse_duration_within(&text, min, max) {
                prop_assert!(d >= min && d <= max, "{text}");
            }
        }
    }

    #[test]
    fn replay_speeds_of_any_text_are_in_range_or_refused(text in "\\PC{0,12}", f in any::<f64>()) {
        use complaint_monitor::replay::{Speed, MAX_SPEED, MIN_SPEED};
        for s in [text, f.to_string(), format!("{f:e}")] {
            if let Ok(Speed::Factor(x)) = s.parse::<Speed>() {
                prop_assert!((MIN_SPEED..=MAX_SPEED).contains(&x), "{s}");
            }
        }
    }

    /// Config durations and counts of any value: loaded or refused with
    /// problems, never a panic.
    #[test]
    fn config_durations_and_counts_of_any_value_are_loaded_or_refused(
        bucket in "\\PC{0,8}", repeat in "[0-9]{0,20}(ms|s|m|h|d|w)?", min_count in any::<i64>(), timeout in "[0-9]{0,20}s?"
    ) {
        let text = format!(
            "[[brands]]\nname = \"A\"\nkeywords = [\"a\"]\n[detect]\nbucket = {bucket:?}\nmin_count = {min_count}\n\
             [alerts]\nrepeat_every = {repeat:?}\n[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nquery = \"a\"\ntimeout = {timeout:?}\n"
        );
        if let Ok(config) = Config::parse(&text, "prop.toml", &|_| None) {
            prop_assert!(config.detect.bucket.0 >= chrono::Duration::seconds(10));
            prop_assert!(config.alerts.repeat_every.0 >= chrono::Duration::minutes(1));
            prop_assert!(config.detect.min_count >= 1);
        }
    }
}
