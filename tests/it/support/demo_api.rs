//! The demo feed served as a paged JSON API, moved in whole buckets to end
//! now, for tests that run the service on wall time against it.

use std::collections::HashSet;
use std::path::Path;

use complaint_monitor::mention::Mention;
use wiremock::{Request, Respond, ResponseTemplate};

/// The fake API: items newest first, `page` and `limit` in the query.
pub struct Pages(pub Vec<serde_json::Value>);

impl Respond for Pages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let query: std::collections::HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
        let limit: usize = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100).max(1);
        let from = ((page - 1) * limit).min(self.0.len());
        let to = (from + limit).min(self.0.len());
        let next = (to < self.0.len()).then(|| (page + 1).to_string());
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"items": &self.0[from..to], "next": next}))
    }
}

/// The demo config's text.
pub fn demo_config() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap()
}

/// Each demo mention once, moved to end now (in whole five-minute buckets,
/// so detection sees the day it sees in replay), with the API item serving
/// it (its id is `source:id`); newest first.
pub fn demo_items() -> Vec<(Mention, serde_json::Value)> {
    let demo = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/feed.jsonl")).unwrap();
    let mentions: Vec<Mention> = demo
        .split(|&b| b == b'\n')
        .filter_map(|line| Mention::from_feed_line(line).ok())
        .collect();
    let end = mentions.iter().map(|m| m.created_at).max().unwrap();
    let shift = chrono::Duration::minutes((chrono::Utc::now() - end).num_minutes().div_euclid(5) * 5);
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    for m in mentions {
        let id = format!("{}:{}", m.source, m.source_id);
        if !seen.insert(id.clone()) {
            continue;
        }
        let mut moved = m.clone();
        moved.created_at = m.created_at + shift;
        let item = serde_json::json!({
            "id": id, "time": moved.created_at.to_rfc3339(), "text": m.text,
            "author": m.author.handle, "followers": m.author.followers,
        });
        items.push((moved, item));
    }
    items.sort_by(|a, b| b.1["time"].as_str().cmp(&a.1["time"].as_str()));
    items
}

/// A `json` source named `name` reading [`Pages`] at `api`.
pub fn source_config(name: &str, api: &str) -> String {
    format!(
        r#"
[[sources]]
name = "{name}"
kind = "json"
every = "1s"
page_size = 500
max_pages = 30
[sources.json]
url = "{api}/items?page={{page}}&limit={{page_size}}"
first_page = "1"
items = "/items"
id = "/id"
time = "/time"
text = "/text"
author = "/author"
audience = "/followers"
next_page = "/next"
source_label = "{name}"
"#
    )
}
