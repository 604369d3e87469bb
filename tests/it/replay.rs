//! The walking skeleton end to end: feeds replayed into real SQLite files.

use std::io::Write;
use std::path::{Path, PathBuf};

use complaint_monitor::config::Config;
use complaint_monitor::export;
use complaint_monitor::replay::{replay, ReplayOptions, ReplaySummary, Speed};
use complaint_monitor::store::{self, MentionFilter};
use rusqlite::Connection;

fn demo_feed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/feed.jsonl")
}

fn demo_config() -> Config {
    Config::load_or_demo(None).expect("demo config")
}

fn run(config: &Config, feeds: &[PathBuf], db: &Path) -> ReplaySummary {
    let options = ReplayOptions {
        feeds: feeds.to_vec(),
        db: db.to_path_buf(),
        speed: Speed::Max,
        progress: false,
        time_shift: chrono::Duration::zero(),
        delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
    };
    replay(config, &options).expect("replay")
}

/// Every stored column of every mention and brand link, in a stable order.
fn dump(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut out = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT m.*, (SELECT group_concat(brand || ':' || label || ':' || reach || ':' || created_at, '|') \
             FROM (SELECT * FROM mention_brands b WHERE b.mention_id = m.id ORDER BY brand)) \
             FROM mentions m ORDER BY source, source_id",
        )
        .unwrap();
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        // Skip the row id: it is an internal detail, not content.
        let fields: Vec<String> = (1..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
        out.push(fields.join("\t"));
    }
    out
}

#[test]
fn replaying_the_demo_feed_twice_stores_nothing_new_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let first = run(&demo_config(), &[demo_feed()], &db);
    assert!(first.lines > 5000, "{first}");
    assert!(first.stored > 5000, "{first}");
    assert!(first.duplicates > 0, "the demo feed repeats some lines: {first}");
    assert!(first.unmatched > 0, "{first}");
    for reason in [
        "invalid_json",
        "missing_field",
        "bad_timestamp",
        "invalid_utf8",
        "invalid_field",
        "unknown_brand",
    ] {
        assert!(
            first.rejected.get(reason).copied().unwrap_or(0) > 0,
            "no {reason} in {first}"
        );
    }
    let second = run(&demo_config(), &[demo_feed()], &db);
    assert_eq!(second.stored, 0, "{second}");
    assert_eq!(second.duplicates, first.stored + first.duplicates);
    assert_eq!(second.rejected, first.rejected);
    let conn = Connection::open(&db).unwrap();
    let count: u64 = conn
        .query_row("SELECT count(*) FROM mentions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, first.stored);
}

#[test]
fn the_same_feed_gives_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let config = demo_config();
    run(&config, &[demo_feed()], &a);
    // A different batch size must not change what is stored.
    let mut small_batches = config.clone();
    small_batches.store.batch_size = 7;
    run(&small_batches, &[demo_feed()], &b);
    let (dump_a, dump_b) = (dump(&a), dump(&b));
    assert!(dump_a.len() > 5000);
    assert!(dump_a == dump_b, "replays of one feed differ");
}

#[test]
fn export_then_replay_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (original, copy) = (dir.path().join("original.db"), dir.path().join("copy.db"));
    let config = demo_config();
    run(&config, &[demo_feed()], &original);
    let exported = dir.path().join("export.jsonl");
    {
        let conn = store::open_read_only(&original).unwrap();
        let mut file = std::io::BufWriter::new(std::fs::File::create(&exported).unwrap());
        let n = export::write_jsonl(&conn, &MentionFilter::default(), &mut file).unwrap();
        file.flush().unwrap();
        assert!(n > 5000);
    }
    let summary = run(&config, std::slice::from_ref(&exported), &copy);
    assert_eq!(summary.rejected_total(), 0, "{summary}");
    assert_eq!(summary.unmatched, 0, "{summary}");
    assert_eq!(summary.duplicates, 0, "{summary}");
    assert!(
        dump(&original) == dump(&copy),
        "export → replay changed the stored mentions"
    );

    // The export carries the derived fields, as documented.
    let first_line = std::fs::read_to_string(&exported).unwrap();
    let first: serde_json::Value = serde_json::from_str(first_line.lines().next().unwrap()).unwrap();
    for key in ["source", "id", "created_at", "text", "brands", "sentiment", "reach"] {
        assert!(first.get(key).is_some(), "export lacks {key}: {first}");
    }
    for key in ["compound", "pos", "neu", "neg", "label"] {
        assert!(first["sentiment"].get(key).is_some(), "sentiment lacks {key}");
    }
}

