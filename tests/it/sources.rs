//! Live connectors against local HTTP servers serving recorded response
//! shapes (`fixtures/recorded/`): parsing of every field we use, paging to
//! the stored cursor and no further, cursors across restarts, the server's
//! rate-limit signals, retries, body caps, and the client-side quota.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use complaint_monitor::clock::WallClock;
use complaint_monitor::config::Config;
use complaint_monitor::sources::poll::{sources, PollReport, Poller};
use complaint_monitor::store::{self, writer::Writer, MentionFilter};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) fn recorded(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/recorded")
            .join(file),
    )
    .unwrap()
}

pub(crate) fn demo_toml() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap()
}

/// The demo config plus `sources`, its `${NAME}` references taken from `env`.
fn parse_config(sources: &str, env: &[(&str, &str)]) -> Result<Config, complaint_monitor::config::ConfigError> {
    let demo = demo_toml();
    Config::parse(&format!("{demo}\n{sources}"), "test.toml", &|name| {
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    })
}

pub(crate) fn config_with(sources: &str, env: &[(&str, &str)]) -> Config {
    parse_config(sources, env).unwrap()
}

fn config(sources: &str) -> Config {
    config_with(sources, &[])
}

/// Polls every source of `config` once, as `poll-once` does (a fresh
/// writer and poller each time: a restart between polls).
async fn poll(config: &Config, db: &Path) -> Vec<PollReport> {
    let (writer, handle) = Writer::start(db, 4).unwrap();
    let poller = Poller::new(config.enricher().unwrap(), db, handle, Arc::new(WallClock))
        .unwrap()
        .with_retry_base(Duration::from_millis(5));
    let all = sources(&config.sources);
    let reports = futures::future::join_all(all.iter().map(|s| poller.poll(s))).await;
    drop(poller);
    tokio::task::spawn_blocking(move || writer.finish().unwrap())
        .await
        .unwrap();
    reports
}

fn stored(db: &Path, source: &str) -> Vec<complaint_monitor::store::StoredMention> {
    let conn = store::open_read_only(db).unwrap();
    store::recent_mentions(&conn, &MentionFilter::default())
        .unwrap()
        .into_iter()
        .filter(|m| m.scored.mention.source == source)
        .collect()
}

/// The inbox as care staff would open it with every filter off: every
/// label, state and time.
fn inbox_of_everything(db: &Path) -> complaint_monitor::inbox::Page {
    let conn = store::open_read_only(db).unwrap();
    let everything = complaint_monitor::inbox::Query {
        label: None,
        states: Vec::new(),
        since: None,
        ..Default::default()
    };
    complaint_monitor::inbox::page(&conn, &everything, chrono::Utc::now()).unwrap()
}

fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    (dir, db)
}

#[tokio::test]
async fn mastodon_pages_back_then_asks_only_for_newer_statuses() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/acmeair"))
        .and(query_param("limit", "2"))
        .and(query_param_is_missing("min_id"))
        .and(query_param_is_missing("max_id"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(recorded("mastodon/tag-page1.json"), "application/json")
                .insert_header("X-RateLimit-Limit", "300")
                .insert_header("X-RateLimit-Remaining", "299")
                .insert_header("X-RateLimit-Reset", reset.as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("max_id", "113560000000000100"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("mastodon/tag-page2.json"), "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("max_id", "113559000000000050"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("[]", "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("min_id", "113560000000000200"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("[]", "application/json"))
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"masto\"\nkind = \"mastodon\"\nbase_url = \"{}\"\nhashtag = \"acmeair\"\npage_size = 2\n",
        server.uri()
    ));
    let (_dir, db) = db();

    let first = poll(&config, &db).await.remove(0);
    assert_eq!(first.error, None);
    assert_eq!((first.pages, first.fetched, first.stored), (3, 3, 3), "{first:?}");
    assert_eq!(first.rejected, ["item without id"]);
    let rows = stored(&db, "mastodon");
    let jane = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "113560000000000200")
        .unwrap();
    let m = &jane.scored.mention;
    assert_eq!(m.author.handle.as_deref(), Some("jane@example.social"));
    assert_eq!(m.author.followers, Some(1240));
    assert_eq!(
        (m.metrics.likes, m.metrics.reposts, m.metrics.replies),
        (Some(31), Some(12), Some(4))
    );
    assert_eq!(
        m.text,
        "Three hours at the carousel and #acmeair still can't find my bag & nobody answers. Awful."
    );
    assert_eq!(m.lang.as_deref(), Some("en"));
    assert_eq!(
        m.url.as_deref(),
        Some("https://example.social/@jane/113560000000000200")
    );
    assert_eq!(m.created_at.to_rfc3339(), "2026-11-20T14:05:12+00:00");
    assert_eq!(jane.scored.label.as_str(), "negative");
    assert_eq!(jane.scored.reach.people, 1240 + 12 * 150 + 35 * 3);

    // A restart, then a second poll: only what is newer than the cursor.
    let second = poll(&config, &db).await.remove(0);
    assert_eq!((second.pages, second.fetched, second.error), (1, 0, None));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    assert!(requests[3].url.query().unwrap().contains("min_id=113560000000000200"));
}

#[tokio::test]
async fn hacker_news_stories_and_comments_and_the_time_cursor() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("hackernews/search.json"), "application/json"))
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme air\"\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.fetched, first.stored, first.error.clone()),
        (2, 2, None),
        "{first:?}"
    );
    let rows = stored(&db, "hackernews");
    let comment = rows.iter().find(|m| m.scored.mention.source_id == "42100002").unwrap();
    assert_eq!(
        comment.scored.mention.text,
        "I flew Acme Air last week. The app crashed at check-in & support was useless."
    );
    assert_eq!(
        comment.scored.mention.url.as_deref(),
        Some("https://news.ycombinator.com/item?id=42100002")
    );
    let story = rows.iter().find(|m| m.scored.mention.source_id == "42100000").unwrap();
    assert_eq!(
        story.scored.mention.text,
        "Acme Air grounds fleet after baggage system failure"
    );
    assert_eq!(
        (story.scored.mention.metrics.likes, story.scored.mention.metrics.replies),
        (Some(153), Some(87))
    );

    let second = poll(&config, &db).await.remove(0);
    // The newest second is asked for again (nothing posted in it is missed);
    // the newest item itself is known by its id and stops the walk.
    assert_eq!((second.fetched, second.stored, second.duplicates), (0, 0, 0));
    let requests = server.received_requests().await.unwrap();
    assert!(requests[1]
        .url
        .query()
        .unwrap()
        .contains("numericFilters=created_at_i%3E%3D1795183800"));
}

#[tokio::test]
async fn bluesky_follows_its_cursor_and_then_asks_since_the_newest_post() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.searchPosts"))
        .and(query_param_is_missing("cursor"))
        .and(query_param_is_missing("since"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("bluesky/search-page1.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("cursor", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("bluesky/search-page2.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("since", "2026-11-20T14:06:00.000Z"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"posts\": []}", "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.actor.getProfiles"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("bluesky/profiles.json"), "application/json"))
        .mount(&server)
        .await;
    let config = config(&format!(
        // 25 asked for, 2 given with a cursor: real pages come back short.
        "[[sources]]\nname = \"sky\"\nkind = \"bluesky\"\nbase_url = \"{}\"\nquery = \"acme air\"\npage_size = 25\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.pages, first.stored, first.error.clone()),
        (2, 3, None),
        "{first:?}"
    );
    let rows = stored(&db, "bluesky");
    let angry = rows
        .iter()
        .find(|m| m.scored.mention.source_id.ends_with("3lbxyz2"))
        .unwrap();
    let m = &angry.scored.mention;
    assert_eq!(m.author.handle.as_deref(), Some("traveller.bsky.social"));
    assert_eq!(m.author.followers, Some(4300), "from getProfiles");
    let unknown = rows
        .iter()
        .find(|m| m.scored.mention.source_id.ends_with("3lbxyz0"))
        .unwrap();
    assert_eq!(unknown.scored.mention.author.followers, None);
    assert_eq!(
        (m.metrics.likes, m.metrics.reposts, m.metrics.replies),
        (Some(40), Some(8), Some(3))
    );
    assert_eq!(
        m.url.as_deref(),
        Some("https://bsky.app/profile/traveller.bsky.social/post/3lbxyz2")
    );
    assert_eq!(m.lang.as_deref(), Some("en"));
    let second = poll(&config, &db).await.remove(0);
    assert_eq!((second.fetched, second.error), (0, None));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    let profiles: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path().ends_with("getProfiles"))
        .collect();
    assert_eq!(profiles.len(), 1, "all three authors in one batched call");
    assert_eq!(profiles[0].url.query_pairs().filter(|(k, _)| k == "actors").count(), 3);
}

#[tokio::test]
async fn a_429_makes_the_source_wait_until_the_server_says_without_burning_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_string("{\"error\":\"slow down\"}"),
        )
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"masto\"\nkind = \"mastodon\"\nbase_url = \"{}\"\nhashtag = \"acmeair\"\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let before = chrono::Utc::now();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(first.error, None, "waiting is not a failure");
    let until = first.rate_limited_until.expect("waiting");
    assert!(
        until >= before + chrono::Duration::seconds(119)
            && until <= chrono::Utc::now() + chrono::Duration::seconds(121)
    );
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(
        second.rate_limited_until.map(|t| t.timestamp_millis()),
        Some(until.timestamp_millis())
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no request while told to wait"
    );
    let conn = store::open_read_only(&db).unwrap();
    let status = complaint_monitor::sources::poll::status(&conn, &config.sources).unwrap();
    assert!(status[0].rate_limited_until.is_some(), "{:?}", status[0]);
}

