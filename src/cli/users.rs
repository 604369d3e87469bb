//! `users`: the accounts that may sign in to `run`'s web UI and API. While
//! there are none, `run` serves loopback without a login (for one person
//! trying it); once there is one, everyone signs in.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use complaint_monitor::accounts::{self, Role};
use complaint_monitor::clock::{Clock, WallClock};
use complaint_monitor::store;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[arg(long, global = true, default_value = super::DEFAULT_DB)]
    db: PathBuf,
}

#[derive(Subcommand)]
enum Action {
    /// Add a user. The password is asked for on the terminal, or read as the
    /// first line of standard input with --password-stdin.
    Add {
        name: String,
        /// agent (works the inbox), manager (also alerts and silences),
        /// admin (also the users).
        #[arg(long, value_parser = |s: &str| s.parse::<Role>())]
        role: Role,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every user with their role and state.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop a user signing in; their sessions and API tokens end at once.
    Disable { name: String },
    /// Let a disabled user sign in again.
    Enable { name: String },
    /// Set a new password; every session and API token of the user ends.
    Reset {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print a new API token for the user's scripts (`Authorization: Bearer`);
    /// it is shown once and acts with the user's role.
    Token {
        name: String,
        /// What the token is for, to recognise it later.
        #[arg(long, default_value = "")]
        label: String,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let now = WallClock.now();
        let conn = store::open(&self.db)?;
        let mut out = std::io::stdout().lock();
        match self.action {
            Action::Add {
                name,
                role,
                password_stdin,
            } => {
                accounts::check_name(&name)?;
                let password = read_password(password_stdin)?;
                let user = accounts::add(&conn, &name, role, &password, now)?;
                writeln!(out, "added {} ({})", user.name, user.role)?;
            }
            Action::List { json } => {
                let users = accounts::list(&conn)?;
                if json {
                    for user in &users {
                        writeln!(out, "{}", serde_json::to_string(user)?)?;
                    }
                } else if users.is_empty() {
                    writeln!(
                        out,
                        "no users: run serves loopback without a login. Add one with `users add NAME --role admin`."
                    )?;
                } else {
                    writeln!(out, "{:<24} {:<8} {:<9} last sign-in", "name", "role", "state")?;
                    for u in users {
                        let last = u.last_login_at.map_or("never".to_string(), |t| t.to_rfc3339());
                        let state = if u.disabled { "disabled" } else { "active" };
                        writeln!(out, "{:<24} {:<8} {:<9} {last}", u.name, u.role, state)?;
                    }
                }
            }
            Action::Disable { name } => {
                let user = accounts::set_disabled(&conn, &name, true, now)?;
                writeln!(out, "disabled {}; their sessions and tokens have ended", user.name)?;
            }
            Action::Enable { name } => {
                let user = accounts::set_disabled(&conn, &name, false, now)?;
                writeln!(out, "enabled {}", user.name)?;
            }
            Action::Reset { name, password_stdin } => {
                accounts::find(&conn, &name)?;
                let password = read_password(password_stdin)?;
                let user = accounts::reset_password(&conn, &name, &password)?;
                writeln!(
                    out,
                    "new password set for {}; their sessions and tokens have ended",
                    user.name
                )?;
            }
            Action::Token { name, label } => {
                let token = accounts::new_token(&conn, &name, &label, now)?;
                writeln!(out, "{token}")?;
                if std::io::stderr().is_terminal() {
                    eprintln!("Shown once: keep it in your secret store. It acts as {name}.");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// A new password: from standard input's first line, or asked twice on the
/// terminal (never echoed).
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(accounts::MAX_PASSWORD_BYTES as u64 + 2)
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        accounts::check_password(&password)?;
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password on: pass it on standard input with --password-stdin");
    }
    let password = rpassword::prompt_password("Password: ")?;
    accounts::check_password(&password)?;
    if rpassword::prompt_password("Again: ")? != password {
        bail!("the two passwords differ");
    }
    Ok(password)
}
