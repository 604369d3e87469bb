//! Crash safety: a replay killed with SIGKILL at random moments and started
//! again ends with exactly the database an uninterrupted replay gives: every
//! mention once, the same incidents, the same notifications, an intact file.
//!
//! `CRASH_KILLS` sets the number of kills (default 5, as in CI; the manual
//! run in docs/reliability.md uses 20) and `CRASH_SEED` the random seed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rand::{Rng, SeedableRng};
use rusqlite::Connection;

const TEXTS: &[&str] = &[
    "@acmeair lost my bag again, terrible service",
    "acme air crew was great, thank you",
    "acme air flight leaves at 9",
    "globex app keeps crashing, awful",
    "globex bank sorted my card quickly, lovely",
    "just had coffee",
];

/// Two days of mentions, a wave of Acme Air complaints on the second
/// afternoon, and every 97th line delivered twice.
fn write_feed(path: &Path, lines: usize) {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-19T00:00:00Z")
        .unwrap()
        .to_utc();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let span_ms = 2 * 86_400_000i64;
    let mut previous = String::new();
    for i in 0..lines {
        let t = start + chrono::Duration::milliseconds(span_ms * i as i64 / lines as i64);
        let in_wave = t.format("%d %H").to_string() == "20 14";
        let text = if in_wave && i % 2 == 0 {
            TEXTS[0]
        } else {
            TEXTS[i * 7 % TEXTS.len()]
        };
        // Numbered at both ends: one sentence from many accounts would be a
        // copy-paste campaign, counted once.
        let text = format!("{i}: {text} ({i})");
        let source = ["x", "mastodon", "bluesky", "reddit"][i % 4];
        let line = serde_json::json!({
            "source": source, "id": format!("m{i}"),
            "created_at": t.to_rfc3339(), "author": {"handle": format!("u{}", i % 500), "followers": (i * 37) % 5000},
            "text": text,
        })
        .to_string();
        writeln!(file, "{line}").unwrap();
        if i % 97 == 0 && !previous.is_empty() {
            writeln!(file, "{previous}").unwrap();
        }
        previous = line;
    }
}

fn replay(feed: &Path, db: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args(["replay", feed.to_str().unwrap(), "--db", db.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn rows(db: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        out.push(
            (0..n)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    out
}

#[test]
fn a_replay_killed_at_random_moments_ends_as_if_never_interrupted() {
    let kills: usize = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        });
    eprintln!("crash test: {kills} kills, seed {seed} (set CRASH_SEED to repeat)");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let feed: PathBuf = dir.path().join("feed.jsonl");
    write_feed(&feed, 60_000);

    let reference = dir.path().join("reference.db");
    let start = std::time::Instant::now();
    assert!(replay(&feed, &reference).wait().unwrap().success());
    let full_run = start.elapsed();

    let crashed = dir.path().join("crashed.db");
    let mut killed_mid_run = 0;
    for _ in 0..kills {
        let mut child = replay(&feed, &crashed);
        let at = full_run.mul_f64(rng.gen_range(0.05..0.9));
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
    }
    assert!(replay(&feed, &crashed).wait().unwrap().success());
    assert!(killed_mid_run > 0, "no kill landed while the replay ran");

    let check: String = Connection::open(&crashed)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mentions =
        "SELECT source, source_id, created_at, label, reach, compound FROM mentions ORDER BY source, source_id";
    let (a, b) = (rows(&reference, mentions), rows(&crashed, mentions));
    assert!(a.len() > 40_000, "{}", a.len());
    assert_eq!(a.len(), b.len(), "every mention stored exactly once");
    assert!(a == b, "the same mentions");
    let links = "SELECT brand, created_at, label FROM mention_brands ORDER BY brand, created_at, mention_id";
    assert!(rows(&reference, links) == rows(&crashed, links));
    let incidents =
        "SELECT brand, source, state, severity, started_at, peak_at, observed, reach, resolved_at FROM incidents ORDER BY id";
    let incidents_ref = rows(&reference, incidents);
    assert!(!incidents_ref.is_empty(), "the wave raises an incident");
    assert_eq!(incidents_ref, rows(&crashed, incidents));
    // Compared as sets: which tick queued a notice first depends on when the
    // writer committed, so row ids may interleave differently.
    let outbox = "SELECT i.brand, i.started_at, o.event, o.channel, o.created_at, o.status FROM outbox o \
                  JOIN incidents i ON i.id = o.incident_id \
                  ORDER BY i.brand, i.started_at, o.created_at, o.event, o.channel";
    assert_eq!(
        rows(&reference, outbox),
        rows(&crashed, outbox),
        "each notification exactly once, all sent"
    );
    // Detection never runs ahead of what is stored.
    let ahead: i64 = Connection::open(&crashed)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM detector_progress WHERE next_bucket > (SELECT max(created_at) FROM mentions) + 3600000",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ahead, 0);
}
