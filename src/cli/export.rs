use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use complaint_monitor::export;
use complaint_monitor::store::{self, MentionFilter};

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Jsonl,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    #[arg(long)]
    brand: Option<String>,
    /// A duration back from now (24h, 7d), a date, or an RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let Format::Jsonl = self.format;
        let filter = MentionFilter {
            brand: self.brand,
            since: super::since(self.since.as_deref())?,
            ..MentionFilter::default()
        };
        let mut sink: Box<dyn Write> = match &self.out {
            Some(path) => Box::new(BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            )),
            None => Box::new(BufWriter::new(std::io::stdout().lock())),
        };
        let db = self.db.to_string_lossy();
        let n = if store::postgres::is_url(&db) {
            let (filter, sink) = (&filter, &mut sink);
            super::with_postgres(&db, |client| async move {
                Ok(export::write_jsonl_postgres(&client, filter, sink).await?)
            })?
        } else {
            let conn = store::open_read_only(&self.db)?;
            export::write_jsonl(&conn, &filter, &mut sink)?
        };
        if self.out.is_some() {
            eprintln!("exported {n} mentions");
        }
        Ok(ExitCode::SUCCESS)
    }
}