#[tokio::test]
async fn server_errors_are_retried_and_oversized_bodies_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("hackernews/search.json"), "application/json"))
        .with_priority(2)
        .mount(&server)
        .await;
    let (_dir, db) = db();
    let ok = config(&format!(
        "[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme air\"\n",
        server.uri()
    ));
    let report = poll(&ok, &db).await.remove(0);
    assert_eq!((report.error, report.stored), (None, 2));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let capped = config(&format!(
        "[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme air\"\nmax_body_bytes = 100\n",
        server.uri()
    ));
    let report = poll(&capped, &db).await.remove(0);
    let error = report.error.expect("refused");
    assert!(error.contains("larger than the 100-byte limit"), "{error}");
    let conn = store::open_read_only(&db).unwrap();
    let status = complaint_monitor::sources::poll::status(&conn, &capped.sources).unwrap();
    assert_eq!(status[0].consecutive_failures, 1);
}

/// Serves endless pages of one hit and records when each request came.
struct CountingServer(Arc<Mutex<Vec<Instant>>>);

impl Respond for CountingServer {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut seen = self.0.lock().unwrap();
        seen.push(Instant::now());
        let n = seen.len();
        let body = serde_json::json!({
            "hits": [{"objectID": format!("9{n}"), "created_at": "2026-11-20T14:00:00Z", "author": "a", "title": format!("acme air item {n}")}],
            "page": n - 1, "nbPages": 100,
        });
        ResponseTemplate::new(200).set_body_json(body)
    }
}

#[tokio::test]
async fn the_client_never_exceeds_its_quota() {
    let server = MockServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .respond_with(CountingServer(seen.clone()))
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme air\"\n\
         page_size = 1\nmax_pages = 5\nrate_limit = {{ requests = 2, per = \"1s\" }}\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let report = poll(&config, &db).await.remove(0);
    assert_eq!((report.pages, report.error), (5, None));
    let times = seen.lock().unwrap().clone();
    assert_eq!(times.len(), 5);
    // The server's rule: at most 2 requests in any second. Arrival times
    // carry scheduling jitter on a busy machine, so allow 100 ms of it: a
    // client that bursts puts three requests within about half a second.
    for w in times.windows(3) {
        let spread = w[2] - w[0];
        assert!(spread >= Duration::from_millis(900), "three requests within {spread:?}");
    }
}

#[tokio::test]
async fn poll_once_and_sources_from_the_command_line() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("hackernews/search.json"), "application/json"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("live.toml");
    let demo = demo_toml();
    std::fs::write(
        &config_path,
        format!(
            "{demo}\n[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme air\"\n\
             [[sources]]\nname = \"down\"\nkind = \"bluesky\"\nbase_url = \"http://127.0.0.1:9\"\nquery = \"acme\"\ntimeout = \"2s\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let db = dir.path().join("cli.db");
    let run = |args: Vec<String>| {
        std::process::Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
            .args(args)
            .output()
            .unwrap()
    };
    let (c, d) = (
        config_path.to_str().unwrap().to_string(),
        db.to_str().unwrap().to_string(),
    );
    let args = vec![
        "poll-once".into(),
        "--config".into(),
        c.clone(),
        "--db".into(),
        d.clone(),
    ];
    let out = tokio::task::spawn_blocking(move || run(args)).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!out.status.success(), "a failed source makes poll-once fail");
    assert!(text.contains("hn: 1 pages, 2 fetched, 2 new"), "{text}");
    assert!(
        text.contains("down: 0 pages") && text.contains("FAILED: could not connect"),
        "{text}"
    );
    let args = vec![
        "poll-once".into(),
        "--config".into(),
        c.clone(),
        "--db".into(),
        d.clone(),
        "--source".into(),
        "hn".into(),
    ];
    let out = tokio::task::spawn_blocking(move || run(args)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let args = vec!["sources".into(), "--config".into(), c, "--db".into(), d];
    let out = tokio::task::spawn_blocking(move || run(args)).await.unwrap();
    let listed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(
        listed[0]["last_success"].is_string() && listed[0]["cursor"]["id"] == "42100002",
        "{}",
        listed[0]
    );
    assert!(
        listed[1]["last_error"].as_str().unwrap().contains("could not connect"),
        "{}",
        listed[1]
    );
}

#[tokio::test]
async fn x_reads_authors_from_the_expansion_and_asks_since_the_newest_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/2/tweets/search/recent"))
        .and(query_param_is_missing("since_id"))
        .and(wiremock::matchers::header("Authorization", "Bearer test-bearer"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(recorded("x/search-recent.json"), "application/json")
                .insert_header("x-rate-limit-limit", "450")
                .insert_header("x-rate-limit-remaining", "449"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("since_id", "1859000000000000002"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"meta\": {\"result_count\": 0}}", "application/json"))
        .mount(&server)
        .await;
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"x\"\nkind = \"x\"\nbase_url = \"{}\"\nquery = \"acmeair\"\ntoken = \"${{X_TOKEN}}\"\n",
            server.uri()
        ),
        &[("X_TOKEN", "test-bearer")],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!((first.stored, first.error.clone()), (2, None), "{first:?}");
    let rows = stored(&db, "x");
    let angry = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "1859000000000000002")
        .unwrap();
    let m = &angry.scored.mention;
    assert_eq!(m.author.handle.as_deref(), Some("roadwarrior"));
    assert_eq!(m.author.followers, Some(52000));
    assert_eq!(
        (m.metrics.likes, m.metrics.reposts, m.metrics.replies, m.metrics.views),
        (Some(140), Some(30), Some(9), Some(48000))
    );
    assert_eq!(
        m.url.as_deref(),
        Some("https://x.com/roadwarrior/status/1859000000000000002")
    );
    assert_eq!(angry.scored.reach.people, 52000 + 30 * 150 + 149 * 3);
    let second = poll(&config, &db).await.remove(0);
    assert_eq!((second.fetched, second.error), (0, None));
}

#[tokio::test]
async fn youtube_comments_and_a_quota_403_that_means_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/youtube/v3/commentThreads"))
        .and(query_param("videoId", "vid123"))
        .and(query_param("key", "test-key"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("youtube/comment-threads.json"), "application/json"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "error": {"code": 403, "message": "quota", "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}]}
        })))
        .mount(&server)
        .await;
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"yt\"\nkind = \"youtube\"\nbase_url = \"{}\"\nvideo_id = \"vid123\"\napi_key = \"${{YT_KEY}}\"\nbrand = \"Acme Air\"\n",
            server.uri()
        ),
        &[("YT_KEY", "test-key")],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!((first.stored, first.error.clone()), (2, None), "{first:?}");
    let rows = stored(&db, "youtube");
    let angry = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "UgwThreadB")
        .unwrap();
    let m = &angry.scored.mention;
    assert_eq!(m.text, "The Acme Air app ate my booking & support hung up on me");
    assert_eq!((m.metrics.likes, m.metrics.replies), (Some(17), Some(4)));
    assert_eq!(
        m.url.as_deref(),
        Some("https://www.youtube.com/watch?v=vid123&lc=UgwThreadB")
    );
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(second.error, None, "over quota is a wait, not a failure");
    // The daily quota resets at midnight US Pacific: wait until then, not a minute.
    let until = second.rate_limited_until.expect("a wait");
    let local = until.with_timezone(&chrono_tz::America::Los_Angeles);
    assert_eq!(local.format("%H:%M:%S").to_string(), "00:00:00", "{local}");
    let ahead = until - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::zero() && ahead <= chrono::Duration::hours(24),
        "{ahead}"
    );
    let asked = server.received_requests().await.unwrap().len();
    let third = poll(&config, &db).await.remove(0);
    assert_eq!(third.rate_limited_until, Some(until));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        asked,
        "no request before the reset"
    );
    // /healthz and `sources` read the same stored state.
    let conn = store::open_read_only(&db).unwrap();
    let status = complaint_monitor::sources::poll::status(&conn, &config.sources).unwrap();
    assert_eq!(status[0].rate_limited_until, Some(until));
}

