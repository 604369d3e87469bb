//! `run`, the long-running service, as a real process: it polls a local
//! API on its schedule and stops cleanly on SIGTERM with everything stored.

use std::path::Path;
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
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // It polls again and again: wait for a few requests.
    let started = Instant::now();
    while server.received_requests().await.unwrap().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the service is not polling"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
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
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
