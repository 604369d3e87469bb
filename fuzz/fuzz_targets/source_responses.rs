//! Any bytes as a response body of every connector: a page of items and
//! rejections, or an error; never a panic. The first byte picks the
//! connector, the rest is the body.
#![no_main]
use std::sync::OnceLock;

use complaint_monitor::config::Config;
use complaint_monitor::sources::{connector, Connector, Cursor};
use libfuzzer_sys::fuzz_target;

/// The same sources as the property tests (`tests/hostile_sources.rs`).
const SOURCES: &str = include_str!("../../fixtures/every-source.toml");

fn connectors() -> &'static Vec<Box<dyn Connector>> {
    static ALL: OnceLock<Vec<Box<dyn Connector>>> = OnceLock::new();
    ALL.get_or_init(|| {
        let config = Config::parse(SOURCES, "fuzz.toml", &|_| None).expect("the fuzz config is valid");
        config.sources.iter().map(connector).collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let all = connectors();
    let connector = &all[pick as usize % all.len()];
    let headers = reqwest::header::HeaderMap::new();
    for cursor in [Cursor::default(), Cursor { id: Some("5".into()), ..Cursor::default() }] {
        let _ = connector.parse(body, &headers, &cursor);
        let _ = connector.parse_audiences(body);
    }
});
