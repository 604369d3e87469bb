use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::clock::{parse_duration_within, Clock, WallClock, MAX_DURATION};
use complaint_monitor::store;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    older_than: String,
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let span = parse_duration_within(&self.older_than, chrono::Duration::seconds(1), MAX_DURATION)
            .map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
        // No writer lock: pruning is short transactions beside the running
        // service's writer, which is how a full database gets space back.
        let mut conn = store::open(&self.db)?;
        let deleted = store::prune(&mut conn, WallClock.now() - span, 5000)?;
        println!("deleted {deleted} mentions older than {}", self.older_than);
        Ok(ExitCode::SUCCESS)
    }
}