/// Statuses recorded from real Mastodon servers (2022–2023): HTML entities
/// (`&#39;`) come out as the characters, paragraphs as spaces, and a
/// content warning leads the text.
#[tokio::test]
async fn mastodon_real_statuses_decode_entities_and_keep_the_content_warning() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/acmeair"))
        .and(query_param_is_missing("max_id"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("mastodon/statuses-real-2023.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("max_id", "109472499431799134"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("[]", "application/json"))
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"masto\"\nkind = \"mastodon\"\nbase_url = \"{}\"\nhashtag = \"acmeair\"\nbrand = \"Acme Air\"\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let report = poll(&config, &db).await.remove(0);
    assert_eq!(
        (report.stored, report.rejected.len(), report.error.clone()),
        (2, 0, None),
        "{report:?}"
    );
    let rows = stored(&db, "mastodon");
    let text_of = |id: &str| {
        rows.iter()
            .find(|m| m.scored.mention.source_id == id)
            .map(|m| m.scored.mention.text.clone())
            .unwrap()
    };
    assert_eq!(
        text_of("109683797485314862"),
        "Let's see if we can filter out 'unlisted' toots."
    );
    assert_eq!(text_of("109472499431799134"), "Content Warning\nCONTENT (told ya)");
    let cw = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "109472499431799134")
        .unwrap();
    let m = &cw.scored.mention;
    assert_eq!(m.created_at.to_rfc3339(), "2022-12-07T12:56:16.979+00:00");
    assert_eq!(
        (m.author.handle.as_deref(), m.author.followers),
        (Some("cookie_mumbles"), Some(355))
    );
    assert_eq!(
        (m.metrics.likes, m.metrics.reposts, m.metrics.replies),
        (Some(3), Some(1), Some(0))
    );
}

#[tokio::test]
async fn reddit_fetches_an_oauth_token_pages_with_after_and_renews_a_refused_token() {
    let server = MockServer::start().await;
    // client id "cid", secret "csecret": HTTP Basic "Y2lkOmNzZWNyZXQ=".
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .and(wiremock::matchers::header("Authorization", "Basic Y2lkOmNzZWNyZXQ="))
        .and(wiremock::matchers::body_string_contains(
            "grant_type=client_credentials",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "tok-1", "token_type": "bearer", "expires_in": 86400, "scope": "*"
        })))
        .mount(&server)
        .await;
    // The first search is refused once: the token is fetched again.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .and(query_param_is_missing("after"))
        .and(wiremock::matchers::header("Authorization", "Bearer tok-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(recorded("reddit/search-page1.json"), "application/json")
                .insert_header("X-Ratelimit-Used", "5")
                .insert_header("X-Ratelimit-Remaining", "995.0")
                .insert_header("X-Ratelimit-Reset", "42"),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("after", "t3_1gx0002"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("reddit/search-page2.json"), "application/json"))
        .with_priority(2)
        .mount(&server)
        .await;
    // Each author looked up once, with the token: one answers (its name in
    // another case), one is gone (404), one is suspended.
    for (user, status, body) in [
        ("bagless_in_berlin", 200, recorded("reddit/user-about.json")),
        (
            "loungelizard",
            404,
            r#"{"message": "Not Found", "error": 404}"#.to_string(),
        ),
        ("asker", 200, recorded("reddit/user-about-suspended.json")),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/user/{user}/about")))
            .and(wiremock::matchers::header("Authorization", "Bearer tok-1"))
            .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
            .with_priority(2)
            .expect(1)
            .mount(&server)
            .await;
    }
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"reddit\"\nkind = \"reddit\"\nbase_url = \"{uri}\"\nauth_url = \"{uri}/api/v1/access_token\"\n\
             query = \"acme air\"\nclient_id = \"${{REDDIT_ID}}\"\nclient_secret = \"${{REDDIT_SECRET}}\"\n",
            uri = server.uri()
        ),
        &[("REDDIT_ID", "cid"), ("REDDIT_SECRET", "csecret")],
    );
    let (_dir, db) = db();
    let report = poll(&config, &db).await.remove(0);
    assert_eq!(
        (report.pages, report.stored, report.error.clone()),
        (2, 3, None),
        "{report:?}"
    );
    let rows = stored(&db, "reddit");
    let lost = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "t3_1gx0003")
        .unwrap();
    let m = &lost.scored.mention;
    assert_eq!(m.text, "Acme Air lost my luggage on a direct flight\nFiled a claim 5 days ago, no reply. Anyone had luck with their support?");
    assert_eq!(m.created_at.timestamp(), 1795183930);
    assert_eq!((m.metrics.likes, m.metrics.replies), (Some(212), Some(64)));
    // r/travel's 9.8 million subscribers, one in a hundred reached, and the
    // 41 people who follow the author's profile; the author's karma kept.
    assert_eq!(m.author.followers, Some(98_041));
    assert_eq!(m.author.karma, Some(15_230));
    assert!(lost.scored.reach.people >= 98_041, "{:?}", lost.scored.reach);
    let gone = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "t3_1gx0002")
        .unwrap();
    assert_eq!(gone.scored.mention.author.karma, None, "a deleted account has no karma");
    assert_eq!(
        gone.scored.mention.author.followers, None,
        "its listing item carries no subscribers"
    );
    // Care staff see the karma beside the complaint in the inbox.
    let inbox = inbox_of_everything(&db);
    let row = inbox.rows.iter().find(|r| r.source_id == "t3_1gx0003").unwrap();
    assert_eq!((row.karma, row.audience), (Some(15_230), Some(98_041)));
    assert_eq!(
        m.url.as_deref(),
        Some("https://www.reddit.com/r/travel/comments/1gx0003/acme_air_lost_my_luggage/")
    );
    let requests = server.received_requests().await.unwrap();
    let token_fetches = requests
        .iter()
        .filter(|r| r.url.path() == "/api/v1/access_token")
        .count();
    assert_eq!(token_fetches, 2, "a refused token is replaced once");
    assert!(requests.iter().all(|r| r
        .headers
        .get("user-agent")
        .is_some_and(|ua| ua.to_str().unwrap().contains("complaint-monitor"))));
}

/// A page that holds only the newest post already stored (Reddit pages
/// come back short, with `after` set): the walk stops there instead of
/// asking for page 2 on every poll, and the post is not sent to the store
/// again.
#[tokio::test]
async fn reddit_stops_at_the_newest_stored_post_when_nothing_is_new() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "tok", "token_type": "bearer", "expires_in": 86400
        })))
        .mount(&server)
        .await;
    let mut page1: serde_json::Value = serde_json::from_str(&recorded("reddit/search-page1.json")).unwrap();
    let children = page1["data"]["children"].as_array_mut().unwrap();
    children.truncate(1);
    Mock::given(method("GET"))
        .and(path("/search"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&page1))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("after", "t3_1gx0002"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("reddit/search-page2.json"), "application/json"))
        .mount(&server)
        .await;
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"reddit\"\nkind = \"reddit\"\nbase_url = \"{uri}\"\nauth_url = \"{uri}/api/v1/access_token\"\n\
             query = \"acme air\"\nclient_id = \"${{REDDIT_ID}}\"\nclient_secret = \"${{REDDIT_SECRET}}\"\n\
             author_lookups = {{ requests = 1, per = \"1h\" }}\n",
            uri = server.uri()
        ),
        &[("REDDIT_ID", "cid"), ("REDDIT_SECRET", "csecret")],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.pages, first.stored, first.error.clone()),
        (2, 2, None),
        "{first:?}"
    );
    let searches = |requests: &[Request]| requests.iter().filter(|r| r.url.path() == "/search").count();
    let before = searches(&server.received_requests().await.unwrap());
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(
        (second.pages, second.fetched, second.stored, second.duplicates),
        (1, 0, 0, 0),
        "{second:?}"
    );
    assert_eq!(searches(&server.received_requests().await.unwrap()), before + 1);
    // Two authors, a budget of one lookup an hour: the other waits, the
    // posts were stored all the same.
    let lookups = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/user/"))
        .count();
    assert_eq!(lookups, 1);
}

