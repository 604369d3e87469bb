use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::config::Config;
use complaint_monitor::replay::{self, ReplayOptions, Speed};

#[derive(clap::Args)]
pub struct Args {
    /// Feed files, one mention per line.
    #[arg(required = true)]
    feeds: Vec<PathBuf>,
    /// Configuration file (default: the embedded demo config).
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
    /// `max`, or a multiple of real time such as 60.
    #[arg(long, default_value = "max")]
    speed: Speed,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = Config::load_or_demo(self.config.as_ref())?;
        let options = ReplayOptions {
            feeds: self.feeds,
            db: self.db,
            speed: self.speed,
            progress: true,
            time_shift: chrono::Duration::zero(),
            delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
        };
        let summary = replay::replay(&config, &options)?;
        if self.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            print!("{summary}");
        }
        Ok(ExitCode::SUCCESS)
    }
}
