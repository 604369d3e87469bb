//! The demo the binary carries: the generated demo feed
//! (`fixtures/demo/feed.jsonl`, made by `examples/gen_feed.rs`), compiled
//! in so that `run --demo` works from any directory with an installed or
//! copied binary, offline. About 2 MB.

/// The demo feed's bytes, one mention per line.
pub const FEED: &[u8] = include_bytes!("../fixtures/demo/feed.jsonl");

/// How the demo feed is named in messages.
pub const FEED_NAME: &str = "the embedded demo feed";

/// Where `run --demo` stops the feed and puts "now": the demo's incident
/// opened at 14:05 and is still rising, so a newcomer finds a firing,
/// unacknowledged alert with its mentions in the inbox.
pub const LIVE_AT: &str = "2026-11-20T14:40:00Z";

/// The demo feed's lines from before `until`, for a demo that is live at
/// that moment. Lines that do not read are kept: the replay reports them,
/// as it would from any stranger's feed.
pub fn feed_until(until: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    #[derive(serde::Deserialize)]
    struct Time {
        created_at: chrono::DateTime<chrono::Utc>,
    }
    let mut kept = Vec::with_capacity(FEED.len());
    for line in FEED.split_inclusive(|&b| b == b'\n') {
        let later = serde_json::from_slice::<Time>(line).is_ok_and(|t| t.created_at >= until);
        if !later {
            kept.extend_from_slice(line);
        }
    }
    kept
}

/// [`LIVE_AT`] as a time.
pub fn live_at() -> chrono::DateTime<chrono::Utc> {
    LIVE_AT.parse().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_live_demo_stops_before_its_moment_and_keeps_the_bad_lines() {
        let kept = super::feed_until(super::live_at());
        let lines = kept.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
        assert_eq!(lines, 3273);
        let bad = kept
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty() && serde_json::from_slice::<serde_json::Value>(l).is_err())
            .count();
        assert!(bad >= 2, "the demo's unreadable lines are still there");
    }
}
