//! Any text as a duration, a replay speed, or a feed line's time: parsed
//! within bounds or refused, never a panic or an overflow.
#![no_main]
use libfuzzer_sys::fuzz_target;

use complaint_monitor::clock::{parse_duration, MAX_DURATION};
use complaint_monitor::mention::{earliest_time, latest_time, Mention};
use complaint_monitor::sources::replay::Speed;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = parse_duration(text) {
        assert!(d <= MAX_DURATION);
        assert!(chrono::Utc::now().checked_sub_signed(d).is_some());
    }
    let _ = text.parse::<Speed>();
    let line = serde_json::json!({"source": "x", "id": "1", "created_at": text, "text": "t"}).to_string();
    if let Ok(m) = Mention::from_feed_line(line.as_bytes()) {
        assert!(m.created_at >= earliest_time() && m.created_at < latest_time());
    }
});
