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
//! The map of the crate:
//!
//! * [`mention`]: the [`Mention`](mention::Mention) type every source
//!   produces and the JSON Lines feed format (the contract between stages).
//! * [`demo`]: the demo feed compiled into the binary (`run --demo`).
//! * [`config`]: the TOML configuration, `${ENV}` interpolation, validation
//!   with key paths.
//! * [`clock`]: wall and virtual time; nothing below the CLI reads the
//!   system clock directly.
//! * [`sources`]: where mentions come from: [`sources::replay`] reads
//!   recorded feeds in virtual time, [`sources::poll`] is the live polling
//!   core, and each network is one connector file.
//! * [`enrich`]: brand matching, sentiment (VADER, in the
//!   `vader-sentiment` workspace crate) and reach estimation.
//! * [`pipeline`]: enrich, stamp with the clock, batch for the writer.
//! * [`detect`]: per-bucket baselines and spike tests, incidents, `backtest`.
//! * [`alert`]: incident lifecycle in the store, silences, the outbox and
//!   its delivery through channels (log, stdout, webhook, Slack).
//! * [`store`]: SQLite schema and migrations, the single writer thread,
//!   read queries.
//! * [`digest`]: the daily summary for managers (compute, then render as
//!   Markdown, HTML or JSON).
//! * [`inbox`]: the response inbox: priority order and what care staff did
//!   about each mention (shared by the web UI, the API and the CLI).
//! * [`web`]: the axum UI and JSON API of `run`: inbox, alerts, brand
//!   charts, Server-Sent Events, `/healthz`; [`metrics`] feeds `/metrics`.
//! * [`service`]: `run`, the long-running service: pollers, detection,
//!   delivery, digests and the web server on wall time, with graceful
//!   shutdown.
//! * [`http`]: the HTTP client, failure descriptions without URLs,
//!   `Retry-After`, capped body reads: written once for sources, channels
//!   and the digest.
//! * [`terms`]: the tokenizer for complaint terms (digest and alert explanations).
//! * [`export`]: the feed-format view of the store (`export`, the API).
//!
//! Above the library, the binary's `src/cli/` holds one file per
//! subcommand: the drivers that parse flags, read the wall clock and call in.
//!
//! `docs/architecture.md` has the bigger picture and the reasons behind it.

pub mod alert;
pub mod brand;
pub mod clock;
pub mod config;
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
pub mod service;
pub mod sources;
pub mod store;
pub mod terms;
pub mod web;
