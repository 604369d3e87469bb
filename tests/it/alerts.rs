//! Spike alerts end to end: replay raises incidents into a real SQLite
//! file, notifications go through the outbox to a real local HTTP receiver.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use complaint_monitor::alert::delivery::Dispatcher;
use complaint_monitor::alert::{self, State};
use complaint_monitor::config::Config;
use complaint_monitor::detect::backtest;
use complaint_monitor::replay::{replay, ReplayOptions, Speed};
use complaint_monitor::store::{self, writer::Writer};
use rusqlite::Connection;
use wiremock::matchers::{header_exists, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::smtp;

fn demo_feed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/feed.jsonl")
}

/// The demo config without the stdout channel (tests keep stdout quiet).
fn quiet_config() -> Config {
    let mut config = Config::load_or_demo(None).unwrap();
    config.alerts.channels.clear();
    config
}

fn run(config: &Config, db: &Path) -> complaint_monitor::replay::ReplaySummary {
    let options = ReplayOptions {
        feeds: vec![demo_feed()],
        db: db.to_path_buf(),
        speed: Speed::Max,
        progress: false,
        time_shift: chrono::Duration::zero(),
        delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
    };
    replay(config, &options).unwrap()
}

fn incidents(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT brand, source, state, severity, started_at, peak_at, observed, expected, reach FROM incidents ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{}|{}|{}|{}|{:.4}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, f64>(7)?,
                r.get::<_, i64>(8)?
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn the_demo_feed_raises_its_incident_the_same_way_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let config = quiet_config();
    let summary = run(&config, &a);
    assert_eq!(summary.incidents_opened, 1, "{summary}");
    run(&config, &b);
    let (ia, ib) = (incidents(&a), incidents(&b));
    assert_eq!(ia, ib);
    assert_eq!(ia.len(), 1);
    // Acme Air's lost-baggage wave starts at 14:00; found within two buckets.
    let conn = store::open_read_only(&a).unwrap();
    let incident = &alert::list_incidents(&conn, None, 10).unwrap()[0];
    assert_eq!(incident.brand, "Acme Air");
    let start = incident.figures.started_at.format("%H:%M").to_string();
    assert!(start == "14:00" || start == "14:05", "started {start}");
    assert_eq!(incident.state, State::Resolved);

    // Replaying into the same database again raises nothing new.
    let again = run(&config, &a);
    assert_eq!(again.incidents_opened, 0);
    assert_eq!(incidents(&a), ia);
}

#[test]
fn backtest_over_the_database_agrees_with_the_replay_and_with_a_csv_of_the_same_counts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bt.db");
    let mut config = quiet_config();
    // A CSV carries negative counts only, so compare the count test alone.
    config.detect.negative_share = false;
    run(&config, &db);
    let conn = store::open_read_only(&db).unwrap();
    let from_db = complaint_monitor::alert::backtest::run_db(
        &conn,
        &config.brands,
        &config.detect,
        Some("Acme Air"),
        None,
        chrono::Utc::now(),
    )
    .unwrap();
    let replayed = alert::list_incidents(&conn, None, 10).unwrap();
    assert_eq!(from_db.len(), replayed.len());
    assert_eq!(
        from_db[0].started_at,
        complaint_monitor::mention::format_time(replayed[0].figures.started_at)
    );

    let series = store::bucket_counts(
        &conn,
        &config.detect,
        "Acme Air",
        "",
        chrono::DateTime::<Utc>::MIN_UTC,
        chrono::DateTime::<Utc>::MAX_UTC,
    )
    .unwrap();
    let csv: String = std::iter::once("timestamp,value".to_string())
        .chain(
            series
                .iter()
                .map(|c| format!("{},{}", c.start.format("%Y-%m-%d %H:%M:%S"), c.negatives)),
        )
        .collect::<Vec<_>>()
        .join("\n");
    let (rows, rejected) = backtest::read_csv(&mut csv.as_bytes(), &config.detect).unwrap();
    assert!(rejected.is_empty());
    let from_csv = backtest::run(&config.detect, "Acme Air", None, rows);
    let key = |r: &backtest::AlertReport| (r.started_at.clone(), r.peak_at.clone(), r.observed, r.expected);
    assert_eq!(
        from_db.iter().map(key).collect::<Vec<_>>(),
        from_csv.iter().map(key).collect::<Vec<_>>()
    );
}

