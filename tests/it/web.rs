//! The web UI and JSON API over real HTTP against a real SQLite file: the
//! inbox order and actions, errors, access control, CSRF, hostile text,
//! live events, health and metrics.

use std::time::Duration;

use complaint_monitor::store;
use serde_json::{json, Value};

use crate::support::web::{
    client, fixture_db, form_token_in, get_json, get_text, last_24h, post_json, set_cookie, TestServer, HOSTILE_TEXT,
};

#[tokio::test]
async fn the_inbox_puts_the_biggest_complaints_first_and_records_every_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;

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
    let server = TestServer::start(&db).await;
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
        // Limits as documented: 1 to 500; no quiet "0 means 1".
        ("/api/mentions?limit=0", 400),
        ("/api/alerts?limit=0", 400),
        // A typo in a filter is an error, not an empty inbox.
        ("/api/mentions?source=redit", 400),
        (
            "/api/mentions?since=2026-11-20T12:00:00Z&until=2026-11-19T00:00:00Z",
            400,
        ),
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
    assert_eq!(status, 422, "JSON of the wrong shape: {body}");
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [1], "action": "respond", "by": "x"}),
    )
    .await;
    assert_eq!(status, 400, "a response needs a link or a note: {body}");
    for scheme in ["httpx://x.com/a", "javascript:alert(1)", "ftp://x.com/a"] {
        let (status, body) = post_json(
            &server,
            "/api/mentions/actions",
            json!({"ids": [1], "action": "respond", "reply_url": scheme}),
        )
        .await;
        assert_eq!(status, 400, "{scheme}: {body}");
    }
    // Known sources filter, stored or configured, and a range in order.
    for path in [
        "/api/mentions?source=reddit&limit=500",
        "/api/mentions?since=2026-11-19T00:00:00Z&until=2026-11-20T12:00:00Z",
    ] {
        let (got, body) = get_json(&server, path).await;
        assert_eq!(got, 200, "{path}: {body}");
    }
    let (_, reddit) = get_json(
        &server,
        "/api/mentions?source=reddit&limit=500&label=all&state=all&since=30d",
    )
    .await;
    let rows = reddit["rows"].as_array().unwrap();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["source"] == "reddit"),
        "{reddit}"
    );
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
    assert_eq!(status, 422, "{body}");
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
    // Ids are JSON integers, written 7 or 7.0; 7.5 is not one.
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [1.0], "action": "ignore"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [1.5], "action": "ignore"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    // Numbers are taken as sent: an empty limit is not the default.
    let (status, body) = get_json(&server, "/api/mentions?limit=").await;
    assert_eq!(status, 400, "{body}");
    // The API describes itself.
    let (status, doc) = get_json(&server, "/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let brands = &doc["paths"]["/api/mentions"]["get"]["parameters"][0];
    assert_eq!(brands["name"], "brand");
    assert_eq!(
        brands["schema"]["enum"],
        json!(["", "Acme Air", "Globex Bank"]),
        "{brands}"
    );

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
    let server = TestServer::start(&db).await;
    for path in ["/", "/?state=all&label=all", "/inbox/rows", "/alerts"] {
        let page = get_text(&server, path).await;
        assert!(!page.contains("<script>window.__pwned"), "{path}");
        assert!(!page.contains("<img src=x"), "{path}");
        assert!(
            !page.contains("javascript:window"),
            "{path}: a javascript: link must not be rendered"
        );
        assert!(!page.contains("<b>mallory</b>"), "{path}");
    }
    let inbox = get_text(&server, "/").await;
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

/// Signs `name` in through the form, as a browser does: the session cookie.
async fn sign_in(server: &TestServer, name: &str, password: &str) -> reqwest::Response {
    let form = client().get(server.url("/login")).send().await.unwrap();
    let (csrf_cookie, _) = set_cookie(&form, "cm_csrf").unwrap();
    let token = form_token_in(&form.text().await.unwrap());
    client()
        .post(server.url("/login"))
        .header("cookie", csrf_cookie)
        .form(&[("name", name), ("password", password), ("csrf", &token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn with_accounts_everyone_signs_in_and_acts_as_themselves() {
    use crate::support::web::{add_user, PASSWORD};
    use complaint_monitor::accounts::Role;
    use complaint_monitor::web::check_access;
    assert!(check_access("0.0.0.0:8080".parse().unwrap(), 0).is_err());
    assert!(check_access("192.168.1.5:8080".parse().unwrap(), 0).is_err());
    assert!(check_access("0.0.0.0:8080".parse().unwrap(), 1).is_ok());
    assert!(check_access("127.0.0.1:8080".parse().unwrap(), 0).is_ok());
    assert!(check_access("[::1]:8080".parse().unwrap(), 0).is_ok());

    // The binary refuses to start on 0.0.0.0 without an account.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args(["run", "--listen", "0.0.0.0:0", "--db"])
        .arg(dir.path().join("x.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("users add"), "{err}");

    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    // No account yet: open to the local user, and every page says so.
    let open = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(open.status().as_u16(), 200);
    assert!(open.text().await.unwrap().contains("Open access"));

    add_user(&db, "maria", Role::Agent);
    let plain = client().get(server.url("/api/mentions")).send().await.unwrap();
    assert_eq!(plain.status().as_u16(), 401);
    for path in ["/", "/healthz", "/metrics", "/api/events", "/alerts"] {
        let r = client().get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
    }
    let browser = client()
        .get(server.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status().as_u16(), 303, "a browser is sent to sign in");
    assert_eq!(browser.headers()["location"], "/login");
    let forged_local = client()
        .post(server.url("/api/mentions/actions"))
        .json(&json!({"ids": [1], "action": "ignore", "by": "local"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged_local.status().as_u16(), 401);

    assert_eq!(
        sign_in(&server, "maria", "not the password").await.status().as_u16(),
        401
    );
    assert_eq!(sign_in(&server, "nobody", PASSWORD).await.status().as_u16(), 401);
    let signed_in = sign_in(&server, "maria", PASSWORD).await;
    assert_eq!(signed_in.status().as_u16(), 303);
    let (session, header) = set_cookie(&signed_in, "cm_session").unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Max-Age=43200", "Path=/"] {
        assert!(header.contains(flag), "{header}");
    }
    let stored: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sessions WHERE id_hash = ?1",
            [&session["cm_session=".len()..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0, "the store keeps the session's digest, not the cookie");

    let page = client()
        .get(server.url("/"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("maria · agent") && !page.contains("Open access"));
    assert!(
        !page.contains("name=\"by\""),
        "a signed-in user does not type who they are"
    );
    // The form token is bound to the session: acting as "mallory" records maria.
    let token = form_token_in(&page);
    let acted = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", &session)
        .form(&[("id", "1"), ("action", "ignore"), ("by", "mallory"), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(acted.status().as_u16(), 303);
    let actor: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT actor FROM mention_actions ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(actor, "maria");
    // A token made for another browser's cookie is worth nothing here.
    let anonymous = client().get(server.url("/login")).send().await.unwrap();
    let (other_cookie, _) = set_cookie(&anonymous, "cm_csrf").unwrap();
    let other_token = form_token_in(&anonymous.text().await.unwrap());
    let crossed = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", format!("{session}; {other_cookie}"))
        .form(&[("id", "1"), ("action", "ignore"), ("csrf", &other_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(crossed.status().as_u16(), 403);

    // Scripts use a token of their own user.
    let api_token = {
        let conn = store::open(&db).unwrap();
        complaint_monitor::accounts::new_token(&conn, "maria", "test script", crate::support::web::cutoff()).unwrap()
    };
    let wrong = client()
        .get(server.url("/api/mentions"))
        .bearer_auth("cm_0000000000000000000000000000000000000000000000000000000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let scripted = client()
        .post(server.url("/api/mentions/actions"))
        .bearer_auth(&api_token)
        .json(&json!({"ids": [2], "action": "ignore", "by": "someone else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status().as_u16(), 200);
    let body: Value = scripted.json().await.unwrap();
    assert_eq!(body["changed"][0]["updated_by"], "maria", "{body}");

    // Signing out ends the session in the store.
    let signout = client()
        .post(server.url("/logout"))
        .header("cookie", &session)
        .form(&[("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(signout.status().as_u16(), 303);
    let after = client()
        .get(server.url("/api/mentions"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 401);
    server.stop().await;
}

#[tokio::test]
async fn sign_in_is_throttled_per_account() {
    use crate::support::web::{add_user, PASSWORD};
    use complaint_monitor::accounts::Role;
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    add_user(&db, "maria", Role::Agent);
    let server = TestServer::start(&db).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sign_in(&server, "maria", "a wrong guess!").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let right = sign_in(&server, "MARIA", PASSWORD).await;
    assert_eq!(right.status().as_u16(), 429, "the account waits, whatever is tried");
    assert_eq!(right.headers()["retry-after"], "60");
    // Another account from the same address is not held back by it.
    add_user(&db, "omar", Role::Agent);
    assert_eq!(sign_in(&server, "omar", PASSWORD).await.status().as_u16(), 303);
    server.stop().await;
}

/// Each route as each role: who may and who is refused with 403.
#[tokio::test]
async fn every_route_needs_its_role() {
    use crate::support::web::add_user;
    use complaint_monitor::accounts::{self, Role};
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let mut tokens = Vec::new();
    for (name, role) in [("ana", Role::Agent), ("mo", Role::Manager), ("ada", Role::Admin)] {
        add_user(&db, name, role);
        let conn = store::open(&db).unwrap();
        tokens.push((
            role,
            accounts::new_token(&conn, name, "", crate::support::web::cutoff()).unwrap(),
        ));
    }
    let server = TestServer::start(&db).await;
    // (method, path, body, least role)
    let routes: &[(&str, &str, Option<Value>, Role)] = &[
        ("GET", "/", None, Role::Agent),
        ("GET", "/inbox/rows", None, Role::Agent),
        ("GET", "/mentions/1", None, Role::Agent),
        ("GET", "/alerts", None, Role::Agent),
        ("GET", "/brands", None, Role::Agent),
        ("GET", "/brands/Acme%20Air", None, Role::Agent),
        ("GET", "/health", None, Role::Agent),
        ("GET", "/healthz", None, Role::Agent),
        ("GET", "/metrics", None, Role::Agent),
        ("GET", "/api/mentions", None, Role::Agent),
        ("GET", "/api/mentions/1", None, Role::Agent),
        ("GET", "/api/alerts", None, Role::Agent),
        ("GET", "/api/alerts/1", None, Role::Agent),
        ("GET", "/api/brands", None, Role::Agent),
        ("GET", "/api/brands/Acme%20Air/series", None, Role::Agent),
        ("GET", "/api/sources", None, Role::Agent),
        ("GET", "/api/events", None, Role::Agent),
        (
            "POST",
            "/api/mentions/actions",
            Some(json!({"ids": [3], "action": "ignore"})),
            Role::Agent,
        ),
        (
            "POST",
            "/api/alerts/1/ack",
            Some(json!({"note": "on it"})),
            Role::Manager,
        ),
        ("POST", "/api/alerts/1/resolve", Some(json!({})), Role::Manager),
        ("POST", "/alerts/1", None, Role::Manager),
        ("POST", "/inbox/actions", None, Role::Agent),
        (
            "POST",
            "/api/mentions/4/label",
            Some(json!({"label": "negative"})),
            Role::Agent,
        ),
        ("POST", "/api/mentions/5/not-about-us", Some(json!({})), Role::Agent),
        ("GET", "/api/corrections", None, Role::Agent),
        ("GET", "/api/views", None, Role::Agent),
        ("GET", "/api/response-times", None, Role::Agent),
        (
            "POST",
            "/api/views",
            Some(json!({"name": "mine", "query": "assignee=me"})),
            Role::Agent,
        ),
        ("POST", "/inbox/views", None, Role::Agent),
        // No account answers this network in the test config: 409, by role.
        (
            "POST",
            "/api/mentions/6/reply",
            Some(json!({"text": "Sorry!"})),
            Role::Agent,
        ),
        ("POST", "/mentions/6/reply", None, Role::Agent),
        ("POST", "/api/replies/1/retry", Some(json!({})), Role::Agent),
        ("POST", "/replies/1/retry", None, Role::Agent),
        ("GET", "/api/reply-templates", None, Role::Agent),
        (
            "POST",
            "/api/reply-templates",
            Some(json!({"brand": "Acme Air", "name": "bag", "body": "Hi {author}, sorry about your bag."})),
            Role::Manager,
        ),
        ("POST", "/api/reply-templates/1/delete", Some(json!({})), Role::Manager),
        ("POST", "/reply-templates", None, Role::Manager),
        ("POST", "/reply-templates/1/delete", None, Role::Manager),
        ("GET", "/api/openapi.json", None, Role::Agent),
        ("GET", "/users", None, Role::Admin),
        ("GET", "/api/users", None, Role::Admin),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, least) in routes {
        for (role, token) in &tokens {
            let mut request = match *method {
                "GET" => client().get(server.url(path)),
                _ => client().post(server.url(path)),
            }
            .bearer_auth(token);
            request = match body {
                Some(body) => request.json(body),
                // A form with no token: refused by role first, else by CSRF.
                None if *method == "POST" => request.form(&[("action", "ack")]),
                None => request,
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = if path.ends_with("/events") {
                String::new()
            } else {
                response.text().await.unwrap()
            };
            let refused_for_role = status == 403 && text.contains("role; ");
            if refused_for_role != (role < least) || status == 401 || status >= 500 {
                wrong.push(format!(
                    "{method} {path} as {role}: {status} {}",
                    &text[..text.len().min(120)]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    server.stop().await;
}

#[tokio::test]
async fn forms_need_their_csrf_token_and_json_needs_our_origin() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
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
    let (pair, _) = set_cookie(&page, "cm_csrf").unwrap();
    let token = pair.trim_start_matches("cm_csrf=").to_string();
    let html = page.text().await.unwrap();
    // The form's token is derived from the cookie (HMAC with the server's
    // key), not the cookie itself.
    let form_token = form_token_in(&html);
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
    let server = TestServer::start(&db).await;
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
    let (cookie, _) = set_cookie(&page, "cm_csrf").unwrap();
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
    let token = form_token_in(&html);
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
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
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
    server.store_line(line).await;

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
    let server = TestServer::start(&db).await;
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
    let server = TestServer::start(&db).await;
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
    let server = TestServer::start(&db).await;
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
    let html = get_text(&server, "/?q=refund&since=365d").await;
    assert!(
        html.contains(r#"name="q" type="search" value="refund""#),
        "the page keeps the search"
    );
    server.stop().await;
}

#[tokio::test]
async fn https_is_served_from_a_certificate_in_config() {
    use std::sync::Arc;
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys");
    let cert = keys.join("tls-localhost.cert.pem");
    let key = keys.join("tls-localhost.key.pem");
    // Files that are not what they say are a clear error before serving.
    let wrong = complaint_monitor::web::tls::server_config(&key, &cert).unwrap_err();
    assert!(wrong.contains("tls_cert"), "{wrong}");
    let missing = complaint_monitor::web::tls::server_config(&keys.join("nothing.pem"), &key).unwrap_err();
    assert!(missing.contains("nothing.pem"), "{missing}");

    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    crate::support::web::add_user(&db, "maria", complaint_monitor::accounts::Role::Agent);
    let (writer, handle) = complaint_monitor::store::writer::Writer::start(&db, 8).unwrap();
    let state = complaint_monitor::web::AppState::new(
        Arc::new(crate::support::web::config()),
        db.clone(),
        handle,
        Arc::new(complaint_monitor::clock::VirtualClock::starting_at(
            crate::support::web::cutoff(),
        )),
        true,
    )
    .unwrap()
    .with_tls(complaint_monitor::web::tls::server_config(&cert, &key).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(complaint_monitor::web::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    let trusted = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(keys.join("tls-ca.cert.pem")).unwrap()).unwrap(),
        )
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let form = trusted.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let (csrf_cookie, _) = set_cookie(&form, "cm_csrf").unwrap();
    let token = form_token_in(&form.text().await.unwrap());
    let signed_in = trusted
        .post(format!("{base}/login"))
        .header("cookie", csrf_cookie)
        .form(&[
            ("name", "maria"),
            ("password", crate::support::web::PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let (session, header) = set_cookie(&signed_in, "cm_session").unwrap();
    assert!(
        header.contains("; Secure"),
        "over HTTPS the session cookie is Secure: {header}"
    );
    let inbox = trusted
        .get(format!("{base}/api/mentions"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status().as_u16(), 200);
    // Plain HTTP to the HTTPS port gets no answer, and a client that does
    // not trust the certificate refuses it.
    assert!(client()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .is_err());
    assert!(client().get(format!("{base}/healthz")).send().await.is_err());

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    drop(writer);
}

/// VADER reads "ich hasse Acme Air" as neutral: an agent corrects it, and
/// the brand's negative count, the mention, the list of corrections and the
/// export all say what staff said, with the scorer's label kept beside it.
#[tokio::test]
async fn a_correction_changes_the_brands_negative_count() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let (_, neutral) = get_json(
        &server,
        "/api/mentions?brand=Acme%20Air&label=neutral&state=all&since=12h&limit=1",
    )
    .await;
    let id = neutral["rows"][0]["id"].as_i64().expect("a neutral mention");
    let negatives = |day: Value| (day["negative"].as_u64().unwrap(), day["neutral"].as_u64().unwrap());
    let (negative, neutral_count) = negatives(last_24h(&server, "Acme Air").await);

    let (status, correction) = post_json(
        &server,
        &format!("/api/mentions/{id}/label"),
        json!({"label": "negative", "by": "ana"}),
    )
    .await;
    assert_eq!(status, 200, "{correction}");
    assert_eq!(
        (
            &correction["computed"],
            &correction["from"],
            &correction["to"],
            &correction["by"]
        ),
        (&json!("neutral"), &json!("neutral"), &json!("negative"), &json!("ana"))
    );
    assert_eq!(
        negatives(last_24h(&server, "Acme Air").await),
        (negative + 1, neutral_count - 1)
    );

    let (_, detail) = get_json(&server, &format!("/api/mentions/{id}")).await;
    assert_eq!(detail["label"], "negative");
    assert_eq!(detail["corrected"]["computed"], "neutral");
    assert_eq!(detail["corrected"]["by"], "ana");
    let (_, list) = get_json(&server, "/api/corrections").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["mention_id"], id);

    for (body, status) in [
        (json!({"label": "angry"}), 422),
        (json!({"label": "NEGATIVE"}), 422),
        (json!({"label": "negative", "colour": "red"}), 422),
    ] {
        let (got, answer) = post_json(&server, &format!("/api/mentions/{id}/label"), body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
    }
    let (got, answer) = post_json(&server, "/api/mentions/99999999/label", json!({"label": "neutral"})).await;
    assert_eq!(got, 404, "{answer}");

    // The inbox page's form corrects the ticked mentions too.
    let (_, negative) = get_json(&server, "/api/mentions?brand=Acme%20Air&limit=1").await;
    let other = negative["rows"][0]["id"].as_i64().unwrap();
    let page = client().get(server.url("/")).send().await.unwrap();
    let (cookie, _) = set_cookie(&page, "cm_csrf").unwrap();
    let token = form_token_in(&page.text().await.unwrap());
    let other_id = other.to_string();
    let sent = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", &cookie)
        .form(&[
            ("id", other_id.as_str()),
            ("action", "label"),
            ("label", "positive"),
            ("by", "bo"),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 303);
    let unchosen = client()
        .post(server.url("/inbox/actions"))
        .header("cookie", &cookie)
        .form(&[
            ("id", other_id.as_str()),
            ("action", "label"),
            ("label", ""),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unchosen.status().as_u16(), 400, "no label chosen");
    let (_, list) = get_json(&server, "/api/corrections").await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(
        (&list[0]["mention_id"], &list[0]["to"], &list[0]["by"]),
        (&json!(other), &json!("positive"), &json!("bo"))
    );
    server.stop().await;

    // The export counts the correction and keeps the scorer's label.
    let conn = store::open_read_only(&db).unwrap();
    let mut out = Vec::new();
    complaint_monitor::export::write_jsonl(&conn, &store::MentionFilter::default(), &mut out).unwrap();
    let corrected: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["sentiment"].get("computed_label").is_some())
        .collect();
    assert_eq!(corrected.len(), 2);
    let by_ana = corrected
        .iter()
        .find(|l| l["sentiment"]["corrected_by"] == "ana")
        .unwrap();
    assert_eq!(by_ana["sentiment"]["label"], "negative");
    assert_eq!(by_ana["sentiment"]["computed_label"], "neutral");
}

/// Priority reads as High / Medium / Low, the number on hover.
#[tokio::test]
async fn the_inbox_says_priority_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let (_, top) = get_json(&server, "/api/mentions?limit=500").await;
    let rows = top["rows"].as_array().unwrap();
    let page = get_text(&server, "/?limit=500").await;
    let first = rows[0]["priority"].as_f64().unwrap();
    assert!(first >= 10_000.0, "the fixture's top complaint is a high one: {first}");
    assert!(
        page.contains(&format!(
            "title=\"priority {first:.0}: reach × negativity × recency\">High<"
        )),
        "{}",
        &page[..2000.min(page.len())]
    );
    let tiers = ["High<", "Medium<", "Low<"].map(|t| page.matches(&format!("\">{t}")).count());
    let expected = [
        rows.iter()
            .filter(|r| r["priority"].as_f64().unwrap() >= 10_000.0)
            .count(),
        rows.iter()
            .filter(|r| (1_000.0..10_000.0).contains(&r["priority"].as_f64().unwrap()))
            .count(),
        rows.iter()
            .filter(|r| r["priority"].as_f64().unwrap() < 1_000.0)
            .count(),
    ];
    // The page and the API rank the same rows at the same (virtual) time.
    assert_eq!(tiers, expected);
    assert!(
        expected.iter().all(|&n| n > 0),
        "every tier occurs in the fixture: {expected:?}"
    );
    server.stop().await;
}

/// "Assigned to me", "to nobody" and to a named person.
#[tokio::test]
async fn the_inbox_filters_by_assignee() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let (_, open) = get_json(&server, "/api/mentions?limit=3").await;
    let ids: Vec<i64> = open["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [ids[0]], "action": "assign", "assignee": "Maria"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // On an open loopback "me" is the local user.
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [ids[1]], "action": "assign", "assignee": "local"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let listed = |page: &Value| -> Vec<i64> {
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let (_, maria) = get_json(&server, "/api/mentions?assignee=maria").await;
    assert_eq!(listed(&maria), vec![ids[0]], "names compare without case");
    let (_, me) = get_json(&server, "/api/mentions?assignee=me").await;
    assert_eq!(listed(&me), vec![ids[1]]);
    let (_, nobody) = get_json(&server, "/api/mentions?assignee=none&limit=500").await;
    let unassigned = listed(&nobody);
    assert!(!unassigned.contains(&ids[0]) && !unassigned.contains(&ids[1]) && unassigned.contains(&ids[2]));
    assert_eq!(
        nobody["total"].as_u64().unwrap() + 2,
        open["total"].as_u64().unwrap(),
        "every open mention is assigned to someone or to nobody"
    );
    let (status, _) = get_json(&server, &format!("/api/mentions?assignee={}", "x".repeat(26))).await;
    assert_eq!(status, 400);
    let page = get_text(&server, "/?assignee=me").await;
    assert!(
        page.contains("<option value=\"me\" selected>to me</option>"),
        "the filter shows as chosen"
    );
    server.stop().await;
}

/// A copy-paste campaign is one inbox row with its size, in the page and
/// the API, and its mentions are one click away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_is_one_inbox_row_with_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    for k in 0..6 {
        let line = json!({"source": "x", "id": format!("copy{k}"), "created_at": format!("2026-11-20T14:3{k}:00Z"),
            "author": {"handle": format!("fresh{k}"), "followers": 10},
            "text": format!("@acmeair you kept my money after cancelling, terrible scam, refund me now https://t.co/{k}")});
        server.store_line(line).await;
    }
    let (status, page) = get_json(&server, "/api/mentions?q=cancelling").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let group = &page["rows"][0]["group"];
    assert_eq!(
        (group["kind"].as_str(), group["mentions"].as_u64()),
        (Some("campaign"), Some(6)),
        "{page}"
    );
    assert_eq!(group["accounts"], 6, "{page}");
    let id = group["id"].as_i64().unwrap();
    let (_, members) = get_json(&server, &format!("/api/mentions?q=cancelling&group={id}")).await;
    assert_eq!(members["total"], 6, "{members}");
    let (status, _) = get_json(&server, "/api/mentions?group=many").await;
    assert_eq!(status, 400);

    let html = get_text(&server, "/?q=cancelling").await;
    assert!(html.contains("campaign: 6 copies from 6 accounts"), "{html}");
    assert!(html.contains(&format!("group={id}")), "{html}");
    server.stop().await;
}
