//! Several `run` processes sharing one PostgreSQL database (a real server,
//! `support::postgres`) and a local fake API with many sources, one of them
//! killed with SIGKILL while it has polls in flight: every item the API
//! served is stored once, the dead process's sources are polled again
//! within the hand-over bound (one poll interval plus the lease time), and
//! the survivors stop cleanly on SIGTERM, one of them with polls in flight,
//! handing their leases back to the last one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::postgres as pg;

const SOURCES: usize = 30;
/// Every source's poll interval, and so the lease time (twice it) the
/// processes choose.
const EVERY: Duration = Duration::from_secs(1);
const LEASE: Duration = Duration::from_secs(2);
/// How long the fake API takes to answer: long enough that a process
/// killed at a random moment has polls in flight.
const ANSWER_DELAY: Duration = Duration::from_millis(300);
/// A new item per source this often.
const ITEM_EVERY_MS: u64 = 400;

/// The fake API: `/feed/{n}` lists source n's items, newest first (50 at
/// most), one more every [`ITEM_EVERY_MS`] until the feed is frozen; every
/// request is recorded with the time it arrived.
struct Feeds {
    started: Instant,
    first_item_at: DateTime<Utc>,
    /// Items per source once frozen (`u64::MAX` while growing).
    frozen_at: Arc<AtomicU64>,
    requests: Arc<Mutex<Vec<(usize, Instant)>>>,
}

impl Feeds {
    fn items_now(&self) -> u64 {
        let grown = self.started.elapsed().as_millis() as u64 / ITEM_EVERY_MS + 1;
        grown.min(self.frozen_at.load(Ordering::SeqCst))
    }
}

fn item_id(source: usize, k: u64) -> String {
    format!("{source}-{k}")
}

impl Respond for Feeds {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(n) = request
            .url
            .path()
            .strip_prefix("/feed/")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return ResponseTemplate::new(404);
        };
        self.requests.lock().unwrap().push((n, Instant::now()));
        let count = self.items_now();
        let items: Vec<serde_json::Value> = (count.saturating_sub(50)..count)
            .rev()
            .map(|k| {
                let at = self.first_item_at + chrono::Duration::milliseconds((k * ITEM_EVERY_MS) as i64);
                serde_json::json!({
                    "id": item_id(n, k),
                    "time": at.to_rfc3339(),
                    "text": format!("Acme Air lost my bag again, complaint number {k}. Awful."),
                    "author": format!("user{}", k % 7),
                })
            })
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({ "items": items }))
            .set_delay(ANSWER_DELAY)
    }
}

fn config(api: &str) -> String {
    let mut config = String::from("[[brands]]\nname = \"Acme Air\"\nkeywords = [\"acme air\"]\n");
    for n in 0..SOURCES {
        config.push_str(&format!(
            r#"
[[sources]]
name = "feed{n}"
kind = "json"
every = "{}s"
[sources.json]
url = "{api}/feed/{n}"
items = "/items"
id = "/id"
time = "/time"
text = "/text"
author = "/author"
"#,
            EVERY.as_secs()
        ));
    }
    config
}

