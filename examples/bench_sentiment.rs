//! Scores texts (one JSON string per line) on one thread, for `bench/run.sh`.
//!
//! usage: bench_sentiment TEXTS OUT_COMPOUNDS [ROUNDS]
//! Prints one JSON object (texts, seconds, texts_per_second) for the best
//! round, and writes each text's compound to OUT_COMPOUNDS.

use std::io::{BufRead, BufReader, Write};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        return Err("usage: bench_sentiment TEXTS OUT_COMPOUNDS [ROUNDS]".into());
    };
    let rounds: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(5);
    let texts: Vec<String> = BufReader::new(std::fs::File::open(input)?)
        .lines()
        .map(|line| Ok(serde_json::from_str(&line?)?))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let mut compounds = Vec::with_capacity(texts.len());
    let mut best = f64::INFINITY;
    for _ in 0..rounds.max(1) {
        compounds.clear();
        let start = Instant::now();
        for text in &texts {
            compounds.push(vader_sentiment::polarity_scores(text).compound);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    for c in &compounds {
        writeln!(out, "{c}")?;
    }
    out.flush()?;
    let n = texts.len() as f64;
    println!(
        "{}",
        serde_json::json!({"texts": texts.len(), "seconds": best, "texts_per_second": n / best})
    );
    Ok(())
}
