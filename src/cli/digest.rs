use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use complaint_monitor::clock::{Clock, WallClock};
use complaint_monitor::config::Config;
use complaint_monitor::digest;

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Md,
    Html,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    brand: Option<String>,
    /// YYYY-MM-DD (default: yesterday in the time zone).
    #[arg(long)]
    date: Option<chrono::NaiveDate>,
    /// IANA time zone (default: the config's `digest.tz`).
    #[arg(long)]
    tz: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Md)]
    format: Format,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Instead: send every digest that is due to the configured targets
    /// (`digest.directory`, `digest.email_channel`), each exactly once.
    #[arg(long, conflicts_with_all = ["date", "out", "brand"])]
    send_due: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut config = Config::load_or_demo(self.config.as_ref())?;
        if self.send_due {
            if let Some(tz) = self.tz {
                config.digest.tz = tz;
            }
            // A worker answers PostgreSQL while the digest is read on a blocking thread.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            let url = self.db.to_string_lossy();
            let db = if complaint_monitor::store::postgres::is_url(&url) {
                let pool = runtime.block_on(complaint_monitor::store::postgres::pool(&url, 2))?;
                digest::schedule::DigestDb::Postgres(complaint_monitor::store::sql::PgBlocking::new(
                    pool,
                    runtime.handle().clone(),
                ))
            } else {
                digest::schedule::DigestDb::from(&self.db)
            };
            let sent = runtime.block_on(digest::schedule::send_due(
                &config.brands,
                &config.inbox,
                &config.digest,
                &config.alerts.channels,
                db,
                WallClock.now(),
            ))?;
            for s in &sent {
                println!("sent the {} digest of {} to {}", s.brand, s.date, s.target);
            }
            if sent.is_empty() {
                println!("no digest due");
            }
            return Ok(ExitCode::SUCCESS);
        }
        let tz = self.tz.unwrap_or_else(|| config.digest.tz.clone());
        let zone: chrono_tz::Tz = tz
            .parse()
            .map_err(|_| anyhow::anyhow!("{tz:?} is not an IANA time zone (e.g. Europe/London)"))?;
        let date = self.date.unwrap_or_else(|| digest::yesterday(WallClock.now(), zone));
        let db = super::Database::open_read_only(&self.db)?;
        let computed = digest::compute(
            db.reader(),
            &config.brands,
            &config.inbox,
            self.brand.as_deref(),
            date,
            &tz,
        )?;
        let text = match self.format {
            Format::Md => digest::render::markdown(&computed),
            Format::Html => digest::render::html(&computed),
            Format::Json => digest::render::json(&computed),
        };
        match self.out {
            Some(path) => std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?,
            None => writeln!(std::io::stdout().lock(), "{text}")?,
        }
        Ok(ExitCode::SUCCESS)
    }
}
