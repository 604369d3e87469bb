//! The `complaint-monitor` command line: parses arguments and calls the library.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use complaint_monitor::alert::channels::Secret;
use complaint_monitor::alert::{self, State};
use complaint_monitor::clock::{parse_duration, parse_duration_within, Clock, Span, WallClock, MAX_DURATION};
use complaint_monitor::commands;
use complaint_monitor::config::Config;
use complaint_monitor::detect::backtest;
use complaint_monitor::digest;
use complaint_monitor::enrich::sentiment::Label;
use complaint_monitor::export;
use complaint_monitor::inbox;
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
    /// List stored mentions, newest first; with --state, the response
    /// inbox (highest priority first). Or record what was done about them.
    #[command(args_conflicts_with_subcommands = true)]
    Mentions {
        #[command(subcommand)]
        action: Option<MentionsAction>,
        /// Inbox states: open (new and assigned), all, or a list such as
        /// new,assigned (responded, ignored). Lists negative mentions
        /// unless --label says otherwise.
        #[arg(long)]
        state: Option<String>,
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
    /// Run the spike detector over history and print every incident it
    /// would have raised, one JSON object per line.
    Backtest {
        /// Stored mentions to replay the detector over.
        #[arg(long, conflicts_with = "csv", required_unless_present = "csv")]
        db: Option<PathBuf>,
        /// A `timestamp,value` series of negative-mention counts instead.
        #[arg(long)]
        csv: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        brand: Option<String>,
        /// A duration back from now, a date, or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Bucket width (default: the config's), e.g. 5m, 1h; it must
        /// divide an hour, as `[detect] bucket` must.
        #[arg(long)]
        bucket: Option<String>,
        /// How many alerts on normal data: fewer (about 0.5 a week),
        /// balanced (about 1) or more (about 3); default: the config's.
        #[arg(long)]
        sensitivity: Option<complaint_monitor::detect::calibrate::Sensitivity>,
    },
    /// The daily digest of one calendar day: volume, sentiment, NPS,
    /// incidents, top negative mentions, complaints, sources.
    Digest {
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        brand: Option<String>,
        /// YYYY-MM-DD (default: yesterday in the time zone).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// IANA time zone (default: the config's `digest.tz`).
        #[arg(long)]
        tz: Option<String>,
        #[arg(long, value_enum, default_value_t = DigestFormat::Md)]
        format: DigestFormat,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Instead: send every digest that is due to the configured targets
        /// (`digest.directory`, `digest.email_channel`), each exactly once.
        #[arg(long, conflicts_with_all = ["date", "out", "brand"])]
        send_due: bool,
    },
    /// Copy the database to FILE with SQLite's online backup API (safe while
    /// the service writes).
    Backup {
        file: PathBuf,
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
    },
    /// Delete mentions older than a span (e.g. 180d), in small batches.
    Prune {
        #[arg(long)]
        older_than: String,
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
    },
    /// The long-running service: poll every source, detect spikes, deliver
    /// alerts and digests, until SIGINT or SIGTERM.
    Run {
        /// Without one, the embedded default: an example brand on the
        /// sources that need no key, plus the demo brands.
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        /// Where to serve the web UI and API. Any address but loopback
        /// needs an access token in COMPLAINT_MONITOR_TOKEN.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Do not serve the web UI and API.
        #[arg(long)]
        no_web: bool,
        /// First replay the demo feed, moved in time to end now, so the
        /// inbox, alerts and charts have data even offline.
        #[arg(long)]
        demo: bool,
    },
    /// Poll every configured source (or one) once, store what is new, and
    /// say what each fetched; exits non-zero if a source failed.
    PollOnce {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
        #[arg(long)]
        source: Option<String>,
    },
    /// List the configured sources with their cursor, last success, last
    /// error and rate-limit state.
    Sources {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
    },
    /// Work with incidents: list, show, acknowledge, resolve, silence.
    Alerts {
        #[command(subcommand)]
        action: AlertsAction,
    },
}

/// Who acts, and on which database: shared by the inbox actions.
#[derive(clap::Args)]
struct ActOn {
    /// Mention ids (the first column of `mentions --state open`).
    #[arg(required = true)]
    ids: Vec<i64>,
    /// Who is acting (default: $USER).
    #[arg(long, env = "USER")]
    by: String,
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
}

