//! The storage ceiling for `bench/run.sh`: the same rows a replay stores,
//! with the same schema, writer and batching, but parsed, matched, scored and
//! estimated beforehand (untimed), so only the SQLite writer is measured.
//!
//! usage: bench_store FEED DB
//! Prints one JSON object: rows, seconds, rows_per_second.

use std::io::{BufRead, BufReader};
use std::time::Instant;

use complaint_monitor::config::Config;
use complaint_monitor::enrich::Enriched;
use complaint_monitor::mention::Mention;
use complaint_monitor::store::writer::{NewMention, Writer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(feed), Some(db)) = (args.get(1), args.get(2)) else {
        return Err("usage: bench_store FEED DB".into());
    };
    let config = Config::load_or_demo(None)?;
    let enricher = config.enricher()?;
    let mut rows = Vec::new();
    for line in BufReader::new(std::fs::File::open(feed)?).split(b'\n') {
        let Ok(mention) = Mention::from_feed_line(&line?) else {
            continue;
        };
        if let Enriched::Scored(scored) = enricher.enrich(mention) {
            let ingested_at = scored.mention.created_at;
            rows.push(NewMention {
                scored: *scored,
                ingested_at,
            });
        }
    }
    let count = rows.len();
    let batch = config.store.batch_size;
    let started = Instant::now();
    let (writer, handle) = Writer::start(std::path::Path::new(db), config.store.queue_batches)?;
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<NewMention> = rows.by_ref().take(batch).collect();
        if chunk.is_empty() {
            break;
        }
        handle.send_blocking(chunk)?;
    }
    drop(handle);
    let stats = writer.finish()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"rows": count, "stored": stats.stored, "seconds": seconds, "rows_per_second": count as f64 / seconds})
    );
    Ok(())
}
