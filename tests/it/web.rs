//! The web UI and JSON API over real HTTP against a real SQLite file: the
//! inbox order and actions, errors, access control, CSRF, hostile text,
//! live events, health and metrics.

use std::time::Duration;

use complaint_monitor::store;
use serde_json::{json, Value};

use crate::support::web::{fixture_db, TestServer, HOSTILE_TEXT};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn post_json(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let response = client().post(server.url(path)).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_inbox_puts_the_biggest_complaints_first_and_records_every_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;

    let (status, page) = get_json(&server, "/api/mentions?limit=20").await;
    assert_eq!(status, 200, "{page}");
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    assert!(page["total"].as_u64().unwrap() > 100);
    let priorities: Vec<f64> = rows.iter().map(|r| r["priority"].as_f64().unwrap()).collect();
    assert!(priorities.windows(2).all(|w| w[0] >= w[1]), "{priorities:?}");
    assert!(rows.iter().all(|r| r["label"] == "negative" && r["state"] == "new"));
    assert!(
        rows.iter().any(|r| r["incident"].is_i64()),
        "mentions of the firing incident are marked"
    );
    let first = rows[0]["id"].as_i64().unwrap();
    let second = rows[1]["id"].as_i64().unwrap();

    // Respond to two at once, with the link to the reply.
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [first, second], "action": "respond", "reply_url": "https://x.com/acmeairhelp/status/9", "by": "ana"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, open) = get_json(&server, "/api/mentions?limit=500").await;
    let open_ids: Vec<i64> = open["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(
        !open_ids.contains(&first) && !open_ids.contains(&second),
        "answered mentions leave the open inbox"
    );
    let (_, responded) = get_json(&server, "/api/mentions?state=responded").await;
    let responded = responded["rows"].as_array().unwrap();
    assert_eq!(responded.len(), 2);
    assert!(responded
        .iter()
        .all(|r| r["updated_by"] == "ana" && r["reply_url"] == "https://x.com/acmeairhelp/status/9"));

    // Assign, then respond, then undo: back to assigned, to the same person.
    let third = rows[2]["id"].as_i64().unwrap();
    for action in [
        json!({"ids": [third], "action": "assign", "assignee": "bo", "by": "ana"}),
        json!({"ids": [third], "action": "respond", "note": "called them", "by": "bo"}),
        json!({"ids": [third], "action": "undo", "by": "bo"}),
    ] {
        let (status, body) = post_json(&server, "/api/mentions/actions", action).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, detail) = get_json(&server, &format!("/api/mentions/{third}")).await;
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{detail}");
    assert_eq!(history[1]["undone_by"], "bo");
    let (_, assigned) = get_json(&server, "/api/mentions?state=assigned").await;
    let row = &assigned["rows"][0];
    assert_eq!((row["id"].as_i64(), &row["assignee"]), (Some(third), &json!("bo")));

    // All or nothing: one unknown id refuses the whole set.
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [third, 99_999_999], "action": "ignore", "by": "ana"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    server.stop().await;

    // Everything is in the database, with who and when.
    let conn = store::open_read_only(&db).unwrap();
    let (state, by): (String, String) = conn
        .query_row(
            "SELECT state, updated_by FROM mention_states WHERE mention_id = ?1",
            [first],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((state.as_str(), by.as_str()), ("responded", "ana"));
    let assigned: String = conn
        .query_row("SELECT state FROM mention_states WHERE mention_id = ?1", [third], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(assigned, "assigned");
}

#[tokio::test]
async fn bad_requests_get_a_json_error_with_the_right_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    for (path, status) in [
        ("/api/mentions?limit=abc", 400),
        ("/api/mentions?limit=100000", 400),
        ("/api/mentions?label=angry", 400),
        ("/api/mentions?state=done", 400),
        ("/api/mentions?since=the%20other%20day", 400),
        // Durations past the 100-year bound, and numbers that overflow: refused, never a panic.
        ("/api/mentions?since=99999999d", 400),
        ("/api/mentions?until=9223372036854775807ms", 400),
        ("/api/mentions?brand=Nobody", 400),
        ("/api/mentions?colour=red", 400),
        ("/api/mentions/abc", 400),
        ("/api/mentions/99999999", 404),
        ("/api/alerts?state=sleeping", 400),
        ("/api/alerts/0", 400),
        ("/api/brands/Nobody/series", 404),
        ("/api/brands/Acme%20Air/series?window=1y", 400),
        ("/api/nothing-here", 404),
    ] {
        let (got, body) = get_json(&server, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {body}");
    }
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [1], "action": "dance", "by": "x"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [1], "action": "respond", "by": "x"}),
    )
    .await;
    assert_eq!(status, 400, "a response needs a link or a note: {body}");
    let response = client()
        .post(server.url("/api/mentions/actions"))
        .body("ids=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415, "JSON only");
    // A misspelt field is refused, not dropped with the note in it.
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [1], "action": "ignore", "by": "x", "notes": "spam"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("\"notes\""), "{body}");
    // The wrong method gets a JSON error too; a body over 2 MB is 413.
    for (method, path) in [
        (reqwest::Method::GET, "/api/mentions/actions"),
        (reqwest::Method::DELETE, "/api/mentions"),
    ] {
        let response = client().request(method.clone(), server.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 405, "{body}");
    }
    let huge = json!({"ids": [1], "action": "ignore", "by": "x", "note": "a".repeat(3 * 1024 * 1024)});
    let (status, body) = post_json(&server, "/api/mentions/actions", huge).await;
    assert_eq!(status, 413, "{body}");

    // Acknowledge the firing incident, then again: the second is a conflict.
    let (_, incidents) = get_json(&server, "/api/alerts?state=firing").await;
    let id = incidents[0]["id"].as_i64().expect("an incident is firing");
    let (status, body) = post_json(
        &server,
        &format!("/api/alerts/{id}/ack"),
        json!({"by": "ana", "note": "on it"}),
    )
    .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("acknowledged")), "{body}");
    let (status, body) = post_json(&server, &format!("/api/alerts/{id}/ack"), json!({"by": "ana"})).await;
    assert_eq!(status, 409, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn hostile_mention_text_is_rendered_inert() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    for path in ["/", "/?state=all&label=all", "/inbox/rows", "/alerts"] {
        let page = client()
            .get(server.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("<script>window.__pwned"), "{path}");
        assert!(!page.contains("<img src=x"), "{path}");
        assert!(
            !page.contains("javascript:window"),
            "{path}: a javascript: link must not be rendered"
        );
        assert!(!page.contains("<b>mallory</b>"), "{path}");
    }
    let inbox = client()
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        inbox.contains("&lt;script&gt;window.__pwned = 1&lt;/script&gt;"),
        "shown as text"
    );
    assert!(inbox.contains("&lt;b&gt;mallory&lt;/b&gt;"));
    // The API returns it as data, unchanged.
    let (_, page) = get_json(&server, "/api/mentions?limit=500").await;
    assert!(page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["text"] == HOSTILE_TEXT));
    server.stop().await;
}