#[test]
fn bad_lines_are_counted_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.jsonl");
    let mut lines: Vec<Vec<u8>> = vec![
        br#"{"source":"x","id":"1","created_at":"2026-11-20T10:00:00Z","text":"@acmeair you lost my bag, awful"}"#.to_vec(),
        b"{not json".to_vec(),
        br#"{"source":"x","created_at":"2026-11-20T10:00:01Z","text":"acme air"}"#.to_vec(),
        br#"{"source":"x","id":"3","created_at":"noon","text":"acme air"}"#.to_vec(),
        b"{\"source\":\"x\",\"id\":\"4\",\"created_at\":\"2026-11-20T10:00:02Z\",\"text\":\"acme \xff air\"}".to_vec(),
        br#"{"source":"x","id":"5","created_at":"2026-11-20T10:00:03Z","text":"acme air","rating":0}"#.to_vec(),
        br#"{"source":"x","id":"6","created_at":"2026-11-20T10:00:04Z","text":"hi","brand":"Nobody"}"#.to_vec(),
        br#"{"source":"x","id":"7","created_at":"2026-11-20T10:00:05Z","text":"nothing to see"}"#.to_vec(),
        br#"{"source":"appstore","id":"8","created_at":"2026-11-20T10:00:06Z","text":"Love it!","rating":1,"brand":"globex bank"}"#.to_vec(),
        br#"{"source":"x","id":"9","created_at":"2026-11-20T10:00:07Z","text":"my acme air fryer rocks"}"#.to_vec(),
        Vec::new(),
        br#"{"source":"x","id":"1","created_at":"2026-11-20T10:00:00Z","text":"@acmeair you lost my bag, awful"}"#.to_vec(),
        br#"{"source":"x","id":"10","created_at":"2026-11-20T10:00:08Z","text":"Thanks @AcmeAir, great flight!"}"#.to_vec(),
    ];
    lines.push(format!(r#"{{"source":"x","id":"11","text":"{}"}}"#, "a".repeat(2 << 20)).into_bytes());
    std::fs::write(&feed, lines.join(&b'\n')).unwrap();
    let db = dir.path().join("t.db");
    let s = run(&demo_config(), &[feed], &db);
    assert_eq!(s.lines, 13, "{s}");
    let expected: Vec<(&str, u64)> = vec![
        ("bad_timestamp", 1),
        ("invalid_field", 1),
        ("invalid_json", 1),
        ("invalid_utf8", 1),
        ("line_too_long", 1),
        ("missing_field", 1),
        ("unknown_brand", 1),
    ];
    assert_eq!(s.rejected.clone().into_iter().collect::<Vec<_>>(), expected, "{s}");
    assert_eq!(s.unmatched, 2, "{s}"); // "nothing to see" and the air fryer
    assert_eq!(s.stored, 3, "{s}");
    assert_eq!(s.duplicates, 1, "{s}");

    let conn = store::open_read_only(&db).unwrap();
    let globex = store::recent_mentions(
        &conn,
        &MentionFilter {
            brand: Some("Globex Bank".into()),
            ..MentionFilter::default()
        },
    )
    .unwrap();
    assert_eq!(globex.len(), 1);
    // A one-star review is negative whatever its text says; the text score is kept.
    assert_eq!(globex[0].scored.label.as_str(), "negative");
    assert!(globex[0].scored.sentiment.compound > 0.5);
    assert_eq!(
        globex[0].scored.brands.iter().map(|b| &**b).collect::<Vec<_>>(),
        ["Globex Bank"]
    );
}

#[test]
fn a_database_is_migrated_once_and_reopened_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let conn = store::open(&db).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert!(version >= 1);
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
    assert_eq!(fk, 1);
    drop(conn);
    run(&demo_config(), &[demo_feed()], &db);
    let before = dump(&db);
    let conn = store::open(&db).unwrap();
    let again: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(again, version);
    drop(conn);
    assert!(dump(&db) == before);
}

