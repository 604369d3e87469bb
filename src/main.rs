//! The `complaint-monitor` command line: parses arguments and calls the library.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use complaint_monitor::clock::{Clock, WallClock};
use complaint_monitor::commands;
use complaint_monitor::config::Config;
use complaint_monitor::enrich::sentiment::Label;
use complaint_monitor::export;
use complaint_monitor::sources::replay::{self, ReplayOptions, Speed};
use complaint_monitor::store::{self, MentionFilter};

const DEFAULT_DB: &str = "complaint-monitor.db";

#[derive(Parser)]
#[command(
    name = "complaint-monitor",
    version,
    about = "Watch brand mentions and alert on complaint spikes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay JSON Lines feeds through the pipeline in virtual time.
    Replay {
        /// Feed files, one mention per line.
        #[arg(required = true)]
        feeds: Vec<PathBuf>,
        /// Configuration file (default: the embedded demo config).
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        /// `max`, or a multiple of real time such as 60.
        #[arg(long, default_value = "max")]
        speed: Speed,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write stored mentions in the feed format, with derived fields.
    Export {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        #[arg(long)]
        brand: Option<String>,
        /// A duration back from now (24h, 7d), a date, or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List stored mentions, newest first.
    Mentions {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        #[arg(long)]
        brand: Option<String>,
        #[arg(long, value_parser = commands::parse_label)]
        label: Option<Label>,
        /// A duration back from now (24h, 7d), a date, or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Score TEXT, or each line of standard input, with VADER.
    Score {
        text: Option<String>,
        /// One JSON object per line: compound, pos, neu, neg, label.
        #[arg(long)]
        json: bool,
    },
    /// Check a configuration file and report every problem.
    CheckConfig { file: PathBuf },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Jsonl,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "complaint_monitor=info".into()),
        )
        .with_writer(io::stderr)
        .with_target(false)
        .without_time()
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    match cli.command {
        Command::Replay {
            feeds,
            config,
            db,
            speed,
            json,
        } => {
            let config = Config::load_or_demo(config.as_ref())?;
            let options = ReplayOptions {
                feeds,
                db,
                speed,
                progress: true,
            };
            let summary = replay::replay(&config, &options)?;
            if json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                print!("{summary}");
            }
        }
        Command::Export {
            db,
            format: ExportFormat::Jsonl,
            brand,
            since,
            out,
        } => {
            let conn = store::open_read_only(&db)?;
            let filter = MentionFilter {
                brand,
                since: since
                    .map(|s| commands::parse_since(&s, WallClock.now()))
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                ..MentionFilter::default()
            };
            let mut sink: Box<dyn Write> = match &out {
                Some(path) => Box::new(BufWriter::new(
                    std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
                )),
                None => Box::new(BufWriter::new(stdout.lock())),
            };
            let n = export::write_jsonl(&conn, &filter, &mut sink)?;
            if out.is_some() {
                eprintln!("exported {n} mentions");
            }
        }
        Command::Mentions {
            db,
            brand,
            label,
            since,
            limit,
            json,
        } => {
            let conn = store::open_read_only(&db)?;
            let filter = MentionFilter {
                brand,
                label,
                since: since
                    .map(|s| commands::parse_since(&s, WallClock.now()))
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                limit: Some(limit),
            };
            let mentions = store::recent_mentions(&conn, &filter)?;
            commands::print_mentions(&mentions, json, &mut stdout.lock())?;
        }
        Command::Score { text, json } => {
            commands::score(text.as_deref(), json, &mut io::stdin().lock(), &mut stdout.lock())?;
        }
        Command::CheckConfig { file } => match Config::load(&file) {
            Ok(config) => println!("{}: ok ({} brands)", file.display(), config.brands.len()),
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::FAILURE);
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
