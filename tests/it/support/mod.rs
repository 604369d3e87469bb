//! What several test areas share.

pub mod demo_api;
pub mod fake_api;
pub mod postgres;
pub mod service;
pub mod smtp;
pub mod web;

use std::process::{Command, Output};

/// Runs the binary as a user would, from the checkout.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run complaint-monitor")
}