#[test]
fn brand_queries_use_the_per_brand_index() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    drop(store::open(&db).unwrap());
    let conn = Connection::open(&db).unwrap();
    let plan_of = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = stmt.parameter_count();
        stmt.query_map(rusqlite::params_from_iter(std::iter::repeat_n(1i64, n)), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join("\n")
    };
    // The application's own query texts, as they run.
    for (name, sql, index) in [
        (
            "detection",
            complaint_monitor::store::BUCKET_COUNTS_SQL,
            "mention_brands",
        ),
        (
            "digest terms",
            complaint_monitor::digest::terms::NEGATIVE_TEXTS_SQL,
            "mention_brands_by_label",
        ),
        (
            "alert explanation",
            complaint_monitor::alert::explain::INCIDENT_MENTIONS_SQL,
            // The brand's rows of the incident's hours, each with its group.
            "USING PRIMARY KEY (brand=? AND created_at>? AND created_at<?)",
        ),
    ] {
        let plan = plan_of(sql);
        assert!(plan.contains(index), "{name}: {plan}");
        assert!(
            !plan.contains("SCAN f") && !plan.contains("SCAN mention_brands"),
            "{name}: {plan}"
        );
    }
}

/// The demo feed's replay as the CLI prints it (`replay --json`, without its
/// timings) and the database it leaves as `export` writes it are pinned in
/// `tests/it/golden/`: a refactoring must leave both byte for byte as they
/// were. A change on purpose (a detector that fires differently) is made
/// visible in review by rerunning with `UPDATE_GOLDEN=1`.
#[test]
fn the_demo_replay_and_its_export_are_byte_for_byte_as_pinned() {
    use sha2::{Digest, Sha256};
    let binary = env!("CARGO_BIN_EXE_complaint-monitor");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let replayed = std::process::Command::new(binary)
        .arg("replay")
        .arg(demo_feed())
        .arg("--db")
        .arg(&db)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let mut printed = String::new();
    for line in String::from_utf8(replayed.stdout).unwrap().lines() {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(summary) = value.as_object_mut().filter(|o| o.contains_key("elapsed_seconds")) {
            summary.remove("elapsed_seconds");
            summary.remove("lines_per_second");
        }
        printed.push_str(&value.to_string());
        printed.push('\n');
    }
    let exported = std::process::Command::new(binary)
        .args(["export", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let export_digest = format!(
        "{:x}  {} lines\n",
        Sha256::digest(&exported.stdout),
        exported.stdout.iter().filter(|&&b| b == b'\n').count()
    );

    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&golden).unwrap();
        std::fs::write(golden.join("demo-replay.jsonl"), &printed).unwrap();
        std::fs::write(golden.join("demo-export.sha256"), &export_digest).unwrap();
    }
    let pinned_replay = std::fs::read_to_string(golden.join("demo-replay.jsonl")).unwrap();
    let pinned_export = std::fs::read_to_string(golden.join("demo-export.sha256")).unwrap();
    for (pinned, now) in pinned_replay.lines().zip(printed.lines()) {
        assert_eq!(pinned, now, "the demo replay prints something else now");
    }
    assert_eq!(pinned_replay.lines().count(), printed.lines().count(), "{printed}");
    assert_eq!(
        pinned_export, export_digest,
        "the demo export differs from the pinned one"
    );
}

/// New mentions enter the full-text index once per batch (not by trigger);
/// an edit arriving in the same batch as its first version must still
/// leave exactly the new text indexed, and the index consistent.
#[test]
fn a_mention_and_its_edit_in_one_batch_are_indexed_once_as_edited() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.jsonl");
    let line = |id: &str, text: &str| {
        serde_json::json!({"source": "trustpilot", "id": id, "created_at": "2026-11-20T00:00:21Z",
            "author": {"handle": "priya", "followers": null}, "text": text, "rating": 2, "lang": "en",
            "brand": "Acme Air"})
        .to_string()
    };
    let lines = [
        line("r1", "Acme Air lost my bag, quokka refund please"),
        line("r2", "Acme Air check-in was slow"),
        line("r1", "Acme Air found my bag, wombat thanks"),
    ];
    std::fs::write(&feed, lines.join("\n") + "\n").unwrap();
    let db = dir.path().join("cm.db");
    let summary = run(&demo_config(), &[feed], &db);
    assert_eq!((summary.stored, summary.duplicates), (2, 1), "{summary:?}");
    let conn = Connection::open(&db).unwrap();
    let found = |word: &str| -> Vec<i64> {
        let mut stmt = conn
            .prepare("SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?1")
            .unwrap();
        stmt.query_map([word], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let r1: i64 = conn
        .query_row("SELECT id FROM mentions WHERE source_id = 'r1'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(found("wombat"), [r1]);
    assert!(found("quokka").is_empty(), "the first version is no longer indexed");
    assert_eq!(found("acme").len(), 2);
    conn.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('integrity-check')", [])
        .unwrap();
}