#[tokio::test]
async fn app_store_reviews_carry_their_rating_and_follow_the_next_link() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/us/rss/customerreviews/page=1/id=900000000/sortby=mostrecent/json",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("appstore/reviews-page1.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/us/rss/customerreviews/page=2/id=900000000/sortby=mostrecent/json",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("appstore/reviews-page2.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/us/rss/customerreviews/page=3/id=900000000/sortby=mostrecent/json",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"feed\": {\"link\": []}}", "application/json"))
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"ios\"\nkind = \"appstore\"\nbase_url = \"{}\"\napp_id = \"900000000\"\nbrand = \"Globex Bank\"\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let report = poll(&config, &db).await.remove(0);
    assert_eq!(
        (report.pages, report.stored, report.error.clone()),
        (3, 3, None),
        "{report:?}"
    );
    let rows = stored(&db, "appstore");
    let one_star = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "11200000002")
        .unwrap();
    let m = &one_star.scored.mention;
    assert_eq!(m.rating, Some(1));
    assert_eq!(one_star.scored.label.as_str(), "negative");
    assert_eq!(m.metrics.likes, Some(7), "helpful votes");
    assert_eq!(m.created_at.to_rfc3339(), "2026-11-20T13:15:00+00:00");
    assert_eq!(m.author.handle.as_deref(), Some("angrycustomer"));
    assert!(m.text.starts_with("Crashes at login\nSince the update") && m.text.ends_with("(version 5.2.1)"));
    assert_eq!(one_star.scored.reach.people, (400.0 * (1.0 + 7.0 * 0.25)) as u64);
    let five = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "11200000001")
        .unwrap();
    assert_eq!(five.scored.label.as_str(), "positive");
    assert_eq!(
        one_star.scored.brands.iter().map(|b| &**b).collect::<Vec<_>>(),
        ["Globex Bank"]
    );
}

#[tokio::test]
async fn rss_entries_are_read_and_an_unchanged_feed_costs_a_304() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::header("If-None-Match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/airlines.rss"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(recorded("rss/feed.xml"), "application/rss+xml")
                .insert_header("ETag", "\"v1\"")
                .insert_header("Last-Modified", "Fri, 20 Nov 2026 15:31:00 GMT"),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"forum\"\nkind = \"rss\"\nbase_url = \"{}/airlines.rss\"\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.fetched, first.stored, first.error.clone()),
        (2, 2, None),
        "{first:?}"
    );
    assert_eq!(first.rejected, ["entry without a date"]);
    let rows = stored(&db, "rss");
    let lost = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "forum-thread-1002")
        .unwrap();
    let m = &lost.scored.mention;
    assert_eq!(
        m.text,
        "Acme Air lost our stroller\nGate-checked it in Lisbon, never came out. Terrible & nobody helps."
    );
    assert_eq!(m.author.handle.as_deref(), Some("parent_of_two"));
    assert_eq!(m.url.as_deref(), Some("https://forum.example/t/1002"));
    // Without a guid, feed-rs derives a stable id from the item.
    let tips = rows
        .iter()
        .find(|m| m.scored.mention.url.as_deref() == Some("https://forum.example/t/1001"))
        .unwrap();
    assert!(!tips.scored.mention.source_id.is_empty());

    let second = poll(&config, &db).await.remove(0);
    assert_eq!((second.fetched, second.error), (0, None));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests[1].headers.get("if-modified-since").unwrap(),
        "Fri, 20 Nov 2026 15:31:00 GMT"
    );
}

#[tokio::test]
async fn yelp_reviews_with_their_stars_and_the_daily_limit_headers() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now() + chrono::Duration::hours(5)).to_rfc3339();
    Mock::given(method("GET"))
        .and(path("/v3/businesses/globex-bank-downtown/reviews"))
        .and(wiremock::matchers::header("Authorization", "Bearer yelp-key"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(recorded("yelp/reviews.json"), "application/json")
                .insert_header("RateLimit-DailyLimit", "5000")
                .insert_header("RateLimit-Remaining", "0")
                .insert_header("RateLimit-ResetTime", reset.as_str()),
        )
        .mount(&server)
        .await;
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"yelp\"\nkind = \"yelp\"\nbase_url = \"{}\"\nbusiness_id = \"globex-bank-downtown\"\n\
             api_key = \"${{YELP_KEY}}\"\nbrand = \"Globex Bank\"\n",
            server.uri()
        ),
        &[("YELP_KEY", "yelp-key")],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!((first.stored, first.error.clone()), (2, None), "{first:?}");
    // The last request of the day was used: the source waits for the reset.
    assert!(first.rate_limited_until.is_some());
    let rows = stored(&db, "yelp");
    let slow = rows.iter().find(|m| m.scored.mention.rating == Some(2)).unwrap();
    // `time_created` is US Pacific: 16:40:31 PST is 00:40:31 UTC the next day.
    assert_eq!(slow.scored.mention.created_at.to_rfc3339(), "2026-11-21T00:40:31+00:00");
    assert_eq!(slow.scored.mention.author.handle.as_deref(), Some("Ella A."));
    assert_eq!(slow.scored.label.as_str(), "negative");
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(second.pages, 0, "no request before the reset");
}

fn review_config(server: &MockServer, table: &str) -> Config {
    config_with(
        &format!(
            "[[sources]]\n{table}\nbase_url = \"{}\"\napi_key = \"${{KEY}}\"\nbrand = \"Acme Air\"\n",
            server.uri()
        ),
        &[("KEY", "review-key")],
    )
}

#[tokio::test]
async fn trustpilot_reviews_follow_the_next_page_link() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/business-units/5ff1/reviews"))
        .and(query_param("page", "1"))
        .and(query_param("apikey", "review-key"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("trustpilot/reviews.json"), "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"reviews\": [], \"links\": []}", "application/json"))
        .mount(&server)
        .await;
    let config = review_config(
        &server,
        "name = \"tp\"\nkind = \"trustpilot\"\nbusiness_id = \"5ff1\"\npage_size = 2",
    );
    let (_dir, db) = db();
    let report = poll(&config, &db).await.remove(0);
    assert_eq!(
        (report.pages, report.stored, report.error.clone()),
        (2, 2, None),
        "{report:?}"
    );
    let rows = stored(&db, "trustpilot");
    let lost = rows.iter().find(|m| m.scored.mention.rating == Some(1)).unwrap();
    assert_eq!(
        lost.scored.mention.text,
        "Lost luggage, no reply\nFiled a claim with Acme Air two weeks ago. Nothing."
    );
    assert_eq!(lost.scored.mention.author.handle.as_deref(), Some("Mia K."));
    assert_eq!(lost.scored.mention.metrics.likes, Some(6));
    assert_eq!(lost.scored.reach.people, (120.0 * (1.0 + 6.0 * 0.25)) as u64);
}

#[tokio::test]
async fn google_places_reviews_are_diffed_by_identity() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/places/ChIJacme"))
        .and(wiremock::matchers::header("X-Goog-FieldMask", "reviews"))
        .and(wiremock::matchers::header("X-Goog-Api-Key", "review-key"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("google_places/place.json"), "application/json"))
        .mount(&server)
        .await;
    let config = review_config(
        &server,
        "name = \"gp\"\nkind = \"google_places\"\nplace_id = \"ChIJacme\"",
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!((first.stored, first.error.clone()), (2, None), "{first:?}");
    let rows = stored(&db, "google_places");
    let two = rows.iter().find(|m| m.scored.mention.rating == Some(2)).unwrap();
    assert!(two.scored.mention.source_id.starts_with("places/ChIJacme/reviews/"));
    assert_eq!(two.scored.mention.author.handle.as_deref(), Some("Priya S."));
    assert_eq!(two.scored.label.as_str(), "negative");
    // The same five newest again: nothing new is stored.
    let second = poll(&config, &db).await.remove(0);
    assert_eq!((second.stored, second.error), (0, None));
}

