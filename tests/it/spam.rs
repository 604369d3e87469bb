//! Campaigns, bursts, blocklists and learnt authors (`src/spam.rs`) on
//! replayed feeds into real SQLite files: what inflates the counts is stored
//! and shown, but does not page anyone.

use std::path::Path;

use chrono::{DateTime, Utc};
use complaint_monitor::config::Config;
use rusqlite::Connection;

use super::alerts::{config_with_outbox, feed_with_wave, opened_notification, replay_feed};

/// One complaint, copied by 300 fresh accounts: tagged and linked
/// differently, as a copy-paste campaign is.
fn copy(k: usize) -> (String, String) {
    let tag = ["@acmeair", "@AcmeAir", "@acmeairhelp"][k % 3];
    (
        format!("@fresh{k}"),
        format!("{tag} you cancelled my flight and kept the money, terrible scam, I want a full refund today https://t.co/{k:x}"),
    )
}

/// 300 different complaints from 300 accounts: a real wave.
fn complaint(k: usize) -> (String, String) {
    const WHAT: [&str; 10] = [
        "my flight",
        "our connection",
        "the early departure",
        "my daughter's flight",
        "the return leg",
        "the flight to Denver",
        "tonight's red-eye",
        "my rebooked flight",
        "the shuttle hop",
        "our family trip",
    ];
    const HOW: [&str; 10] = [
        "was cancelled with no warning",
        "got delayed five hours",
        "lost both our suitcases",
        "left without us",
        "was overbooked and they bumped me",
        "charged a bag fee twice",
        "stranded us overnight",
        "sat on the tarmac for ages",
        "had a broken toilet all the way",
        "changed gates four times",
    ];
    const FEEL: [&str; 3] = ["terrible service", "worst airline ever", "absolutely horrible"];
    (
        format!("@person{k}"),
        format!(
            "acme air {} {}, {} (booking {:05})",
            WHAT[k % 10],
            HOW[k / 10 % 10],
            FEEL[k / 100 % 3],
            7919 * k % 100_000
        ),
    )
}

fn count(db: &Path, sql: &str) -> f64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn three_hundred_copies_from_new_accounts_raise_no_incident_but_three_hundred_complaints_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_outbox();

    let copies = dir.path().join("copies.db");
    replay_feed(&config, &copies, feed_with_wave(dir.path(), 300, copy));
    assert_eq!(count(&copies, "SELECT count(*) * 1.0 FROM incidents"), 0.0);
    // Every copy is stored, in one campaign, and only those before it was
    // recognised (from campaign_accounts = 5 accounts) count.
    assert_eq!(
        count(&copies, "SELECT count(*) * 1.0 FROM mentions WHERE source_id LIKE 'w%'"),
        300.0
    );
    assert_eq!(
        count(
            &copies,
            "SELECT count(*) * 1.0 FROM spam_groups WHERE kind = 'campaign'"
        ),
        1.0
    );
    assert_eq!(
        count(
            &copies,
            "SELECT count(*) * 1.0 FROM mention_brands b JOIN spam_groups g ON g.id = b.group_id"
        ),
        300.0
    );
    assert_eq!(
        count(
            &copies,
            "SELECT total(b.weight) FROM mention_brands b JOIN mentions m ON m.id = b.mention_id \
             WHERE m.source_id LIKE 'w%'"
        ),
        4.0
    );

    // The inbox shows the campaign as one row with its size.
    let conn = complaint_monitor::store::open_read_only(&copies).unwrap();
    let since = "2026-11-20T15:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let query = complaint_monitor::inbox::Query {
        since: Some(since),
        ..Default::default()
    };
    let page = complaint_monitor::inbox::page(&conn, &query, since).unwrap();
    assert_eq!(page.total, 1, "{:#?}", page.rows);
    let group = page.rows[0].group.clone().unwrap();
    assert_eq!((group.mentions, group.accounts), (300, 300));
    assert_eq!(group.kind, complaint_monitor::spam::Kind::Campaign);
    let members = complaint_monitor::inbox::Query {
        group: Some(group.id),
        limit: 500,
        ..query
    };
    assert_eq!(
        complaint_monitor::inbox::page(&conn, &members, since).unwrap().total,
        300
    );

    let wave = dir.path().join("wave.db");
    replay_feed(&config, &wave, feed_with_wave(dir.path(), 300, complaint));
    let n = opened_notification(&wave);
    assert_eq!(n["brand"], "Acme Air", "{n}");
    assert!(n.get("campaign").is_none(), "{n}");
    assert_eq!(count(&wave, "SELECT count(*) * 1.0 FROM spam_groups"), 0.0);
}

#[test]
fn counted_in_full_a_campaign_opens_an_incident_that_says_it_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_outbox();
    config.spam.campaign_weight = 1.0;
    let db = dir.path().join("counted.db");
    replay_feed(&config, &db, feed_with_wave(dir.path(), 300, copy));
    let n = opened_notification(&db);
    let campaign = &n["campaign"];
    assert!(campaign["share"].as_f64().unwrap() >= 0.9, "{n}");
    assert_eq!(campaign["accounts"], campaign["mentions"], "{n}");
    assert!(campaign["text"].as_str().unwrap().contains("kept the money"), "{n}");
    let summary = serde_json::from_value::<complaint_monitor::alert::explain::Explanation>(n.clone())
        .unwrap()
        .summary();
    assert!(summary.contains("mostly one copy-paste campaign"), "{summary}");
}

