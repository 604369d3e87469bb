//! `run`, the long-running service, as a real process: it polls a local
//! API on its schedule, serves the inbox, health and metrics while it does,
//! and stops cleanly on SIGTERM with everything stored.

use std::path::Path;
use std::time::{Duration, Instant};

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::service::Service;

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
    let service = Service::start(&config, &db);
    let base = service.address().await;
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

    let output = service.terminate().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_and_tokens_never_reach_the_logs() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("run.toml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml"), &config).unwrap();
    let db = dir.path().join("run.db");
    let binary = env!("CARGO_BIN_EXE_complaint-monitor");
    // An admin, added as an operator would, and a token for their scripts.
    let mut add = std::process::Command::new(binary)
        .args(["users", "add", "maria", "--role", "admin", "--password-stdin", "--db"])
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"TOPSECRET-PASSWORD-1\n").unwrap();
    assert!(add.wait_with_output().unwrap().status.success());
    let token = std::process::Command::new(binary)
        .args(["users", "token", "maria", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("cm_"), "{token}");

    let service = Service::start_with(&config, &db, "0.0.0.0:0", &[("RUST_LOG", "debug")]);
    // It says 0.0.0.0; connect over loopback.
    let base = service.address().await.replace("0.0.0.0", "127.0.0.1");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let refused = http
        .get(format!("{base}/api/mentions"))
        .bearer_auth("cm_TOPSECRET-WRONG")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let allowed = http
        .get(format!("{base}/api/mentions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status().as_u16(), 200);
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    let (cookie, _) = crate::support::web::set_cookie(&form, "cm_csrf").unwrap();
    let csrf = crate::support::web::form_token_in(&form.text().await.unwrap());
    let login = http
        .post(format!("{base}/login"))
        .header("cookie", cookie)
        .form(&[("name", "maria"), ("password", "TOPSECRET-PASSWORD-1"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let (status, log) = service.terminate().await;
    assert!(status.success(), "{log}");
    assert!(log.contains("serving the inbox"), "{log}");
    assert!(!log.contains("TOPSECRET"), "a secret reached the log:\n{log}");
    assert!(!log.contains(&token[3..]), "a token reached the log:\n{log}");
    // One access line per request, with method, path and status, the
    // refused one included.
    let access: Vec<&str> = log.lines().filter(|l| l.contains("served")).collect();
    for (path, status) in [
        ("/api/mentions", "status=401"),
        ("/api/mentions", "status=200"),
        ("/login", "status=303"),
    ] {
        assert!(
            access
                .iter()
                .any(|l| l.contains(&format!("path={path}")) && l.contains(status)),
            "no access line for {path} {status}:\n{log}"
        );
    }
    assert!(
        access
            .iter()
            .any(|l| l.contains("user=maria") && l.contains("status=200")),
        "the access line names the user:\n{log}"
    );
}
