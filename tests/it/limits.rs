//! What a stranger writes or a tired operator types cannot take the service
//! down: absurd times are rejected (and tolerated where already stored),
//! durations and numbers are checked with the flag or key they came from,
//! and one process writes a database at a time.

use std::path::Path;
use std::process::Output;

use crate::support::cli;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const GOOD: &str =
    r#"{"source":"x","id":"ok","created_at":"2026-11-20T14:00:00Z","text":"acme air lost my bag, awful"}"#;

fn feed(dir: &Path, lines: &[&str]) -> String {
    let path = dir.join("feed.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn mentions_dated_9999_year_1_or_1970_are_rejected_with_their_reason_and_the_rest_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let f = feed(
        dir.path(),
        &[
            r#"{"source":"x","id":"a","created_at":"9999-12-31T23:59:59Z","text":"acme air awful"}"#,
            r#"{"source":"x","id":"b","created_at":"0001-01-01T00:00:00Z","text":"acme air awful"}"#,
            r#"{"source":"x","id":"c","created_at":"1970-01-01T00:00:00Z","text":"acme air awful"}"#,
            GOOD,
        ],
    );
    let out = cli(&["replay", &f, "--db", db.to_str().unwrap()]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("rejected     3 (time_out_of_range 3)"), "{all}");
    assert!(all.contains("stored       1 new"), "{all}");
    assert!(all.contains("9999-12-31T23:59:59Z is after 2100-01-01"), "{all}");
}

#[test]
fn a_database_that_already_holds_absurd_times_still_backtests_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let db_s = db.to_str().unwrap();
    let out = cli(&["replay", "fixtures/demo/feed.jsonl", "--db", db_s]);
    assert!(out.status.success(), "{}", text(&out));
    // Rows an older version stored before times were checked.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        for (id, at) in [
            ("far-future", 253_402_300_799_000i64),
            ("year-one", -62_135_596_800_000),
        ] {
            conn.execute(
                "INSERT INTO mentions (source, source_id, created_at, text, text_chars, compound, pos, neu, neg, \
                 label, reach, reach_inputs, ingested_at) \
                 VALUES ('x', ?1, ?2, 'acme air awful', 14, -0.6, 0.0, 0.4, 0.6, 'negative', 50, '{}', 0)",
                rusqlite::params![id, at],
            )
            .unwrap();
            let mention_id = conn.last_insert_rowid();
            conn.execute(
                "INSERT INTO mention_brands (brand, created_at, mention_id, label, reach) VALUES ('Acme Air', ?1, ?2, 'negative', 50)",
                rusqlite::params![at, mention_id],
            )
            .unwrap();
        }
    }
    let out = cli(&["backtest", "--db", db_s]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\"brand\":\"Acme Air\""),
        "{}",
        text(&out)
    );

    let dir2 = tempfile::tempdir().unwrap();
    let f = feed(dir2.path(), &[GOOD]);
    let out = cli(&["replay", &f, "--db", db_s]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("stored mention x/far-future"), "{all}");
    assert!(all.contains("stored mention x/year-one"), "{all}");
}

#[test]
fn absurd_flags_are_refused_naming_the_flag_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    let db_s = db.to_str().unwrap();
    let csv = dir.path().join("c.csv");
    std::fs::write(&csv, "timestamp,value\n2026-11-20T10:00:00Z,3\n").unwrap();
    let csv_s = csv.to_str().unwrap();
    let f = feed(dir.path(), &[GOOD]);
    let cases: [(&[&str], &str); 7] = [
        (&["prune", "--older-than", "99999999d", "--db", db_s], "100 years"),
        (&["prune", "--older-than", "0s", "--db", db_s], "--older-than"),
        (
            &[
                "alerts",
                "silence",
                "--brand",
                "Acme Air",
                "--for",
                "99999999d",
                "--reason",
                "r",
                "--db",
                db_s,
            ],
            "100 years",
        ),
        (
            &[
                "alerts", "silence", "--brand", "Acme Air", "--for", "0s", "--reason", "r", "--db", db_s,
            ],
            "--for",
        ),
        (&["replay", &f, "--db", db_s, "--speed", "1e-300"], "not a speed"),
        (&["backtest", "--csv", csv_s, "--bucket", "0s"], "--bucket"),
        (&["backtest", "--csv", csv_s, "--bucket", "7m"], "--bucket"),
    ];
    for (args, says) in cases {
        let out = cli(args);
        let all = text(&out);
        assert!(!out.status.success(), "{args:?} was accepted: {all}");
        assert!(all.contains(says), "{args:?}: {all}");
        assert!(!all.contains("panicked"), "{args:?}: {all}");
    }
}

