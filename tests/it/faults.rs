//! Faulty services: a fake API that answers 500, 503 with `Retry-After`, 429
//! with and without reset headers, a truncated body, invalid JSON, HTML, a
//! 50 MB body, a body trickling one byte a second, and a connection reset.
//! For each the poller survives, reports one clear error, waits or backs off
//! as documented, and marks the source unhealthy; when the fault clears,
//! polling resumes where it left off, with no gap and no duplicate. A second
//! test runs `run` with a failing and a healthy source side by side.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use complaint_monitor::clock::VirtualClock;
use complaint_monitor::config::Config;
use complaint_monitor::sources::poll::{sources, PollReport, Poller};
use complaint_monitor::store::{self, writer::Writer};

use crate::support::fake_api;
use crate::support::service;
use fake_api::{FakeApi, Fault};
use service::Service;

fn recorded_hn() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/recorded/hackernews/search.json"))
        .unwrap()
}

/// The same search a little later: one more comment was posted.
fn with_a_new_comment(body: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(body).unwrap();
    let hits = value["hits"].as_array_mut().unwrap();
    hits.insert(
        0,
        serde_json::json!({
            "objectID": "42100009", "created_at": "2026-11-20T14:20:00Z", "created_at_i": 1795184400,
            "author": "late_flyer", "comment_text": "Acme Air still has not found my bag. Terrible.",
            "story_id": 42100000, "_tags": ["comment"]
        }),
    );
    value.to_string()
}

fn config(sources: &str) -> Config {
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap();
    Config::parse(&format!("{demo}\n{sources}"), "test.toml", &|_| None).unwrap()
}

async fn poll(config: &Config, db: &Path, clock: &Arc<VirtualClock>) -> PollReport {
    let (writer, handle) = Writer::start(db, 4).unwrap();
    let poller = Poller::new(config.enricher().unwrap(), db, handle, clock.clone())
        .unwrap()
        .with_retry_base(Duration::from_millis(5));
    let report = poller.poll(&sources(&config.sources)[0]).await;
    drop(poller);
    tokio::task::spawn_blocking(move || writer.finish().unwrap())
        .await
        .unwrap();
    report
}