#[tokio::test]
async fn an_edited_review_is_recorded_as_a_revision_not_a_second_mention() {
    let server = MockServer::start().await;
    let original = recorded("google_places/place.json");
    Mock::given(method("GET"))
        .and(path("/v1/places/ChIJacme"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(original.clone(), "application/json"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // The author came back, raised the rating and rewrote the text.
    let edited = original.replacen("\"rating\": 2", "\"rating\": 4", 1).replace(
        "Check-in desk unstaffed for an hour.",
        "Update: Acme Air called me back and sorted it out. Thanks!",
    );
    Mock::given(method("GET"))
        .and(path("/v1/places/ChIJacme"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(edited, "application/json"))
        .mount(&server)
        .await;
    let config = review_config(
        &server,
        "name = \"gp\"\nkind = \"google_places\"\nplace_id = \"ChIJacme\"",
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!((first.stored, first.revised), (2, 0), "{first:?}");
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(
        (second.stored, second.duplicates, second.revised, second.error.clone()),
        (0, 2, 1, None),
        "{second:?}"
    );
    let rows = stored(&db, "google_places");
    assert_eq!(rows.len(), 2, "an edit is not a new mention");
    let edited = rows
        .iter()
        .find(|m| m.scored.mention.author.handle.as_deref() == Some("Priya S."))
        .unwrap();
    assert_eq!(edited.scored.mention.rating, Some(4));
    assert_eq!(edited.scored.label.as_str(), "positive");
    assert!(edited.scored.mention.text.starts_with("Update:"));
    assert_eq!(
        edited.scored.mention.created_at.to_rfc3339(),
        "2026-11-20T09:30:12.345+00:00",
        "the first version's time is kept"
    );
    let conn = store::open_read_only(&db).unwrap();
    let (old_text, old_rating, old_label): (String, i64, String) = conn
        .query_row(
            "SELECT text, rating, label FROM mention_revisions WHERE mention_id = ?1",
            [edited.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (old_text.as_str(), old_rating, old_label.as_str()),
        ("Check-in desk unstaffed for an hour.", 2, "negative")
    );
    let brand_label: String = conn
        .query_row(
            "SELECT label FROM mention_brands WHERE mention_id = ?1",
            [edited.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(brand_label, "positive", "detection and the digest see the new label");
    // Seen again unchanged: nothing more is recorded.
    let third = poll(&config, &db).await.remove(0);
    assert_eq!((third.stored, third.revised), (0, 0), "{third:?}");
}

#[tokio::test]
async fn a_generic_json_api_described_in_config_lemmy_post_list() {
    let server = MockServer::start().await;
    let list = "/api/v3/post/list";
    Mock::given(method("GET"))
        .and(path(list))
        .and(query_param("page_cursor", ""))
        .and(query_param("limit", "20"))
        .and(wiremock::matchers::header("X-Api-Key", "json-key"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("json/lemmy-post-list-page1.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(list))
        .and(query_param("page_cursor", "Pa2217300"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("json/lemmy-post-list-page2.json"), "application/json"),
        )
        .mount(&server)
        .await;
    // The last page used the last request of the window, in the API's own headers.
    Mock::given(method("GET"))
        .and(path(list))
        .and(query_param("page_cursor", "Pa2209954"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-quota-left", "0")
                .insert_header("x-quota-reset", "120")
                .set_body_raw("{\"posts\": [], \"next_page\": \"Pa2209954\"}", "application/json"),
        )
        .mount(&server)
        .await;
    let table = format!(
        r#"[[sources]]
name = "lemmy-acme"
kind = "json"
brand = "Acme Air"
page_size = 20
api_key = "${{KEY}}"
[sources.json]
url = "{}/api/v3/post/list?community_name=acmeair&sort=New&limit={{page_size}}&page_cursor={{page}}"
items = "/posts"
id = "/post/id"
time = "/post/published"
text = ["/post/name", "/post/body"]
author = "/creator/name"
likes = "/counts/score"
replies = "/counts/comments"
link = "/post/ap_id"
next_page = "/next_page"
source_label = "lemmy"
[sources.json.rate_limit_headers]
remaining = "x-quota-left"
reset = "x-quota-reset"
"#,
        server.uri()
    );
    let config = config_with(&table, &[("KEY", "json-key")]);
    let (_dir, db) = db();
    let before = chrono::Utc::now();
    let report = poll(&config, &db).await.remove(0);
    assert_eq!(
        (report.pages, report.stored, report.error.clone()),
        (3, 3, None),
        "{report:?}"
    );
    assert_eq!(report.rejected.len(), 1, "{:?}", report.rejected);
    assert!(report.rejected[0].contains("time"), "{:?}", report.rejected);
    let until = report.rate_limited_until.expect("the API's own headers said wait");
    assert!(until >= before + chrono::Duration::seconds(119));
    let rows = stored(&db, "lemmy");
    assert_eq!(rows.len(), 3);
    let bag = rows.iter().find(|m| m.scored.mention.source_id == "2218841").unwrap();
    let m = &bag.scored.mention;
    assert!(m
        .text
        .starts_with("Acme Air lost my bag on the way to Lisbon\nThird time this year."));
    assert_eq!(m.author.handle.as_deref(), Some("gatecheck"));
    assert_eq!((m.metrics.likes, m.metrics.replies), (Some(41), Some(14)));
    assert_eq!(m.url.as_deref(), Some("https://lemmy.world/post/2218841"));
    assert_eq!(
        m.created_at.to_rfc3339(),
        "2026-11-22T18:41:09.512+00:00",
        "stored to the millisecond"
    );
    assert_eq!(bag.scored.label.as_str(), "negative");
    let title_only = rows.iter().find(|m| m.scored.mention.source_id == "2217300").unwrap();
    assert_eq!(
        title_only.scored.mention.text,
        "Surprisingly good crew on the AMS-JFK flight"
    );
    // No request before the reset the API named.
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(second.pages, 0, "{second:?}");
}

#[test]
fn a_json_mapping_with_mistakes_is_refused_with_each_reason() {
    let table = r#"[[sources]]
name = "bad"
kind = "json"
[sources.json]
url = "ftp://example.com/{page}"
id = "id"
time = "/t"
time_format = "%Q"
text = "/text"
next_page = "/next"
next_link_header = true
"#;
    let error = parse_config(table, &[]).expect_err("refused").to_string();
    for expected in ["json.url", "json.id", "json.time_format", "json.next_page"] {
        assert!(error.contains(expected), "{expected} missing from: {error}");
    }
}

/// The recorded App Store page with every entry's own `updated` taken out,
/// as whole countries' feeds came in 2020: the reviews are kept, at the
/// feed's own time (when they were first seen), not rejected.
#[tokio::test]
async fn app_store_entries_without_their_own_time_are_kept_at_the_time_first_seen() {
    let mut body: serde_json::Value = serde_json::from_str(&recorded("appstore/reviews-page1.json")).unwrap();
    let entries = body["feed"]["entry"].as_array_mut().unwrap();
    let n = entries.len();
    for entry in entries {
        entry.as_object_mut().unwrap().remove("updated");
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/jp/rss/customerreviews/page=1/id=900000000/sortby=mostrecent/json",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/jp/rss/customerreviews/page=2/id=900000000/sortby=mostrecent/json",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"feed\": {\"link\": []}}", "application/json"))
        .mount(&server)
        .await;
    let config = config(&format!(
        "[[sources]]\nname = \"ios-jp\"\nkind = \"appstore\"\nbase_url = \"{}\"\napp_id = \"900000000\"\ncountry = \"jp\"\nbrand = \"Globex Bank\"\n",
        server.uri()
    ));
    let (_dir, db) = db();
    let report = poll(&config, &db).await.remove(0);
    assert_eq!((report.stored as usize, report.rejected.len()), (n, 0), "{report:?}");
    let rows = stored(&db, "appstore");
    // The feed's own `updated`, 2026-11-20T07:00:00-07:00.
    assert!(rows
        .iter()
        .all(|m| m.scored.mention.created_at.to_rfc3339() == "2026-11-20T14:00:00+00:00"));
    // ...and each says its time is the time first seen, to the API and the export.
    assert!(rows.iter().all(|m| m.scored.mention.time_estimated));
    assert_eq!(rows[0].scored.mention.to_feed_json()["time_estimated"], true);
    let inbox = inbox_of_everything(&db);
    assert_eq!(inbox.rows.iter().filter(|r| r.time_estimated).count(), n);
    // Polled again: nothing new, nothing revised.
    let again = poll(&config, &db).await.remove(0);
    assert_eq!((again.stored, again.revised), (0, 0), "{again:?}");
}

/// The Google token endpoint as far as a service account sees it: checks
/// the RS256 assertion against the account's public key (issuer, audience,
/// scope, a lifetime of at most an hour) and hands out a token; counts
/// the exchanges.
pub(crate) struct GoogleTokenEndpoint {
    pub(crate) audience: String,
    pub(crate) exchanges: Arc<Mutex<u32>>,
}

impl Respond for GoogleTokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: std::collections::HashMap<String, String> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
            return ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "unsupported_grant_type"}));
        }
        let public =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/test-rsa-public.pem")).unwrap();
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&["reviews@acme-air.iam.gserviceaccount.com"]);
        let Ok(jwt) = jsonwebtoken::decode::<serde_json::Value>(
            form.get("assertion").map(String::as_str).unwrap_or(""),
            &key,
            &validation,
        ) else {
            return ResponseTemplate::new(400).set_body_json(serde_json::json!({"error": "invalid_grant"}));
        };
        let claims = jwt.claims;
        assert_eq!(claims["scope"], "https://www.googleapis.com/auth/androidpublisher");
        let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
        assert!((1..=3600).contains(&lifetime), "{lifetime}");
        *self.exchanges.lock().unwrap() += 1;
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"
        }))
    }
}

pub(crate) fn service_account_key(token_uri: &str) -> String {
    let pem = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/test-rsa-private.pem"))
        .unwrap();
    serde_json::json!({
        "type": "service_account",
        "project_id": "acme-air",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "reviews@acme-air.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    })
    .to_string()
}

#[tokio::test]
async fn google_play_reviews_through_a_service_account_with_the_developer_reply() {
    let server = MockServer::start().await;
    let exchanges = Arc::new(Mutex::new(0));
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(GoogleTokenEndpoint {
            audience: format!("{}/token", server.uri()),
            exchanges: exchanges.clone(),
        })
        .mount(&server)
        .await;
    let reviews = "/androidpublisher/v3/applications/com.acme.air/reviews";
    Mock::given(method("GET"))
        .and(path(reviews))
        .and(query_param_is_missing("token"))
        .and(wiremock::matchers::header("Authorization", "Bearer ya29.test-token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("googleplay/reviews-page1.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(reviews))
        .and(query_param("token", "CjQKMgoeZ3A6QU9xcFRPSDd4MVFtQWNtZUFpcjAwMDIQAA"))
        .and(wiremock::matchers::header("Authorization", "Bearer ya29.test-token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("googleplay/reviews-page2.json"), "application/json"),
        )
        .mount(&server)
        .await;
    let key = service_account_key(&format!("{}/token", server.uri()));
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"play\"\nkind = \"googleplay\"\nbase_url = \"{}\"\npackage_name = \"com.acme.air\"\n\
             service_account = \"${{GOOGLE_PLAY_KEY}}\"\nbrand = \"Acme Air\"\n",
            server.uri()
        ),
        &[("GOOGLE_PLAY_KEY", &key)],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.pages, first.stored, first.error.clone()),
        (2, 3, None),
        "{first:?}"
    );
    // A review dated 1974 (nine-digit seconds): refused, with its reason.
    assert_eq!(first.rejected.len(), 1, "{first:?}");
    assert!(first.rejected[0].contains("gp:AOqpTOH7x1QmAcmeAir0004"), "{first:?}");
    assert_eq!(*exchanges.lock().unwrap(), 1, "one token for both pages");

    let rows = stored(&db, "googleplay");
    let crash = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "gp:AOqpTOH7x1QmAcmeAir0001")
        .unwrap();
    let m = &crash.scored.mention;
    assert_eq!(
        m.text,
        "App crashes every time I try to check in. Lost my seat because of it. (version 4.2.1 on a52q)"
    );
    assert_eq!(m.created_at.to_rfc3339(), "2026-11-21T11:20:00.125+00:00");
    assert_eq!(
        (m.rating, m.metrics.likes, m.lang.as_deref()),
        (Some(1), Some(14), Some("en_GB"))
    );
    assert_eq!(crash.scored.label.as_str(), "negative");
    let reply = m.reply.as_ref().expect("the developer reply");
    assert!(reply.text.starts_with("Sorry about this, Priya."), "{reply:?}");
    assert_eq!(reply.at.to_rfc3339(), "2026-11-21T12:20:00+00:00");
    let praise = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "gp:AOqpTOH7x1QmAcmeAir0002")
        .unwrap();
    // A title and a body, joined by a tab; no author name given.
    assert_eq!(
        praise.scored.mention.text,
        "Great app\nBooking took two minutes, love the new seat map."
    );
    assert_eq!(
        (
            praise.scored.mention.author.handle.as_deref(),
            praise.scored.mention.reply.as_ref()
        ),
        (None, None)
    );

    // Care staff see that the team has answered, in the inbox.
    let inbox = inbox_of_everything(&db);
    let row = inbox
        .rows
        .iter()
        .find(|r| r.source_id == "gp:AOqpTOH7x1QmAcmeAir0001")
        .unwrap();
    assert_eq!(row.reply.as_ref().map(|r| r.at), Some(reply.at));

    // Polled again: the same reviews, nothing new and nothing revised.
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(
        (second.stored, second.revised, second.error.clone()),
        (0, 0, None),
        "{second:?}"
    );
}

