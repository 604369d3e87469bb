//! `run`, the long-running service, as a real process: it polls a local
//! API on its schedule, serves the inbox, health and metrics while it does,
//! and stops cleanly on SIGTERM with everything stored.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_polls_on_schedule_and_stops_cleanly_on_sigterm() {
    let server = MockServer::start().await;
    let body =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/recorded/hackernews/search.json"))
            .unwrap();
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("run.toml");
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap();
    std::fs::write(
        &config,
        format!(
            "{demo}\n[[sources]]\nname = \"hn\"\nkind = \"hackernews\"\nbase_url = \"{}\"\nquery = \"acme air\"\nevery = \"1s\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let db = dir.path().join("run.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Collect the log as it comes, to find the address it serves on.
    let log = Arc::new(Mutex::new(String::new()));
    let reader = {
        let log = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        })
    };
    let started = Instant::now();
    let base = loop {
        let text = log.lock().unwrap().clone();
        if let Some(at) = text.find("serving the inbox on ") {
            let rest = &text[at + "serving the inbox on ".len()..];
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no address in the log:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let http = reqwest::Client::new();

    // It polls again and again: wait for a few requests.
    let started = Instant::now();
    while server.received_requests().await.unwrap().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the service is not polling"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // While it runs: the source is healthy, the metrics count its requests,
    // and an action through the API is accepted.
    let started = Instant::now();
    loop {
        let health: serde_json::Value = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["sources"][0]["status"] == "ok" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("cm_poll_requests_total{source=\"hn\"}"), "{metrics}");
    assert!(metrics.contains("cm_mentions_ingested_total{"), "{metrics}");
    let inbox: serde_json::Value = http
        .get(format!("{base}/api/mentions?label=all&state=all&since=3650d"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = inbox["rows"][0]["id"].as_i64().expect("a stored mention in the inbox");
    let answer = http
        .post(format!("{base}/api/mentions/actions"))
        .json(&serde_json::json!({"ids": [id], "action": "ignore", "note": "not about us", "by": "ana"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                reader.join().unwrap();
                let err = log.lock().unwrap().clone();
                return (status, err);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no clean stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    assert!(output.0.success(), "{}", output.1);
    assert!(output.1.contains("stopped cleanly"), "{}", output.1);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM mentions WHERE source = 'hackernews'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, 2, "each mention once, however often it was polled");
    let success: Option<i64> = conn
        .query_row("SELECT last_success FROM source_state WHERE source = 'hn'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(success.is_some());
    let ignored: String = conn
        .query_row("SELECT state FROM mention_states WHERE mention_id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(ignored, "ignored", "the action accepted before SIGTERM is stored");
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
