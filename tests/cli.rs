//! The binary as users run it.

use std::path::Path;
use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run complaint-monitor")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn replay_prints_a_summary_and_mentions_lists_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let db = db.to_str().unwrap();
    let out = cli(&["replay", "fixtures/demo/feed.jsonl", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    for part in [
        "lines/s",
        "rejected",
        "unmatched",
        "stored",
        "duplicates",
        "Acme Air",
        "Globex Bank",
    ] {
        assert!(summary.contains(part), "summary lacks {part}:\n{summary}");
    }
    assert!(
        stderr(&out).contains("fixtures/demo/feed.jsonl:"),
        "rejections name file and line"
    );

    let out = cli(&[
        "mentions", "--db", db, "--brand", "Acme Air", "--label", "negative", "--limit", "5", "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 5);
    let times: Vec<&str> = rows.iter().map(|r| r["created_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    assert!(rows.iter().all(|r| r["sentiment"]["label"] == "negative"));
    assert!(rows
        .iter()
        .all(|r| r["brands"].as_array().unwrap().iter().any(|b| b == "Acme Air")));

    let out = cli(&["mentions", "--db", db, "--label", "grumpy"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown label"), "{}", stderr(&out));
}

#[test]
fn score_prints_vader_scores() {
    let out = cli(&["score", "--json", "The book was good."]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["compound"], 0.4404);
    assert_eq!(v["pos"], 0.492);
    assert_eq!(v["neu"], 0.508);
    assert_eq!(v["neg"], 0.0);
    assert_eq!(v["label"], "positive");
    let out = cli(&["score", "Flight delayed again, awful"]);
    assert!(stdout(&out).contains("negative"), "{}", stdout(&out));
}

#[test]
fn check_config_reports_every_problem_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[brands]]\nname = \"A\"\nhandles = [\"acme\"]\n[[brands]]\nname = \"B\"\nkeywords = [\"${NOT_SET_ANYWHERE_42}\"]\n",
    )
    .unwrap();
    let out = cli(&["check-config", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("brands[0].handles[0]"), "{err}");
    assert!(
        err.contains("brands[1].keywords[0]: environment variable NOT_SET_ANYWHERE_42 is not set"),
        "{err}"
    );

    for shipped in ["config/example.toml", "config/demo.toml"] {
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(shipped).exists());
        let out = cli(&["check-config", shipped]);
        assert!(out.status.success(), "{shipped}: {}", stderr(&out));
    }
}
