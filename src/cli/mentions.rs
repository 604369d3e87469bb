use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use complaint_monitor::clock::{Clock, WallClock};
use complaint_monitor::enrich::sentiment::Label;
use complaint_monitor::inbox;
use complaint_monitor::store::{self, MentionFilter};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Inbox states: open (new and assigned), all, or a list such as
    /// new,assigned (responded, ignored). Lists negative mentions
    /// unless --label says otherwise.
    #[arg(long)]
    state: Option<String>,
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
    #[arg(long)]
    brand: Option<String>,
    #[arg(long, value_parser = |s: &str| s.parse::<Label>())]
    label: Option<Label>,
    /// A duration back from now (24h, 7d), a date, or an RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: u64,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
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
    #[arg(long, default_value = super::DEFAULT_DB)]
    db: PathBuf,
}

#[derive(Subcommand)]
enum Action {
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
    /// Answer a mention on its network as the brand (the source's `reply`
    /// account): queued, then posted exactly once, by the running `run`
    /// or, when none runs, by this command.
    Reply {
        /// The mention's id.
        id: i64,
        #[arg(long)]
        text: String,
        /// Who writes it (default: $USER).
        #[arg(long, env = "USER")]
        by: String,
        /// The source to answer from, when several can.
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        config: PathBuf,
        #[arg(long, default_value = super::DEFAULT_DB)]
        db: PathBuf,
    },
    /// Take back the latest action on each mention.
    Undo {
        #[command(flatten)]
        on: ActOn,
    },
    /// Correct the scorer: set the mentions' label (negative, neutral,
    /// positive); detection, the digest and exports then count it.
    Label {
        #[command(flatten)]
        on: ActOn,
        #[arg(long = "as", value_parser = |s: &str| s.parse::<Label>())]
        label: Label,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if let Some(action) = self.action {
            return act(action);
        }
        let since = super::since(self.since.as_deref())?;
        let mut out = std::io::stdout().lock();
        let db = self.db.to_string_lossy();
        if store::postgres::is_url(&db) && self.state.is_none() {
            let filter = MentionFilter {
                brand: self.brand,
                label: self.label,
                since,
                limit: Some(self.limit),
            };
            let mentions = super::with_postgres(&db, |client| async move {
                Ok(store::postgres::read::recent_mentions(&client, &filter).await?)
            })?;
            super::text::print_mentions(&mentions, self.json, &mut out)?;
            return Ok(ExitCode::SUCCESS);
        }
        let now = WallClock.now();
        match self.state {
            // With --state, the response inbox: highest priority first.
            Some(states) => {
                let query = inbox::Query {
                    brand: self.brand,
                    // The inbox is about complaints unless asked otherwise.
                    label: self.label.or(Some(Label::Negative)),
                    states: inbox::parse_states(&states).map_err(|e| anyhow::anyhow!("--state: {e}"))?,
                    since,
                    limit: u32::try_from(self.limit)
                        .unwrap_or(inbox::MAX_PAGE)
                        .min(inbox::MAX_PAGE),
                    ..inbox::Query::default()
                };
                let page = inbox::page(super::Database::open_read_only(&self.db)?.reader(), &query, now)?;
                super::text::print_inbox(&page, self.json, &mut out)?;
            }
            None => {
                let filter = MentionFilter {
                    brand: self.brand,
                    label: self.label,
                    since,
                    limit: Some(self.limit),
                };
                let mentions = store::recent_mentions(&store::open_read_only(&self.db)?, &filter)?;
                super::text::print_mentions(&mentions, self.json, &mut out)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn act(action: Action) -> anyhow::Result<ExitCode> {
    let (on, action) = match action {
        Action::Respond { on, reply_url, note } => (on, inbox::Action::Respond { reply_url, note }),
        Action::Assign { on, to } => (on, inbox::Action::Assign { assignee: to }),
        Action::Ignore { on, note } => (on, inbox::Action::Ignore { note }),
        Action::Undo { on } => (on, inbox::Action::Undo),
        Action::Label { on, label } => return correct_labels(on, label),
        Action::Reply {
            id,
            text,
            by,
            account,
            config,
            db,
        } => return reply(id, &text, &by, account.as_deref(), &config, &db),
    };
    let mut conn = store::open(&on.db)?;
    let tx = conn.transaction()?;
    let changed = inbox::apply(&tx, &on.ids, &action, &on.by, WallClock.now())?;
    tx.commit()?;
    let mut out = std::io::stdout().lock();
    for c in changed {
        writeln!(out, "mention {} is now {}", c.mention_id, c.state)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `mentions label IDS --as LABEL`: every id corrected, or none.
fn correct_labels(on: ActOn, label: Label) -> anyhow::Result<ExitCode> {
    let mut conn = store::open(&on.db)?;
    let tx = conn.transaction()?;
    let now = WallClock.now();
    let mut done = Vec::new();
    for id in &on.ids {
        done.push(complaint_monitor::corrections::correct(&tx, *id, label, &on.by, now)?);
    }
    tx.commit()?;
    let mut out = std::io::stdout().lock();
    for c in done {
        writeln!(
            out,
            "mention {} is now {} (the scorer said {})",
            c.mention_id, c.to, c.computed
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Longest `mentions reply` waits for its reply to be posted.
const REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(90);

/// `mentions reply ID --text …`: queues the reply; posts it when no
/// service holds the database (the service posts it otherwise).
fn reply(
    id: i64,
    text: &str,
    by: &str,
    account: Option<&str>,
    config: &std::path::Path,
    db: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    use complaint_monitor::reply::{self, ReplyStatus};
    let config = complaint_monitor::config::Config::load(config)?;
    let queued = {
        let mut conn = store::open(db)?;
        let tx = conn.transaction()?;
        let queued = reply::queue(&tx, &config.sources, id, account, text, by, WallClock.now())?;
        tx.commit()?;
        queued
    };
    let (writer, handle) =
        match complaint_monitor::store::writer::Writer::start_with(db, &config.store, config.grouper()) {
            Ok(started) => started,
            Err(store::StoreError::Locked { holder, .. }) => {
                println!("reply {} queued; the running service ({holder}) posts it", queued.id);
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => return Err(e.into()),
        };
    let limiters = complaint_monitor::sources::poll::Limiters::new(&config.sources);
    let sender = reply::Sender::new(&config.sources, &limiters, db, handle, std::sync::Arc::new(WallClock))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let settled = runtime.block_on(sender.send_until_settled(queued.id, tokio::time::Instant::now() + REPLY_WAIT));
    drop(sender);
    writer.finish()?;
    let settled = settled?;
    match settled.status {
        ReplyStatus::Posted => {
            println!(
                "mention {id} answered on {}: {}",
                settled.network,
                settled.url.as_deref().unwrap_or("(the network gave no link)")
            );
            Ok(ExitCode::SUCCESS)
        }
        ReplyStatus::Failed => {
            eprintln!(
                "the reply was not posted: {}",
                settled.last_error.as_deref().unwrap_or("no reason given")
            );
            Ok(ExitCode::FAILURE)
        }
        ReplyStatus::Queued | ReplyStatus::Sending => {
            println!(
                "reply {} is not posted yet ({}); `run` goes on trying",
                settled.id,
                settled.last_error.as_deref().unwrap_or("waiting")
            );
            Ok(ExitCode::from(3))
        }
    }
}