#[test]
fn a_google_play_source_without_a_usable_key_is_refused_saying_why() {
    let bad = |key: &str, package: &str| {
        let text = format!(
            "[[brands]]\nname = \"Acme Air\"\nkeywords = [\"acme air\"]\n[[sources]]\nname = \"play\"\nkind = \"googleplay\"\n\
             package_name = \"{package}\"\nservice_account = \"${{KEY}}\"\n"
        );
        let key = key.to_string();
        match Config::parse(&text, "play.toml", &move |_| Some(key.clone())) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    };
    let not_json = bad("/home/me/key.json", "com.acme.air");
    assert!(
        not_json.contains("sources[0].service_account: is not a service account JSON key"),
        "{not_json}"
    );
    assert!(!not_json.contains("/home/me"), "the secret is never echoed: {not_json}");
    let not_rsa = bad(
        r#"{"client_email": "a@b.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#,
        "com.acme.air",
    );
    assert!(
        not_rsa.contains("its private_key is not an RSA private key in PEM"),
        "{not_rsa}"
    );
    let path = bad(
        &service_account_key("https://oauth2.googleapis.com/token"),
        "com.acme/../x",
    );
    assert!(
        path.contains("sources[0].package_name: is not an Android package name"),
        "{path}"
    );
}

/// App Store Connect as far as the team's API key sees it: every request's
/// bearer must be an ES256 JWT signed with the key (checked against its
/// public half), with the key id, the issuer, Apple's audience and a life
/// of at most 20 minutes. Answers with `body` and Apple's hourly budget.
struct AppStoreConnectApi {
    body: String,
    remaining: u32,
    bearers: Arc<Mutex<Vec<String>>>,
}

impl Respond for AppStoreConnectApi {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("")
            .to_string();
        let public =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/test-ec-public.pem")).unwrap();
        let key = jsonwebtoken::DecodingKey::from_ec_pem(&public).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&["appstoreconnect-v1"]);
        validation.set_issuer(&["57246542-96fe-1a63-e053-0824d011072a"]);
        let Ok(jwt) = jsonwebtoken::decode::<serde_json::Value>(&bearer, &key, &validation) else {
            return ResponseTemplate::new(401).set_body_json(serde_json::json!({
                "errors": [{"status": "401", "code": "NOT_AUTHORIZED", "title": "Authentication credentials are missing or invalid."}]
            }));
        };
        assert_eq!(jwt.header.kid.as_deref(), Some("2X9R4HXF34"));
        let lifetime = jwt.claims["exp"].as_i64().unwrap() - jwt.claims["iat"].as_i64().unwrap();
        assert!((1..=1200).contains(&lifetime), "{lifetime}");
        self.bearers.lock().unwrap().push(bearer);
        ResponseTemplate::new(200)
            .set_body_raw(self.body.clone(), "application/json")
            .insert_header(
                "x-rate-limit",
                format!("user-hour-lim:3600;user-hour-rem:{};", self.remaining).as_str(),
            )
    }
}

