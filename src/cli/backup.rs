use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::store;

#[derive(clap::Args)]
pub struct Args {
    file: PathBuf,
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let pages = store::backup(&self.db, &self.file)?;
        println!(
            "backed up {} ({pages} pages) to {}",
            self.db.display(),
            self.file.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}
