use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::config::Config;

#[derive(clap::Args)]
pub struct Args {
    file: PathBuf,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match Config::load(&self.file) {
            Ok(config) => {
                println!("{}: ok ({} brands)", self.file.display(), config.brands.len());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{e}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}
