//! Any bytes as a feed line: parsed or rejected with a reason, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = complaint_monitor::mention::Mention::from_feed_line(data) {
        assert!(!m.source.is_empty() && !m.source_id.is_empty());
        assert!(m.text.len() <= complaint_monitor::mention::MAX_TEXT_BYTES);
    }
});