fn stored_ids(db: &Path) -> Vec<String> {
    let conn = store::open_read_only(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT source_id FROM mentions ORDER BY source_id")
        .unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
}

fn health(db: &Path, config: &Config) -> serde_json::Value {
    let conn = store::open_read_only(db).unwrap();
    serde_json::to_value(
        complaint_monitor::sources::poll::status(&conn, &config.sources)
            .unwrap()
            .remove(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_survived_and_polling_resumes_without_gap_or_duplicate() {
    let api = FakeApi::start(recorded_hn()).await;
    let config = config(&format!(
        "[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme air\"\ntimeout = \"2s\"\nmax_body_bytes = 4000000\n",
        api.url()
    ));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("faults.db");
    let start: DateTime<Utc> = "2026-11-20T15:00:00Z".parse().unwrap();
    let clock = Arc::new(VirtualClock::starting_at(start));

    let first = poll(&config, &db, &clock).await;
    assert_eq!((first.stored, first.error.clone()), (2, None), "{first:?}");

    // While the API misbehaves, someone posts a new comment.
    api.set_body(with_a_new_comment(&recorded_hn()));
    let mut now = start;
    for fault in Fault::ALL {
        api.set_fault(fault);
        now += chrono::Duration::minutes(5);
        clock.advance_to(now);
        let before = api.requests();
        let report = poll(&config, &db, &clock).await;
        let requests = api.requests() - before;
        let refused = matches!(
            fault,
            Fault::Unavailable503RetryAfter | Fault::TooMany429WithReset | Fault::TooMany429Bare
        );
        if refused {
            // Told to wait: one request, no retries, wait as told.
            assert_eq!(requests, 1, "{fault:?}: retried a refusal");
            assert_eq!(report.error, None, "{fault:?}: waiting is not an error");
            let wait = report.rate_limited_until.expect("a wait") - now;
            let expected = match fault {
                Fault::Unavailable503RetryAfter => 30,
                Fault::TooMany429WithReset => 45,
                _ => 60,
            };
            assert_eq!(wait.num_seconds(), expected, "{fault:?}");
        } else {
            let error = report
                .error
                .clone()
                .unwrap_or_else(|| panic!("{fault:?}: no error reported"));
            let expected = match fault {
                Fault::Status500 => "500",
                Fault::TruncatedBody => "broke off",
                Fault::InvalidJson | Fault::HtmlInsteadOfJson => "unreadable response",
                Fault::FiftyMegabytes => "larger than the 4000000-byte limit",
                Fault::Trickle => "timed out",
                Fault::ConnectionReset => "failed",
                _ => unreachable!(),
            };
            assert!(error.contains(expected), "{fault:?}: {error}");
            assert!(requests <= 3, "{fault:?}: {requests} requests");
        }
        assert_eq!(report.stored, 0, "{fault:?}");
        let state = health(&db, &config);
        assert!(
            state["consecutive_failures"].as_i64().unwrap() >= 1,
            "{fault:?}: not marked unhealthy: {state}"
        );
        assert!(state["last_error"].is_string(), "{fault:?}: {state}");
        if refused {
            // The wait is honoured: no request before it ends.
            let again = poll(&config, &db, &clock).await;
            assert_eq!(again.pages, 0, "{fault:?}");
            now += chrono::Duration::minutes(2);
            clock.advance_to(now);
        }
    }

    // The fault clears: the new comment arrives, nothing is stored twice.
    api.set_fault(Fault::None);
    now += chrono::Duration::minutes(5);
    clock.advance_to(now);
    let resumed = poll(&config, &db, &clock).await;
    assert_eq!((resumed.stored, resumed.error.clone()), (1, None), "{resumed:?}");
    assert_eq!(stored_ids(&db), ["42100000", "42100002", "42100009"]);
    let state = health(&db, &config);
    assert_eq!(state["consecutive_failures"], 0, "healthy again: {state}");
    let again = poll(&config, &db, &clock).await;
    assert_eq!(again.stored, 0);
    let check: String = store::open_read_only(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_source_logs_once_backs_off_and_does_not_hold_up_the_others() {
    let bad = FakeApi::start(recorded_hn()).await;
    bad.set_fault(Fault::Status500);
    let good = FakeApi::start(recorded_hn()).await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("run.toml");
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap();
    std::fs::write(
        &config_path,
        format!(
            "{demo}\n[[sources]]\nname = \"bad\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme\"\nevery = \"1s\"\n\
             [[sources]]\nname = \"good\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme\"\nevery = \"1s\"\n",
            bad.url(),
            good.url()
        ),
    )
    .unwrap();
    let db = dir.path().join("run.db");
    let service = Service::start(&config_path, &db);
    // Let it run until the healthy source has been polled several times.
    let started = Instant::now();
    while good.requests() < 6 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the healthy source is held up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let base = service.address().await;
    let health: serde_json::Value = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let status = |name: &str| {
        health["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["status"].clone())
            .unwrap()
    };
    assert_eq!(status("bad"), "failing", "{health}");
    assert_eq!(status("good"), "ok", "{health}");
    assert_eq!(health["status"], "degraded");
    let (exit, log) = service.terminate().await;
    assert!(exit.success(), "{log}");
    // The failing source backs off (1 s, doubling), so it polled far less
    // often than the healthy one, and said so once.
    let bad_polls = bad.requests() / 3;
    assert!(
        bad_polls < good.requests() / 2,
        "{bad_polls} failing polls against {} healthy ones in {elapsed:?}",
        good.requests()
    );
    let warnings = log.lines().filter(|l| l.contains("poll failed")).count();
    assert_eq!(warnings, 1, "one line per failure streak:\n{log}");
}
