//! The command line: one file per subcommand, each a clap `Args` with a
//! `run` (as atuin's `command/` and mini-redis's `cmd/`). Commands read the
//! wall clock here, and hand it to the library as a time or a [`Clock`].
//!
//! [`Clock`]: complaint_monitor::clock::Clock

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod alerts;
mod backtest;
mod backup;
mod check_config;
mod digest;
mod export;
mod matches;
mod mentions;
mod migrate;
mod poll_once;
mod prune;
mod replay;
mod run;
mod score;
mod sources;
mod text;
mod users;

/// The database a command uses unless `--db` says otherwise.
pub const DEFAULT_DB: &str = "complaint-monitor.db";

#[derive(Parser)]
#[command(
    name = "complaint-monitor",
    version,
    about = "Watch brand mentions and alert on complaint spikes"
)]
pub struct Cli {
    /// How logs are written to standard error: text, or one JSON object
    /// per line (for Loki, Elasticsearch and the like).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Replay JSON Lines feeds through the pipeline in virtual time.
    Replay(replay::Args),
    /// Write stored mentions in the feed format, with derived fields.
    Export(export::Args),
    /// List stored mentions, newest first; with --state, the response
    /// inbox (highest priority first). Or record what was done about them.
    Mentions(mentions::Args),
    /// Score TEXT, or each line of standard input, with VADER.
    Score(score::Args),
    /// Whether each brand matches TEXT, and which keyword or query clause
    /// decides it.
    Match(matches::Args),
    /// Check a configuration file and report every problem.
    CheckConfig(check_config::Args),
    /// Run the spike detector over history and print every incident it
    /// would have raised, one JSON object per line.
    Backtest(backtest::Args),
    /// The daily digest of one calendar day: volume, sentiment, NPS,
    /// incidents, top negative mentions, complaints, sources.
    Digest(digest::Args),
    /// Copy the database to FILE with SQLite's online backup API (safe while
    /// the service writes).
    Backup(backup::Args),
    /// Delete mentions older than a span (e.g. 180d), in small batches.
    Prune(prune::Args),
    /// Copy a SQLite database into PostgreSQL (ids kept, resumable, counts
    /// checked); running it again changes nothing.
    Migrate(migrate::Args),
    /// The long-running service: poll every source, detect spikes, deliver
    /// alerts and digests, until SIGINT or SIGTERM.
    Run(run::Args),
    /// Poll every configured source (or one) once, store what is new, and
    /// say what each fetched; exits non-zero if a source failed.
    PollOnce(poll_once::Args),
    /// List the configured sources with their cursor, last success, last
    /// error and rate-limit state.
    Sources(sources::Args),
    /// Work with incidents: list, show, acknowledge, resolve, silence.
    Alerts(alerts::Args),
    /// The accounts that sign in to the web UI and API: add, list, disable,
    /// enable, reset, token.
    Users(users::Args),
}

impl Cli {
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }

    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Replay(args) => args.run(),
            Command::Export(args) => args.run(),
            Command::Mentions(args) => args.run(),
            Command::Score(args) => args.run(),
            Command::Match(args) => args.run(),
            Command::CheckConfig(args) => args.run(),
            Command::Backtest(args) => args.run(),
            Command::Digest(args) => args.run(),
            Command::Backup(args) => args.run(),
            Command::Prune(args) => args.run(),
            Command::Migrate(args) => args.run(),
            Command::Run(args) => args.run(),
            Command::PollOnce(args) => args.run(),
            Command::Sources(args) => args.run(),
            Command::Alerts(args) => args.run(),
            Command::Users(args) => args.run(),
        }
    }
}

/// A `--since` value against the wall clock, naming the flag.
/// Runs `work` on a connection to the PostgreSQL database at `url`
/// (migrated first, as a SQLite file is on opening), on a runtime of its
/// own: the commands are synchronous.
fn with_postgres<T, F, Fut>(url: &str, work: F) -> anyhow::Result<T>
where
    F: FnOnce(tokio_postgres::Client) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = complaint_monitor::store::postgres::open(url).await?;
        work(client).await
    })
}

/// The database of a synchronous command that reads and writes through
/// [`Sql`]: a SQLite file, or a PostgreSQL database (migrated first, as a
/// SQLite file is on opening) driven by a runtime of the command's own,
/// whose worker thread answers while this one waits.
///
/// [`Sql`]: complaint_monitor::store::sql::Sql
enum Database {
    Sqlite(rusqlite::Connection),
    // The pool goes before the runtime that drives it.
    Postgres {
        db: complaint_monitor::store::sql::PgBlocking,
        _runtime: tokio::runtime::Runtime,
    },
}

impl Database {
    /// `db` read-write (a SQLite file is created if missing).
    fn open(db: &std::path::Path) -> anyhow::Result<Database> {
        Self::open_with(db, complaint_monitor::store::open)
    }

    fn open_read_only(db: &std::path::Path) -> anyhow::Result<Database> {
        Self::open_with(db, complaint_monitor::store::open_read_only)
    }

    fn open_with(
        db: &std::path::Path,
        sqlite: fn(&std::path::Path) -> Result<rusqlite::Connection, complaint_monitor::store::StoreError>,
    ) -> anyhow::Result<Database> {
        use complaint_monitor::store::postgres;
        let url = db.to_string_lossy();
        if !postgres::is_url(&url) {
            return Ok(Database::Sqlite(sqlite(db)?));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let pool = runtime.block_on(postgres::pool(&url, 1))?;
        let handle = runtime.handle().clone();
        Ok(Database::Postgres {
            db: complaint_monitor::store::sql::PgBlocking::new(pool, handle),
            _runtime: runtime,
        })
    }

    fn reader(&self) -> &dyn complaint_monitor::store::sql::Sql {
        match self {
            Database::Sqlite(conn) => conn,
            Database::Postgres { db, .. } => db,
        }
    }

    /// Runs `job` in one transaction; commits if it succeeds.
    fn transact<T>(
        &mut self,
        mut job: impl FnMut(&dyn complaint_monitor::store::sql::Sql) -> Result<T, complaint_monitor::store::StoreError>,
    ) -> anyhow::Result<T> {
        match self {
            Database::Sqlite(conn) => {
                let tx = conn.transaction()?;
                let value = job(&tx)?;
                tx.commit()?;
                Ok(value)
            }
            Database::Postgres { db, .. } => Ok(db.transact(None, &mut job)?),
        }
    }
}

fn since(value: Option<&str>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    use complaint_monitor::clock::{Clock, WallClock};
    value
        .map(|s| complaint_monitor::clock::parse_since(s, WallClock.now()))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))
}
