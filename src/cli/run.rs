use std::path::{Path, PathBuf};
use std::process::ExitCode;

use complaint_monitor::clock::{Clock, WallClock};
use complaint_monitor::config::Config;
use complaint_monitor::replay::{self, ReplayOptions, Speed};
use complaint_monitor::service;
use complaint_monitor::sources::feed::Feed;

#[derive(clap::Args)]
pub struct Args {
    /// Without one, the embedded default: an example brand on the
    /// sources that need no key, plus the demo brands.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A SQLite file, or a `postgres://` URL to share the sources, spike
    /// detection, alert delivery and digests with every other `run` on
    /// that database.
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
    /// Where to serve the web UI and API. Any address but loopback needs
    /// an account to sign in with (`users add`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Do not serve the web UI and API.
    #[arg(long)]
    no_web: bool,
    /// First replay the demo feed, moved in time to end now, so the
    /// inbox, alerts and charts have data even offline.
    #[arg(long)]
    demo: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = Config::load_or_default_run(self.config.as_ref())?;
        let web = (!self.no_web).then_some(service::WebOptions { listen: self.listen });
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        // Listen for SIGINT and SIGTERM before the demo replay: one sent
        // meanwhile then stops the service as soon as it starts, instead of
        // killing the process by the signal's default.
        let shutdown = {
            let _in_runtime = runtime.enter();
            service::shutdown_signal()
        };
        if let Some(url) = self
            .db
            .to_str()
            .filter(|db| complaint_monitor::store::postgres::is_url(db))
        {
            if self.demo {
                anyhow::bail!("--demo replays into a SQLite file; run it without --db postgres://…");
            }
            runtime.block_on(service::run_shared(
                config,
                url,
                web,
                std::sync::Arc::new(WallClock),
                shutdown,
            ))?;
            return Ok(ExitCode::SUCCESS);
        }
        if self.demo {
            replay_demo(&config, &self.db)?;
        }
        runtime.block_on(service::run(
            config,
            &self.db,
            web,
            std::sync::Arc::new(WallClock),
            shutdown,
        ))?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Replays the embedded demo feed moved (in whole detection buckets) to end now.
fn replay_demo(config: &Config, db: &Path) -> anyhow::Result<()> {
    // The demo stops while its incident is rising, and that moment is now.
    let live_at = complaint_monitor::demo::live_at();
    let data = complaint_monitor::demo::feed_until(live_at);
    let feed = Feed::Bytes {
        name: complaint_monitor::demo::FEED_NAME,
        data: &data,
    };
    let bucket = config.detect.bucket.0.num_seconds().max(1);
    let shift = chrono::Duration::seconds((WallClock.now() - live_at).num_seconds().div_euclid(bucket) * bucket);
    let options = ReplayOptions {
        feeds: Vec::new(),
        db: db.to_path_buf(),
        speed: Speed::Max,
        progress: false,
        time_shift: shift,
        delivery_clock: std::sync::Arc::new(WallClock),
    };
    let summary = replay::replay_feeds(config, &options, &[feed])?;
    eprintln!(
        "demo: replayed {} lines ({} new mentions, {} incidents) moved {} hours forward",
        summary.lines,
        summary.stored,
        summary.incidents_opened,
        shift.num_hours()
    );
    Ok(())
}
