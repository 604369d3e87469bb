//! Rate-limit simulation: 10 sources poll a local server that enforces a quota
//! per source (a fixed window) and answers 429 with `Retry-After` beyond it.
//! Time is scaled: the server's "5 minute" window is 5 seconds, so 10 seconds
//! of running stand for 10 simulated minutes. Each source polls as fast as its
//! schedule and client quota let it. Prints, per source, requests sent against
//! those allowed, and the 429s received.
//!
//! usage: cargo run --release --example bench_ratelimit

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use complaint_monitor::clock::WallClock;
use complaint_monitor::config::Config;
use complaint_monitor::sources::poll::{sources, Poller};
use complaint_monitor::store::writer::Writer;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SOURCES: usize = 10;
/// Requests each source may send per window.
const QUOTA: u64 = 30;
const WINDOW: Duration = Duration::from_secs(5);
const RUN: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Counts {
    window_start: HashMap<String, (Instant, u64)>,
    sent: HashMap<String, u64>,
    refused: HashMap<String, u64>,
}

struct QuotaServer(Arc<Mutex<Counts>>, Instant);

impl Respond for QuotaServer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let source = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "query")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let mut c = self.0.lock().unwrap();
        *c.sent.entry(source.clone()).or_default() += 1;
        let now = Instant::now();
        let window = ((now - self.1).as_millis() / WINDOW.as_millis()) as u32;
        let window_start = self.1 + WINDOW * window;
        let entry = c.window_start.entry(source.clone()).or_insert((window_start, 0));
        if entry.0 != window_start {
            *entry = (window_start, 0);
        }
        entry.1 += 1;
        let used = entry.1;
        let reset = (window_start + WINDOW - now).as_secs_f64();
        if used > QUOTA {
            *c.refused.entry(source).or_default() += 1;
            return ResponseTemplate::new(429)
                .insert_header("Retry-After", format!("{}", reset.ceil() as u64).as_str())
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Reset", format!("{reset:.1}").as_str());
        }
        let n = used;
        ResponseTemplate::new(200)
            .insert_header("X-RateLimit-Remaining", format!("{}.0", QUOTA - used).as_str())
            .insert_header("X-RateLimit-Reset", format!("{reset:.1}").as_str())
            .set_body_json(serde_json::json!({
                "hits": [{"objectID": format!("{source}-{n}-{}", now.elapsed().as_nanos()), "created_at": chrono::Utc::now().to_rfc3339(), "author": "a", "title": "acme air"}],
                "page": 0, "nbPages": 3,
            }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start().await;
    let started = Instant::now();
    let counts = Arc::new(Mutex::new(Counts::default()));
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(QuotaServer(counts.clone(), started))
        .mount(&server)
        .await;
    let demo = std::fs::read_to_string("config/demo.toml")?;
    let mut text = demo;
    for i in 0..SOURCES {
        text.push_str(&format!(
            "\n[[sources]]\nname = \"s{i}\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"s{i}\"\nevery = \"1s\"\n\
             page_size = 1\nmax_pages = 3\nrate_limit = {{ requests = {QUOTA}, per = \"5s\" }}\n",
            server.uri()
        ));
    }
    let config = Config::parse(&text, "bench", &|_| None)?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    let (writer, handle) = Writer::start(&db, 8)?;
    let poller = Arc::new(Poller::new(config.enricher()?, &db, handle, Arc::new(WallClock))?);
    let deadline = Instant::now() + RUN;
    let tasks: Vec<_> = sources(&config.sources)
        .into_iter()
        .map(|source| {
            let poller = poller.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let report = poller.poll(&source).await;
                    if let Some(until) = report.rate_limited_until {
                        let wait = (until - chrono::Utc::now()).to_std().unwrap_or_default();
                        tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    drop(poller);
    tokio::task::spawn_blocking(move || writer.finish()).await??;
    let c = counts.lock().unwrap();
    // Every window the run touched (the last requests may open a new one).
    let windows = (started.elapsed().as_secs_f64() / WINDOW.as_secs_f64()).ceil() as u64;
    let allowed = QUOTA * windows;
    println!("{SOURCES} sources, quota {QUOTA} requests per {WINDOW:?} window (= 5 simulated minutes), {RUN:?} run");
    println!("source  sent  allowed  429s");
    let mut total_refused = 0;
    for i in 0..SOURCES {
        let name = format!("s{i}");
        let refused = c.refused.get(&name).copied().unwrap_or(0);
        total_refused += refused;
        println!(
            "{name:<6}  {:>4}  {allowed:>7}  {refused:>4}",
            c.sent.get(&name).copied().unwrap_or(0)
        );
    }
    println!("total 429s: {total_refused}");
    Ok(())
}