#[derive(Subcommand)]
enum MentionsAction {
    /// Mark mentions answered, with where the reply is or a note.
    Respond {
        #[command(flatten)]
        on: ActOn,
        #[arg(long)]
        reply_url: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Assign mentions to a person.
    Assign {
        #[command(flatten)]
        on: ActOn,
        #[arg(long)]
        to: String,
    },
    /// Mark mentions as not ours to answer (spam, not about us).
    Ignore {
        #[command(flatten)]
        on: ActOn,
        #[arg(long)]
        note: Option<String>,
    },
    /// Take back the latest action on each mention.
    Undo {
        #[command(flatten)]
        on: ActOn,
    },
}

#[derive(Subcommand)]
enum AlertsAction {
    /// Incidents, newest first.
    List {
        #[arg(long, default_value = DEFAULT_DB)]
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
        #[arg(long, default_value = DEFAULT_DB)]
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
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
    },
    /// Resolve an incident by hand (notifies the channels).
    Resolve {
        id: i64,
        #[arg(long, default_value = "cli")]
        by: String,
        #[arg(long, default_value = DEFAULT_DB)]
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
        #[arg(long, default_value = DEFAULT_DB)]
        db: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum DigestFormat {
    Md,
    Html,
    Json,
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
                time_shift: chrono::Duration::zero(),
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
            action: Some(action), ..
        } => {
            let (on, action) = match action {
                MentionsAction::Respond { on, reply_url, note } => (on, inbox::Action::Respond { reply_url, note }),
                MentionsAction::Assign { on, to } => (on, inbox::Action::Assign { assignee: to }),
                MentionsAction::Ignore { on, note } => (on, inbox::Action::Ignore { note }),
                MentionsAction::Undo { on } => (on, inbox::Action::Undo),
            };
            let mut conn = store::open(&on.db)?;
            let tx = conn.transaction()?;
            let changed = inbox::apply(&tx, &on.ids, &action, &on.by, WallClock.now())?;
            tx.commit()?;
            for c in changed {
                writeln!(stdout.lock(), "mention {} is now {}", c.mention_id, c.state)?;
            }
        }
        Command::Mentions {
            action: None,
            state,
            db,
            brand,
            label,
            since,
            limit,
            json,
        } => {
            let conn = store::open_read_only(&db)?;
            let now = WallClock.now();
            let since = since
                .map(|s| commands::parse_since(&s, now))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            match state {
                // With --state, the response inbox: highest priority first.
                Some(states) => {
                    inbox::register_priority(&conn)?;
                    let query = inbox::Query {
                        brand,
                        // The inbox is about complaints unless asked otherwise.
                        label: label.or(Some(Label::Negative)),
                        states: inbox::parse_states(&states).map_err(anyhow::Error::msg)?,
                        since,
                        limit: u32::try_from(limit).unwrap_or(inbox::MAX_PAGE).min(inbox::MAX_PAGE),
                        ..inbox::Query::default()
                    };
                    let page = inbox::page(&conn, &query, now)?;
                    commands::print_inbox(&page, json, &mut stdout.lock())?;
                }
                None => {
                    let filter = MentionFilter {
                        brand,
                        label,
                        since,
                        limit: Some(limit),
                    };
                    let mentions = store::recent_mentions(&conn, &filter)?;
                    commands::print_mentions(&mentions, json, &mut stdout.lock())?;
                }
            }
        }
        Command::Score { text, json } => {
            commands::score(text.as_deref(), json, &mut io::stdin().lock(), &mut stdout.lock())?;
        }
        Command::Backtest {
            db,
            csv,
            config,
            brand,
            since,
            bucket,
            sensitivity,
        } => {
            let mut config = Config::load_or_demo(config.as_ref())?;
            if let Some(bucket) = bucket {
                config.detect.bucket = Span(parse_duration(&bucket).map_err(|e| anyhow::anyhow!("--bucket: {e}"))?);
            }
            if let Some(sensitivity) = sensitivity {
                config.detect.sensitivity = sensitivity;
            }
            if let Some((key, problem)) = config.detect.problems().into_iter().next() {
                let flag = if key == "bucket" {
                    "--bucket".to_string()
                } else {
                    format!("[detect] {key}")
                };
                anyhow::bail!("{flag} {problem}");
            }
            let since = since
                .map(|s| commands::parse_since(&s, WallClock.now()))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let reports = if let Some(path) = csv {
                let file = std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
                let (series, rejected) = backtest::read_csv(&mut io::BufReader::new(file), &config.detect)?;
                for r in &rejected {
                    eprintln!("{}:{}: rejected: {}", path.display(), r.line, r.reason);
                }
                let series = series.into_iter().filter(|c| since.is_none_or(|s| c.start >= s));
                backtest::run(&config.detect, brand.as_deref().unwrap_or("series"), None, series)
            } else {
                let db = db.context("--db or --csv is required")?;
                let conn = store::open_read_only(&db)?;
                backtest::run_db(&conn, &config, brand.as_deref(), since, WallClock.now())?
            };
            let mut out = stdout.lock();
            for r in reports {
                writeln!(out, "{}", serde_json::to_string(&r)?)?;
            }
        }
        Command::Alerts { action } => return alerts(action),
        Command::Run {
            config,
            db,
            listen,
            no_web,
            demo,
        } => {
            let config = Config::load_or_default_run(config.as_ref())?;
            let token = std::env::var(complaint_monitor::web::TOKEN_ENV)
                .ok()
                .filter(|t| !t.trim().is_empty())
                .map(Secret::new);
            let web = (!no_web).then_some(complaint_monitor::service::WebOptions { listen, token });
            if demo {
                replay_demo(&config, &db)?;
            }
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(async {
                let shutdown = complaint_monitor::service::shutdown_signal();
                complaint_monitor::service::run(config, &db, web, shutdown).await
            })?;
        }
        Command::PollOnce { config, db, source } => return poll_once(&config, &db, source.as_deref()),
        Command::Sources { config, db } => {
            let config = Config::load(&config)?;
            let conn = store::open(&db)?;
            for s in complaint_monitor::sources::poll::status(&conn, &config)? {
                println!("{}", serde_json::to_string(&s)?);
            }
        }
        Command::Backup { file, db } => {
            let pages = store::backup(&db, &file)?;
            println!("backed up {} ({pages} pages) to {}", db.display(), file.display());
        }
        Command::Prune { older_than, db } => {
            let span = parse_duration_within(&older_than, chrono::Duration::seconds(1), MAX_DURATION)
                .map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
            let _lock = store::WriterLock::acquire(&db)?;
            let mut conn = store::open(&db)?;
            let deleted = store::prune(&mut conn, WallClock.now() - span, 5000)?;
            println!("deleted {deleted} mentions older than {older_than}");
        }
        Command::Digest {
            db,
            config,
            brand,
            date,
            tz,
            format,
            out,
            send_due,
        } => {
            let mut config = Config::load_or_demo(config.as_ref())?;
            if send_due {
                if let Some(tz) = tz {
                    config.digest.tz = tz;
                }
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let sent = runtime.block_on(digest::schedule::send_due(&config, &db, WallClock.now()))?;
                for s in &sent {
                    println!("sent the {} digest of {} to {}", s.brand, s.date, s.target);
                }
                if sent.is_empty() {
                    println!("no digest due");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let tz = tz.unwrap_or_else(|| config.digest.tz.clone());
            let zone: chrono_tz::Tz = tz
                .parse()
                .map_err(|_| anyhow::anyhow!("{tz:?} is not an IANA time zone (e.g. Europe/London)"))?;
            let date = date.unwrap_or_else(|| digest::yesterday(WallClock.now(), zone));
            let conn = store::open_read_only(&db)?;
            let computed = digest::compute(&conn, &config, brand.as_deref(), date, &tz)?;
            let text = match format {
                DigestFormat::Md => digest::render::markdown(&computed),
                DigestFormat::Html => digest::render::html(&computed),
                DigestFormat::Json => digest::render::json(&computed),
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?
                }
                None => writeln!(stdout.lock(), "{text}")?,
            }
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

fn alerts(action: AlertsAction) -> anyhow::Result<ExitCode> {
    let now = WallClock.now();
    let mut out = io::stdout().lock();
    match action {
        AlertsAction::List { db, state, limit, json } => {
            let conn = store::open_read_only(&db)?;
            for i in alert::list_incidents(&conn, state, limit)? {
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
        AlertsAction::Show { id, db, config } => {
            let config = Config::load_or_demo(config.as_ref())?;
            let conn = store::open_read_only(&db)?;
            let incident = alert::get_incident(&conn, id)?;
            let (top, explanation) = alert::incident_context(&conn, &incident, config.detect.bucket.0, 5)?;
            let shown = serde_json::json!({"incident": incident, "top_mentions": top, "explanation": explanation});
            writeln!(out, "{}", serde_json::to_string_pretty(&shown)?)?;
        }
        AlertsAction::Ack { id, by, note, db } => {
            let mut conn = store::open(&db)?;
            let tx = conn.transaction()?;
            let i = alert::acknowledge(&tx, id, &by, note.as_deref(), now)?;
            tx.commit()?;
            writeln!(out, "incident {} acknowledged by {by}", i.id)?;
        }
        AlertsAction::Resolve { id, by, db, config } => {
            let config = Config::load_or_demo(config.as_ref())?;
            let mut conn = store::open(&db)?;
            let tx = conn.transaction()?;
            let i = alert::resolve_by_hand(&tx, &config.alerts, id, &by, now, config.detect.bucket.0)?;
            tx.commit()?;
            writeln!(out, "incident {} resolved by {by}", i.id)?;
        }
        AlertsAction::Silence {
            brand,
            source,
            duration,
            reason,
            by,
            db,
        } => {
            let span = parse_duration_within(&duration, chrono::Duration::minutes(1), chrono::Duration::days(366))
                .map_err(|e| anyhow::anyhow!("--for: {e}"))?;
            let conn = store::open(&db)?;
            let id = alert::add_silence(
                &conn,
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

fn poll_once(config: &std::path::Path, db: &std::path::Path, only: Option<&str>) -> anyhow::Result<ExitCode> {
    use complaint_monitor::sources::poll::{sources, Poller};
    use complaint_monitor::store::writer::Writer;
    let config = Config::load(config)?;
    let chosen: Vec<_> = sources(&config)
        .into_iter()
        .filter(|s| only.is_none_or(|name| s.config.name == name))
        .collect();
    if chosen.is_empty() {
        anyhow::bail!(
            "no source {} in the config",
            only.map_or("at all".to_string(), |n| format!("named {n:?}"))
        );
    }
    let (writer, handle) = Writer::start_with(db, &config.store)?;
    let poller = Poller::new(&config, db, handle, std::sync::Arc::new(WallClock)).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let reports = runtime.block_on(futures::future::join_all(chosen.iter().map(|s| poller.poll(s))));
    drop(poller);
    writer.finish()?;
    let mut failed = false;
    for r in &reports {
        let state = match (&r.error, r.rate_limited_until) {
            (Some(e), _) => {
                failed = true;
                format!("FAILED: {e}")
            }
            (None, Some(until)) => format!("rate limited until {}", until.to_rfc3339()),
            (None, None) => "ok".to_string(),
        };
        println!(
            "{}: {} pages, {} fetched, {} new, {} already stored ({} revised), {} unmatched, {} unreadable; {state}",
            r.source,
            r.pages,
            r.fetched,
            r.stored,
            r.duplicates,
            r.revised,
            r.unmatched,
            r.rejected.len()
        );
        for reason in r.rejected.iter().take(5) {
            eprintln!("{}: rejected an item: {reason}", r.source);
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The demo feed shipped with the source tree.
const DEMO_FEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo/feed.jsonl");

/// Replays the demo feed moved (in whole detection buckets) to end now.
fn replay_demo(config: &Config, db: &std::path::Path) -> anyhow::Result<()> {
    let feed = PathBuf::from(DEMO_FEED);
    let Some(end) = replay::latest_time(&feed)? else {
        anyhow::bail!("the demo feed {} has no readable mention", feed.display());
    };
    let bucket = config.detect.bucket.0.num_seconds().max(1);
    let shift = chrono::Duration::seconds((WallClock.now() - end).num_seconds().div_euclid(bucket) * bucket);
    let summary = replay::replay(
        config,
        &ReplayOptions {
            feeds: vec![feed],
            db: db.to_path_buf(),
            speed: Speed::Max,
            progress: false,
            time_shift: shift,
        },
    )?;
    eprintln!(
        "demo: replayed {} lines ({} new mentions, {} incidents) moved {} hours forward",
        summary.lines,
        summary.stored,
        summary.incidents_opened,
        shift.num_hours()
    );
    Ok(())
}
