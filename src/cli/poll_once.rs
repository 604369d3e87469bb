use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::clock::WallClock;
use complaint_monitor::config::Config;
use complaint_monitor::sources::poll::{sources, Poller};
use complaint_monitor::store::writer::Writer;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    config: PathBuf,
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
    #[arg(long)]
    source: Option<String>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = Config::load(&self.config)?;
        let only = self.source.as_deref();
        let chosen: Vec<_> = sources(&config.sources)
            .into_iter()
            .filter(|s| only.is_none_or(|name| s.config.name == name))
            .collect();
        if chosen.is_empty() {
            anyhow::bail!(
                "no source {} in the config",
                only.map_or("at all".to_string(), |n| format!("named {n:?}"))
            );
        }
        let (writer, handle) = Writer::start_with(&self.db, &config.store, config.grouper())?;
        let poller = Poller::new(config.enricher()?, &self.db, handle, std::sync::Arc::new(WallClock))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let reports = runtime.block_on(futures::future::join_all(chosen.iter().map(|s| poller.poll(s))));
        drop(poller);
        writer.finish()?;
        let mut failed = false;
        for r in &reports {
            let state = match (&r.error, r.rate_limited_until) {
                (Some(e), _) => {
                    failed = true;
                    format!("FAILED: {e}")
                }
                (None, Some(until)) => format!("rate limited until {}", until.to_rfc3339()),
                (None, None) => "ok".to_string(),
            };
            println!(
                "{}: {} pages, {} fetched, {} new, {} already stored ({} revised), {} unmatched, {} unreadable; {state}",
                r.source,
                r.pages,
                r.fetched,
                r.stored,
                r.duplicates,
                r.revised,
                r.unmatched,
                r.rejected.len()
            );
            for reason in r.rejected.iter().take(5) {
                eprintln!("{}: rejected an item: {}", r.source, super::text::one_line(reason));
            }
        }
        Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    }
}
