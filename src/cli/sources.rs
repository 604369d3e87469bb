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
        let url = self.db.to_string_lossy();
        let status = if store::postgres::is_url(&url) {
            let sources = &config.sources;
            super::with_postgres(&url, |client| async move {
                Ok(complaint_monitor::sources::state::status_postgres(&client, sources).await?)
            })?
        } else {
            complaint_monitor::sources::poll::status(&store::open(&self.db)?, &config.sources)?
        };
        for s in status {
            println!("{}", serde_json::to_string(&s)?);
        }
        Ok(ExitCode::SUCCESS)
    }
}
