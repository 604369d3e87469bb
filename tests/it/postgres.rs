//! PostgreSQL as the shared store: its schema against SQLite's, its
//! migrations raced by several processes, and `migrate` copying a SQLite
//! database into it, on a real server started by the test
//! (`support::postgres`).

use std::collections::BTreeSet;
use std::path::Path;

use complaint_monitor::store::{self, postgres};
use tokio_postgres::Client;

use crate::support::cli;
use crate::support::postgres as pg;
use crate::support::web::{add_user, fixture_db};

async fn client(url: &str) -> Client {
    postgres::connect(url).await.expect("connect")
}

/// A column as both schemas must agree on it: name, type, not null.
type Column = (String, &'static str, bool);

fn sqlite_columns(conn: &rusqlite::Connection, table: &str) -> Vec<Column> {
    let create: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .unwrap();
    // SQLite keeps no collation in table_info; the column's definition says it.
    let nocase = |column: &str| {
        create
            .split(',')
            .any(|part| part.split_whitespace().next() == Some(column) && part.contains("COLLATE NOCASE"))
    };
    let mut stmt = conn
        .prepare(&format!(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')"
        ))
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .unwrap();
    rows.map(Result::unwrap)
        .map(|(name, ty, not_null, pk)| {
            let ty = match ty.as_str() {
                "INTEGER" => "int8",
                "REAL" => "float8",
                "TEXT" if nocase(&name) => "citext",
                "TEXT" => "text",
                other => panic!("{table}.{name}: a SQLite type the PostgreSQL schema has no match for: {other}"),
            };
            (name, ty, not_null || pk > 0)
        })
        .collect()
}

/// Primary and unique keys, as ordered column lists.
fn sqlite_keys(conn: &rusqlite::Connection, table: &str) -> BTreeSet<Vec<String>> {
    let mut keys = BTreeSet::new();
    let mut pk: Vec<(i64, String)> = conn
        .prepare(&format!(
            "SELECT pk, name FROM pragma_table_info('{table}') WHERE pk > 0"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    pk.sort();
    keys.insert(pk.into_iter().map(|(_, name)| name).collect());
    let indexes: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM pragma_index_list('{table}') WHERE \"unique\" = 1 AND partial = 0"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for index in indexes {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_index_info('{index}') ORDER BY seqno"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        keys.insert(columns);
    }
    keys
}

/// Foreign keys: (column, parent table, parent column, on delete).
fn sqlite_foreign_keys(conn: &rusqlite::Connection, table: &str) -> BTreeSet<(String, String, String, String)> {
    conn.prepare(&format!(
        "SELECT \"from\", \"table\", coalesce(\"to\", 'id'), on_delete FROM pragma_foreign_key_list('{table}')"
    ))
    .unwrap()
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

async fn pg_columns(client: &Client, table: &str) -> Vec<Column> {
    client
        .query(
            "SELECT column_name::text, udt_name::text, is_nullable = 'NO' FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let ty: String = r.get(1);
            let ty: &'static str = match ty.as_str() {
                "int8" => "int8",
                "float8" => "float8",
                "text" => "text",
                "citext" => "citext",
                other => panic!("{table}: PostgreSQL column type {other} has no SQLite counterpart"),
            };
            (r.get(0), ty, r.get(2))
        })
        .collect()
}

async fn pg_keys(client: &Client, table: &str) -> BTreeSet<Vec<String>> {
    client
        .query(
            "SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace \
             AND i.indisunique AND i.indpred IS NULL GROUP BY i.indexrelid",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn pg_foreign_keys(client: &Client, table: &str) -> BTreeSet<(String, String, String, String)> {
    client
        .query(
            "SELECT kcu.column_name::text, ccu.table_name::text, ccu.column_name::text, rc.delete_rule::text \
             FROM information_schema.referential_constraints rc \
             JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name \
             JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = rc.unique_constraint_name \
             WHERE kcu.table_name = $1",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

/// The two migrations, kept side by side, arrive at the same tables: the
/// same columns with the same types and nullability, the same primary and
/// unique keys (the exactly-once keys among them), the same foreign keys.
#[tokio::test]
async fn the_two_schemas_describe_the_same_tables() {
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = store::open(&dir.path().join("cm.db")).unwrap();
    let mut client = client(&server.url).await;
    postgres::migrate(&mut client).await.unwrap();

    let sqlite_tables: BTreeSet<String> = sqlite
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'mentions_fts%'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let copied: BTreeSet<String> = postgres::copy::TABLES.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(sqlite_tables, copied, "migrate copies every SQLite table");
    let pg_tables: BTreeSet<String> = client
        .query("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .filter(|t: &String| !postgres::POSTGRES_ONLY_TABLES.contains(&t.as_str()))
        .collect();
    assert_eq!(pg_tables, copied, "PostgreSQL has the same tables");

    for table in &sqlite_tables {
        assert_eq!(
            pg_columns(&client, table).await,
            sqlite_columns(&sqlite, table),
            "{table}: columns"
        );
        assert_eq!(
            pg_keys(&client, table).await,
            sqlite_keys(&sqlite, table),
            "{table}: keys"
        );
        assert_eq!(
            pg_foreign_keys(&client, table).await,
            sqlite_foreign_keys(&sqlite, table),
            "{table}: foreign keys"
        );
    }
}

/// Processes starting at once on an empty database each migrate; the
/// schema is applied once and every one of them goes on.
#[tokio::test]
async fn migrations_raced_by_several_processes_apply_once() {
    let Some(server) = pg::start().await else { return };
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let url = server.url.clone();
            tokio::spawn(async move {
                let mut client = postgres::connect(&url).await.unwrap();
                postgres::migrate(&mut client).await
            })
        })
        .collect();
    for racer in racers {
        assert_eq!(racer.await.unwrap().unwrap(), 3);
    }
    let client = client(&server.url).await;
    let applied: i64 = client
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 3);
}

/// Runs the binary, which must succeed, and returns what it printed.
fn cli_ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn migrate(from: &Path, to: &str) -> (bool, Vec<serde_json::Value>, String) {
    let out = cli(&["migrate", "--from", from.to_str().unwrap(), "--to", to]);
    (
        out.status.success(),
        json_lines(&String::from_utf8_lossy(&out.stdout)),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn inserted(tables: &[serde_json::Value], table: &str) -> i64 {
    tables
        .iter()
        .find(|t| t["table"] == table)
        .and_then(|t| t["inserted"].as_i64())
        .unwrap_or_else(|| panic!("{table} in {tables:?}"))
}

/// The rows both databases hold, as text, in id order.
async fn mentions_in_both(sqlite: &rusqlite::Connection, client: &Client) -> (Vec<String>, Vec<String>) {
    let columns = "id, source, source_id, created_at, text, compound, label, reach, coalesce(author, '')";
    let in_sqlite: Vec<String> = sqlite
        .prepare(&format!("SELECT {columns} FROM mentions ORDER BY id"))
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, f64>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let in_pg: Vec<String> = client
        .query(&format!("SELECT {columns} FROM mentions ORDER BY id"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}",
                r.get::<_, i64>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
                r.get::<_, i64>(3),
                r.get::<_, String>(4),
                r.get::<_, f64>(5),
                r.get::<_, String>(6),
                r.get::<_, i64>(7),
                r.get::<_, String>(8)
            )
        })
        .collect();
    (in_sqlite, in_pg)
}

/// `migrate` copies every row with its id and checks the counts; a second
/// run changes nothing; a copy cut short resumes; new rows continue after
/// the copied ids.
#[tokio::test]
async fn a_sqlite_database_is_copied_with_its_ids_and_copied_again_changes_nothing() {
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    add_user(&db, "Ana", complaint_monitor::accounts::Role::Agent);
    let sqlite = store::open_read_only(&db).unwrap();
    let count = |table: &str| -> i64 {
        sqlite
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    // A stranger's NUL, which SQLite stores and PostgreSQL text cannot.
    store::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO mentions (source, source_id, created_at, text, text_chars, compound, pos, neu, neg, \
             label, reach, reach_inputs, ingested_at) \
             VALUES ('x', 'nul', 0, ?1, 8, 0, 0, 1, 0, 'neutral', 0, '{}', 0)",
            ["acme\0air"],
        )
        .unwrap();
    let (mentions, links, incidents) = (count("mentions"), count("mention_brands"), count("incidents"));
    assert!(
        mentions > 1000 && links >= mentions - 1 && incidents > 0,
        "{mentions} {links} {incidents}"
    );

    // Not while a service writes the file: rows it changed would be missed.
    {
        let _service = store::WriterLock::acquire(&db).unwrap();
        let (ok, _, log) = migrate(&db, &server.url);
        assert!(!ok && log.contains("being written by another process"), "{log}");
    }
    let (ok, tables, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    assert_eq!(tables.len(), postgres::copy::TABLES.len());
    for table in &tables {
        assert_eq!(table["source_rows"], table["target_rows"], "{table}");
    }
    assert_eq!(inserted(&tables, "mentions"), mentions);
    assert_eq!(inserted(&tables, "mention_brands"), links);
    assert_eq!(inserted(&tables, "incidents"), incidents);
    assert_eq!(inserted(&tables, "users"), 1);
    let mentions_copy = tables.iter().find(|t| t["table"] == "mentions").unwrap();
    assert_eq!(mentions_copy["nul_replaced"], 1, "{mentions_copy}");
    let client = client(&server.url).await;
    let (in_sqlite, in_pg) = mentions_in_both(&sqlite, &client).await;
    let nul_free: Vec<String> = in_sqlite.iter().map(|m| m.replace('\0', "\u{fffd}")).collect();
    assert_eq!(nul_free, in_pg, "every mention with its id and values");
    let user: String = client
        .query_one("SELECT name::text FROM users WHERE name = 'ANA'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(user, "Ana", "names compare ignoring case, as in SQLite");

    let (ok, again, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    assert!(again.iter().all(|t| t["inserted"] == 0), "{again:?}");

    // Cut short: the newer half of the mentions (and what hangs off them) missing.
    let half = mentions / 2;
    let cut = client
        .execute(
            "DELETE FROM mentions WHERE id > (SELECT min(id) FROM mentions) + $1",
            &[&half],
        )
        .await
        .unwrap();
    assert!(cut > 0);
    let (ok, resumed, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    assert_eq!(inserted(&resumed, "mentions"), cut as i64);
    let (in_sqlite, in_pg) = mentions_in_both(&sqlite, &client).await;
    assert_eq!(in_sqlite.len(), in_pg.len());
    let pg_links: i64 = client
        .query_one("SELECT count(*) FROM mention_brands", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pg_links, links);

    // A row written in PostgreSQL after the copy takes the next id.
    let max_id: i64 = sqlite
        .query_row("SELECT max(id) FROM mentions", [], |r| r.get(0))
        .unwrap();
    let next: i64 = client
        .query_one(
            "INSERT INTO mentions (source, source_id, created_at, text, text_chars, compound, pos, neu, neg, \
             label, reach, reach_inputs, ingested_at) \
             VALUES ('x', 'new', 0, 'new', 3, 0, 0, 1, 0, 'neutral', 0, '{}', 0) RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(next, max_id + 1);
}

/// What `migrate` is given wrong is a clear error, not a panic.
#[test]
fn migrate_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    for (from, to, says) in [
        (
            missing.to_str().unwrap(),
            "postgres://127.0.0.1:1/x",
            "no such SQLite database",
        ),
        (
            "postgres://127.0.0.1:1/x",
            "postgres://127.0.0.1:1/y",
            "one of --from and --to",
        ),
        (missing.to_str().unwrap(), "/tmp/other.db", "one of --from and --to"),
        (
            "postgres://cm:s3cret@127.0.0.1:1/x",
            "/tmp/cm-unreachable.db",
            "PostgreSQL",
        ),
    ] {
        let out = cli(&["migrate", "--from", from, "--to", to]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
}

/// Every row of every table, as text, sorted: what two SQLite databases
/// must agree on (the full-text index aside, which is derived).
fn everything(db: &Path) -> Vec<String> {
    let conn = store::open_read_only(db).unwrap();
    let mut out = Vec::new();
    for table in postgres::copy::TABLES {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {}", table.name)).unwrap();
        let columns = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..columns)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(|row| format!("{}: {}", table.name, row.unwrap()))
            .collect();
        rows.sort();
        out.extend(rows);
    }
    out
}

/// SQLite → PostgreSQL → SQLite gives back every row of every table as it
/// was, with the full-text index rebuilt; copying back again changes nothing.
#[tokio::test]
async fn a_database_copied_to_postgres_and_back_is_the_same() {
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    add_user(&db, "Ana", complaint_monitor::accounts::Role::Agent);
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    let back = dir.path().join("back.db");
    cli_ok(&["migrate", "--from", &server.url, "--to", back.to_str().unwrap()]);
    let original = everything(&db);
    assert!(original.len() > 1000);
    assert_eq!(everything(&back), original);
    let search = |db: &Path| -> i64 {
        store::open_read_only(db)
            .unwrap()
            .query_row(
                "SELECT count(*) FROM mentions_fts WHERE mentions_fts MATCH 'refund'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert!(search(&db) > 0);
    assert_eq!(search(&back), search(&db), "the full-text index is rebuilt");

    let again = json_lines(&cli_ok(&[
        "migrate",
        "--from",
        &server.url,
        "--to",
        back.to_str().unwrap(),
    ]));
    assert!(again.iter().all(|t| t["inserted"] == 0), "{again:?}");
    assert_eq!(everything(&back), original);
}

fn work(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("source:s{i:02}")).collect()
}

/// Two processes share ten sources half and half, each seen by host and
/// pid; when one stops renewing, the other has everything within a lease
/// time and a claim interval; one shutting down hands over at once.
#[tokio::test]
async fn leases_share_the_work_and_a_dead_holders_work_is_taken_over() {
    use complaint_monitor::store::postgres::lease::{self, Holder, Leases};
    use std::time::Duration;
    let Some(server) = pg::start().await else { return };
    let mut ca = client(&server.url).await;
    let mut cb = client(&server.url).await;
    postgres::migrate(&mut ca).await.unwrap();
    let lease_time = Duration::from_secs(2);
    let a = Leases::new(Holder::new("host-a", 101, 1), lease_time);
    let b = Leases::new(Holder::new("host-b", 202, 1), lease_time);
    let sources = work(10);

    assert_eq!(
        a.claim(&mut ca, &sources).await.unwrap(),
        sources,
        "alone, a process takes everything"
    );
    assert!(
        b.claim(&mut cb, &sources).await.unwrap().is_empty(),
        "everything is held"
    );
    let held_a = a.claim(&mut ca, &sources).await.unwrap();
    assert_eq!(held_a.len(), 5, "a second process seen: the first lets half go");
    let held_b = b.claim(&mut cb, &sources).await.unwrap();
    assert_eq!(held_b.len(), 5);
    let mut all: Vec<String> = held_a.iter().chain(&held_b).cloned().collect();
    all.sort();
    assert_eq!(all, sources, "together they hold each source once");
    assert_eq!(
        a.claim(&mut ca, &sources).await.unwrap(),
        held_a,
        "renewing keeps the same share"
    );
    assert_eq!(b.claim(&mut cb, &sources).await.unwrap(), held_b);
    let held = lease::held(&ca).await.unwrap();
    assert_eq!(held.len(), 10);
    for state in held {
        let (host, pid) = if held_a.contains(&state.name) {
            ("host-a", 101)
        } else {
            ("host-b", 202)
        };
        assert_eq!((state.host.as_str(), state.pid), (host, pid), "{state:?}");
    }

    // a stops renewing (killed); b keeps claiming every second.
    let mut claims = 0;
    let took_over = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        claims += 1;
        let held = b.claim(&mut cb, &sources).await.unwrap();
        if held == sources {
            break claims;
        }
        assert!(claims < 6, "b never took over: {held:?}");
    };
    assert!(
        took_over <= 4,
        "taken over after {took_over} claims a second apart (lease time 2 s)"
    );

    // a comes back as a new process, then shuts down cleanly: b takes its
    // share back at once, with no lease to wait out.
    let a = Leases::new(Holder::new("host-a", 101, 2), lease_time);
    assert!(a.claim(&mut ca, &sources).await.unwrap().is_empty());
    assert_eq!(b.claim(&mut cb, &sources).await.unwrap().len(), 5);
    assert_eq!(a.claim(&mut ca, &sources).await.unwrap().len(), 5);
    a.release_all(&ca).await.unwrap();
    assert_eq!(b.claim(&mut cb, &sources).await.unwrap(), sources);
}

/// Three processes claiming thirty sources at the same moment, round after
/// round, never believe they hold the same source, and settle on ten each.
#[tokio::test]
async fn processes_claiming_at_once_never_share_a_lease() {
    use complaint_monitor::store::postgres::lease::{Holder, Leases};
    use std::time::Duration;
    let Some(server) = pg::start().await else { return };
    postgres::migrate(&mut client(&server.url).await).await.unwrap();
    let sources = work(30);
    let mut processes = Vec::new();
    for pid in 1..=3 {
        processes.push((
            Leases::new(Holder::new("host", pid, 1), Duration::from_secs(60)),
            client(&server.url).await,
        ));
    }
    let mut last = Vec::new();
    for _round in 0..4 {
        let claims = processes.drain(..).map(|(leases, mut client)| {
            let sources = sources.clone();
            tokio::spawn(async move {
                let held = leases.claim(&mut client, &sources).await.unwrap();
                (leases, client, held)
            })
        });
        let results = futures::future::join_all(claims.collect::<Vec<_>>()).await;
        let mut seen = std::collections::HashSet::new();
        last.clear();
        for result in results {
            let (leases, client, held) = result.unwrap();
            for name in &held {
                assert!(seen.insert(name.clone()), "{name} held by two processes");
            }
            last.push(held.len());
            processes.push((leases, client));
        }
    }
    assert_eq!(last, [10, 10, 10], "each process settles on its share");
}

fn export(db: &str, extra: &[&str]) -> String {
    cli_ok(&[&["export", "--db", db], extra].concat())
}

/// `export`, `mentions` and `alerts list` with `--db postgres://…` read the
/// copied database with the same code that reads SQLite: the same lines,
/// byte for byte, with staff's label corrections and "not about us" marks,
/// filtered the same way.
#[tokio::test]
async fn export_mentions_and_alerts_from_postgres_are_byte_for_byte_those_from_sqlite() {
    use complaint_monitor::mention::scored::Label;
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    {
        let mut conn = store::open(&db).unwrap();
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM mentions WHERE label = 'negative' ORDER BY id LIMIT 2")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let tx = conn.transaction().unwrap();
        let at = chrono::Utc::now();
        complaint_monitor::corrections::correct(&tx, ids[0], Label::Positive, "ana", at).unwrap();
        complaint_monitor::corrections::not_about_us(&tx, ids[1], "ana", at).unwrap();
        tx.commit().unwrap();
    }
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    let sqlite = db.to_str().unwrap();
    let all = export(sqlite, &[]);
    assert!(all.contains("\"corrected_by\":\"ana\"") && all.contains("\"not_about_us\""));
    assert!(all.lines().count() > 1000);
    assert_eq!(export(&server.url, &[]), all);
    for filter in [
        &["--brand", "Acme Air"][..],
        &["--since", "2026-11-20T12:00:00Z"],
        &["--brand", "Globex Bank", "--since", "2026-11-20T06:00:00Z"],
    ] {
        let expected = export(sqlite, filter);
        assert!(!expected.is_empty(), "{filter:?}");
        assert_eq!(export(&server.url, filter), expected, "{filter:?}");
    }

    // `mentions` lists from either the same way, newest first.
    let list = |db: &str, extra: &[&str]| -> String { cli_ok(&[&["mentions", "--db", db, "--json"], extra].concat()) };
    for filter in [
        &["--limit", "200"][..],
        &["--brand", "Acme Air", "--label", "negative", "--limit", "50"],
    ] {
        let expected = list(sqlite, filter);
        assert!(expected.lines().count() > 10, "{filter:?}");
        assert_eq!(list(&server.url, filter), expected, "{filter:?}");
    }
    // `alerts list` too, as JSON and as text.
    let alerts = |db: &str, extra: &[&str]| -> String { cli_ok(&[&["alerts", "list", "--db", db], extra].concat()) };
    for extra in [&["--json"][..], &[]] {
        let expected = alerts(sqlite, extra);
        assert!(expected.lines().count() > 0, "the fixture has incidents");
        assert_eq!(alerts(&server.url, extra), expected);
    }
    // The inbox too: the open complaints, highest priority first, as text
    // and as JSON, filtered by brand, assignee and language alike.
    // (Priority and age are of the moment each command ran: left out.)
    let inbox = |db: &str, filter: &[&str]| -> Vec<serde_json::Value> {
        let mut rows = json_lines(&list(db, filter));
        for row in &mut rows {
            for of_the_moment in ["priority", "priority_tier", "age_seconds"] {
                row.as_object_mut().unwrap().remove(of_the_moment);
            }
        }
        rows
    };
    for filter in [
        &["--state", "open"][..],
        &["--state", "new,assigned", "--brand", "Globex Bank"],
        &["--state", "open", "--label", "positive", "--limit", "20"],
    ] {
        let expected = inbox(sqlite, filter);
        assert!(expected.len() > 5, "{filter:?}");
        assert_eq!(inbox(&server.url, filter), expected, "{filter:?}");
    }
}

/// `sources --db postgres://…` shows each source's cursor and health as
/// from SQLite, and which process holds its lease (host and pid).
#[tokio::test]
async fn sources_from_postgres_show_their_state_and_who_holds_them() {
    use complaint_monitor::store::postgres::lease::{source_lease, Holder, Leases};
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cm.db");
    {
        let mut conn = store::open(&db).unwrap();
        let tx = conn.transaction().unwrap();
        let at = chrono::Utc::now();
        complaint_monitor::sources::state::save_cursor(&tx, "mastodon", r#"{"since_id":"109"}"#).unwrap();
        complaint_monitor::sources::state::record_poll(&tx, "mastodon", at, false, None, None).unwrap();
        complaint_monitor::sources::state::record_poll(&tx, "bluesky", at, true, Some("HTTP 503"), None).unwrap();
        tx.commit().unwrap();
    }
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/every-source.toml");
    let sources = |db: &str| -> Vec<serde_json::Value> {
        json_lines(&cli_ok(&["sources", "--config", config.to_str().unwrap(), "--db", db]))
    };
    let from_sqlite = sources(db.to_str().unwrap());
    assert_eq!(from_sqlite[1]["last_error"], "HTTP 503");
    assert_eq!(sources(&server.url), from_sqlite, "no leases yet: the same as SQLite");

    let mut client = client(&server.url).await;
    let leases = Leases::new(Holder::new("box-2", 4242, 1), std::time::Duration::from_secs(60));
    let held = leases.claim(&mut client, &[source_lease("mastodon")]).await.unwrap();
    assert_eq!(held, [source_lease("mastodon")]);
    let shown = sources(&server.url);
    assert_eq!(shown[0]["name"], "mastodon");
    assert_eq!(shown[0]["held_by"]["host"], "box-2");
    assert_eq!(shown[0]["held_by"]["pid"], 4242);
    assert!(shown[1].get("held_by").is_none(), "{}", shown[1]);
}

/// The demo config with one webhook channel to `url`.
fn config_with_webhook(url: &str) -> complaint_monitor::config::Config {
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml")).unwrap();
    let text = format!(
        "{demo}\n[[alerts.channels]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{url}/hook\"\ntimeout = \"2s\"\n"
    );
    let mut config = complaint_monitor::config::Config::parse(&text, "demo.toml", &|_| None).unwrap();
    config.alerts.channels.retain(|c| c.name == "hook");
    config
}

/// What detection recorded, without the ids each database gave: each
/// incident (brand, scope, state, start, severity, figures) and each notice
/// (its incident's start, event, channel, when due, payload minus ids).
fn detection_record(db: &dyn complaint_monitor::store::sql::Sql) -> (Vec<String>, Vec<String>) {
    let incidents = db
        .rows(
            "SELECT brand, source, state, started_at, severity, peak_at, observed, notifications FROM incidents \
             ORDER BY brand, source, started_at",
            &[],
            |r| {
                Ok(format!(
                    "{} {} {} {} {} {} {} {}",
                    r.required_text(0)?,
                    r.required_text(1)?,
                    r.required_text(2)?,
                    r.required_int(3)?,
                    r.required_text(4)?,
                    r.required_int(5)?,
                    r.required_int(6)?,
                    r.required_int(7)?
                ))
            },
        )
        .unwrap();
    let notices = db
        .rows(
            "SELECT i.brand, i.source, i.started_at, o.event, o.channel, o.next_attempt_at, o.payload \
             FROM outbox o JOIN incidents i ON i.id = o.incident_id ORDER BY i.brand, i.source, o.next_attempt_at, o.event",
            &[],
            |r| {
                let mut payload: serde_json::Value = serde_json::from_str(&r.required_text(6)?).unwrap();
                payload.as_object_mut().unwrap().remove("incident_id");
                for top in payload["top_mentions"].as_array_mut().into_iter().flatten() {
                    top.as_object_mut().unwrap().remove("id");
                }
                Ok(format!(
                    "{} {} {} {} {} {} {payload}",
                    r.required_text(0)?,
                    r.required_text(1)?,
                    r.required_int(2)?,
                    r.required_text(3)?,
                    r.required_text(4)?,
                    r.required_int(5)?
                ))
            },
        )
        .unwrap();
    (incidents, notices)
}

/// Spike detection and delivery on PostgreSQL run the code that runs on
/// SQLite: ticking through the same day of mentions, one service per brand
/// each under its brand's lease (as a shared `run` does) records the very
/// incidents and notices one SQLite service records; a service whose lease
/// was taken records nothing; and two dispatchers delivering the shared
/// outbox at once send each notice to the webhook once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_and_delivery_on_postgres_record_what_sqlite_records_and_send_each_notice_once() {
    use complaint_monitor::alert::delivery::Dispatcher;
    use complaint_monitor::alert::service::AlertService;
    use complaint_monitor::store::postgres::lease::{brand_lease, Holder, Leases};
    use complaint_monitor::store::sql::{PgBlocking, Sql};
    let Some(server) = pg::start().await else { return };
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(20)))
        .mount(&receiver)
        .await;
    let config = config_with_webhook(&receiver.uri());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("day.db");
    {
        let options = complaint_monitor::replay::ReplayOptions {
            feeds: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/feed.jsonl")],
            db: db.clone(),
            speed: complaint_monitor::replay::Speed::Max,
            progress: false,
            time_shift: chrono::Duration::zero(),
            delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
        };
        let mut quiet = config.clone();
        quiet.alerts.channels.clear();
        let db = db.clone();
        tokio::task::spawn_blocking(move || complaint_monitor::replay::replay(&quiet, &options).unwrap())
            .await
            .unwrap();
        // The mentions stay; what detection made of them goes.
        let conn = store::open(&db).unwrap();
        conn.execute_batch("DELETE FROM outbox; DELETE FROM incidents; DELETE FROM detector_progress;")
            .unwrap();
    }
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");

    // Ticks every five minutes through the day and two hours past it.
    let day: chrono::DateTime<chrono::Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    let ticks: Vec<chrono::DateTime<chrono::Utc>> =
        (1..=26 * 12).map(|k| day + chrono::Duration::minutes(5 * k)).collect();

    let sqlite = {
        let (config, db, ticks) = (config.clone(), db.clone(), ticks.clone());
        tokio::task::spawn_blocking(move || {
            let (writer, handle) = complaint_monitor::store::writer::Writer::start(&db, 4).unwrap();
            let mut service =
                AlertService::start(&config.brands, &config.detect, &config.alerts, &db, handle.clone()).unwrap();
            for &now in &ticks {
                service.tick(now).unwrap();
            }
            drop(service);
            drop(handle);
            writer.finish().unwrap();
            detection_record(&store::open_read_only(&db).unwrap())
        })
        .await
        .unwrap()
    };
    assert!(!sqlite.0.is_empty(), "the demo day has its incident");
    assert!(!sqlite.1.is_empty(), "and its notices");
    eprintln!("on SQLite: {} incidents, {} notices", sqlite.0.len(), sqlite.1.len());

    let pool = postgres::pool(&server.url, 4).await.unwrap();
    let holder = Holder::new("here", 1, 0);
    let leases = Leases::new(holder.clone(), std::time::Duration::from_secs(3600));
    let names: Vec<String> = config.brands.iter().map(|b| brand_lease(&b.name)).collect();
    assert_eq!(
        leases.claim(&mut pool.get().await.unwrap(), &names).await.unwrap(),
        names
    );
    // Another process that believes it holds the first brand (its lease
    // ran out and was taken): nothing it decides is recorded.
    let stale = Holder::new("elsewhere", 2, 0);
    let postgres = {
        let (config, ticks) = (config.clone(), ticks.clone());
        let db = PgBlocking::new(pool.clone(), tokio::runtime::Handle::current());
        tokio::task::spawn_blocking(move || {
            let brand = std::slice::from_ref(&config.brands[0]);
            let mut impostor = AlertService::on_postgres(
                brand,
                &config.detect,
                &config.alerts,
                db.clone(),
                Some((&brand_lease(&config.brands[0].name), &stale.id)),
            )
            .unwrap();
            let mut refused = 0;
            for &now in &ticks {
                if let Err(complaint_monitor::store::StoreError::Conflict(_)) = impostor.tick(now) {
                    refused += 1;
                }
            }
            assert!(refused > 0, "the impostor's writes are refused");
            let db_ref: &dyn Sql = &db;
            assert_eq!(db_ref.int("SELECT count(*) FROM incidents", &[]).unwrap(), Some(0));

            let mut services: Vec<AlertService> = config
                .brands
                .iter()
                .map(|brand| {
                    AlertService::on_postgres(
                        std::slice::from_ref(brand),
                        &config.detect,
                        &config.alerts,
                        db.clone(),
                        Some((&brand_lease(&brand.name), &holder.id)),
                    )
                    .unwrap()
                })
                .collect();
            for &now in &ticks {
                for service in &mut services {
                    service.tick(now).unwrap();
                }
            }
            detection_record(&db)
        })
        .await
        .unwrap()
    };
    assert_eq!(postgres.0, sqlite.0, "the same incidents");
    assert_eq!(postgres.1, sqlite.1, "the same notices");

    // Two processes deliver the shared outbox at once.
    let clock: std::sync::Arc<dyn complaint_monitor::clock::Clock> =
        std::sync::Arc::new(complaint_monitor::clock::WallClock);
    let deliver = || {
        let dispatcher = Dispatcher::on_postgres(&config.alerts, pool.clone(), clock.clone()).unwrap();
        async move {
            dispatcher
                .drain(tokio::time::Instant::now() + std::time::Duration::from_secs(60))
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(deliver(), deliver());
    let notices = sqlite.1.len() as u64;
    assert_eq!(a.sent + b.sent, notices, "{a:?} {b:?}");
    assert_eq!(a.failed_attempts + b.failed_attempts, 0);
    let keys: Vec<String> = receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap().to_string())
        .collect();
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(keys.len() as u64, notices, "each notice sent once");
    assert_eq!(distinct.len() as u64, notices);
    let pending: i64 = client(&server.url)
        .await
        .query_one("SELECT count(*) FROM outbox WHERE status <> 'sent'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 0);
}

/// `alerts show`, `ack`, `resolve` and `silence` with `--db postgres://…`
/// act as on SQLite: the same incident shown, the same states after the
/// same actions, the resolve's notices queued in the shared outbox.
#[tokio::test]
async fn incidents_are_shown_acknowledged_resolved_and_silenced_on_postgres_as_on_sqlite() {
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    let sqlite = db.to_str().unwrap().to_string();
    let listed = json_lines(&cli_ok(&["alerts", "list", "--db", &sqlite, "--json"]));
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(listed[0]["state"], "firing", "the fixture's incident is firing");
    let show = |db: &str| cli_ok(&["alerts", "show", &id, "--db", db]);
    assert_eq!(show(&server.url), show(&sqlite));

    let state_of = |db: &str| -> serde_json::Value {
        let shown: serde_json::Value = serde_json::from_str(&show(db)).unwrap();
        shown["incident"].clone()
    };
    let outbox = || async {
        client(&server.url)
            .await
            .query_one("SELECT count(*) FROM outbox WHERE event = 'resolved'", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    let resolved_before = outbox().await;
    for db in [&sqlite, &server.url] {
        let said = cli_ok(&["alerts", "ack", &id, "--by", "ana", "--note", "on it", "--db", db]);
        assert_eq!(said.trim(), format!("incident {id} acknowledged by ana"));
        let incident = state_of(db);
        assert_eq!(incident["state"], "acknowledged", "{db}");
        assert_eq!(incident["acknowledged_by"], "ana", "{db}");
        let said = cli_ok(&[
            "alerts",
            "silence",
            "--brand",
            "Acme Air",
            "--for",
            "2h",
            "--reason",
            "known outage",
            "--db",
            db,
        ]);
        assert!(said.starts_with("silence 1: Acme Air muted until "), "{said}");
        cli_ok(&["alerts", "resolve", &id, "--by", "ana", "--db", db]);
        assert_eq!(state_of(db)["state"], "resolved", "{db}");
    }
    assert_eq!(
        outbox().await,
        resolved_before + 1,
        "the resolve is announced on the demo's one channel"
    );
    let again = cli(&["alerts", "ack", &id, "--by", "bo", "--db", &server.url]);
    assert!(!again.status.success(), "a resolved incident cannot be acknowledged");
    let missing = cli(&["alerts", "show", "999999", "--db", &server.url]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no incident 999999"));
}

/// `digest --db postgres://…` computes the digest SQLite computes from the
/// same data, in every format: counts, hours, incidents, top negatives,
/// complaint terms, responses and the closed loop (two negative mentions
/// answered, one assigned).
#[tokio::test]
async fn a_digest_from_postgres_is_byte_for_byte_the_digest_from_sqlite() {
    use complaint_monitor::inbox::{self, Action};
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    {
        let mut conn = store::open(&db).unwrap();
        let ids: Vec<i64> = conn
            .prepare(
                "SELECT mention_id FROM mention_brands WHERE brand = 'Acme Air' AND label = 'negative' \
                 ORDER BY mention_id LIMIT 3",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let tx = conn.transaction().unwrap();
        let at: chrono::DateTime<chrono::Utc> = "2026-11-20T15:00:00Z".parse().unwrap();
        let respond = Action::Respond {
            reply_url: None,
            note: Some("called them".into()),
        };
        inbox::apply(&tx, &ids[..2], &respond, "ana", at).unwrap();
        let assign = Action::Assign { assignee: "bo".into() };
        inbox::apply(&tx, &ids[2..], &assign, "ana", at).unwrap();
        tx.commit().unwrap();
    }
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    let sqlite = db.to_str().unwrap();
    let digest = |db: &str, format: &str| {
        cli_ok(&[
            "digest",
            "--db",
            db,
            "--date",
            "2026-11-20",
            "--tz",
            "Europe/Madrid",
            "--format",
            format,
        ])
    };
    let json: serde_json::Value = serde_json::from_str(&digest(sqlite, "json")).unwrap();
    let acme = &json["brands"][0];
    assert_eq!(acme["responses"]["responded"], 2, "{acme}");
    assert_eq!(acme["responses"]["assigned"], 1, "{acme}");
    assert!(!acme["incidents"].as_array().unwrap().is_empty(), "{acme}");
    assert!(!acme["complaints"].as_array().unwrap().is_empty(), "{acme}");
    for format in ["json", "md", "html"] {
        assert_eq!(digest(&server.url, format), digest(sqlite, format), "{format}");
    }
    // The demo config sends digests nowhere.
    assert_eq!(
        cli_ok(&["digest", "--db", &server.url, "--send-due"]).trim(),
        "no digest due"
    );
}

/// The summary of a replay, without its timings.
fn replay_summary(db: &str, config: &Path) -> serde_json::Value {
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/feed.jsonl");
    let out = cli_ok(&[
        "replay",
        feed.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--db",
        db,
        "--json",
    ]);
    let mut summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    for timing in ["elapsed_seconds", "lines_per_second"] {
        summary.as_object_mut().unwrap().remove(timing);
    }
    summary
}

/// Every outbox row as text, in order.
fn outbox_rows(db: &dyn complaint_monitor::store::sql::Sql) -> Vec<String> {
    db.rows(
        "SELECT incident_id, channel, event, idempotency_key, payload, status, attempts FROM outbox ORDER BY id",
        &[],
        |r| {
            Ok(format!(
                "{} {} {} {} {} {} {}",
                r.required_int(0)?,
                r.required_text(1)?,
                r.required_text(2)?,
                r.required_text(3)?,
                r.required_text(4)?,
                r.required_text(5)?,
                r.required_int(6)?
            ))
        },
    )
    .unwrap()
}

/// `replay --db postgres://…` runs the same pipeline into PostgreSQL: the
/// same summary, the same mentions (exported byte for byte), the same
/// incidents and notices as a replay into SQLite; replayed again, every
/// line is a duplicate and nothing changes; and a database that `run`
/// processes share is refused (replay judges every brand itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_into_postgres_stores_and_alerts_as_a_replay_into_sqlite() {
    use complaint_monitor::store::postgres::lease::{brand_lease, Holder, Leases};
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    // Campaign grouping needs the one writer's memory and does not run on
    // PostgreSQL yet: off here, so both stores weigh every mention alike.
    let config = dir.path().join("replay.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n[spam]\ncampaign_accounts = 10000\nburst_mentions = 10000\n",
            crate::support::demo_api::demo_config()
        ),
    )
    .unwrap();
    let sqlite = dir.path().join("replay.db");
    let sqlite = sqlite.to_str().unwrap();
    let expected = replay_summary(sqlite, &config);
    assert!(expected["stored"].as_u64().unwrap() > 5000, "{expected}");
    assert_eq!(expected["incidents_opened"], 1, "{expected}");
    assert_eq!(replay_summary(&server.url, &config), expected);
    assert_eq!(export(&server.url, &[]), export(sqlite, &[]));
    let alerts = |db: &str| cli_ok(&["alerts", "list", "--db", db, "--json"]);
    assert_eq!(alerts(&server.url), alerts(sqlite));
    let pool = postgres::pool(&server.url, 1).await.unwrap();
    let on_postgres = complaint_monitor::store::sql::PgBlocking::new(pool, tokio::runtime::Handle::current());
    let in_postgres = tokio::task::spawn_blocking(move || outbox_rows(&on_postgres))
        .await
        .unwrap();
    let in_sqlite = outbox_rows(&store::open_read_only(Path::new(sqlite)).unwrap());
    assert!(!in_sqlite.is_empty());
    assert_eq!(in_postgres, in_sqlite, "the same notices, each sent once");

    let again = replay_summary(&server.url, &config);
    assert_eq!(again["stored"], 0, "{again}");
    let lines_stored = expected["stored"].as_u64().unwrap() + expected["duplicates"].as_u64().unwrap();
    assert_eq!(again["duplicates"], lines_stored, "{again}");
    assert_eq!(again["incidents_opened"], 0, "{again}");
    assert_eq!(alerts(&server.url), alerts(sqlite));

    let leases = Leases::new(Holder::new("elsewhere", 7, 0), std::time::Duration::from_secs(60));
    let mut pg_client = client(&server.url).await;
    leases.claim(&mut pg_client, &[brand_lease("Acme Air")]).await.unwrap();
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/feed.jsonl");
    let refused = cli(&["replay", feed.to_str().unwrap(), "--db", &server.url]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("is shared by running `run` processes") && said.contains("pid 7"),
        "{said}"
    );
}

/// Due digests sent from a PostgreSQL database are the ones sent from the
/// SQLite file it was copied from, file for file, each brand's once:
/// sending again sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_digests_from_postgres_are_sent_once_and_are_those_from_sqlite() {
    use complaint_monitor::digest::schedule::{send_due, DigestDb};
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    let mut config = crate::support::web::config();
    config.digest.tz = "UTC".into();
    config.digest.send_at = "08:00".into();
    config.digest.catch_up_days = 1;
    let now: chrono::DateTime<chrono::Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
    let send = |target: &str, db: DigestDb| {
        let mut config = config.clone();
        config.digest.directory = Some(dir.path().join(target));
        async move {
            send_due(
                &config.brands,
                &config.inbox,
                &config.digest,
                &config.alerts.channels,
                db,
                now,
            )
            .await
            .unwrap()
            .iter()
            .map(|s| format!("{} {} {}", s.brand, s.date, s.target))
            .collect::<Vec<_>>()
        }
    };
    let pool = postgres::pool(&server.url, 2).await.unwrap();
    let on_postgres = || {
        DigestDb::Postgres(complaint_monitor::store::sql::PgBlocking::new(
            pool.clone(),
            tokio::runtime::Handle::current(),
        ))
    };
    let sent = send("from-postgres", on_postgres()).await;
    assert_eq!(
        sent,
        ["Acme Air 2026-11-20 directory", "Globex Bank 2026-11-20 directory"]
    );
    assert!(send("from-postgres", on_postgres()).await.is_empty(), "sent once");
    assert_eq!(send("from-sqlite", DigestDb::from(&db)).await, sent);
    for brand in ["acme-air", "globex-bank"] {
        for ext in ["html", "md", "json"] {
            let name = format!("{brand}-2026-11-20.{ext}");
            let read = |target: &str| std::fs::read_to_string(dir.path().join(target).join(&name)).unwrap();
            assert_eq!(read("from-postgres"), read("from-sqlite"), "{name}");
        }
    }
    let recorded: i64 = client(&server.url)
        .await
        .query_one("SELECT count(*) FROM digest_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded, 2);
}

/// A server that offers TLS is spoken to encrypted, and its certificate
/// is checked against the CA the URL's `sslrootcert` (or `PGSSLROOTCERT`)
/// names: without it the connection is refused rather than made to a
/// server nobody vouched for; `sslmode=disable` speaks in the clear.
#[tokio::test]
async fn connections_are_encrypted_when_the_server_offers_tls_and_its_certificate_is_checked() {
    let Some(server) = pg::start_with_tls().await else {
        return;
    };
    let ca = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/tls-ca.cert.pem");
    let ca = ca.to_str().unwrap();
    let ssl_of = |url: String| async move {
        let client = postgres::connect(&url).await?;
        let row = client
            .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
            .await
            .map_err(postgres::PgError::from)?;
        Ok::<bool, postgres::PgError>(row.get(0))
    };
    let verified = format!("{}?sslmode=require&sslrootcert={ca}", server.url);
    assert!(ssl_of(verified.clone()).await.unwrap(), "required and verified");
    assert!(
        ssl_of(format!("{}?sslrootcert={ca}", server.url)).await.unwrap(),
        "offered by the server, so taken by default"
    );
    assert!(!ssl_of(format!("{}?sslmode=disable", server.url)).await.unwrap());
    let unverified = ssl_of(format!("{}?sslmode=require", server.url)).await.unwrap_err();
    assert!(unverified.to_string().contains("certificate"), "{unverified}");
    let not_a_ca = ssl_of(format!("{}?sslrootcert=/dev/null", server.url))
        .await
        .unwrap_err();
    assert!(not_a_ca.to_string().contains("no certificate in it"), "{not_a_ca}");

    // The pool `run` uses, and a command through the binary.
    let pool = postgres::pool(&verified, 1).await.unwrap();
    let ssl: bool = pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(ssl);
    assert_eq!(cli_ok(&["alerts", "list", "--db", &verified]), "");
    let required = format!("{}?sslmode=require", server.url);
    let refused = cli(&["alerts", "list", "--db", &required]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("invalid peer certificate"), "{said}");
    // The CA from the environment, as libpq reads it.
    let with_env = std::process::Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args(["alerts", "list", "--db", &required])
        .env("PGSSLROOTCERT", ca)
        .output()
        .unwrap();
    assert!(
        with_env.status.success(),
        "{}",
        String::from_utf8_lossy(&with_env.stderr)
    );
}

/// The inbox's pages from PostgreSQL follow one another as from SQLite in
/// every order, integer keys (reach, time) included: a page's `next` read
/// back as the cursor of the one after gives the same rows from both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_pages_from_postgres_follow_one_another_as_from_sqlite_in_every_order() {
    use complaint_monitor::inbox::{self, Query, Sort};
    let Some(server) = pg::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = fixture_db(dir.path()).await;
    let (ok, _, log) = migrate(&db, &server.url);
    assert!(ok, "{log}");
    let pool = postgres::pool(&server.url, 2).await.unwrap();
    let on_postgres = complaint_monitor::store::sql::PgBlocking::new(pool, tokio::runtime::Handle::current());
    let pages = tokio::task::spawn_blocking(move || {
        let sqlite = store::open_read_only(&db).unwrap();
        let now = crate::support::web::cutoff();
        let ids = |page: &inbox::Page| page.rows.iter().map(|r| r.id).collect::<Vec<_>>();
        let mut pages = 0;
        for sort in [Sort::Priority, Sort::Reach, Sort::Oldest, Sort::Newest] {
            let mut query = Query {
                label: Some(complaint_monitor::mention::scored::Label::Negative),
                sort,
                limit: 40,
                ..Query::default()
            };
            for _ in 0..3 {
                let from_sqlite = inbox::page(&sqlite, &query, now).unwrap();
                let from_postgres = inbox::page(&on_postgres, &query, now).unwrap();
                assert_eq!(ids(&from_postgres), ids(&from_sqlite), "{sort:?}");
                assert_eq!(from_postgres.next, from_sqlite.next, "{sort:?}");
                assert_eq!(from_postgres.total, from_sqlite.total, "{sort:?}");
                assert_eq!(from_sqlite.rows.len(), 40, "{sort:?}");
                query.after = Some(from_sqlite.next.as_deref().unwrap().parse().unwrap());
                pages += 1;
            }
        }
        pages
    })
    .await
    .unwrap();
    assert_eq!(pages, 12);
}
