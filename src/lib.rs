//! complaint-monitor watches what people say about a brand on social networks
//! and review sites, and tells the brand's people in time to act.
//!
//! A mention flows through one pipeline, the same in live polling and in
//! replay:
//!
//! ```text
//!  sources ──► enrich ──────────────► store ──► detect ──► alert
//!  (replay,    (match brand, VADER,   (SQLite,      │
//!   pollers)    reach)                 one writer)  └──► inbox, web, digest
//! ```
//!
//! The map of the crate, bottom-up (no module names one above it;
//! `tests/it/architecture.rs` checks it):
//!
//! Bottom: data and plumbing every stage shares.
//!
//! * [`mention`]: the [`Mention`](mention::Mention) type every source
//!   produces and the JSON Lines feed format (the contract between stages);
//!   [`mention::scored`] is a mention with its sentiment, label and reach.
//! * [`brand`]: the watched brands' definitions.
//! * [`clock`]: wall and virtual time; nothing below the drivers reads the
//!   system clock directly.
//! * [`http`]: the HTTP client, failure descriptions without URLs,
//!   `Retry-After`, capped body reads: written once for sources, channels
//!   and the digest.
//! * [`secret`]: a configured secret that never prints.
//! * [`metrics`]: the names behind `/metrics`.
//! * [`demo`]: the demo feed compiled into the binary (`run --demo`).
//!
//! Stages, each taking its own part of the configuration:
//!
//! * [`enrich`]: brand matching, sentiment (VADER, in the
//!   `vader-sentiment` workspace crate) and reach estimation.
//! * [`terms`]: the tokenizer for complaint terms (digest and alert explanations).
//! * [`detect`]: per-bucket baselines and spike tests, incidents, `backtest`
//!   (pure: it reads no store).
//! * [`spam`]: copy-paste campaigns, bursts from one account, blocklists
//!   and learnt authors, decided as each mention is stored, so that they
//!   weigh less in detection and show as one row in the inbox.
//! * [`store`]: SQLite schema and migrations, the single writer thread,
//!   read queries; `store::postgres`, PostgreSQL's twin schema, the copy
//!   between the two (`migrate`), its read commands, the leases that
//!   share work among processes, and fenced ingestion of polled mentions.
//! * [`pipeline`]: enrich, stamp with the clock, batch for the writer: the
//!   one step from a mention to the store, for replay and polling alike.
//! * [`sources`]: where mentions come from: [`sources::feed`] reads
//!   recorded feeds, [`sources::poll`] is the live polling core, and each
//!   network is one connector file.
//! * [`alert`]: incident lifecycle in the store, silences, the outbox and
//!   its delivery through channels (log, stdout, webhook, Slack, email).
//! * [`digest`]: the daily summary for managers (compute, then render as
//!   Markdown, HTML or JSON).
//! * [`inbox`]: the response inbox: priority order and what care staff did
//!   about each mention (shared by the web UI, the API and the CLI).
//! * [`export`]: the feed-format view of the store (`export`, the API).
//! * [`closed_loop`]: after an answer, the author's next mentions decide
//!   whether the detractor was won back (recovered, lost, no word).
//! * [`reply`]: replies written in the inbox, posted on the mention's own
//!   network through the brand's account exactly once (an outbox; each
//!   network's request shapes are in its connector's file), and saved
//!   replies.
//! * [`corrections`]: staff corrections of the scorer's label, which
//!   detection, the digest and exports then count.
//! * [`accounts`]: who may act: users and their roles, argon2id passwords,
//!   browser sessions and API tokens, kept in the store.
//!
//! Assembly:
//!
//! * [`config`]: the TOML configuration, every stage's section put
//!   together, `${ENV}` interpolation, validation with key paths.
//!
//! Drivers, which hold the whole configuration and run the stages:
//!
//! * [`replay`]: recorded feeds through the pipeline, detection and delivery
//!   in virtual time.
//! * [`service`]: `run`, the long-running service: pollers, detection,
//!   delivery, digests and the web server on wall time, with graceful
//!   shutdown; `service::run_shared`, the polling shared by every `run`
//!   on one PostgreSQL database.
//! * [`web`]: the axum UI and JSON API of `run`: inbox, alerts, brand
//!   charts, Server-Sent Events, `/healthz`, `/metrics`.
//! * the binary's `src/cli/`: one file per subcommand, which parses flags,
//!   reads the wall clock and calls in.
//!
//! `docs/architecture.md` has the bigger picture and the reasons behind it.

pub mod accounts;
pub mod alert;
pub mod brand;
pub mod clock;
pub mod closed_loop;
pub mod config;
pub mod corrections;
pub mod demo;
pub mod detect;
pub mod digest;
pub mod enrich;
pub mod export;
pub mod http;
pub mod inbox;
pub mod mention;
pub mod metrics;
pub mod pipeline;
pub mod replay;
pub mod reply;
pub mod secret;
pub mod service;
pub mod sources;
pub mod spam;
pub mod store;
pub mod terms;
pub mod web;