fn line(id: &str, at: &str, author: &str, text: &str) -> String {
    serde_json::json!({
        "source": "mastodon", "id": id, "created_at": at,
        "author": {"handle": author}, "lang": "en", "text": text,
        "url": format!("https://example.social/@{author}/{id}"),
    })
    .to_string()
}

fn blocked(db: &Path) -> Vec<(String, String)> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT m.source_id, b.blocked FROM mention_brands b JOIN mentions m ON m.id = b.mention_id \
             WHERE b.blocked IS NOT NULL AND b.weight = 0 ORDER BY m.source_id",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn blocklists_and_authors_marked_not_about_us_are_stored_but_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap()
        + "\n[spam]\nblock_authors = [\"mastodon:@promo\"]\nblock_domains = [\"spam.example\"]\n\
           block_phrases = [\"crypto giveaway\"]\n";
    let config = Config::parse(&toml, "demo.toml", &|_| None).unwrap();
    let feed = dir.path().join("one.jsonl");
    let lines = [
        line("1", "2026-11-20T10:00:00Z", "promo", "acme air deals every day"),
        line(
            "2",
            "2026-11-20T10:01:00Z",
            "ann",
            "acme air win now at https://win.spam.example/x",
        ),
        line(
            "3",
            "2026-11-20T10:02:00Z",
            "bob",
            "Huge CRYPTO Giveaway for acme air fans",
        ),
        line(
            "4",
            "2026-11-20T10:03:00Z",
            "fryer",
            "my acme air purifier from the mall is awful",
        ),
        line(
            "5",
            "2026-11-20T10:04:00Z",
            "fryer",
            "that acme air purifier broke again, terrible",
        ),
        line("6", "2026-11-20T10:05:00Z", "cat", "acme air lost my bag, terrible"),
    ];
    std::fs::write(&feed, lines.join("\n") + "\n").unwrap();
    let db = dir.path().join("b.db");
    replay_feed(&config, &db, feed);
    assert_eq!(
        blocked(&db),
        [
            ("1".to_string(), "author promo".to_string()),
            ("2".to_string(), "domain spam.example".to_string()),
            ("3".to_string(), "phrase \"crypto giveaway\"".to_string()),
        ]
    );

    // Staff say the purifier owner's two posts are not about Acme Air: the
    // author's next post is blocked for it, learnt.
    let (writer, handle) =
        complaint_monitor::store::writer::Writer::start_with(&db, &config.store, config.grouper()).unwrap();
    let at = "2026-11-20T11:00:00Z".parse::<DateTime<Utc>>().unwrap();
    handle
        .transact_blocking(move |tx| {
            for source_id in ["4", "5"] {
                let id: i64 = tx.query_row("SELECT id FROM mentions WHERE source_id = ?1", [source_id], |r| {
                    r.get(0)
                })?;
                complaint_monitor::corrections::not_about_us(tx, id, "carol", at)?;
            }
            Ok(())
        })
        .unwrap();
    drop(handle);
    writer.finish().unwrap();
    let later = dir.path().join("two.jsonl");
    let lines = [
        line("7", "2026-11-20T12:00:00Z", "fryer", "acme air purifier filter thread"),
        line("8", "2026-11-20T12:01:00Z", "dan", "acme air crew was lovely"),
    ];
    std::fs::write(&later, lines.join("\n") + "\n").unwrap();
    replay_feed(&config, &db, later);
    let found = blocked(&db);
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(
        found[3],
        ("7".to_string(), "author fryer: marked not about us 2 times".to_string())
    );
    // Blocked mentions leave the inbox; the inbox says why when asked for all.
    let conn = complaint_monitor::store::open_read_only(&db).unwrap();
    let query = complaint_monitor::inbox::Query {
        label: None,
        states: Vec::new(),
        ..Default::default()
    };
    let page = complaint_monitor::inbox::page(&conn, &query, at).unwrap();
    let shown: Vec<&str> = page.rows.iter().map(|r| r.source_id.as_str()).collect();
    assert!(!shown.iter().any(|id| ["1", "2", "3", "7"].contains(id)), "{shown:?}");
    assert!(shown.contains(&"6") && shown.contains(&"8"), "{shown:?}");
}

#[test]
fn a_campaign_spanning_a_restart_stays_one_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_outbox();
    let db = dir.path().join("r.db");
    let write = |name: &str, range: std::ops::Range<usize>| {
        let lines: Vec<String> = range
            .map(|k| {
                let (author, text) = copy(k);
                line(&format!("c{k}"), &format!("2026-11-20T10:{:02}:00Z", k), &author, &text)
            })
            .collect();
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    // Four accounts: not yet a campaign. Then a new writer, six more.
    replay_feed(&config, &db, write("a.jsonl", 0..4));
    assert_eq!(count(&db, "SELECT count(*) * 1.0 FROM spam_groups"), 0.0);
    replay_feed(&config, &db, write("b.jsonl", 4..10));
    assert_eq!(count(&db, "SELECT count(*) * 1.0 FROM spam_groups"), 1.0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) * 1.0 FROM mention_brands WHERE group_id IS NOT NULL"
        ),
        10.0
    );
    assert_eq!(count(&db, "SELECT count(*) * 1.0 FROM mentions WHERE folded = 1"), 9.0);
    // Counted: the four before, the fifth that made it a campaign not.
    assert_eq!(count(&db, "SELECT total(weight) FROM mention_brands"), 4.0);
}
