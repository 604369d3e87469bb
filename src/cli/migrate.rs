use std::path::PathBuf;
use std::process::ExitCode;

use complaint_monitor::store::postgres::{self, copy};

#[derive(clap::Args)]
pub struct Args {
    /// Copy from: a SQLite file, or a postgres:// URL.
    #[arg(long)]
    from: String,
    /// Copy into: a postgres:// URL (the password from PGPASSWORD), or a
    /// SQLite file, created if missing.
    #[arg(long)]
    to: String,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        // One line per table as it is done: a long copy shows progress.
        let print = |table: &copy::TableCopy| println!("{}", serde_json::to_string(table).unwrap_or_default());
        let report = match (postgres::is_url(&self.from), postgres::is_url(&self.to)) {
            (false, true) => {
                let from = PathBuf::from(&self.from);
                if !from.is_file() {
                    anyhow::bail!("{}: no such SQLite database", from.display());
                }
                runtime.block_on(async {
                    let mut client = postgres::connect(&self.to).await?;
                    anyhow::Ok(copy::sqlite_to_postgres(&from, &mut client, print).await?)
                })?
            }
            (true, false) => runtime.block_on(async {
                let mut client = postgres::connect(&self.from).await?;
                anyhow::Ok(copy::postgres_to_sqlite(&mut client, &PathBuf::from(&self.to), print).await?)
            })?,
            _ => anyhow::bail!("one of --from and --to must be a SQLite file and the other a postgres:// URL"),
        };
        let inserted: u64 = report.iter().map(|t| t.inserted).sum();
        let rows: i64 = report.iter().map(|t| t.target_rows).sum();
        eprintln!(
            "copied {} into {}: {inserted} rows inserted, {rows} rows in {} tables, every count matching",
            postgres::redacted(&self.from),
            postgres::redacted(&self.to),
            report.len()
        );
        Ok(ExitCode::SUCCESS)
    }
}
