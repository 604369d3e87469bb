//! Any bytes as a response body of every connector: a page of items and
//! rejections, or an error; never a panic. The first byte picks the
//! connector, the rest is the body.
#![no_main]
use std::sync::OnceLock;

use complaint_monitor::config::Config;
use complaint_monitor::sources::{connector, Connector, Cursor};
use libfuzzer_sys::fuzz_target;

const SOURCES: &str = r#"
[[brands]]
name = "Acme Air"
keywords = ["acme air"]

[[sources]]
name = "mastodon"
kind = "mastodon"
hashtag = "acme"
[[sources]]
name = "bluesky"
kind = "bluesky"
query = "acme"
[[sources]]
name = "hackernews"
kind = "hackernews"
query = "acme"
[[sources]]
name = "x"
kind = "x"
query = "acme"
token = "t"
[[sources]]
name = "youtube"
kind = "youtube"
video_id = "v"
api_key = "k"
[[sources]]
name = "reddit"
kind = "reddit"
query = "acme"
client_id = "i"
client_secret = "s"
[[sources]]
name = "appstore"
kind = "appstore"
app_id = "1"
[[sources]]
name = "rss"
kind = "rss"
base_url = "https://example.com/feed"
[[sources]]
name = "yelp"
kind = "yelp"
business_id = "b"
api_key = "k"
[[sources]]
name = "trustpilot"
kind = "trustpilot"
business_id = "b"
api_key = "k"
[[sources]]
name = "google_places"
kind = "google_places"
place_id = "p"
api_key = "k"
[[sources]]
name = "json"
kind = "json"
[sources.json]
url = "https://example.com/api?page={page}"
items = "/data/items"
id = "/id"
time = "/t"
time_format = "unix"
text = ["/title", "/body"]
rating = "/stars"
rating_max = 10
next_url = "/next"
"#;

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