#[tokio::test]
async fn app_store_connect_reviews_with_a_signed_bearer_the_published_response_and_the_hourly_budget() {
    let server = MockServer::start().await;
    let bearers = Arc::new(Mutex::new(Vec::new()));
    let reviews = "/v1/apps/900000000/customerReviews";
    Mock::given(method("GET"))
        .and(path(reviews))
        .and(query_param("sort", "-createdDate"))
        .and(query_param("include", "response"))
        .and(query_param_is_missing("cursor"))
        .respond_with(AppStoreConnectApi {
            body: recorded("appstoreconnect/customer-reviews-page1.json"),
            remaining: 3599,
            bearers: bearers.clone(),
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(reviews))
        .and(query_param("cursor", "Mg.AKL0rH4"))
        .respond_with(AppStoreConnectApi {
            body: recorded("appstoreconnect/customer-reviews-page2.json"),
            remaining: 0,
            bearers: bearers.clone(),
        })
        .mount(&server)
        .await;
    let key = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/test-ec-private.p8"))
        .unwrap();
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"asc\"\nkind = \"appstoreconnect\"\nbase_url = \"{}\"\napp_id = \"900000000\"\n\
             issuer_id = \"57246542-96fe-1a63-e053-0824d011072a\"\nkey_id = \"2X9R4HXF34\"\nprivate_key = \"${{ASC_KEY}}\"\n\
             brand = \"Acme Air\"\n",
            server.uri()
        ),
        &[("ASC_KEY", &key)],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.pages, first.stored, first.error.clone()),
        (2, 3, None),
        "{first:?}"
    );
    let bearers = bearers.lock().unwrap().clone();
    assert_eq!(bearers.len(), 2);
    assert_eq!(bearers[0], bearers[1], "one signed bearer for both pages");
    // The last answer spent the hour's budget: the source holds off.
    let until = first.rate_limited_until.expect("a wait");
    let ahead = until - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::minutes(4) && ahead <= chrono::Duration::minutes(5),
        "{ahead}"
    );

    let rows = stored(&db, "appstoreconnect");
    let twice = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "00000071-4f1c-7002-8a3e-2b5c00000001")
        .unwrap();
    let m = &twice.scored.mention;
    assert_eq!(
        m.text,
        "Charged twice\nBooked one flight, the app took the money twice and support has not answered in four days. (App Store USA)"
    );
    assert_eq!(m.created_at.to_rfc3339(), "2026-11-21T17:14:02+00:00");
    assert_eq!(
        (m.rating, m.author.handle.as_deref()),
        (Some(1), Some("frequentflyer_88"))
    );
    let reply = m.reply.as_ref().expect("the published response");
    assert!(reply.text.starts_with("We're sorry."), "{reply:?}");
    assert_eq!(reply.at.to_rfc3339(), "2026-11-22T02:02:00+00:00");
    // A response Apple has not published yet is not an answer the customer can see.
    let pending = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "00000071-4f1c-7002-8a3e-2b5c00000002")
        .unwrap();
    assert_eq!(pending.scored.mention.reply, None);

    // Polled again once the hour's budget is back: nothing new, nothing
    // revised, and the walk stops on the first page, at what is stored.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE source_state SET rate_limited_until = NULL", [])
        .unwrap();
    drop(conn);
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(
        (
            second.pages,
            second.stored,
            second.revised,
            second.duplicates,
            second.error.clone()
        ),
        (1, 0, 0, 2, None),
        "{second:?}"
    );
}

#[test]
fn an_app_store_connect_source_names_each_missing_or_bad_setting() {
    let text = "[[brands]]\nname = \"Acme Air\"\nkeywords = [\"acme air\"]\n[[sources]]\nname = \"asc\"\nkind = \"appstoreconnect\"\n\
                app_id = \"id900\"\nissuer_id = \"i\"\nkey_id = \"k\"\nprivate_key = \"${ASC_KEY}\"\nterritory = \"us\"\n";
    let err = Config::parse(text, "asc.toml", &|_| {
        Some("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into())
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sources[0].app_id: is the app's numeric Apple ID"),
        "{err}"
    );
    assert!(
        err.contains("sources[0].private_key: the private key does not read as a PEM key for ES256"),
        "{err}"
    );
    assert!(
        err.contains("sources[0].territory: is a three-letter territory code"),
        "{err}"
    );
    assert!(!err.contains("AAAA"), "the key is never echoed: {err}");
}

#[tokio::test]
async fn google_business_reviews_through_a_refresh_token_with_the_owner_reply() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(wiremock::matchers::body_string_contains("grant_type=refresh_token"))
        .and(wiremock::matchers::body_string_contains("refresh_token=1%2F%2F0g-refresh"))
        .and(wiremock::matchers::body_string_contains("client_id=gbp-client"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "ya29.gbp", "expires_in": 3599, "scope": "https://www.googleapis.com/auth/business.manage", "token_type": "Bearer"
        })))
        // One exchange per poll for both pages (each poll here is a restart).
        .expect(2)
        .mount(&server)
        .await;
    let reviews = "/v4/accounts/112233445566778899/locations/9876543210123456789/reviews";
    Mock::given(method("GET"))
        .and(path(reviews))
        .and(query_param("orderBy", "updateTime desc"))
        .and(query_param_is_missing("pageToken"))
        .and(wiremock::matchers::header("Authorization", "Bearer ya29.gbp"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("google_business/reviews-page1.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(reviews))
        .and(query_param("pageToken", "ABHRLXVm7qWx2sT0000000000001"))
        .and(wiremock::matchers::header("Authorization", "Bearer ya29.gbp"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("google_business/reviews-page2.json"), "application/json"),
        )
        .mount(&server)
        .await;
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"gbp\"\nkind = \"google_business\"\nbase_url = \"{uri}\"\nauth_url = \"{uri}/token\"\n\
             account_id = \"112233445566778899\"\nlocation_id = \"9876543210123456789\"\nclient_id = \"${{GBP_ID}}\"\n\
             client_secret = \"${{GBP_SECRET}}\"\nrefresh_token = \"${{GBP_REFRESH}}\"\nbrand = \"Acme Air\"\n",
            uri = server.uri()
        ),
        &[("GBP_ID", "gbp-client"), ("GBP_SECRET", "gbp-secret"), ("GBP_REFRESH", "1//0g-refresh")],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.pages, first.stored, first.error.clone()),
        (2, 4, None),
        "{first:?}"
    );
    assert_eq!(first.rejected.len(), 1, "{first:?}");
    assert!(
        first.rejected[0].contains("STAR_RATING") || first.rejected[0].contains("starRating"),
        "{first:?}"
    );

    let rows = stored(&db, "google_business");
    let by_id = |id: &str| &rows.iter().find(|m| m.scored.mention.source_id == id).unwrap().scored;
    let wait = by_id("AbFvOqn2xQ0001");
    assert_eq!((wait.mention.rating, wait.label.as_str()), (Some(1), "negative"));
    assert_eq!(wait.mention.author.handle.as_deref(), Some("Tomás Ribeiro"));
    // Stored to the millisecond, as every time is.
    assert_eq!(wait.mention.created_at.to_rfc3339(), "2026-11-21T16:02:11.518+00:00");
    let reply = wait.mention.reply.as_ref().expect("the owner's reply");
    assert!(reply.text.starts_with("Tomás, we're sorry"), "{reply:?}");
    // Anonymous reviewers keep no name; a rating without words is still a review.
    assert_eq!(by_id("AbFvOqn2xQ0002").mention.author.handle, None);
    let silent = by_id("AbFvOqn2xQ0003");
    assert_eq!((silent.mention.text.as_str(), silent.mention.rating), ("", Some(2)));
    assert_eq!(silent.label.as_str(), "negative");

    let second = poll(&config, &db).await.remove(0);
    assert_eq!(
        (second.stored, second.revised, second.error.clone()),
        (0, 0, None),
        "{second:?}"
    );
}

