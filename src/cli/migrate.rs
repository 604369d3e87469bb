use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::store::postgres::{self, copy};

#[derive(clap::Args)]
pub struct Args {
    /// The SQLite database to copy from.
    #[arg(long)]
    from: PathBuf,
    /// The PostgreSQL database to copy into, as a URL
    /// (postgres://user@host:port/db; the password from PGPASSWORD).
    #[arg(long, env = "COMPLAINT_MONITOR_PG_URL", hide_env_values = true)]
    to: String,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if postgres::is_url(&self.from.display().to_string()) {
            anyhow::bail!("copying from PostgreSQL back to SQLite is not built yet: --from takes a SQLite file");
        }
        if !postgres::is_url(&self.to) {
            anyhow::bail!("--to takes a postgres:// URL");
        }
        if !self.from.is_file() {
            anyhow::bail!("{}: no such SQLite database", self.from.display());
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let report = runtime.block_on(async {
            let mut client = postgres::connect(&self.to).await?;
            copy::sqlite_to_postgres(&self.from, &mut client, |table| {
                // One line per table as it is done: a long copy shows progress.
                println!("{}", serde_json::to_string(table).unwrap_or_default());
            })
            .await
            .map_err(anyhow::Error::from)
        })?;
        let inserted: u64 = report.iter().map(|t| t.inserted).sum();
        let rows: i64 = report.iter().map(|t| t.target_rows).sum();
        eprintln!(
            "copied {} into PostgreSQL: {inserted} rows inserted, {rows} rows in {} tables, every count matching",
            self.from.display(),
            report.len()
        );
        Ok(ExitCode::SUCCESS)
    }
}