/// Every flag that takes a duration, a count or a speed, given numbers as
/// anyone might type them: accepted or refused with a message, never a
/// panic (exit code 101) or a hang.
#[test]
fn any_number_or_duration_in_a_flag_is_accepted_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let db_s = db.to_str().unwrap();
    let csv = dir.path().join("c.csv");
    std::fs::write(&csv, "timestamp,value\n2026-11-20T10:00:00Z,3\n").unwrap();
    let csv_s = csv.to_str().unwrap();
    let f = feed(dir.path(), &[GOOD]);
    let values = [
        "0",
        "-1",
        "1e-300",
        "1e308",
        "NaN",
        "inf",
        "9223372036854775807",
        "18446744073709551616",
        "1.5",
    ];
    let units = ["", "s", "m", "d", "y"];
    let mut tried = 0;
    for value in values {
        for unit in units {
            let v = format!("{value}{unit}");
            let runs: [Vec<&str>; 6] = [
                vec!["prune", "--older-than", &v, "--db", db_s],
                vec![
                    "alerts", "silence", "--brand", "Acme Air", "--for", &v, "--reason", "r", "--db", db_s,
                ],
                vec!["replay", &f, "--db", db_s, "--speed", &v],
                vec!["backtest", "--csv", csv_s, "--bucket", &v],
                vec!["mentions", "--db", db_s, "--since", &v],
                vec!["mentions", "--db", db_s, "--limit", &v],
            ];
            for args in runs {
                let out = cli(&args);
                let all = text(&out);
                assert!(
                    matches!(out.status.code(), Some(0..=2)) && !all.contains("panicked"),
                    "{args:?}: {:?} {all}",
                    out.status
                );
                tried += 1;
            }
        }
    }
    assert_eq!(tried, values.len() * units.len() * 6);
}

#[test]
fn zero_durations_and_counts_in_config_are_each_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("zero.toml");
    std::fs::write(
        &config,
        r#"
[[brands]]
name = "Acme Air"
keywords = ["acme air"]

[detect]
min_count = 0

[alerts]
repeat_every = "0s"
give_up_after = "0s"

[inbox]
response_target = "0s"

[[sources]]
name = "hn"
kind = "hackernews"
query = "acme"
timeout = "0s"
max_body_bytes = 0
"#,
    )
    .unwrap();
    let out = cli(&["check-config", config.to_str().unwrap()]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    for key in [
        "inbox.response_target",
        "detect.min_count",
        "alerts.repeat_every",
        "alerts.give_up_after",
        "sources[0].timeout",
        "sources[0].max_body_bytes",
    ] {
        assert!(all.contains(key), "{key} not reported: {all}");
    }
}

#[test]
fn a_second_writer_is_refused_naming_the_holder_and_readers_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let db_s = db.to_str().unwrap();
    let f = feed(dir.path(), &[GOOD]);
    assert!(cli(&["replay", &f, "--db", db_s]).status.success());

    let held = complaint_monitor::store::WriterLock::acquire(&db).unwrap();
    let out = cli(&["replay", f.as_str(), "--db", db_s]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("being written by another process"), "{all}");
    assert!(all.contains(&format!("pid {}", std::process::id())), "{all}");
    // Reading goes on beside the writer, and so does pruning (short
    // transactions through SQLite's own locking).
    let out = cli(&["mentions", "--db", db_s]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("lost my bag"), "{}", text(&out));
    let out = cli(&["prune", "--older-than", "1d", "--db", db_s]);
    assert!(out.status.success(), "{}", text(&out));
    drop(held);
    let out = cli(&["replay", &f, "--db", db_s]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn check_config_reports_every_problem_with_its_key_and_line_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[brands]]\nname = \"Acme Air\"\nkeywords = [\"acme air\"]\ncolour = \"red\"\n\n[detect]\nbucket = \"7x\"\np_valu = 1e-5\nmin_count = 0\n\n[alerts]\nrepeat_every = 5\n",
    )
    .unwrap();
    let out = cli(&["check-config", config.to_str().unwrap()]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("5 problems"), "{all}");
    for expected in [
        "line 4: brands[0].colour: unknown field `colour`",
        "line 7: detect.bucket:",
        "line 8: detect.p_valu: unknown field",
        "line 9: detect.min_count:",
        "line 12: alerts.repeat_every: invalid type",
    ] {
        assert!(all.contains(expected), "{expected} not reported: {all}");
    }
}

/// Each connector reads its own keys: another kind's key is a mistake named
/// with what this kind takes, a missing required key is named, and a bad
/// value of a common key is still found in the same run.
#[test]
fn each_source_kind_checks_its_own_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sources.toml");
    std::fs::write(
        &config,
        "[[brands]]\nname = \"Acme Air\"\nkeywords = [\"acme air\"]\n\n\
         [[sources]]\nname = \"masto\"\nkind = \"mastodon\"\nhashtag = \"acmeair\"\nquery = \"acme\"\ntimeout = \"0s\"\n\n\
         [[sources]]\nname = \"reddit\"\nkind = \"reddit\"\nquery = \"acme air\"\nclient_secret = \"s\"\n\n\
         [[sources]]\nname = \"yt\"\nkind = \"youtube\"\napi_key = \"k\"\n\n\
         [[sources]]\nname = \"where\"\nkind = \"myspace\"\n",
    )
    .unwrap();
    let out = cli(&["check-config", config.to_str().unwrap()]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    for expected in [
        "line 9: sources[0].query: unknown field `query`, expected one of `hashtag`, `token`, `reply`",
        "line 10: sources[0].timeout:",
        "sources[1]: missing field `client_id`",
        "sources[2].video_id: YouTube needs video_id or channel_id",
        "sources[3].kind: unknown variant `myspace`",
    ] {
        assert!(all.contains(expected), "{expected} not reported: {all}");
    }
    assert!(all.contains("5 problems"), "{all}");
}
