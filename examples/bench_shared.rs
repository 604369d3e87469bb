//! Live ingestion into one PostgreSQL database by 1, 2 and 3 `run`
//! processes sharing the sources: a local fake API serves 300 sources, each
//! with a backlog of items (paged, newest first), and the clock runs until
//! every item is stored. Then, with three processes, one is killed with
//! SIGKILL and the time until each of its sources is polled again is
//! measured. Prints one JSON line per figure.
//!
//! usage: bench_shared --pg postgres://user@host:port/db [--bin target/release/complaint-monitor]
//! (`bench/run.sh shared` starts a throwaway PostgreSQL and runs this.)

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SOURCES: usize = 300;
const ITEMS_PER_SOURCE: usize = 1000;
const PAGE: usize = 100;

/// Every source's backlog, paged newest first; requests recorded by source.
struct Backlogs {
    newest: chrono::DateTime<chrono::Utc>,
    requests: Arc<Mutex<Vec<(usize, Instant)>>>,
}

impl Respond for Backlogs {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(n) = request
            .url
            .path()
            .strip_prefix("/feed/")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return ResponseTemplate::new(404);
        };
        if let Ok(mut requests) = self.requests.lock() {
            requests.push((n, Instant::now()));
        }
        let page: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(1)
            .max(1);
        let from = ((page - 1) * PAGE).min(ITEMS_PER_SOURCE);
        let to = (from + PAGE).min(ITEMS_PER_SOURCE);
        let items: Vec<serde_json::Value> = (from..to)
            .map(|age| {
                let at = self.newest - chrono::Duration::seconds(age as i64);
                serde_json::json!({
                    "id": format!("{n}-{age}"),
                    "time": at.to_rfc3339(),
                    "text": format!("Acme Air lost my bag on flight {age}, and nobody answers. Worst airline."),
                    "author": format!("traveller{}", age % 97),
                })
            })
            .collect();
        let next = (to < ITEMS_PER_SOURCE).then(|| (page + 1).to_string());
        ResponseTemplate::new(200).set_body_json(serde_json::json!({ "items": items, "next": next }))
    }
}

fn config(api: &str) -> String {
    let mut config = String::from("[[brands]]\nname = \"Acme Air\"\nkeywords = [\"acme air\"]\n");
    for n in 0..SOURCES {
        config.push_str(&format!(
            "\n[[sources]]\nname = \"feed{n}\"\nkind = \"json\"\nevery = \"2s\"\npage_size = {PAGE}\nmax_pages = 20\n\
             [sources.json]\nurl = \"{api}/feed/{n}?page={{page}}\"\nfirst_page = \"1\"\nitems = \"/items\"\n\
             id = \"/id\"\ntime = \"/time\"\ntext = \"/text\"\nauthor = \"/author\"\nnext_page = \"/next\"\n"
        ));
    }
    config
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> anyhow::Result<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let base_url = arg("--pg").context("usage: bench_shared --pg postgres://… [--bin complaint-monitor]")?;
    let bin = arg("--bin").unwrap_or_else(|| "target/release/complaint-monitor".into());
    let admin = complaint_monitor::store::postgres::connect(&base_url).await?;
    let dir = tempfile::tempdir()?;
    let total = (SOURCES * ITEMS_PER_SOURCE) as i64;

    for processes in 1..=3usize {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let api = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(Backlogs {
                newest: chrono::Utc::now() - chrono::Duration::seconds(5),
                requests: requests.clone(),
            })
            .mount(&api)
            .await;
        let config_path = dir.path().join(format!("shared{processes}.toml"));
        std::fs::write(&config_path, config(&api.uri()))?;
        let name = format!("cm_bench_shared_{processes}_{}", std::process::id());
        admin.batch_execute(&format!("CREATE DATABASE {name}")).await?;
        let url = format!(
            "{}/{name}",
            base_url.rsplit_once('/').map_or(base_url.as_str(), |(b, _)| b)
        );
        let client = complaint_monitor::store::postgres::open(&url).await?;
        let started = Instant::now();
        let mut children: Vec<Child> = (0..processes)
            .map(|i| {
                Command::new(&bin)
                    .args(["run", "--no-web", "--config"])
                    .arg(&config_path)
                    .args(["--db", &url])
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .stderr(
                        std::fs::File::create(dir.path().join(format!("run{processes}-{i}.log")))
                            .map_or_else(|_| Stdio::null(), Stdio::from),
                    )
                    .spawn()
            })
            .collect::<Result<_, _>>()?;
        loop {
            let stored = count(&client, "SELECT count(*) FROM mentions").await?;
            if stored >= total {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "{processes} processes stored {stored} of {total} in ten minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({
                "bench": "shared_ingest", "processes": processes, "sources": SOURCES, "stored": total,
                "seconds": (seconds * 100.0).round() / 100.0, "stored_per_s": (total as f64 / seconds).round(),
            })
        );

        if processes == 3 {
            // Wait until the three hold a share each, then kill one.
            let victim = loop {
                let mut by_pid: BTreeMap<i64, BTreeSet<usize>> = BTreeMap::new();
                for lease in complaint_monitor::store::postgres::lease::held(&client).await? {
                    if let Some(n) = lease.name.strip_prefix("source:feed").and_then(|n| n.parse().ok()) {
                        by_pid.entry(lease.pid).or_default().insert(n);
                    }
                }
                let first = i64::from(children[0].id());
                if by_pid.len() == 3 {
                    if let Some(held) = by_pid.remove(&first) {
                        break held;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            children[0].kill()?;
            let killed = Instant::now();
            children[0].wait()?;
            let mut taken: BTreeMap<usize, Duration> = BTreeMap::new();
            while taken.len() < victim.len() && killed.elapsed() < Duration::from_secs(60) {
                if let Ok(requests) = requests.lock() {
                    for (n, at) in requests.iter().filter(|(n, at)| victim.contains(n) && *at > killed) {
                        taken.entry(*n).or_insert(at.duration_since(killed));
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let mut times: Vec<f64> = taken.values().map(Duration::as_secs_f64).collect();
            times.sort_by(f64::total_cmp);
            println!(
                "{}",
                serde_json::json!({
                    "bench": "shared_takeover", "processes": processes, "killed_sources": victim.len(),
                    "taken_over": taken.len(), "poll_every_s": 2, "lease_s": 4,
                    "median_s": times.get(times.len() / 2).map(|t| (t * 100.0).round() / 100.0),
                    "max_s": times.last().map(|t| (t * 100.0).round() / 100.0),
                })
            );
        }
        for child in &mut children {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        }
        for child in &mut children {
            let _ = child.wait();
        }
        drop(client);
        admin.batch_execute(&format!("DROP DATABASE {name}")).await?;
    }
    Ok(())
}