#[test]
fn silenced_incidents_are_recorded_without_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut config = quiet_config();
    config.alerts.channels = toml::from_str::<toml::Table>("[[c]]\nname = \"log\"\nkind = \"log\"\n").unwrap()["c"]
        .clone()
        .try_into()
        .unwrap();
    {
        let conn = store::open(&db).unwrap();
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        alert::add_silence(
            &conn,
            "Acme Air",
            None,
            t("2026-11-20T12:00:00Z"),
            t("2026-11-20T18:00:00Z"),
            "known outage",
            None,
        )
        .unwrap();
    }
    run(&config, &db);
    let conn = store::open_read_only(&db).unwrap();
    let incidents = alert::list_incidents(&conn, None, 10).unwrap();
    assert_eq!(incidents.len(), 1);
    assert!(incidents[0].silenced);
    let outbox: i64 = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(outbox, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivery_retries_after_failures_and_is_accepted_exactly_once() {
    let receiver = MockServer::start().await;
    // The receiver is down for the first two attempts.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(header_exists("Idempotency-Key"))
        .and(header_exists("X-Signature-256"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&receiver)
        .await;

    let mut config = quiet_config();
    let channel = format!(
        "name = \"hook\"\nkind = \"webhook\"\nurl = \"{}/hook\"\nsecret = \"test-secret\"\nmin_severity = \"critical\"\n",
        receiver.uri()
    );
    config.alerts.channels = vec![toml::from_str(&channel).unwrap()];
    let (_dir, db) = db_with_one_queued_notice(&config).await;

    let (writer, handle) = Writer::start(&db, 4).unwrap();
    let dispatcher = Dispatcher::new(
        &config.alerts,
        &db,
        handle,
        std::sync::Arc::new(complaint_monitor::clock::WallClock),
    )
    .unwrap()
    .with_base_backoff(Duration::from_millis(20));
    let stats = dispatcher
        .drain(tokio::time::Instant::now() + Duration::from_secs(20))
        .await
        .unwrap();
    drop(dispatcher);
    tokio::task::spawn_blocking(move || writer.finish().unwrap())
        .await
        .unwrap();
    assert_eq!(stats.sent, 1, "{stats:?}");
    assert_eq!(stats.failed_attempts, 2, "{stats:?}");

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    let keys: Vec<&str> = requests
        .iter()
        .map(|r| r.headers["Idempotency-Key"].to_str().unwrap())
        .collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one notification, one key: {keys:?}"
    );
    let last = requests.last().unwrap();
    let signature = last.headers["X-Signature-256"].to_str().unwrap();
    assert_eq!(
        signature,
        complaint_monitor::alert::channels::webhook_signature("test-secret", &last.body)
    );
    let body: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
    assert_eq!(body["event"], "resolved");
    assert_eq!(body["brand"], "Acme Air");
    assert!(!body["top_mentions"].as_array().unwrap().is_empty());

    let conn = Connection::open(&db).unwrap();
    let (status, attempts): (String, i64) = conn
        .query_row("SELECT status, attempts FROM outbox", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("sent", 3));
}

/// A database holding the demo incident with one resolution notice queued
/// for `config`'s channels, as a service that stopped before delivering
/// would leave it.
async fn db_with_one_queued_notice(config: &Config) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queued.db");
    let (db2, cfg) = (db.clone(), config.clone());
    tokio::task::spawn_blocking(move || {
        let mut without_channels = cfg;
        without_channels.alerts.channels.clear();
        run(&without_channels, &db2)
    })
    .await
    .unwrap();
    // Reopen the incident and resolve it by hand: that queues one notice.
    let mut conn = store::open(&db).unwrap();
    let incident = alert::list_incidents(&conn, None, 1).unwrap().remove(0);
    conn.execute(
        "UPDATE incidents SET state = 'firing', resolved_at = NULL WHERE id = ?1",
        [incident.id],
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    alert::resolve_by_hand(
        &tx,
        &config.alerts,
        incident.id,
        "test",
        Utc::now(),
        config.detect.bucket.0,
    )
    .unwrap();
    tx.commit().unwrap();
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM outbox WHERE status = 'pending'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 1);
    (dir, db)
}

