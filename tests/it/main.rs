//! The integration tests, one binary: each file is one area of behaviour,
//! `support/` holds the servers and fixtures they share (a fake API, a
//! running service, an SMTP receiver, a web server on a fixture database).
//! One binary links the crate once instead of once per file.
//!
//! Run one area with `cargo test --test it <area>::`, e.g.
//! `cargo test --test it browser::`.

mod support;

mod alerts;
mod architecture;
mod browser;
mod cli;
mod crash;
mod digest;
mod disk;
mod faults;
mod hostile_input;
mod hostile_sources;
mod inbox;
mod limits;
mod postgres;
mod replay;
mod replies;
mod service;
mod service_crash;
mod shared_run;
mod sources;
mod spam;
mod web;
