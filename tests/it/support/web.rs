//! A web server for tests: the demo feed up to the middle of its incident
//! (so an alert is firing), plus hostile mentions, replayed into a real
//! SQLite file and served on a loopback port with the service's own router.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use complaint_monitor::clock::VirtualClock;
use complaint_monitor::config::Config;
use complaint_monitor::replay::{replay, ReplayOptions, Speed};
use complaint_monitor::store::writer::{Writer, WriterHandle};
use complaint_monitor::web::{self, AppState};

/// Where the replayed history stops: the incident that opens at 14:05 is
/// still firing.
pub const CUTOFF: &str = "2026-11-20T14:40:00Z";

/// Text a stranger might post, aimed at the page that shows it.
pub const HOSTILE_TEXT: &str =
    "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> Acme Air lost my bag, awful";

pub fn cutoff() -> DateTime<Utc> {
    CUTOFF.parse().unwrap()
}

pub fn config() -> Config {
    let mut config = Config::load_or_demo(None).unwrap();
    config.alerts.channels.clear();
    config
}

/// Replays the fixture history into `dir/web.db`, off the async threads.
pub async fn fixture_db(dir: &Path) -> PathBuf {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || fixture_db_blocking(&dir))
        .await
        .unwrap()
}

pub fn fixture_db_blocking(dir: &Path) -> PathBuf {
    let demo = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/feed.jsonl")).unwrap();
    let cutoff = cutoff();
    let mut feed = String::new();
    for line in demo.split(|&b| b == b'\n') {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        let early = value["created_at"]
            .as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            .is_some_and(|t| t < cutoff);
        if early {
            feed.push_str(&value.to_string());
            feed.push('\n');
        }
    }
    let hostile = serde_json::json!({
        "source": "mastodon", "id": "hostile-1", "created_at": "2026-11-20T14:30:00Z",
        "author": {"handle": "<b>mallory</b>", "followers": 5_000_000},
        "text": HOSTILE_TEXT,
        "url": "javascript:window.__pwned=3"
    });
    feed.push_str(&hostile.to_string());
    feed.push('\n');
    let path = dir.join("web-feed.jsonl");
    std::fs::write(&path, feed).unwrap();
    let db = dir.join("web.db");
    let options = ReplayOptions {
        feeds: vec![path],
        db: db.clone(),
        speed: Speed::Max,
        progress: false,
        time_shift: chrono::Duration::zero(),
        delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
    };
    replay(&config(), &options).unwrap();
    db
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub writer: WriterHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    writer_thread: Option<Writer>,
}

impl TestServer {
    /// Serves `db` on loopback: open to the local user until an account
    /// exists ([`add_user`]).
    pub async fn start(db: &Path) -> TestServer {
        TestServer::start_with(db, config()).await
    }

    /// [`TestServer::start`] with another config.
    pub async fn start_with(db: &Path, config: Config) -> TestServer {
        let (writer, handle) = Writer::start(db, 8).unwrap();
        let state = AppState::new(
            Arc::new(config),
            db.to_path_buf(),
            handle.clone(),
            Arc::new(VirtualClock::starting_at(cutoff())),
            true,
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(web::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            writer: handle,
            stop: Some(stop),
            task: Some(task),
            writer_thread: Some(writer),
        }
    }

    /// Stores one feed line the way pollers do: matched and scored with the
    /// test config, written through the server's writer.
    pub async fn store_line(&self, line: serde_json::Value) {
        use complaint_monitor::enrich::Enriched;
        let mention = complaint_monitor::mention::Mention::from_feed_line(line.to_string().as_bytes()).unwrap();
        let Enriched::Scored(scored) = config().enricher().unwrap().enrich(mention) else {
            panic!("not matched: {line}");
        };
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            writer
                .write_blocking(vec![complaint_monitor::store::writer::NewMention {
                    scored: *scored,
                    ingested_at: cutoff(),
                }])
                .unwrap()
        })
        .await
        .unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the server (requests finish, event streams end) and the writer.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        drop(self.writer);
        if let Some(writer) = self.writer_thread.take() {
            tokio::task::spawn_blocking(move || writer.finish().unwrap())
                .await
                .unwrap();
        }
    }
}

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// Adds an account straight into the store, as `users add` does.
pub fn add_user(db: &Path, name: &str, role: complaint_monitor::accounts::Role) {
    let conn = complaint_monitor::store::open(db).unwrap();
    complaint_monitor::accounts::add(&conn, name, role, PASSWORD, cutoff()).unwrap();
}

/// The `csrf` value of the first form on a page.
pub fn form_token_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a csrf token");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The `name=value` of a `Set-Cookie` for `name`, and the whole header.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| (c.split(';').next().unwrap().to_string(), c.to_string()))
}

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn get_json(server: &TestServer, path: &str) -> (u16, serde_json::Value) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The body of a page, as text.
pub async fn get_text(server: &TestServer, path: &str) -> String {
    client()
        .get(server.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A brand's counts of the last 24 hours, as `GET /api/brands` gives them.
pub async fn last_24h(server: &TestServer, brand: &str) -> serde_json::Value {
    let (_, brands) = get_json(server, "/api/brands").await;
    let found = brands.as_array().unwrap().iter().find(|b| b["name"] == brand);
    found.unwrap_or_else(|| panic!("no brand {brand} in {brands}"))["last_24h"].clone()
}

pub async fn post_json(server: &TestServer, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response = client().post(server.url(path)).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}