async fn deliver(config: &Config, db: &Path) -> complaint_monitor::alert::delivery::DeliveryStats {
    let (writer, handle) = Writer::start(db, 4).unwrap();
    let dispatcher = Dispatcher::new(
        &config.alerts,
        db,
        handle,
        std::sync::Arc::new(complaint_monitor::clock::WallClock),
    )
    .unwrap()
    .with_base_backoff(Duration::from_millis(20));
    let stats = dispatcher
        .drain(tokio::time::Instant::now() + Duration::from_secs(20))
        .await
        .unwrap();
    drop(dispatcher);
    tokio::task::spawn_blocking(move || writer.finish().unwrap())
        .await
        .unwrap();
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_goes_to_a_local_smtp_receiver_once_after_a_transient_refusal() {
    let receiver = smtp::Receiver::start(1).await;
    let mut config = quiet_config();
    let channel = format!(
        "name = \"mail\"\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\ntls = \"none\"\n\
         from = \"Monitor <monitor@example.test>\"\nto = [\"care@example.test\"]\n",
        receiver.port
    );
    config.alerts.channels = vec![toml::from_str(&channel).unwrap()];
    let (_dir, db) = db_with_one_queued_notice(&config).await;
    let stats = deliver(&config, &db).await;
    assert_eq!((stats.sent, stats.failed_attempts), (1, 1), "{stats:?}");
    let messages = receiver.messages();
    assert_eq!(messages.len(), 1, "accepted exactly once");
    let m = &messages[0];
    assert!(m.contains("Subject: [CRITICAL] Acme Air: spike resolved"), "{m}");
    assert!(m.contains("Message-ID: <cm-"), "{m}");
    assert!(m.contains("Largest reach first"), "{m}");
    assert!(m.contains("RCPT:<care@example.test>"), "{m}");
}

fn outbox_events(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT event, channel, created_at FROM outbox ORDER BY created_at, event, channel")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}|{}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn repeats_fall_due_while_unacknowledged_and_tick_cadence_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (fast, paced) = (dir.path().join("fast.db"), dir.path().join("paced.db"));
    let mut config = quiet_config();
    config.alerts.channels = vec![toml::from_str("name = \"log\"\nkind = \"log\"\n").unwrap()];
    config.alerts.repeat_every = complaint_monitor::clock::Span(chrono::Duration::minutes(20));
    run(&config, &fast);
    // The same feed at 200,000 times real time: the detector ticks at every
    // bucket instead of once a committed hour.
    let options = ReplayOptions {
        feeds: vec![demo_feed()],
        db: paced.clone(),
        speed: Speed::Factor(200_000.0),
        progress: false,
        time_shift: chrono::Duration::zero(),
        delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
    };
    replay(&config, &options).unwrap();
    let events = outbox_events(&fast);
    assert_eq!(events, outbox_events(&paced));
    let count = |e: &str| events.iter().filter(|x| x.starts_with(e)).count();
    assert_eq!(count("opened|"), 1, "{events:?}");
    assert_eq!(count("resolved|"), 1, "{events:?}");
    assert!(count("repeat|") >= 2, "{events:?}");
    assert_eq!(incidents(&fast), incidents(&paced));
}

/// Two days of ordinary complaints, then `count` posts by `wave` (author,
/// text) in ten minutes from 15:00 on the third day.
pub(crate) fn feed_with_wave(dir: &Path, count: usize, wave: impl Fn(usize) -> (String, String)) -> PathBuf {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-18T00:00:00Z")
        .unwrap()
        .to_utc();
    let usual = [
        "delayed my flight",
        "lost my bag",
        "rude at the desk",
        "wifi was broken",
        "seat was dirty",
    ];
    let mut lines = Vec::new();
    for i in 0..(2 * 24 * 12 + 15 * 12) {
        let t = start + chrono::Duration::minutes(5 * i as i64);
        let line = serde_json::json!({
            "source": "x", "id": format!("u{i}"), "created_at": complaint_monitor::mention::format_time(t),
            "author": {"handle": format!("@regular{}", i % 50)}, "lang": "en",
            // Each in its own words: the same sentence from many accounts
            // would be a copy-paste campaign, and count once.
            "text": format!("acme air {} on flight {i}, awful", usual[i % usual.len()]),
        });
        lines.push(line.to_string());
    }
    let wave_start = start + chrono::Duration::hours(2 * 24 + 15);
    for k in 0..count {
        let t = wave_start + chrono::Duration::milliseconds((600_000 * k / count) as i64);
        let (author, text) = wave(k);
        let line = serde_json::json!({
            "source": "reddit", "id": format!("w{k}"), "created_at": complaint_monitor::mention::format_time(t),
            "author": {"handle": author}, "lang": "en", "text": text,
        });
        lines.push(line.to_string());
    }
    let path = dir.join("wave.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

pub(crate) fn opened_notification(db: &Path) -> serde_json::Value {
    let conn = Connection::open(db).unwrap();
    let payload: String = conn
        .query_row(
            "SELECT payload FROM outbox WHERE event = 'opened' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&payload).unwrap()
}

pub(crate) fn replay_feed(config: &Config, db: &Path, feed: PathBuf) {
    let options = ReplayOptions {
        feeds: vec![feed],
        db: db.to_path_buf(),
        speed: Speed::Max,
        progress: false,
        time_shift: chrono::Duration::zero(),
        delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
    };
    replay(config, &options).unwrap();
}

/// The demo config with one webhook channel (the outbox keeps every payload).
pub(crate) fn config_with_outbox() -> Config {
    let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml"))
        .unwrap()
        .replace(
            "kind = \"stdout\"",
            "kind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"",
        );
    Config::parse(&toml, "demo.toml", &|_| None).unwrap()
}

#[test]
fn an_alert_explains_its_wave_by_its_words_and_one_account_posting_forty_times_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_outbox();

    let db = dir.path().join("crowd.db");
    let feed = feed_with_wave(dir.path(), 40, |k| {
        (
            format!("@customer{k}"),
            format!(
                "acme air refund refused after cancellation of flight {k}, awful, booking {}",
                1000 + 7 * k
            ),
        )
    });
    replay_feed(&config, &db, feed);
    let n = opened_notification(&db);
    let terms: Vec<&str> = n["terms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(terms.contains(&"refund"), "{n}");
    assert!(!terms.contains(&"awful"), "a usual word is not news: {n}");
    // Opened within the wave's first bucket: every one of its 20 negatives by another account.
    assert_eq!(n["negative_mentions"].as_u64(), Some(20), "{n}");
    assert_eq!(n["distinct_authors"].as_u64(), Some(20), "{n}");
    assert_eq!(n["new_author_share"].as_f64(), Some(1.0), "{n}");
    assert_eq!(n["sources"][0]["name"], "reddit", "{n}");
    assert!(n["first_mention_at"].as_str().unwrap() >= "2026-11-20T15:00:00Z", "{n}");

    let db = dir.path().join("one.db");
    let feed = feed_with_wave(dir.path(), 40, |k| {
        (
            "@angry".to_string(),
            format!(
                "acme air refund refused after cancellation of flight {k}, awful, booking {}",
                1000 + 7 * k
            ),
        )
    });
    replay_feed(&config, &db, feed);
    // One burst: stored, all 40, but counted once, so no incident.
    let conn = Connection::open(&db).unwrap();
    let incidents: i64 = conn
        .query_row("SELECT count(*) FROM incidents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(incidents, 0);
    let (groups, members, weight): (i64, i64, f64) = conn
        .query_row(
            "SELECT count(DISTINCT g.id), count(*), total(b.weight) FROM spam_groups g \
             JOIN mention_brands b ON b.group_id = g.id WHERE g.kind = 'burst'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((groups, members, weight), (1, 40, 1.0));
}

/// The live path: the alert service, ticked between bucket closes, opens
/// the incident of a wave from the bucket still filling, minutes before
/// that bucket closes (plus grace) and would have been judged.
#[test]
fn the_service_opens_a_wave_within_its_bucket_before_the_bucket_closes() {
    use complaint_monitor::alert::service::AlertService;
    use complaint_monitor::clock::VirtualClock;
    use complaint_monitor::mention::Mention;
    use complaint_monitor::pipeline::Pipeline;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let config = config_with_outbox();
    let feed = feed_with_wave(dir.path(), 40, |k| {
        (
            format!("@customer{k}"),
            format!(
                "acme air refund refused after cancellation of flight {k}, awful, booking {}",
                1000 + 7 * k
            ),
        )
    });
    let text = std::fs::read_to_string(&feed).unwrap();
    let (before, wave): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| !l.contains("\"id\":\"w"));
    let history = dir.path().join("history.jsonl");
    std::fs::write(&history, before.join("\n") + "\n").unwrap();
    let db = dir.path().join("live.db");
    replay_feed(&config, &db, history);

    // The wave's first ten posts (15:00:00 to 15:02:15) arrive.
    let (writer, handle) = Writer::start_with(&db, &config.store, config.grouper()).unwrap();
    let mut pipeline = Pipeline::new(
        config.enricher().unwrap(),
        config.store.batch_size,
        handle.clone(),
        Arc::new(VirtualClock::default()),
    );
    for line in &wave[..10] {
        pipeline
            .ingest(Mention::from_feed_line(line.as_bytes()).unwrap())
            .unwrap();
    }
    pipeline.finish().unwrap();
    let mut service = AlertService::start(&config.brands, &config.detect, &config.alerts, &db, handle).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T15:02:30Z")
        .unwrap()
        .to_utc();
    let report = service.tick(now).unwrap();
    assert_eq!(report.opened, 1, "{report:?}");
    // Ticking again, with the same mentions, opens nothing more.
    assert_eq!(service.tick(now + chrono::Duration::seconds(10)).unwrap().opened, 0);
    drop(service);
    writer.finish().unwrap();

    let n = opened_notification(&db);
    assert_eq!(n["started_at"], "2026-11-20T15:00:00Z", "{n}");
    // Known at 15:02:30, not at 15:07 (bucket close plus two minutes' grace).
    assert_eq!(n["notified_at"], "2026-11-20T15:02:30Z", "{n}");
    assert_eq!(n["delay_seconds"], 150, "{n}");
    assert_eq!(n["negative_mentions"], 10, "{n}");
}