#[tokio::test]
async fn facebook_page_comments_with_the_page_reply_skipping_its_own_and_every_poll_walks_the_recent_posts() {
    let server = MockServer::start().await;
    let posts = "/v21.0/104523000000001/published_posts";
    Mock::given(method("GET"))
        .and(path(posts))
        .and(query_param_is_missing("after"))
        .and(wiremock::matchers::header("Authorization", "Bearer page-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(recorded("facebook/published-posts-page1.json"), "application/json")
                .insert_header("x-app-usage", r#"{"call_count":12,"total_cputime":3,"total_time":4}"#),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(posts))
        .and(query_param("after", "QVFIUkZANd2JMNG1nV0luV0hHTFhmRVhR"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(recorded("facebook/published-posts-page2.json"), "application/json")
                // This answer used the Page's whole hourly budget; Meta says when it comes back.
                .insert_header(
                    "x-business-use-case-usage",
                    r#"{"104523000000001":[{"type":"pages","call_count":100,"total_cputime":12,"total_time":14,"estimated_time_to_regain_access":25}]}"#,
                ),
        )
        .mount(&server)
        .await;
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"fb\"\nkind = \"facebook\"\nbase_url = \"{}\"\npage_id = \"104523000000001\"\n\
             access_token = \"${{FB_TOKEN}}\"\nbrand = \"Acme Air\"\n",
            server.uri()
        ),
        &[("FB_TOKEN", "page-token")],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    // Three comments by others; the Page's own comment and its reply are not mentions.
    assert_eq!(
        (first.pages, first.stored, first.error.clone()),
        (2, 3, None),
        "{first:?}"
    );
    let until = first
        .rate_limited_until
        .expect("Meta's estimated time to regain access");
    let ahead = until - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::minutes(24) && ahead <= chrono::Duration::minutes(25),
        "{ahead}"
    );

    let rows = stored(&db, "facebook");
    let by_id = |id: &str| &rows.iter().find(|m| m.scored.mention.source_id == id).unwrap().scored;
    let suitcase = by_id("912300000000011_1200000000000003");
    assert_eq!(suitcase.mention.created_at.to_rfc3339(), "2026-11-21T12:31:09+00:00");
    assert_eq!(suitcase.mention.author.handle.as_deref(), Some("Hanna Berg"));
    assert_eq!(
        (suitcase.mention.metrics.likes, suitcase.mention.metrics.replies),
        (Some(23), Some(2))
    );
    assert_eq!(suitcase.label.as_str(), "negative");
    let reply = suitcase.mention.reply.as_ref().expect("the Page's reply");
    assert!(reply.text.starts_with("Hanna, we're so sorry."), "{reply:?}");
    // A commenter Graph does not name (their privacy settings) is still stored.
    assert_eq!(by_id("912300000000011_1200000000000002").mention.author.handle, None);
    // A new comment on an older post, on the second page.
    assert_eq!(by_id("912300000000007_1100000000000009").mention.reply, None);
    assert!(!rows
        .iter()
        .any(|m| m.scored.mention.source_id == "912300000000011_1200000000000001"));

    // Once Meta's wait is over, the next poll walks the recent posts again
    // (since two weeks before the newest comment) and stores nothing twice.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE source_state SET rate_limited_until = NULL", [])
        .unwrap();
    drop(conn);
    let second = poll(&config, &db).await.remove(0);
    assert_eq!(
        (second.pages, second.stored, second.duplicates),
        (2, 0, 3),
        "{second:?}"
    );
    let requests = server.received_requests().await.unwrap();
    let since = requests.last().and_then(|r| {
        r.url
            .query_pairs()
            .find(|(k, _)| k == "since")
            .map(|(_, v)| v.into_owned())
    });
    let newest = chrono::DateTime::parse_from_rfc3339("2026-11-21T12:31:09Z").unwrap();
    assert_eq!(
        since,
        Some((newest - chrono::Duration::days(14)).timestamp().to_string())
    );
}

#[tokio::test]
async fn instagram_comments_with_the_account_reply_and_a_graph_throttling_error_means_wait() {
    let server = MockServer::start().await;
    let media = "/v21.0/17841400000000001/media";
    Mock::given(method("GET"))
        .and(path(media))
        .and(wiremock::matchers::header("Authorization", "Bearer ig-token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("instagram/media-page1.json"), "application/json"),
        )
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(media))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "is_transient": true, "code": 4, "fbtrace_id": "AbC"}
        })))
        .mount(&server)
        .await;
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"ig\"\nkind = \"instagram\"\nbase_url = \"{}\"\nig_user_id = \"17841400000000001\"\n\
             username = \"acmeair\"\naccess_token = \"${{IG_TOKEN}}\"\nbrand = \"Acme Air\"\n",
            server.uri()
        ),
        &[("IG_TOKEN", "ig-token")],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await.remove(0);
    assert_eq!(
        (first.pages, first.stored, first.error.clone()),
        (1, 2, None),
        "{first:?}"
    );
    let rows = stored(&db, "instagram");
    let cancelled = rows
        .iter()
        .find(|m| m.scored.mention.source_id == "17858893269000001")
        .unwrap();
    let m = &cancelled.scored.mention;
    assert_eq!(m.author.handle.as_deref(), Some("lea.travels"));
    assert_eq!(m.url.as_deref(), Some("https://www.instagram.com/p/DCx0000AcmE/"));
    assert_eq!(m.metrics.likes, Some(41));
    assert!(m
        .reply
        .as_ref()
        .is_some_and(|r| r.text.starts_with("@lea.travels we're sorry")));
    assert!(!rows
        .iter()
        .any(|m| m.scored.mention.author.handle.as_deref() == Some("acmeair")));
    // The same media again: nothing new stored.
    let again = poll(&config, &db).await.remove(0);
    assert_eq!(
        (again.stored, again.duplicates, again.error.clone()),
        (0, 2, None),
        "{again:?}"
    );
    // Code 4 in a 400: the app is throttled; a wait, not a failure.
    let second = poll(&config, &db).await.remove(0);
    assert_eq!((second.pages, second.error.clone()), (0, None), "{second:?}");
    let ahead = second.rate_limited_until.expect("a wait") - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::minutes(9) && ahead <= chrono::Duration::minutes(10),
        "{ahead}"
    );
}

/// Google's APIs say "over quota" with a 429 and `RESOURCE_EXHAUSTED`
/// (Business Profile, Android Publisher alike): a wait, not a failure, and
/// nothing is asked for until it is over.
#[tokio::test]
async fn google_owned_channels_wait_on_resource_exhausted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "ya29.gbp", "expires_in": 3599, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "120")
                .set_body_json(serde_json::json!({
                    "error": {"code": 429, "message": "Quota exceeded for quota metric 'Requests' of service 'mybusiness.googleapis.com'.", "status": "RESOURCE_EXHAUSTED"}
                })),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/play-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "ya29.play", "expires_in": 3599, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    let key = service_account_key(&format!("{}/play-token", server.uri()));
    let config = config_with(
        &format!(
            "[[sources]]\nname = \"gbp\"\nkind = \"google_business\"\nbase_url = \"{uri}\"\nauth_url = \"{uri}/token\"\n\
             account_id = \"1\"\nlocation_id = \"2\"\nclient_id = \"i\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n\
             [[sources]]\nname = \"play\"\nkind = \"googleplay\"\nbase_url = \"{uri}\"\npackage_name = \"com.acme.air\"\n\
             service_account = \"${{PLAY_KEY}}\"\n",
            uri = server.uri()
        ),
        &[("PLAY_KEY", &key)],
    );
    let (_dir, db) = db();
    let first = poll(&config, &db).await;
    assert_eq!(first.len(), 2);
    for report in &first {
        assert_eq!((report.pages, report.error.clone()), (0, None), "{report:?}");
        let ahead = report.rate_limited_until.expect("a wait") - chrono::Utc::now();
        assert!(
            ahead > chrono::Duration::seconds(110) && ahead <= chrono::Duration::seconds(120),
            "{ahead}"
        );
    }
    let asked = server.received_requests().await.unwrap().len();
    let second = poll(&config, &db).await;
    for (before, after) in first.iter().zip(&second) {
        // The wait as stored, to the millisecond.
        let stored_until = before.rate_limited_until.map(|t| t.timestamp_millis());
        assert_eq!(after.rate_limited_until.map(|t| t.timestamp_millis()), stored_until);
    }
    assert_eq!(server.received_requests().await.unwrap().len(), asked);
}
