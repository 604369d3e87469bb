//! The binary as users run it.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::cli;

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

    // The example's secrets come from the environment.
    let secrets = [
        ("WEBHOOK_SECRET", "s3cret-hmac-key"),
        ("SLACK_WEBHOOK_URL", "https://hooks.slack.test/services/T0/B0/XYZ"),
        ("SMTP_USERNAME", "monitor"),
        ("SMTP_PASSWORD", "hunter2-smtp"),
        ("X_BEARER_TOKEN", "x-bearer-secret"),
        ("YOUTUBE_API_KEY", "yt-key-secret"),
        ("REDDIT_CLIENT_ID", "reddit-id-secret"),
        ("REDDIT_CLIENT_SECRET", "reddit-secret-secret"),
        ("YELP_API_KEY", "yelp-secret"),
        ("TRUSTPILOT_API_KEY", "tp-secret"),
        ("GOOGLE_PLACES_API_KEY", "gp-secret"),
        ("GBP_CLIENT_ID", "gbp-client-secret-id"),
        ("GBP_CLIENT_SECRET", "gbp-client-secret"),
        ("GBP_REFRESH_TOKEN", "1//gbp-refresh-secret"),
        ("FACEBOOK_PAGE_TOKEN", "EAAB-page-token-secret"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let key = |file: &str| {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys").join(file)).unwrap()
    };
    let service_account = serde_json::json!({
        "type": "service_account",
        "client_email": "reviews@acme-air.iam.gserviceaccount.com",
        "private_key": key("test-rsa-private.pem"),
    });
    let mut secrets = secrets;
    secrets.push(("GOOGLE_PLAY_SERVICE_ACCOUNT".into(), service_account.to_string()));
    secrets.push(("APP_STORE_CONNECT_KEY".into(), key("test-ec-private.p8")));
    for shipped in ["config/example.toml", "config/demo.toml"] {
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(shipped).exists());
        let out = Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
            .args(["check-config", shipped])
            .envs(secrets.iter().map(|(k, v)| (k, v)))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{shipped}: {}", stderr(&out));
        for (_, secret) in &secrets {
            assert!(!stdout(&out).contains(secret.as_str()) && !stderr(&out).contains(secret.as_str()));
        }
    }
    let out = cli(&["check-config", "config/example.toml"]);
    assert!(!out.status.success(), "unset secrets are reported");
    assert!(stderr(&out).contains("alerts.channels[1].secret: environment variable WEBHOOK_SECRET is not set"));
}

