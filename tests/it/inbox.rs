//! Working the inbox queue over real HTTP on a real SQLite file: paging by
//! key that never skips or repeats a row while mentions are handled, the
//! orders, the overdue, language, rating and incident filters, and the
//! bounded count.

use complaint_monitor::store;
use serde_json::{json, Value};

use crate::support::web::{client, cutoff, fixture_db, get_json, get_text, last_24h, post_json, TestServer};

fn ids(page: &Value) -> Vec<i64> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// Every page of `query`, `limit` rows at a time, following `next`.
async fn walk(server: &TestServer, query: &str, limit: u32) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/api/mentions?{query}&limit={limit}&after={a}"),
            None => format!("/api/mentions?{query}&limit={limit}"),
        };
        let (status, page) = get_json(server, &path).await;
        assert_eq!(status, 200, "{path}: {page}");
        pages.push(ids(&page));
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
        assert!(pages.len() < 1000, "paging ends");
    }
    pages
}

#[tokio::test]
async fn pages_by_key_never_skip_or_repeat_a_row_while_mentions_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let open_negatives: i64 = store::open_read_only(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM mentions m LEFT JOIN mention_states s ON s.mention_id = m.id \
             WHERE m.label = 'negative' AND coalesce(s.state, 'new') IN ('new', 'assigned') \
             AND m.created_at >= ?1",
            [(cutoff() - chrono::Duration::days(3650)).timestamp_millis()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(open_negatives > 30, "the fixture has a queue to page through");

    // The whole queue, 500 (the most a page holds) at a time.
    let mut all = Vec::new();
    let mut priorities: Vec<f64> = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) = get_json(&server, &format!("/api/mentions?since=3650d&limit=500{after}")).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total"].as_i64(), Some(open_negatives));
        all.extend(ids(&page));
        priorities.extend(
            page["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["priority"].as_f64().unwrap()),
        );
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert_eq!(all.len() as i64, open_negatives);
    assert!(
        priorities.windows(2).all(|w| w[0] >= w[1] * (1.0 - 1e-9)),
        "the stored key orders exactly as the priority at now"
    );

    // Paged seven at a time, the pages put together are the whole queue.
    let pages = walk(&server, "since=3650d", 7).await;
    assert_eq!(pages.len(), (open_negatives as usize).div_ceil(7));
    assert_eq!(pages.concat(), all);

    // Page 1, then a colleague answers a row of page 1 and one of page 2:
    // page 2 still starts right after page 1's last row.
    let (_, first) = get_json(&server, "/api/mentions?since=3650d&limit=7").await;
    assert_eq!(ids(&first), all[..7].to_vec());
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [all[2], all[8]], "action": "respond", "note": "answered by phone"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let next = first["next"].as_str().unwrap();
    let (_, second) = get_json(&server, &format!("/api/mentions?since=3650d&limit=7&after={next}")).await;
    let expected: Vec<i64> = all[7..].iter().copied().filter(|&id| id != all[8]).take(7).collect();
    assert_eq!(ids(&second), expected, "offset paging would have skipped all[7]");
    assert_eq!(second["total"].as_i64(), Some(open_negatives - 2));

    // A position from nowhere is refused, not read as the first page.
    for bad in ["x", "1e3", "1e3_0", "NaN_4", "inf_4", "1e3_-2"] {
        let (status, body) = get_json(&server, &format!("/api/mentions?after={bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_inbox_sorts_by_reach_and_age_and_pages_each_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    // Reviews and posts of one source, every label and state: a few
    // hundred rows, so one page holds them all.
    let filter = "since=3650d&label=all&state=all&source=trustpilot";
    let (_, whole) = get_json(&server, &format!("/api/mentions?{filter}&limit=500")).await;
    let total = whole["total"].as_u64().unwrap();
    assert!(total > 50 && total <= 500, "{total} rows");
    for (sort, check) in [("reach", "reach"), ("oldest", "created_at"), ("newest", "created_at")] {
        let (status, page) = get_json(&server, &format!("/api/mentions?{filter}&limit=500&sort={sort}")).await;
        assert_eq!(status, 200, "{page}");
        let got = page["rows"].as_array().unwrap();
        assert_eq!(got.len() as u64, total, "{sort}: the same rows in another order");
        let keys: Vec<(String, i64)> = got
            .iter()
            .map(|r| {
                let key = match check {
                    "reach" => format!("{:020}", r["reach"].as_u64().unwrap()),
                    _ => r["created_at"].as_str().unwrap().to_string(),
                };
                (key, r["id"].as_i64().unwrap())
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        if sort != "oldest" {
            sorted.reverse();
        }
        assert_eq!(keys, sorted, "{sort}: in order, ties by id");
        let pages = walk(&server, &format!("{filter}&sort={sort}"), 13).await;
        assert_eq!(pages.concat(), ids(&page), "{sort}: paged the same");
    }
    let (status, body) = get_json(&server, "/api/mentions?sort=loudest").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("priority, reach, oldest or newest"),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_inbox_filters_overdue_language_rating_and_incident() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let conn = store::open_read_only(&db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let open = "FROM mentions m LEFT JOIN mention_states s ON s.mention_id = m.id \
                WHERE m.label = 'negative' AND coalesce(s.state, 'new') IN ('new', 'assigned')";

    // Overdue: open and older than the response target (1 hour) at the clock.
    let hour_before = (cutoff() - chrono::Duration::hours(1)).timestamp_millis();
    let overdue = count(&format!("SELECT count(*) {open} AND m.created_at < {hour_before}"));
    let (_, page) = get_json(&server, "/api/mentions?since=3650d&overdue=true&limit=500").await;
    assert_eq!(page["total"].as_i64(), Some(overdue), "{page}");
    assert!(overdue > 0);
    assert!(page["rows"].as_array().unwrap().iter().all(|r| r["overdue"] == true));
    let (_, first) = get_json(&server, "/api/mentions?since=3650d&limit=500&sort=newest").await;
    for row in first["rows"].as_array().unwrap() {
        let created: chrono::DateTime<chrono::Utc> = row["created_at"].as_str().unwrap().parse().unwrap();
        let late = created < cutoff() - chrono::Duration::hours(1);
        assert_eq!(row["overdue"].as_bool(), Some(late), "{row}");
    }

    // Rating: reviews with one or two stars, whatever their text scored.
    let low = count(
        "SELECT count(*) FROM mentions m LEFT JOIN mention_states s ON s.mention_id = m.id \
         WHERE m.rating BETWEEN 1 AND 2 AND coalesce(s.state, 'new') IN ('new', 'assigned')",
    );
    let (_, page) = get_json(&server, "/api/mentions?since=3650d&label=all&rating=1-2&limit=500").await;
    assert_eq!(page["total"].as_i64(), Some(low), "{page}");
    for bad in ["0", "6", "3-1", "1-", "two"] {
        let (status, _) = get_json(&server, &format!("/api/mentions?rating={bad}")).await;
        assert_eq!(status, 400, "rating={bad}");
    }

    // Language, as stored.
    let langs: Vec<(String, i64)> = {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT m.lang, count(*) {open} AND m.lang IS NOT NULL GROUP BY m.lang"
            ))
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(!langs.is_empty(), "the fixture has languages");
    for (lang, n) in &langs {
        let (_, page) = get_json(&server, &format!("/api/mentions?since=3650d&lang={lang}&limit=500")).await;
        assert_eq!(page["total"].as_i64(), Some(*n), "lang={lang}");
    }
    let (status, _) = get_json(&server, "/api/mentions?lang=en%20OR%201").await;
    assert_eq!(status, 400);

    // An incident's negative mentions.
    let (id, brand, started): (i64, String, i64) = conn
        .query_row(
            "SELECT id, brand, started_at FROM incidents ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the fixture has an incident");
    let resolved: Option<i64> = conn
        .query_row("SELECT resolved_at FROM incidents WHERE id = ?1", [id], |r| r.get(0))
        .unwrap();
    let until = resolved.unwrap_or(i64::MAX);
    let expected: i64 = conn
        .query_row(
            &format!(
                "SELECT count(*) {open} AND m.created_at >= ?2 AND m.created_at < ?3 \
                 AND m.id IN (SELECT mention_id FROM mention_brands WHERE brand = ?1)"
            ),
            rusqlite::params![brand, started, until],
            |r| r.get(0),
        )
        .unwrap();
    let (_, page) = get_json(&server, &format!("/api/mentions?since=3650d&incident={id}&limit=500")).await;
    assert_eq!(page["total"].as_i64(), Some(expected), "{page}");
    assert!(expected > 0, "the incident has negative mentions");
    let (status, _) = get_json(&server, "/api/mentions?incident=0").await;
    assert_eq!(status, 400);

    // The page shows age and the overdue marker, and links to the next page.
    let html = get_text(&server, "/?since=3650d&overdue=true").await;
    assert!(html.contains(r#"class="pill overdue""#), "overdue marker");
    assert!(html.contains(r#"<option value="true" selected>overdue only</option>"#));
    if overdue > 50 {
        assert!(html.contains(r#"id="next-page""#), "a link to the next page");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_mention_page_shows_the_author_s_other_mentions_and_everything_done() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let conn = store::open_read_only(&db).unwrap();
    // The negative mention whose author wrote most about the same brand there.
    let (id, others): (i64, i64) = conn
        .query_row(
            "SELECT m.id, (SELECT count(*) FROM mentions o WHERE o.source = m.source AND o.author = m.author \
             AND o.id != m.id AND o.id IN (SELECT mention_id FROM mention_brands b WHERE b.brand IN \
             (SELECT brand FROM mention_brands a WHERE a.mention_id = m.id))) AS n \
             FROM mentions m WHERE m.label = 'negative' AND m.author IS NOT NULL ORDER BY n DESC, m.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(others >= 1, "some author wrote more than once");
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [id], "action": "assign", "assignee": "Maria"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, case) = get_json(&server, &format!("/api/mentions/{id}")).await;
    assert_eq!(status, 200, "{case}");
    assert_eq!(
        case["author_mentions"].as_array().unwrap().len() as i64,
        others.min(20),
        "{case}"
    );
    assert_eq!(case["row"]["id"].as_i64(), Some(id));
    assert_eq!(case["row"]["assignee"], "Maria");
    assert_eq!(case["history"].as_array().unwrap().len(), 1);
    let html = get_text(&server, &format!("/mentions/{id}")).await;
    for other in case["author_mentions"].as_array().unwrap() {
        assert!(
            html.contains(&format!(r#"href="/mentions/{}""#, other["id"])),
            "links to {other}"
        );
    }
    assert!(
        html.contains("→ Maria") && html.contains("<strong>assign</strong>"),
        "the history shows"
    );
    assert!(html.contains(r#"name="return_mention""#), "its actions come back to it");

    // A stranger's text is text here too.
    let hostile: i64 = conn
        .query_row("SELECT id FROM mentions WHERE source_id = 'hostile-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let page = get_text(&server, &format!("/mentions/{hostile}")).await;
    assert!(!page.contains("<script>window.__pwned") && page.contains("&lt;script&gt;"));
    assert!(!page.contains("javascript:"), "no script link");

    for (path, status) in [
        ("/mentions/999999", 404),
        ("/mentions/abc", 400),
        ("/api/mentions/999999", 404),
    ] {
        let got = client().get(server.url(path)).send().await.unwrap().status().as_u16();
        assert_eq!(got, status, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_change_is_pushed_to_open_pages_as_the_changed_row_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let mut events = client().get(server.url("/api/events")).send().await.unwrap();
    assert_eq!(events.status().as_u16(), 200);
    let (_, page) = get_json(&server, "/api/mentions?limit=2").await;
    let chosen = ids(&page);
    let (status, body) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": chosen, "action": "assign", "assignee": "<b>Bo</b>"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut received = String::new();
    let pushed = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(chunk) = events.chunk().await.unwrap() {
            received.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(line) = received
                .lines()
                .find(|l| l.starts_with("data: ") && l.contains("\"states\""))
            {
                return Some(serde_json::from_str::<Value>(&line["data: ".len()..]).unwrap());
            }
        }
        None
    })
    .await
    .expect("a state event within 30 s")
    .expect("the stream stays open");
    let rows = pushed["rows"].as_array().unwrap();
    let mut pushed_ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    pushed_ids.sort();
    let mut expected = chosen.clone();
    expected.sort();
    assert_eq!(pushed_ids, expected, "exactly the changed rows: {pushed}");
    for row in rows {
        assert_eq!(row["state"], "assigned");
        assert_eq!(row["label"], "negative");
        let html = row["html"].as_str().unwrap();
        assert!(
            html.contains("&lt;b&gt;Bo&lt;/b&gt;") && !html.contains("<b>Bo"),
            "escaped: {html}"
        );
    }
    drop(events);
    server.stop().await;
}

#[tokio::test]
async fn a_mention_in_a_language_the_scorer_does_not_read_is_not_scored_rather_than_neutral() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let config = crate::support::web::config();
    // No language from the source: the detector says German.
    server
        .store_line(
            json!({"source": "mastodon", "id": "german-1", "created_at": "2026-11-20T14:35:00Z",
            "author": {"handle": "hans@social.example", "followers": 40},
            "text": "ich hasse Acme Air, schrecklicher Service, nie wieder"}),
        )
        .await;
    let conn = store::open_read_only(&db).unwrap();
    let (german, lang, flagged): (i64, String, bool) = conn
        .query_row(
            "SELECT id, lang, not_scored FROM mentions WHERE source_id = 'german-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((lang.as_str(), flagged), ("de", true));

    let (_, unscored) = get_json(&server, "/api/mentions?label=unscored&state=all&since=3650d&limit=500").await;
    let not_scored: i64 = conn
        .query_row(
            "SELECT count(*) FROM mentions WHERE not_scored = 1 AND label = 'neutral'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unscored["total"].as_i64(), Some(not_scored), "{unscored}");
    let row = unscored["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == german)
        .unwrap();
    assert_eq!(
        (row["not_scored"].clone(), row["lang"].clone()),
        (json!(true), json!("de"))
    );
    let (_, neutral) = get_json(&server, "/api/mentions?label=neutral&state=all&since=3650d&limit=500").await;
    assert!(neutral["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["not_scored"].is_null()));

    // The digest counts them apart from neutral.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let digest =
        complaint_monitor::digest::compute(&conn, &config.brands, &config.inbox, Some("Acme Air"), day, "UTC").unwrap();
    let counts = &digest.brands[0].day.counts;
    let (start, end) = (
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis(),
    );
    let by_sql: f64 = conn
        .query_row(
            "SELECT count(*) FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
             WHERE f.brand = 'Acme Air' AND f.created_at >= ?1 AND f.created_at < ?2 \
             AND f.label = 'neutral' AND m.not_scored = 1",
            [start, end],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as f64;
    assert!(by_sql >= 1.0);
    assert_eq!(counts.not_scored, by_sql);
    assert_eq!(
        counts.negative + counts.neutral + counts.positive + counts.not_scored,
        counts.total
    );

    // A person reads it: corrected, it is scored and counts as negative.
    let (status, body) = post_json(
        &server,
        &format!("/api/mentions/{german}/label"),
        json!({"label": "negative", "by": "ana"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = get_json(&server, "/api/mentions?label=unscored&state=all&since=3650d&limit=500").await;
    assert_eq!(after["total"].as_i64(), Some(not_scored - 1));
    let (_, case) = get_json(&server, &format!("/api/mentions/{german}")).await;
    assert_eq!(case["label"], "negative");
    assert!(case["row"]["not_scored"].is_null(), "{case}");
    server.stop().await;
}

#[tokio::test]
async fn not_about_us_takes_a_mention_off_its_brands_and_out_of_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let acme_negatives = || async { last_24h(&server, "Acme Air").await["negative"].as_u64().unwrap() };
    let before = acme_negatives().await;
    let (_, page) = get_json(&server, "/api/mentions?brand=Acme%20Air&since=24h&limit=1").await;
    let id = ids(&page)[0];
    let (status, off) = post_json(
        &server,
        &format!("/api/mentions/{id}/not-about-us"),
        json!({"by": "ana"}),
    )
    .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["brands"], json!(["Acme Air"]));
    assert_eq!(acme_negatives().await, before - 1, "no longer counted for the brand");
    let (_, open) = get_json(&server, "/api/mentions?since=3650d&limit=500").await;
    assert!(!ids(&open).contains(&id), "out of the open queue");
    let (_, case) = get_json(&server, &format!("/api/mentions/{id}")).await;
    assert_eq!(case["row"]["state"], "ignored");
    assert_eq!(case["history"][0]["note"], "not about us");
    // Said twice: the same answer, nothing more recorded.
    let (status, again) = post_json(&server, &format!("/api/mentions/{id}/not-about-us"), json!({})).await;
    assert_eq!((status, again["brands"].clone()), (200, json!(["Acme Air"])));
    let (_, case) = get_json(&server, &format!("/api/mentions/{id}")).await;
    assert_eq!(case["history"].as_array().unwrap().len(), 1);
    let conn = store::open_read_only(&db).unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM mention_brands WHERE mention_id = ?1", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(left, 0);
    let mut out = Vec::new();
    complaint_monitor::export::write_jsonl(&conn, &Default::default(), &mut out).unwrap();
    let line = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["not_about_us"].is_object())
        .expect("the export says so");
    assert_eq!(
        (line["brands"].clone(), line["not_about_us"]["by"].clone()),
        (json!([]), json!("ana"))
    );
    let (status, _) = post_json(&server, "/api/mentions/999999/not-about-us", json!({})).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn each_person_saves_views_of_the_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let (status, saved) = post_json(
        &server,
        "/api/views",
        json!({"name": "My overdue", "query": "?sort=oldest&overdue=true&assignee=me&after=1e3_5&q="}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["query"], "assignee=me&overdue=true&sort=oldest",
        "checked, sorted, no position"
    );
    for (body, why) in [
        (
            json!({"name": "x", "query": "sort=loudest"}),
            "an order that does not exist",
        ),
        (json!({"name": "x", "query": "colour=red"}), "an unknown parameter"),
        (json!({"name": "", "query": ""}), "no name"),
        (json!({"name": "n".repeat(41), "query": ""}), "a name too long"),
        (
            json!({"name": "x", "query": "q=".to_string() + &"a".repeat(1001)}),
            "a query too long",
        ),
    ] {
        let (status, body) = post_json(&server, "/api/views", body).await;
        assert_eq!(status, 400, "{why}: {body}");
    }
    // The same name replaces the view.
    let (_, replaced) = post_json(
        &server,
        "/api/views",
        json!({"name": "My overdue", "query": "overdue=true"}),
    )
    .await;
    assert_eq!(replaced["id"], saved["id"]);
    let (_, list) = get_json(&server, "/api/views").await;
    assert_eq!(
        list,
        json!([{"id": saved["id"], "name": "My overdue", "query": "overdue=true"}])
    );
    // The inbox lists it as a link to the view.
    let html = get_text(&server, "/").await;
    assert!(
        html.contains(r#"<a href="/?overdue=true">My overdue</a>"#),
        "the view's link"
    );
    let id = saved["id"].as_i64().unwrap();
    let (status, _) = post_json(&server, &format!("/api/views/{id}/delete"), json!({})).await;
    assert_eq!(status, 200);
    let (_, list) = get_json(&server, "/api/views").await;
    assert_eq!(list, json!([]));
    server.stop().await;

    // Views are each person's own.
    let (writer, handle) = complaint_monitor::store::writer::Writer::start(&db, 4).unwrap();
    let at = cutoff();
    let ana = handle
        .transact(move |tx| complaint_monitor::inbox::save_view(tx, "ana", "Refunds", "q=refund", at))
        .await
        .unwrap();
    let conn = store::open_read_only(&db).unwrap();
    assert_eq!(complaint_monitor::inbox::views(&conn, "bo").unwrap(), vec![]);
    assert_eq!(
        complaint_monitor::inbox::views(&conn, "ANA").unwrap(),
        vec![ana.clone()],
        "names without case"
    );
    let refused = handle
        .transact(move |tx| complaint_monitor::inbox::delete_view(tx, "bo", ana.id))
        .await;
    assert!(refused.is_err(), "bo cannot delete ana's view");
    drop(handle);
    tokio::task::spawn_blocking(move || writer.finish().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn first_response_times_per_brand_and_person_with_the_share_within_target() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    let (_, page) = get_json(
        &server,
        "/api/mentions?brand=Acme%20Air&since=3650d&sort=newest&limit=3",
    )
    .await;
    let rows = page["rows"].as_array().unwrap().clone();
    let mut delays: Vec<f64> = Vec::new();
    for row in &rows {
        let created: chrono::DateTime<chrono::Utc> = row["created_at"].as_str().unwrap().parse().unwrap();
        delays.push((cutoff() - created).num_milliseconds() as f64 / 60_000.0);
        let (status, body) = post_json(
            &server,
            "/api/mentions/actions",
            json!({"ids": [row["id"]], "action": "respond", "note": "answered", "by": "ana"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    delays.sort_by(f64::total_cmp);
    let (status, times) = get_json(&server, "/api/response-times?since=3650d").await;
    assert_eq!(status, 200, "{times}");
    let ana = times["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "ana")
        .unwrap();
    assert_eq!(ana["responded"], 3);
    assert!(
        (ana["median_minutes"].as_f64().unwrap() - delays[1]).abs() < 1e-9,
        "{ana}"
    );
    assert!((ana["p90_minutes"].as_f64().unwrap() - delays[2]).abs() < 1e-9, "{ana}");

    let conn = store::open_read_only(&db).unwrap();
    let hour_before = (cutoff() - chrono::Duration::hours(1)).timestamp_millis();
    let (negatives, old): (u64, u64) = conn
        .query_row(
            "SELECT count(*), coalesce(sum(created_at < ?1), 0) FROM mention_brands \
             WHERE brand = 'Acme Air' AND label = 'negative'",
            [hour_before],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let within = delays.iter().filter(|d| **d <= 60.0).count() as u64;
    let counted = old + within; // the ones answered in time are young
    let acme = times["brands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "Acme Air")
        .unwrap();
    assert_eq!(
        (acme["negatives"].as_u64(), acme["responded"].as_u64()),
        (Some(negatives), Some(3)),
        "{acme}"
    );
    let share = acme["within_target_share"].as_f64().unwrap();
    assert!((share - within as f64 / counted as f64).abs() < 1e-9, "{acme}");

    let metrics = get_text(&server, "/metrics").await;
    assert!(
        metrics.contains(r#"cm_first_response_seconds{brand="Acme Air",quantile="0.5"}"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"cm_answered_within_target_ratio{brand="Acme Air"}"#));
    let (status, _) = get_json(&server, "/api/response-times?since=1d&until=2d").await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn the_pages_show_response_times_and_the_answered_cases_follow_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;
    server
        .store_line(
            json!({"source": "mastodon", "id": "loop-1", "created_at": "2026-11-20T14:00:00Z",
            "author": {"handle": "zoe", "followers": 80}, "text": "Acme Air lost my bag, awful service"}),
        )
        .await;
    let id: i64 = store::open_read_only(&db)
        .unwrap()
        .query_row("SELECT id FROM mentions WHERE source_id = 'loop-1'", [], |r| r.get(0))
        .unwrap();
    let (status, _) = post_json(
        &server,
        "/api/mentions/actions",
        json!({"ids": [id], "action": "respond", "note": "answered by DM", "by": "ana"}),
    )
    .await;
    assert_eq!(status, 200);
    // The case waits for the author's next word, on the API and the page.
    let (_, detail) = get_json(&server, &format!("/api/mentions/{id}")).await;
    assert_eq!(detail["closed_loop"]["outcome"], json!("waiting"), "{detail:#}");
    assert_eq!(detail["closed_loop"]["responded_at"], json!("2026-11-20T14:40:00Z"));
    let page = get_text(&server, &format!("/mentions/{id}")).await;
    assert!(page.contains("After the answer: "), "{page}");
    let brand = get_text(&server, "/brands/Acme%20Air").await;
    assert!(brand.contains("1 detractors answered in the last 14 days: "), "{brand}");
    // A manager keeps the brand's saved replies on its page.
    let opened = client().get(server.url("/brands/Acme%20Air")).send().await.unwrap();
    let (cookie, _) = crate::support::web::set_cookie(&opened, "cm_csrf").unwrap();
    let token = crate::support::web::form_token_in(&opened.text().await.unwrap());
    let saved = client()
        .post(server.url("/reply-templates"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("brand", "Acme Air"),
            ("name", "lost bag"),
            ("body", "Hi {author}, {brand} here: <b>sorry</b> about your bag."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let brand = get_text(&server, "/brands/Acme%20Air").await;
    assert!(
        brand.contains("Hi {author}, {brand} here: &lt;b&gt;sorry&lt;/b&gt; about your bag."),
        "{brand}"
    );
    // And it is offered, filled in, in the reply box's options.
    let (_, detail) = get_json(&server, &format!("/api/mentions/{id}")).await;
    assert_eq!(
        detail["reply_options"]["templates"][0]["text"],
        json!("Hi zoe, Acme Air here: <b>sorry</b> about your bag.")
    );
    // The Alerts page: first-response times of the last 7 days, per brand.
    let alerts = get_text(&server, "/alerts").await;
    assert!(alerts.contains("First response, last 7 days"), "{alerts}");
    assert!(alerts.contains("<td class=\"num\">40 min</td>"), "{alerts}");
    server.stop().await;
}
