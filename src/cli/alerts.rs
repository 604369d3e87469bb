use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use complaint_monitor::alert::{self, State};
use complaint_monitor::clock::{parse_duration_within, Clock, WallClock};
use complaint_monitor::config::Config;

use super::Database;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Incidents, newest first.
    List {
        #[arg(long, default_value = super::DEFAULT_DB)]
        db: PathBuf,
        #[arg(long, value_parser = |s: &str| s.parse::<State>())]
        state: Option<State>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[arg(long)]
        json: bool,
    },
    /// One incident with its top negative mentions.
    Show {
        id: i64,
        #[arg(long, default_value = super::DEFAULT_DB)]
        db: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Acknowledge a firing incident: someone is on it; repeats stop.
    Ack {
        id: i64,
        #[arg(long)]
        by: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long, default_value = super::DEFAULT_DB)]
        db: PathBuf,
    },
    /// Resolve an incident by hand (notifies the channels).
    Resolve {
        id: i64,
        #[arg(long, default_value = "cli")]
        by: String,
        #[arg(long, default_value = super::DEFAULT_DB)]
        db: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Mute a brand (or brand × source) for a while; incidents are still recorded.
    Silence {
        #[arg(long)]
        brand: String,
        #[arg(long)]
        source: Option<String>,
        /// How long, e.g. 2h, 1d.
        #[arg(long = "for")]
        duration: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        by: Option<String>,
        #[arg(long, default_value = super::DEFAULT_DB)]
        db: PathBuf,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let now = WallClock.now();
        let mut out = std::io::stdout().lock();
        match self.action {
            Action::List { db, state, limit, json } => {
                let incidents = alert::list_incidents(Database::open_read_only(&db)?.reader(), state, limit)?;
                for i in incidents {
                    if json {
                        writeln!(out, "{}", serde_json::to_string(&i)?)?;
                    } else {
                        let f = &i.figures;
                        writeln!(
                            out,
                            "#{:<5} {:<12} {:<8} {:<18} {}  started {}  {} negative vs {:.1} expected  reach {}{}",
                            i.id,
                            i.state.as_str(),
                            f.severity.as_str(),
                            i.brand,
                            i.source.as_deref().unwrap_or("all sources"),
                            f.started_at.format("%Y-%m-%d %H:%M"),
                            f.observed,
                            f.expected,
                            f.reach,
                            if i.silenced { "  (silenced)" } else { "" }
                        )?;
                    }
                }
            }
            Action::Show { id, db, config } => {
                let config = Config::load_or_demo(config.as_ref())?;
                let db = Database::open_read_only(&db)?;
                let incident = alert::get_incident(db.reader(), id)?;
                let (top, explanation) = alert::incident_context(db.reader(), &incident, config.detect.bucket.0, 5)?;
                let shown = serde_json::json!({"incident": incident, "top_mentions": top, "explanation": explanation});
                writeln!(out, "{}", serde_json::to_string_pretty(&shown)?)?;
            }
            Action::Ack { id, by, note, db } => {
                let i = Database::open(&db)?.transact(|tx| alert::acknowledge(tx, id, &by, note.as_deref(), now))?;
                writeln!(out, "incident {} acknowledged by {by}", i.id)?;
            }
            Action::Resolve { id, by, db, config } => {
                let config = Config::load_or_demo(config.as_ref())?;
                let i = Database::open(&db)?
                    .transact(|tx| alert::resolve_by_hand(tx, &config.alerts, id, &by, now, config.detect.bucket.0))?;
                writeln!(out, "incident {} resolved by {by}", i.id)?;
            }
            Action::Silence {
                brand,
                source,
                duration,
                reason,
                by,
                db,
            } => {
                let span = parse_duration_within(&duration, chrono::Duration::minutes(1), chrono::Duration::days(366))
                    .map_err(|e| anyhow::anyhow!("--for: {e}"))?;
                let db = Database::open(&db)?;
                let id = alert::add_silence(
                    db.reader(),
                    &brand,
                    source.as_deref(),
                    now,
                    now + span,
                    &reason,
                    by.as_deref(),
                )?;
                writeln!(out, "silence {id}: {brand} muted until {}", (now + span).to_rfc3339())?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
