//! Any text as a configuration file: a config or a list of problems.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = complaint_monitor::config::Config::parse(text, "fuzz.toml", &|_| Some("secret".into()));
    }
});
