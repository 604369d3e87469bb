//! Crash safety of the long-running service: `run` polls a local fake API
//! (the demo feed, moved to end now, served as a paged JSON API) and
//! delivers alerts to a local webhook receiver; it is killed with SIGKILL at
//! random moments and started again, then left to finish. At the end every
//! item the API served is stored exactly once, the cursor is not ahead of
//! the stored data, the database is intact, and every notification in the
//! outbox reached the receiver, which deduplicates by idempotency key and
//! counts the repeats.
//!
//! `SERVICE_CRASH_KILLS` sets the number of kills (default 5, as in CI; the
//! manual run in docs/reliability.md uses 20), `CRASH_SEED` the seed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use complaint_monitor::config::Config;
use complaint_monitor::enrich::Enriched;
use rand::{Rng, SeedableRng};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::demo_api;

fn start(config: &Path, db: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args(["run", "--no-web", "--config"])
        .arg(config)
        .arg("--db")
        .arg(db)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

fn query_i64(db: &Path, sql: &str) -> i64 {
    match complaint_monitor::store::open_read_only(db) {
        Ok(conn) => conn.query_row(sql, [], |r| r.get(0)).unwrap_or(-1),
        Err(_) => -1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_killed_at_random_moments_loses_and_repeats_nothing() {
    let kills: usize = std::env::var("SERVICE_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("service crash test: {kills} kills, CRASH_SEED={seed}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);

    // The demo feed, moved in whole buckets to end now, as API items.
    let demo_config = demo_api::demo_config();
    let enricher = Config::parse(&demo_config, "demo.toml", &|_| None)
        .unwrap()
        .enricher()
        .unwrap();
    let mut expected = BTreeSet::new();
    let mut items = Vec::new();
    for (mention, item) in demo_api::demo_items() {
        let mut check = mention;
        check.brand = None;
        if matches!(enricher.enrich(check), Enriched::Scored(_)) {
            expected.insert(item["id"].as_str().unwrap().to_string());
        }
        items.push(item);
    }

    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/items"))
        .respond_with(demo_api::Pages(items))
        .mount(&api)
        .await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("run.toml");
    std::fs::write(
        &config,
        format!(
            r#"{demo_config}
[[alerts.channels]]
name = "hook"
kind = "webhook"
url = "{}/hook"
{}"#,
            receiver.uri(),
            demo_api::source_config("api", &api.uri())
        ),
    )
    .unwrap();
    let db = dir.path().join("run.db");

    for _ in 0..kills {
        let mut child = start(&config, &db, &dir.path().join("killed.log"));
        tokio::time::sleep(Duration::from_millis(rng.gen_range(150..2500))).await;
        child.kill().unwrap();
        child.wait().unwrap();
    }

    // Started once more and left to finish: everything stored, every
    // notification delivered.
    let log = dir.path().join("final.log");
    let mut child = start(&config, &db, &log);
    let started = Instant::now();
    loop {
        let stored = query_i64(&db, "SELECT count(*) FROM mentions");
        let outbox = query_i64(&db, "SELECT count(*) FROM outbox WHERE channel = 'hook'");
        let pending = query_i64(&db, "SELECT count(*) FROM outbox WHERE status != 'sent'");
        if stored == expected.len() as i64 && outbox > 0 && pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "not settled: {stored} of {} stored, {outbox} notifications, {pending} pending (CRASH_SEED={seed})",
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Wait until it is up (SIGTERM before the runtime exists ends any process).
    while !std::fs::read_to_string(&log).unwrap().contains("polling") {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit}: {}", std::fs::read_to_string(&log).unwrap());

    let conn = complaint_monitor::store::open_read_only(&db).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let stored: BTreeSet<String> = conn
        .prepare("SELECT source_id FROM mentions WHERE source = 'api'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(stored, expected, "every served item once (CRASH_SEED={seed})");
    let cursor: String = conn
        .query_row("SELECT cursor FROM source_cursors WHERE source = 'api'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let cursor: serde_json::Value = serde_json::from_str(&cursor).unwrap();
    let newest: i64 = conn
        .query_row("SELECT max(created_at) FROM mentions", [], |r| r.get(0))
        .unwrap();
    let cursor_time = chrono::DateTime::parse_from_rfc3339(cursor["time"].as_str().unwrap()).unwrap();
    assert!(
        cursor_time.timestamp_millis() <= newest,
        "the cursor ran ahead of the data"
    );
    let incidents: i64 = conn
        .query_row("SELECT count(*) FROM incidents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        incidents, 1,
        "the demo's one wave of complaints is one incident (CRASH_SEED={seed})"
    );
    let opened: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox WHERE channel = 'hook' AND event = 'opened'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(opened, 1, "one opening notice (CRASH_SEED={seed})");

    let keys: Vec<String> = conn
        .prepare("SELECT idempotency_key FROM outbox WHERE channel = 'hook' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let received: Vec<String> = receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| {
            r.headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .collect();
    let distinct: BTreeSet<&String> = received.iter().collect();
    assert_eq!(
        distinct,
        keys.iter().collect::<BTreeSet<_>>(),
        "every notification reached the receiver (CRASH_SEED={seed})"
    );
    eprintln!(
        "{} notifications, {} deliveries ({} repeated after a kill between sending and recording, \
         absorbed by the idempotency key)",
        keys.len(),
        received.len(),
        received.len() - distinct.len()
    );
}