/// `run` on `url`; with `listen`, serving `/healthz` and `/metrics` there.
fn start(config: &Path, url: &str, log: &Path, listen: Option<&str>) -> Child {
    let web = match listen {
        Some(address) => vec!["--listen", address],
        None => vec!["--no-web"],
    };
    Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .arg("run")
        .args(web)
        .arg("--config")
        .arg(config)
        .args(["--db", url])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "complaint_monitor=info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Where a `run` serves `/healthz`, from what its log said on start.
fn health_address(log: &str) -> String {
    const SAID: &str = "serving /healthz and /metrics on ";
    log[log.find(SAID).expect("the health address in the log") + SAID.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}

/// SIGTERM to each of `processes`: each exits 0, the logs say `stopped
/// cleanly` `clean_stops` times in all (these and any stopped before), and
/// no process (the killed one included) logged an error.
fn stop_cleanly(processes: &mut [Child], logs: impl Fn() -> String, clean_stops: usize) {
    for p in processes.iter() {
        let _ = Command::new("kill").args(["-TERM", &p.id().to_string()]).status();
    }
    for p in processes.iter_mut() {
        let exit = p.wait().unwrap();
        assert!(exit.success(), "{exit}\n{}", logs());
    }
    let logs = logs();
    assert_eq!(logs.matches("stopped cleanly").count(), clean_stops, "{logs}");
    assert!(!logs.contains("ERROR"), "{logs}");
}

/// Each live holder's pid and the leases named `kind:…` it holds now.
async fn holders_of(client: &tokio_postgres::Client, kind: &str) -> BTreeMap<i64, BTreeSet<String>> {
    let mut out: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for lease in complaint_monitor::store::postgres::lease::held(client).await.unwrap() {
        if lease.name.starts_with(&format!("{kind}:")) {
            out.entry(lease.pid).or_default().insert(lease.name);
        }
    }
    out
}

/// Each live holder's pid and the sources it holds now.
async fn holders(client: &tokio_postgres::Client) -> BTreeMap<i64, BTreeSet<String>> {
    holders_of(client, "source").await
}

/// The two tests here start three services each, with timing bounds: one
/// at a time, so that neither's bounds measure the other's load.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The source numbers of lease names `source:feed{n}`.
fn sources_of(leases: &BTreeSet<String>) -> BTreeSet<usize> {
    leases
        .iter()
        .map(|name| name.trim_start_matches("source:feed").parse().unwrap())
        .collect()
}

/// Returns once the fake API is answering a request for one of `sources`.
async fn wait_for_a_poll_in_flight(requests: &Mutex<Vec<(usize, Instant)>>, sources: &BTreeSet<usize>) {
    let since = Instant::now();
    loop {
        let now = Instant::now();
        let in_flight = requests
            .lock()
            .unwrap()
            .iter()
            .any(|(n, at)| sources.contains(n) && now.duration_since(*at) < ANSWER_DELAY / 2);
        if in_flight {
            return;
        }
        assert!(since.elapsed() < Duration::from_secs(30), "no poll of {sources:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long after `since` each of `sources` was first asked for again,
/// waiting at most `within` for all of them.
async fn polled_again(
    requests: &Mutex<Vec<(usize, Instant)>>,
    sources: &BTreeSet<usize>,
    since: Instant,
    within: Duration,
) -> BTreeMap<usize, Duration> {
    let mut first: BTreeMap<usize, Duration> = BTreeMap::new();
    while first.len() < sources.len() && since.elapsed() < within {
        for (n, at) in requests.lock().unwrap().iter() {
            if sources.contains(n) && *at > since {
                first.entry(*n).or_insert(at.duration_since(since));
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_the_sources_and_a_killed_ones_are_taken_over_with_nothing_lost() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(pg) = pg::start().await else { return };
    let client = complaint_monitor::store::postgres::open(&pg.url).await.unwrap();
    let frozen_at = Arc::new(AtomicU64::new(u64::MAX));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let api = MockServer::start().await;
    let feed_started = Instant::now();
    Mock::given(method("GET"))
        .respond_with(Feeds {
            started: feed_started,
            first_item_at: Utc::now() - chrono::Duration::minutes(1),
            frozen_at: frozen_at.clone(),
            requests: requests.clone(),
        })
        .mount(&api)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("shared.toml");
    std::fs::write(&config_path, config(&api.uri())).unwrap();
    let log = |i: usize| dir.path().join(format!("run{i}.log"));
    let logs = || {
        (0..3)
            .map(|i| format!("--- run{i}\n{}", std::fs::read_to_string(log(i)).unwrap_or_default()))
            .collect::<String>()
    };
    // The last one, which ends up polling everything, also serves /healthz.
    let mut processes: Vec<Child> = (0..3)
        .map(|i| start(&config_path, &pg.url, &log(i), (i == 2).then_some("127.0.0.1:0")))
        .collect();

    // Each process settles on its share: a third of the sources.
    let started = Instant::now();
    loop {
        let held = holders(&client).await;
        if held.len() == 3 && held.values().all(|s| s.len() == SOURCES / 3) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the processes did not share the sources: {held:?}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(3 * EVERY).await;

    // Killed while one of its sources waits for an answer.
    let mut victim = processes.remove(0);
    let victim_pid = i64::from(victim.id());
    let victims = sources_of(&holders(&client).await[&victim_pid]);
    wait_for_a_poll_in_flight(&requests, &victims).await;
    victim.kill().unwrap();
    let killed_at = Instant::now();
    victim.wait().unwrap();

    // Every source it held is polled again within the hand-over bound.
    let bound = EVERY + LEASE;
    // What a loaded two-core CI machine may add to the timers.
    let slack = Duration::from_secs(2);
    let taken_over = polled_again(&requests, &victims, killed_at, bound + slack + Duration::from_secs(5)).await;
    eprintln!("hand-over after SIGKILL, per source: {taken_over:?}");
    assert_eq!(
        taken_over.keys().copied().collect::<BTreeSet<_>>(),
        victims,
        "every source of the killed process is polled again\n{}",
        logs()
    );
    let slowest = taken_over.values().max().copied().unwrap_or_default();
    assert!(
        slowest <= bound + slack,
        "the slowest hand-over took {slowest:?}, more than {bound:?} (+ {slack:?})"
    );
    let held = holders(&client).await;
    assert!(!held.contains_key(&victim_pid), "{held:?}");
    assert_eq!(held.values().map(BTreeSet::len).sum::<usize>(), SOURCES, "{held:?}");

    // SIGTERM while its polls are in flight: they commit, the leases are
    // handed back, and the last process polls everything.
    let mut leaving = processes.remove(0);
    let leaving_sources = sources_of(&held[&i64::from(leaving.id())]);
    wait_for_a_poll_in_flight(&requests, &leaving_sources).await;
    let _ = Command::new("kill").args(["-TERM", &leaving.id().to_string()]).status();
    let terminated_at = Instant::now();
    let exit = leaving.wait().unwrap();
    assert!(exit.success(), "{exit}\n{}", logs());
    let handed_back = polled_again(&requests, &leaving_sources, terminated_at, bound + slack).await;
    eprintln!("hand-over after SIGTERM, per source: {handed_back:?}");
    assert_eq!(handed_back.len(), leaving_sources.len(), "{}", logs());
    let held = holders(&client).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held.values().map(BTreeSet::len).sum::<usize>(), SOURCES, "{held:?}");

    // The feed stops growing; the survivors catch up with it.
    let items_per_source = feed_started.elapsed().as_millis() as u64 / ITEM_EVERY_MS + 1;
    frozen_at.store(items_per_source, Ordering::SeqCst);
    let settle = Instant::now();
    loop {
        let stored: i64 = client
            .query_one("SELECT count(*) FROM mentions", &[])
            .await
            .unwrap()
            .get(0);
        let newest_everywhere: i64 = client
            .query_one(
                "SELECT count(*) FROM source_cursors WHERE cursor::jsonb ->> 'id' = \
                 regexp_replace(source, '^feed', '') || '-' || $1::text",
                &[&(items_per_source as i64 - 1).to_string()],
            )
            .await
            .unwrap()
            .get(0);
        if newest_everywhere == SOURCES as i64 {
            break;
        }
        assert!(
            settle.elapsed() < Duration::from_secs(60),
            "not caught up: {newest_everywhere} of {SOURCES} sources at the newest item, {stored} stored\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // `/healthz` of the last process names it as the poller of every source.
    let address = health_address(&std::fs::read_to_string(log(2)).unwrap());
    let health: serde_json::Value = reqwest::get(format!("{address}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last_pid = i64::from(processes[0].id());
    assert_eq!(health["process"]["pid"], last_pid, "{health}");
    assert_eq!(health["process"]["polling"], SOURCES, "{health}");
    let sources = health["sources"].as_array().unwrap();
    assert_eq!(sources.len(), SOURCES);
    assert!(
        sources
            .iter()
            .all(|s| s["held_by"]["pid"] == last_pid && s["status"] == "ok"),
        "{health}"
    );
    let metrics = reqwest::get(format!("{address}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("cm_mentions_ingested_total"), "{metrics}");

    // The one that left on SIGTERM, and the last.
    stop_cleanly(&mut processes, logs, 2);
    let left = complaint_monitor::store::postgres::lease::held(&client).await.unwrap();
    assert!(
        left.is_empty(),
        "every lease (sources' and brands') handed back on SIGTERM: {left:?}"
    );

    let rows = client
        .query("SELECT source, source_id FROM mentions", &[])
        .await
        .unwrap();
    let stored: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let distinct: BTreeSet<(String, String)> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), distinct.len(), "no item stored twice");
    let every_item: BTreeSet<(String, String)> = (0..SOURCES)
        .flat_map(|n| (0..items_per_source).map(move |k| (format!("feed{n}"), item_id(n, k))))
        .collect();
    // The first poll of a source sees the newest 50 items only, and so does
    // the first poll after a gap longer than 50 items; nothing here waits
    // that long, so every item ever served is stored.
    assert_eq!(distinct, every_item, "every item the API served, once");
    let brands: i64 = client
        .query_one("SELECT count(*) FROM mention_brands", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(brands, every_item.len() as i64, "one brand row per mention");
}

/// How long the webhook receiver holds its first answer: the process
/// sending it is killed meanwhile.
const HOLD_FIRST: Duration = Duration::from_secs(20);

/// The webhook receiver: records each request's `Idempotency-Key` as it
/// arrives, and holds the first answer for [`HOLD_FIRST`].
struct Receiver {
    keys: Arc<Mutex<Vec<String>>>,
}

impl Respond for Receiver {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let key = request
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut keys = self.keys.lock().unwrap();
        keys.push(key);
        let answer = ResponseTemplate::new(200);
        if keys.len() == 1 {
            answer.set_delay(HOLD_FIRST)
        } else {
            answer
        }
    }
}

/// Which of `pids` has a TCP connection open to `port` on this machine:
/// the kernel's socket table (`/proc/net/tcp`) names the connections to
/// the port, each process's open files the sockets it holds.
fn connected_to(port: u16, pids: &[u32]) -> Option<u32> {
    let table = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect::<String>();
    let sockets: BTreeSet<String> = table
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields.get(2)?.rsplit(':').next()?;
            let established = *fields.get(3)? == "01";
            (established && u16::from_str_radix(remote_port, 16).ok()? == port)
                .then(|| format!("socket:[{}]", fields.get(9).unwrap_or(&"")))
        })
        .collect();
    pids.iter().copied().find(|pid| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| sockets.contains(target.to_string_lossy().as_ref()))
    })
}

/// Three processes on one PostgreSQL database share the brands' detection
/// and the alert delivery: the demo day's wave of complaints (served by a
/// local API, moved to end now) is one incident; the process sending its
/// first notice is killed with SIGKILL while the webhook receiver holds the
/// answer, and another sends it again with the same `Idempotency-Key` once
/// the dead one's claim runs out; every notice reaches the receiver, and
/// only the one cut off twice; the dead process's brand is judged again by
/// a survivor without opening a second incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_open_one_incident_per_wave_and_a_notice_cut_off_by_a_kill_is_sent_again() {
    use crate::support::demo_api;
    let _alone = ONE_AT_A_TIME.lock().await;
    let Some(pg) = pg::start().await else { return };
    let client = complaint_monitor::store::postgres::open(&pg.url).await.unwrap();
    let api = MockServer::start().await;
    let items: Vec<serde_json::Value> = demo_api::demo_items().into_iter().map(|(_, item)| item).collect();
    Mock::given(method("GET"))
        .respond_with(demo_api::Pages(items))
        .mount(&api)
        .await;
    let keys = Arc::new(Mutex::new(Vec::new()));
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Receiver { keys: keys.clone() })
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("shared.toml");
    std::fs::write(
        &config_path,
        format!(
            "{}\n[[alerts.channels]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}/hook\"\ntimeout = \"3s\"\n{}",
            demo_api::demo_config(),
            receiver.uri(),
            demo_api::source_config("api", &api.uri())
        ),
    )
    .unwrap();
    let log = |i: usize| dir.path().join(format!("detect{i}.log"));
    let logs = || {
        (0..3)
            .map(|i| format!("--- detect{i}\n{}", std::fs::read_to_string(log(i)).unwrap_or_default()))
            .collect::<String>()
    };
    let mut processes: Vec<Child> = (0..3)
        .map(|i| start(&config_path, &pg.url, &log(i), Some("127.0.0.1:0")))
        .collect();
    let pids: Vec<u32> = processes.iter().map(Child::id).collect();

    // The wave is judged and its first notice sent; its sender is killed
    // while the receiver holds the answer.
    let started = Instant::now();
    while keys.lock().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no notice reached the receiver\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let port = receiver.address().port();
    let sender =
        connected_to(port, &pids).unwrap_or_else(|| panic!("no process is connected to the receiver\n{}", logs()));
    let victim = pids.iter().position(|&p| p == sender).unwrap();
    let mut killed = processes.remove(victim);
    killed.kill().unwrap();
    killed.wait().unwrap();
    let killed_at = Instant::now();
    let cut_off = keys.lock().unwrap()[0].clone();
    eprintln!("killed process {sender} while it sent {cut_off}");

    // Everything queued is sent, the cut-off notice again by a survivor.
    let outbox_keys = || async {
        client
            .query(
                "SELECT idempotency_key, status FROM outbox WHERE channel = 'hook' ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .collect::<Vec<_>>()
    };
    loop {
        let outbox = outbox_keys().await;
        let received: BTreeSet<String> = keys.lock().unwrap().iter().cloned().collect();
        let all_sent = !outbox.is_empty()
            && outbox
                .iter()
                .all(|(key, status)| status == "sent" && received.contains(key));
        if all_sent {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(90),
            "not delivered: {outbox:?}, received {received:?}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let redelivered_after = killed_at.elapsed();

    // The dead process's brand is judged by a survivor, and no second
    // incident comes of it.
    let survivors: BTreeSet<i64> = processes.iter().map(|p| i64::from(p.id())).collect();
    let brands_settled = Instant::now();
    loop {
        let held = holders_of(&client, "brand").await;
        let judged: usize = held.values().map(BTreeSet::len).sum();
        if judged == 2 && held.keys().all(|pid| survivors.contains(pid)) {
            break;
        }
        assert!(
            brands_settled.elapsed() < Duration::from_secs(30),
            "the brands are not judged by the survivors: {held:?}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A tick of each brand's new holder has passed.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let outbox = outbox_keys().await;
    let received = keys.lock().unwrap().clone();
    eprintln!(
        "{} notices; {} deliveries; the cut-off one sent again {redelivered_after:?} after the kill",
        outbox.len(),
        received.len()
    );
    let incidents: i64 = client
        .query_one("SELECT count(*) FROM incidents", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(incidents, 1, "the demo's one wave is one incident\n{}", logs());
    let opened: i64 = client
        .query_one(
            "SELECT count(*) FROM outbox WHERE channel = 'hook' AND event = 'opened'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(opened, 1);
    assert_eq!(
        received.iter().collect::<BTreeSet<_>>(),
        outbox.iter().map(|(key, _)| key).collect::<BTreeSet<_>>(),
        "every notice reached the receiver"
    );
    assert_eq!(received.iter().filter(|k| **k == cut_off).count(), 2, "{received:?}");
    assert_eq!(
        received.len(),
        outbox.len() + 1,
        "only the cut-off notice twice: {received:?}"
    );

    // `/healthz` of a survivor names the process judging each brand.
    {
        let address = health_address(&std::fs::read_to_string(log(if victim == 0 { 1 } else { 0 })).unwrap());
        let health: serde_json::Value = reqwest::get(format!("{address}/healthz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let brands = health["brands"].as_array().unwrap();
        assert_eq!(brands.len(), 2, "{health}");
        assert!(
            brands
                .iter()
                .all(|b| survivors.contains(&b["detected_by"]["pid"].as_i64().unwrap_or(-1))),
            "{health}"
        );
    }

    stop_cleanly(&mut processes, logs, 2);
}
