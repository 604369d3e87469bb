use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use complaint_monitor::clock::{parse_duration, Clock, Span, WallClock};
use complaint_monitor::config::Config;
use complaint_monitor::detect::backtest;
use complaint_monitor::store;

#[derive(clap::Args)]
pub struct Args {
    /// Stored mentions to replay the detector over.
    #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
    db: Option<PathBuf>,
    /// A `timestamp,value` series of negative-mention counts instead.
    #[arg(long)]
    csv: Option<PathBuf>,
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    brand: Option<String>,
    /// A duration back from now, a date, or an RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Bucket width (default: the config's), e.g. 5m, 1h; it must
    /// divide an hour, as `[detect] bucket` must.
    #[arg(long)]
    bucket: Option<String>,
    /// How many alerts on normal data: fewer (about 0.5 a week),
    /// balanced (about 1) or more (about 3); default: the config's.
    #[arg(long)]
    sensitivity: Option<complaint_monitor::detect::calibrate::Sensitivity>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut config = Config::load_or_demo(self.config.as_ref())?;
        if let Some(bucket) = &self.bucket {
            config.detect.bucket = Span(parse_duration(bucket).map_err(|e| anyhow::anyhow!("--bucket: {e}"))?);
        }
        if let Some(sensitivity) = self.sensitivity {
            config.detect.sensitivity = sensitivity;
        }
        if let Some((key, problem)) = config.detect.problems().into_iter().next() {
            let flag = if key == "bucket" {
                "--bucket".to_string()
            } else {
                format!("[detect] {key}")
            };
            anyhow::bail!("{flag} {problem}");
        }
        let since = super::since(self.since.as_deref())?;
        let reports = if let Some(path) = self.csv {
            let file = std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
            let (series, rejected) = backtest::read_csv(&mut std::io::BufReader::new(file), &config.detect)?;
            for r in &rejected {
                eprintln!("{}:{}: rejected: {}", path.display(), r.line, r.reason);
            }
            let series = series.into_iter().filter(|c| since.is_none_or(|s| c.start >= s));
            backtest::run(&config.detect, self.brand.as_deref().unwrap_or("series"), None, series)
        } else {
            let db = self.db.context("--db or --csv is required")?;
            let conn = store::open_read_only(&db)?;
            complaint_monitor::alert::backtest::run_db(
                &conn,
                &config.brands,
                &config.detect,
                self.brand.as_deref(),
                since,
                WallClock.now(),
            )?
        };
        let mut out = std::io::stdout().lock();
        for r in reports {
            writeln!(out, "{}", serde_json::to_string(&r)?)?;
        }
        Ok(ExitCode::SUCCESS)
    }
}
