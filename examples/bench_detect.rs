//! Detection at a real team's scale: replay throughput with 2 and with
//! 1,000 brands on feeds of the same length, and the cost of one live tick of
//! the alert service over 1,000 brands (reading each brand's counts from
//! SQLite, judging the closed bucket and the one still filling).
//!
//! usage: cargo run --release --example bench_detect [-- --lines 200000 --ticks 20 --runs 3]
//!
//! Prints one JSON line per measurement (figures depend on the machine: state
//! it with them, or report the ratio).

use std::io::Write;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use complaint_monitor::alert::service::AlertService;
use complaint_monitor::config::Config;
use complaint_monitor::mention::format_time;
use complaint_monitor::replay::{replay, ReplayOptions, Speed};
use complaint_monitor::store::writer::Writer;

fn config(brands: usize) -> Config {
    let mut text = String::from("[detect]\nwarmup = \"10h\"\n\n[alerts]\nrepeat_every = \"1h\"\n");
    for i in 0..brands {
        text.push_str(&format!(
            "\n[[brands]]\nname = \"Brand {i}\"\nkeywords = [\"brandword{i}\"]\n"
        ));
    }
    Config::parse(&text, "bench", &|_| None).expect("valid bench config")
}

/// `lines` mentions over two days, spread evenly over `brands` brands, a
/// third of them complaints.
fn write_feed(path: &std::path::Path, brands: usize, lines: usize, start: DateTime<Utc>) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("feed file"));
    let span_ms = Duration::days(2).num_milliseconds();
    let texts = [
        "brandword{} lost my bag, awful",
        "brandword{} was fine today",
        "loving brandword{} lately",
    ];
    for k in 0..lines {
        let t = start + Duration::milliseconds(span_ms * k as i64 / lines as i64);
        let text = texts[k % 3].replace("{}", &(k % brands).to_string());
        let line = serde_json::json!({"source": "x", "id": k.to_string(), "created_at": format_time(t), "text": text});
        writeln!(out, "{line}").expect("write feed");
    }
}

fn main() {
    let mut lines = 200_000usize;
    let mut ticks = 20usize;
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lines" => lines = args.next().and_then(|v| v.parse().ok()).unwrap_or(lines),
            "--ticks" => ticks = args.next().and_then(|v| v.parse().ok()).unwrap_or(ticks),
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Utc
        .with_ymd_and_hms(2026, 11, 18, 0, 0, 0)
        .single()
        .expect("valid time");
    let mut throughput = Vec::new();
    for brands in [2usize, 1000] {
        let feed = dir.path().join(format!("feed-{brands}.jsonl"));
        write_feed(&feed, brands, lines, start);
        let db = dir.path().join(format!("bench-{brands}.db"));
        let config = config(brands);
        // The best of `runs` fresh replays: the machine's other work only
        // ever slows a run down.
        let mut best: Option<(f64, complaint_monitor::replay::ReplaySummary)> = None;
        for _ in 0..runs.max(1) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            let options = ReplayOptions {
                feeds: vec![feed.clone()],
                db: db.clone(),
                speed: Speed::Max,
                progress: false,
                time_shift: Duration::zero(),
                delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
            };
            let began = Instant::now();
            let summary = replay(&config, &options).expect("replay");
            let seconds = began.elapsed().as_secs_f64();
            if best.as_ref().is_none_or(|(b, _)| seconds < *b) {
                best = Some((seconds, summary));
            }
        }
        let Some((seconds, summary)) = best else { return };
        let per_s = summary.lines as f64 / seconds;
        throughput.push(per_s);
        println!(
            "{}",
            serde_json::json!({"bench": "replay", "brands": brands, "lines": summary.lines, "stored": summary.stored,
                "seconds": (seconds * 1000.0).round() / 1000.0, "lines_per_s": per_s.round()})
        );
        if brands == 1000 && ticks > 0 {
            let (writer, handle) = Writer::start_with(&db, &config.store, config.grouper()).expect("writer");
            let mut service = AlertService::start(&config.brands, &config.detect, &config.alerts, &db, handle)
                .expect("alert service");
            let end = start + Duration::days(2);
            let mut costs = Vec::new();
            for k in 0..ticks {
                // A minute apart: most ticks judge only the bucket still filling.
                let now = end + Duration::minutes(k as i64);
                let began = Instant::now();
                service.tick(now).expect("tick");
                costs.push(began.elapsed().as_secs_f64() * 1000.0);
            }
            drop(service);
            writer.finish().expect("writer finishes");
            costs.sort_by(f64::total_cmp);
            println!(
                "{}",
                serde_json::json!({"bench": "live_tick", "brands": brands, "ticks": ticks,
                    "median_ms": (costs[costs.len() / 2] * 10.0).round() / 10.0,
                    "max_ms": (costs[costs.len() - 1] * 10.0).round() / 10.0})
            );
        }
    }
    println!(
        "{}",
        serde_json::json!({"bench": "replay_brand_scaling", "ratio_1000_to_2": (throughput[1] / throughput[0] * 100.0).round() / 100.0})
    );
}
