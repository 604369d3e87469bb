use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::config::Config;
use complaint_monitor::store;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    config: PathBuf,
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = Config::load(&self.config)?;
        let conn = store::open(&self.db)?;
        for s in complaint_monitor::sources::poll::status(&conn, &config.sources)? {
            println!("{}", serde_json::to_string(&s)?);
        }
        Ok(ExitCode::SUCCESS)
    }
}