#[test]
fn alerts_can_be_listed_acknowledged_resolved_and_silenced_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("alerts.db");
    let db = db.to_str().unwrap();
    let out = cli(&["replay", "fixtures/demo/feed.jsonl", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The stdout channel printed the notifications as JSON lines, then the summary.
    let printed = stdout(&out);
    let events: Vec<serde_json::Value> = printed
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        events.first().map(|e| e["event"].clone()),
        Some("opened".into()),
        "{printed}"
    );
    assert!(events
        .iter()
        .all(|e| e["top_mentions"].as_array().is_some_and(|m| !m.is_empty())));
    assert!(printed.contains("1 opened, 1 resolved"), "{printed}");

    let out = cli(&["alerts", "list", "--db", db, "--json"]);
    let listed: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "resolved");
    let id = listed[0]["id"].to_string();

    // Acknowledging needs a firing incident; a resolved one is refused clearly.
    let out = cli(&["alerts", "ack", &id, "--by", "sam", "--db", db]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is resolved, not firing"), "{}", stderr(&out));
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE incidents SET state = 'firing'", []).unwrap();
    let out = cli(&["alerts", "ack", &id, "--by", "sam", "--note", "on it", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(&["alerts", "show", &id, "--db", db]);
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["incident"]["acknowledged_by"], "sam");
    assert_eq!(shown["incident"]["ack_note"], "on it");
    assert_eq!(shown["top_mentions"].as_array().unwrap().len(), 5);
    let out = cli(&["alerts", "resolve", &id, "--by", "sam", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let state: String = conn.query_row("SELECT state FROM incidents", [], |r| r.get(0)).unwrap();
    assert_eq!(state, "resolved");

    let out = cli(&[
        "alerts",
        "silence",
        "--brand",
        "Acme Air",
        "--for",
        "2h",
        "--reason",
        "planned outage",
        "--db",
        db,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let silences: i64 = conn
        .query_row("SELECT count(*) FROM silences", [], |r| r.get(0))
        .unwrap();
    assert_eq!(silences, 1);
    let out = cli(&[
        "alerts", "silence", "--brand", "Acme Air", "--for", "2 hours", "--reason", "x", "--db", db,
    ]);
    assert!(!out.status.success());

    let out = cli(&["backtest", "--db", db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(reports.len(), 1);
    for key in ["brand", "started_at", "peak_at", "observed", "expected", "severity"] {
        assert!(reports[0].get(key).is_some(), "backtest line lacks {key}");
    }
}

#[test]
fn backtest_reads_a_csv_and_names_its_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("series.csv");
    let mut text = String::from("timestamp,value\n");
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap();
    for i in 0..(3 * 288) {
        let t = start + chrono::Duration::minutes(5 * i);
        let value = if (2 * 288 + 100..2 * 288 + 106).contains(&i) {
            40
        } else {
            3 + (i % 3)
        };
        text.push_str(&format!("{},{value}\n", t.format("%Y-%m-%d %H:%M:%S")));
    }
    text.push_str("garbage,row\n");
    std::fs::write(&csv, text).unwrap();
    let out = cli(&["backtest", "--csv", csv.to_str().unwrap(), "--brand", "Acme Air"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let reports: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(reports.len(), 1, "{}", stdout(&out));
    assert_eq!(reports[0]["started_at"], "2026-11-03T08:20:00Z");
    assert!(stderr(&out).contains(":866: rejected:"), "{}", stderr(&out));
}

#[test]
fn backup_copies_a_consistent_database_and_prune_deletes_old_mentions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let copy = dir.path().join("copy.db");
    let (db_s, copy_s) = (db.to_str().unwrap(), copy.to_str().unwrap());
    assert!(cli(&["replay", "fixtures/demo/feed.jsonl", "--db", db_s])
        .status
        .success());
    let out = cli(&["backup", copy_s, "--db", db_s]);
    assert!(out.status.success(), "{}", stderr(&out));
    let count = |p: &str| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row("SELECT count(*) FROM mentions", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(copy_s), count(db_s));
    let check: String = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert!(
        !cli(&["backup", copy_s, "--db", db_s]).status.success(),
        "never overwrites"
    );

    // The demo day is 2026-11-20: a week's margin keeps it, none does not.
    let days_old = (chrono::Utc::now()
        - chrono::DateTime::parse_from_rfc3339("2026-11-21T00:00:00Z")
            .unwrap()
            .to_utc())
    .num_days();
    let keep = format!("{}d", days_old + 7);
    let out = cli(&["prune", "--older-than", &keep, "--db", db_s]);
    assert!(stdout(&out).contains("deleted 0 mentions"), "{}", stdout(&out));
    let out = cli(&["prune", "--older-than", "1s", "--db", db_s]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count(db_s), 0);
    let links: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM mention_brands", [], |r| r.get(0))
        .unwrap();
    assert_eq!(links, 0, "brand links go with their mentions");
}

#[test]
fn secrets_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("secret.toml");
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap();
    // A receiver that refuses connections, so delivery fails and is logged.
    std::fs::write(
        &config,
        format!(
            "{demo}\n[[alerts.channels]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"${{HOOK_URL}}\"\nsecret = \"${{HOOK_SECRET}}\"\n\
             [[alerts.channels]]\nname = \"chat\"\nkind = \"slack\"\nurl = \"${{SLACK_URL}}\"\n"
        )
        .replace("repeat_every = \"2h\"", "repeat_every = \"2h\"\ngive_up_after = \"1s\""),
    )
    .unwrap();
    let db = dir.path().join("s.db");
    let out = Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args([
            "replay",
            "fixtures/demo/feed.jsonl",
            "--db",
            db.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .env("HOOK_URL", "http://127.0.0.1:9/hook?token=TOPSECRET-URL-TOKEN")
        .env("HOOK_SECRET", "TOPSECRET-HMAC-KEY")
        .env("SLACK_URL", "http://127.0.0.1:9/services/TOPSECRET-SLACK-PATH")
        .env("RUST_LOG", "debug")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = format!("{}{}", stdout(&out), stderr(&out));
    assert!(logs.contains("delivery failed") || logs.contains("gave up"), "{logs}");
    assert!(!logs.contains("TOPSECRET"), "a secret reached the output:\n{logs}");
}

/// `export | head`: the reader goes away after one line; the export stops
/// cleanly with exit 0 (a broken pipe is not a corrupt database).
#[test]
fn export_into_a_pipe_closed_early_exits_cleanly() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pipe.db");
    let db_s = db.to_str().unwrap();
    assert!(cli(&["replay", "fixtures/demo/feed.jsonl", "--db", db_s])
        .status
        .success());
    for args in [
        vec!["export", "--db", db_s],
        vec!["mentions", "--db", db_s, "--limit", "100000"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The reader is dropped here: the pipe closes with most of the output unread.
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {:?} {}", out.status, stderr(&out));
        assert!(
            !stderr(&out).contains("corrupt") && !stderr(&out).contains("should not"),
            "{}",
            stderr(&out)
        );
    }
}

/// The binary carries its demo: copied alone into an empty directory, away
/// from the source tree, `run --demo` replays it (moved to end now) and
/// then serves; SIGTERM stops it cleanly with the mentions stored.
#[test]
fn a_copied_binary_runs_the_demo_from_an_empty_directory() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("complaint-monitor");
    std::fs::copy(env!("CARGO_BIN_EXE_complaint-monitor"), &binary).unwrap();
    let mut child = Command::new(&binary)
        .args(["run", "--demo", "--no-web"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut replayed = None;
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("demo: replayed") {
            replayed = Some(line);
            break;
        }
    }
    let replayed = replayed.expect("the demo replay's line");
    // The demo stops while its incident rises: 3,273 of the feed's lines.
    assert!(replayed.contains("3273 lines"), "{replayed}");
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // Drain the rest of the log so the child never blocks on a full pipe.
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}: {}", rest.join("\n"));
    let listed = Command::new(&binary)
        .args(["mentions", "--json", "--limit", "5"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert_eq!(stdout(&listed).lines().count(), 5);
    // ...so a newcomer finds it firing, unacknowledged, to try Acknowledge on.
    let alerts = Command::new(&binary)
        .args(["alerts", "list", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(alerts.status.success(), "{}", stderr(&alerts));
    let incidents: Vec<serde_json::Value> = stdout(&alerts)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["state"], "firing");
    assert_eq!(incidents[0]["acknowledged_by"], serde_json::Value::Null);
}

/// Logs for a collector: `--log-format json` writes one JSON object per
/// line; text logs into a pipe or file carry no colour codes.
#[test]
fn logs_are_json_when_asked_and_never_coloured_into_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("bad.jsonl");
    std::fs::write(&feed, "not json\n{\"source\":\"x\"}\n").unwrap();
    let db = dir.path().join("log.db");
    let json = cli(&[
        "replay",
        feed.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--log-format",
        "json",
    ]);
    assert!(json.status.success(), "{}", stderr(&json));
    let lines: Vec<serde_json::Value> = stderr(&json)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", stderr(&json));
    assert!(
        lines
            .iter()
            .all(|l| l["level"] == "WARN" && l["fields"]["message"].as_str().is_some_and(|m| m.contains("rejected"))),
        "{lines:?}"
    );
    let text = cli(&["replay", feed.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(stderr(&text).contains("rejected"), "{}", stderr(&text));
    assert!(
        !stderr(&text).contains('\u{1b}'),
        "colour codes in a log file: {:?}",
        stderr(&text)
    );
}

/// A brand's Boolean query: `check-config` names its brand and the column
/// of a mistake; `match` says which clause decides; a replay through a
/// query-only brand stores what it matches and nothing else.
#[test]
fn boolean_queries_are_checked_explained_and_matched() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-query.toml");
    std::fs::write(
        &bad,
        "[[brands]]\nname = \"Shell\"\nquery = '(shell OR \"shell station\" AND NOT (beach OR egg'\n",
    )
    .unwrap();
    let out = cli(&["check-config", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(
            "brands[0].query: brand \"Shell\": column 48: expected ')' to close the '(' of column 35, found the end of the query"
        ),
        "{err}"
    );

    let good = dir.path().join("query.toml");
    std::fs::write(
        &good,
        "[[brands]]\nname = \"Shell\"\nquery = '(shell OR #shellfuel OR \"shell station\") AND NOT (beach OR egg* OR \"shell script\") AND NOT lang:nl'\n",
    )
    .unwrap();
    let config = good.to_str().unwrap();
    let out = cli(&[
        "match",
        "--config",
        config,
        "Queued 20 minutes at the Shell station, awful",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "Shell: matches (query \"(shell OR #shellfuel OR \\\"shell station\\\") AND NOT (beach OR egg* OR \\\"shell script\\\") AND NOT lang:nl\": \
         (shell OR #shellfuel OR \"shell station\") AND NOT (beach OR egg* OR \"shell script\") AND NOT lang:nl holds)"
    );
    let out = cli(&["match", "--config", config, "found a shell on the beach"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("NOT (beach OR egg* OR \"shell script\") does not hold"),
        "{}",
        stdout(&out)
    );
    let out = cli(&["match", "--config", config, "--lang", "nl", "shell tankstation"]);
    assert!(stdout(&out).contains("NOT lang:nl does not hold"), "{}", stdout(&out));

    let feed = dir.path().join("shell.jsonl");
    let lines = [
        ("1", "Shell station on the A1 has no diesel again", None),
        ("2", "Collected a shell on the beach today", None),
        ("3", "My bash SHELL SCRIPT broke after the update", None),
        ("4", "Eggshell paint from the shell station shop", None),
        ("5", "Geen diesel bij Shell vandaag", Some("nl")),
        ("6", "#ShellFuel prices are up 10%", None),
    ];
    let text: Vec<String> = lines
        .iter()
        .map(|(id, text, lang)| {
            serde_json::json!({"source": "x", "id": id, "created_at": format!("2026-11-20T10:0{id}:00Z"),
                               "text": text, "lang": lang})
            .to_string()
        })
        .collect();
    std::fs::write(&feed, text.join("\n")).unwrap();
    let db = dir.path().join("shell.db");
    let out = cli(&[
        "replay",
        feed.to_str().unwrap(),
        "--config",
        config,
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let conn = complaint_monitor::store::open_read_only(&db).unwrap();
    let mut stored: Vec<String> = conn
        .prepare("SELECT source_id FROM mentions ORDER BY source_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    stored.sort();
    // 2 is about a beach, 3 a shell script, 4 an egg* word, 5 in Dutch.
    assert_eq!(stored, vec!["1", "6"]);
}
