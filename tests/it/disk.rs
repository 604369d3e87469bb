//! Database faults: a database locked by another process, and a full disk
//! (the configured size limit, which SQLite enforces exactly as a full
//! disk: `SQLITE_FULL`). The writer waits, retries and reports; nothing is
//! dropped, and writing resumes once the lock is released or space freed.

use std::path::Path;
use std::time::Duration;

use complaint_monitor::config::Config;
use complaint_monitor::enrich::Enriched;
use complaint_monitor::mention::Mention;
use complaint_monitor::store::StoreConfig;
use complaint_monitor::store::{self, writer::NewMention, writer::Writer};

fn mentions(config: &Config, first: usize, count: usize, text_bytes: usize) -> Vec<NewMention> {
    let enricher = config.enricher().unwrap();
    let padding = "x".repeat(text_bytes);
    (first..first + count)
        .map(|i| {
            let line = serde_json::json!({
                "source": "mastodon", "id": format!("disk-{i}"), "created_at": "2026-11-22T10:00:00Z",
                "text": format!("Acme Air lost my bag again {i} {padding}")
            });
            let Enriched::Scored(scored) =
                enricher.enrich(Mention::from_feed_line(line.to_string().as_bytes()).unwrap())
            else {
                panic!("not matched")
            };
            NewMention {
                scored: *scored,
                ingested_at: "2026-11-22T10:00:00Z".parse().unwrap(),
            }
        })
        .collect()
}

fn count(db: &Path) -> i64 {
    store::open_read_only(db)
        .unwrap()
        .query_row("SELECT count(*) FROM mentions", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_locked_database_makes_the_writer_wait_and_retry_without_dropping_anything() {
    let config = Config::load_or_demo(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("locked.db");
    let (writer, handle) = Writer::start(&db, 4).unwrap();

    // Another process takes the write lock and keeps it longer than
    // SQLite's own busy wait (5 s).
    let mut other = rusqlite::Connection::open(&db).unwrap();
    let lock = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .unwrap();
    let batch = mentions(&config, 0, 50, 10);
    let job_handle = handle.clone();
    let writing = std::thread::spawn(move || handle.write_blocking(batch).unwrap());
    let job = std::thread::spawn(move || {
        job_handle
            .transact_blocking(|tx| {
                tx.execute("INSERT INTO source_cursors (source, cursor) VALUES ('s', '{}')", [])?;
                Ok(7)
            })
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(6500));
    assert_eq!(count(&db), 0);
    lock.commit().unwrap();
    drop(other);

    let outcome = writing.join().unwrap();
    assert_eq!(outcome.stored, 50);
    assert_eq!(job.join().unwrap(), 7, "a job waits and retries too");
    let stats = writer.finish().unwrap();
    assert!(stats.retries >= 1, "{stats:?}");
    assert_eq!(count(&db), 50);
}

#[test]
fn a_full_database_is_retried_until_space_is_freed() {
    let config = Config::load_or_demo(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("full.db");
    // Fill about 3 MB with old mentions.
    {
        let (writer, handle) = Writer::start(&db, 4).unwrap();
        handle.write_blocking(mentions(&config, 0, 3000, 800)).unwrap();
        drop(handle);
        writer.finish().unwrap();
        let conn = store::open(&db).unwrap();
        conn.execute("UPDATE mentions SET created_at = 0", []).unwrap();
        conn.execute("UPDATE mention_brands SET created_at = 0", []).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let size_mb = std::fs::metadata(&db).unwrap().len().div_ceil(1024 * 1024);
    let store_config = StoreConfig {
        max_size_mb: Some(size_mb),
        ..StoreConfig::default()
    };
    let (writer, handle) = Writer::start_with(
        &db,
        &store_config,
        complaint_monitor::spam::Grouper::new(&Default::default(), &[]),
    )
    .unwrap();
    // More new mentions than fit in what is left.
    let batch = mentions(&config, 10_000, 2000, 800);
    let writing = std::thread::spawn(move || handle.write_blocking(batch).unwrap());
    std::thread::sleep(Duration::from_secs(2));
    assert!(!writing.is_finished(), "the write should be waiting for space");
    assert_eq!(count(&db), 3000, "nothing half-written");

    // The operator prunes old mentions: the freed pages are reused.
    let mut conn = store::open(&db).unwrap();
    let pruned = store::prune(&mut conn, "2000-01-01T00:00:00Z".parse().unwrap(), 5000).unwrap();
    assert_eq!(pruned, 3000);
    drop(conn);

    let outcome = writing.join().unwrap();
    assert_eq!(outcome.stored, 2000, "every mention written once space was freed");
    let stats = writer.finish().unwrap();
    assert!(stats.retries >= 1, "{stats:?}");
    assert_eq!(count(&db), 2000);
}

#[test]
fn a_job_queued_without_waiting_runs_behind_the_batches_ahead_and_its_failure_is_reported_when_confirmed() {
    let config = Config::load_or_demo(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queued.db");
    let (writer, handle) = Writer::start(&db, 4).unwrap();
    handle.send_blocking(mentions(&config, 0, 40, 10)).unwrap();
    let seen = handle
        .submit_blocking(|tx| Ok(tx.query_row("SELECT count(*) FROM mentions", [], |r| r.get::<_, i64>(0))?))
        .unwrap();
    let failing = handle
        .submit_blocking(|tx| {
            tx.execute("INSERT INTO source_cursors (source, cursor) VALUES ('s', '{}')", [])?;
            tx.execute("INSERT INTO no_such_table VALUES (1)", [])?;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        seen.confirm().unwrap(),
        40,
        "the job ran after the batch queued before it"
    );
    let error = failing.confirm().unwrap_err().to_string();
    assert!(error.contains("no_such_table"), "{error}");
    drop(handle);
    writer.finish().unwrap();
    let cursors: i64 = store::open_read_only(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM source_cursors", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cursors, 0, "the failed job was rolled back whole");
}