#[tokio::test]
async fn off_loopback_an_access_token_is_required() {
    use complaint_monitor::secret::Secret;
    use complaint_monitor::web::check_access;
    assert!(check_access("0.0.0.0:8080".parse().unwrap(), None).is_err());
    assert!(check_access("192.168.1.5:8080".parse().unwrap(), Some(&Secret::new(" ".into()))).is_err());
    assert!(check_access("0.0.0.0:8080".parse().unwrap(), Some(&Secret::new("s3cret".into()))).is_ok());
    assert!(check_access("127.0.0.1:8080".parse().unwrap(), None).is_ok());
    assert!(check_access("[::1]:8080".parse().unwrap(), None).is_ok());

    // The binary refuses to start on 0.0.0.0 without a token.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args(["run", "--listen", "0.0.0.0:0", "--db"])
        .arg(dir.path().join("x.db"))
        .env_remove("COMPLAINT_MONITOR_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("COMPLAINT_MONITOR_TOKEN"), "{err}");

    // With a token, every request must carry it.
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, Some("s3cret token")).await;
    let plain = client().get(server.url("/api/mentions")).send().await.unwrap();
    assert_eq!(plain.status().as_u16(), 401);
    let body: Value = plain.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("token"));
    for path in ["/", "/healthz", "/metrics", "/api/events"] {
        let r = client().get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
    }
    let wrong = client()
        .get(server.url("/api/mentions"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = client()
        .get(server.url("/api/mentions"))
        .bearer_auth("s3cret token")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 200);
    // A browser signs in once and carries a cookie.
    let login = client()
        .post(server.url("/login"))
        .form(&[("token", "s3cret token")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("cm_access="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_string();
    let page = client()
        .get(server.url("/"))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test]
async fn forms_need_their_csrf_token_and_json_needs_our_origin() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    let forged = client()
        .post(server.url("/inbox/actions"))
        .form(&[("id", "1"), ("action", "ignore"), ("by", "mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let forged = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", "cm_csrf=0123456789abcdef0123456789abcdef")
        .form(&[
            ("id", "1"),
            ("action", "ignore"),
            ("by", "mallory"),
            ("csrf", "ffffffffffffffffffffffffffffffff"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let cross = client()
        .post(server.url("/api/mentions/actions"))
        .header("origin", "https://evil.example")
        .json(&json!({"ids": [1], "action": "ignore", "by": "mallory"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);
    // The page's own form, with the cookie it was given, works.
    let page = client().get(server.url("/")).send().await.unwrap();
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("cm_csrf="))
        .unwrap();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("cm_csrf=")
        .to_string();
    let html = page.text().await.unwrap();
    // The form's token is derived from the cookie (HMAC with the server's
    // key), not the cookie itself.
    let form_token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(form_token.len(), 32);
    assert_ne!(form_token, token);
    // The cookie's own value as the token (what a page on another port that
    // planted the cookie would send) is refused.
    let planted = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", format!("cm_csrf={token}"))
        .form(&[
            ("id", "1"),
            ("action", "ignore"),
            ("by", "mallory"),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status().as_u16(), 403);
    let ok = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", format!("cm_csrf={token}"))
        .form(&[
            ("id", "1"),
            ("action", "ignore"),
            ("note", "spam"),
            ("by", "ana"),
            ("csrf", form_token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 303);
    let nothing = store::open_read_only(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM mention_actions WHERE actor = 'mallory'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    assert_eq!(nothing, 0);
    server.stop().await;
}

/// The holes a security review found, closed: a page that rebinds its own
/// name to our address is refused by `Host`; a form posted from another
/// origin or another port of the same host is refused by `Origin` and
/// `Sec-Fetch-Site`, even with a valid token; every answer says `no-store`
/// and carries a Content-Security-Policy.
#[tokio::test]
async fn dns_rebinding_and_cross_origin_posts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_string();

    // DNS rebinding: the attacker's name, our address. Reads and writes refused.
    let rebound = client()
        .get(server.url("/api/mentions"))
        .header("host", format!("attacker.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status().as_u16(), 421);
    let rebound = client()
        .post(server.url("/api/mentions/actions"))
        .header("host", format!("attacker.example:{port}"))
        .header("origin", format!("http://attacker.example:{port}"))
        .json(&json!({"ids": [1], "action": "ignore", "by": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status().as_u16(), 421);
    // Loopback names and IP addresses are ours.
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let fine = client()
            .get(server.url("/api/brands"))
            .header("host", host.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(fine.status().as_u16(), 200, "{host}");
    }

    // A form from another port of the same host, with a cookie and token it
    // read from us: refused by the browser-sent headers.
    let page = client().get(server.url("/")).send().await.unwrap();
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("cm_csrf="))
        .unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    for (name, value) in [
        ("origin", "http://127.0.0.1:1".to_string()),
        ("origin", "null".to_string()),
        ("sec-fetch-site", "same-site".to_string()),
        ("sec-fetch-site", "cross-site".to_string()),
    ] {
        let forged = client()
            .post(server.url("/inbox/actions"))
            .header("cookie", cookie.as_str())
            .header(name, value.as_str())
            .form(&[
                ("id", "1"),
                ("action", "ignore"),
                ("by", "mallory"),
                ("csrf", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status().as_u16(), 403, "{name}: {value}");
    }
    // The same form from our own page: applied.
    let host = server.url("/").trim_end_matches('/').to_string();
    let ours = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", cookie.as_str())
        .header("origin", host.as_str())
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("id", "1"),
            ("action", "ignore"),
            ("by", "ana"),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status().as_u16(), 303);
    let mallory = store::open_read_only(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM mention_actions WHERE actor = 'mallory' OR actor = 'x'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    assert_eq!(mallory, 0);
    server.stop().await;
}

#[tokio::test]
async fn server_sent_events_announce_a_new_negative_mention() {
    use complaint_monitor::enrich::Enriched;
    use complaint_monitor::mention::Mention;
    use complaint_monitor::store::writer::NewMention;

    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    let mut response = client().get(server.url("/api/events")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    // A mention arrives the way pollers store them: through the writer.
    let line = json!({"source": "bluesky", "id": "at://did:plc:sse/post/1", "created_at": "2026-11-20T14:39:00Z",
        "author": {"handle": "late.bsky.social", "followers": 300},
        "text": "Acme Air cancelled my flight again. Terrible service."});
    let mention = Mention::from_feed_line(line.to_string().as_bytes()).unwrap();
    let Enriched::Scored(scored) = crate::support::web::config().enricher().unwrap().enrich(mention) else {
        panic!("not matched");
    };
    let writer = server.writer.clone();
    tokio::task::spawn_blocking(move || {
        writer
            .write_blocking(vec![NewMention {
                scored: *scored,
                ingested_at: crate::support::web::cutoff(),
            }])
            .unwrap()
    })
    .await
    .unwrap();

    let mut received = String::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            received.push_str(&String::from_utf8_lossy(&chunk));
            if received.contains("late.bsky.social") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no event for the new mention; got {received:?}");
    assert!(received.contains("event: mention"), "{received}");
    // Shutdown ends open event streams instead of waiting for them forever.
    tokio::time::timeout(Duration::from_secs(20), server.stop())
        .await
        .expect("the server stopped with an event stream open");
    drop(response);
}

#[tokio::test]
async fn healthz_and_prometheus_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    let (status, health) = get_json(&server, "/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert!(
        health["sources"].as_array().unwrap().is_empty(),
        "the demo config has no live source"
    );
    let metrics = client().get(server.url("/metrics")).send().await.unwrap();
    assert!(metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    for name in ["cm_writer_queue_depth", "cm_deliveries_pending", "cm_sources_failing"] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    // Every page renders.
    for path in ["/", "/alerts", "/brands", "/brands/Acme%20Air", "/health", "/login"] {
        let r = client().get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    let (status, brands) = get_json(&server, "/api/brands").await;
    assert_eq!(status, 200);
    assert!(brands[0]["last_24h"]["mentions"].as_u64().unwrap() > 0, "{brands}");
    server.stop().await;
}

/// Numbers and durations as anyone might type them into every query
/// parameter that takes one, on the API and the pages: each is answered
/// 200 or 400, never a server error or a dropped connection.
#[tokio::test]
async fn any_number_or_duration_in_a_query_is_answered_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    let numbers = [
        "0",
        "1",
        "-1",
        "7",
        "1.5",
        "1e308",
        "NaN",
        "-0",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "99999999999999999999999",
    ];
    let units = ["", "ms", "s", "m", "h", "d", "w", "y", "x"];
    let targets = [
        "/api/mentions?since=",
        "/api/mentions?until=",
        "/api/mentions?limit=",
        "/api/mentions?offset=",
        "/api/alerts?limit=",
        "/api/brands/Acme%20Air/series?window=",
        "/?since=",
        "/inbox/rows?offset=",
    ];
    let mut answered = 0;
    for target in targets {
        for number in numbers {
            for unit in units {
                let path = format!("{target}{number}{unit}");
                let response = client().get(server.url(&path)).send().await.unwrap();
                let status = response.status().as_u16();
                assert!(status == 200 || status == 400, "{path}: {status}");
                answered += 1;
            }
        }
    }
    assert_eq!(answered, targets.len() * numbers.len() * units.len());
}

/// Full-text search over text and author: every word must appear; search
/// syntax a person might type (quotes, NEAR, a column filter, a dash) is
/// taken as plain words, never an error; the page keeps the search.
#[tokio::test]
async fn the_inbox_searches_text_and_author() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db, None).await;
    let conn = store::open_read_only(&db).unwrap();
    // What the demo data holds, counted by SQL the search does not use.
    let expected: i64 = conn
        .query_row(
            "SELECT count(*) FROM mentions m LEFT JOIN mention_states s ON s.mention_id = m.id \
             WHERE m.label = 'negative' AND coalesce(s.state, 'new') IN ('new', 'assigned') \
             AND lower(m.text) LIKE '%refund%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(expected > 0, "the fixture has refund complaints");
    let (status, page) = get_json(&server, "/api/mentions?q=refund&since=3650d&limit=500").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"].as_i64(), Some(expected), "{page}");
    assert!(page["rows"].as_array().unwrap().iter().all(|r| r["text"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("refund")));
    // A prefix, and two words that must both appear.
    let (_, prefix) = get_json(&server, "/api/mentions?q=refun*&since=3650d&limit=500").await;
    assert_eq!(prefix["total"].as_i64(), Some(expected), "{prefix}");
    let (_, both) = get_json(&server, "/api/mentions?q=refund%20zzzznotaword&since=3650d").await;
    assert_eq!(both["total"].as_i64(), Some(0), "{both}");
    for hostile in [
        "%22",
        "NEAR(refund",
        "text:refund",
        "-refund",
        "refund%20OR%20",
        "*",
        "%22%22%22",
        "%E2%80%AE",
    ] {
        let (status, body) = get_json(&server, &format!("/api/mentions?q={hostile}&since=3650d")).await;
        assert_eq!(status, 200, "{hostile}: {body}");
    }
    let html = client()
        .get(server.url("/?q=refund&since=365d"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"name="q" type="search" value="refund""#),
        "the page keeps the search"
    );
    server.stop().await;
}
