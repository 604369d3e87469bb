//! Where mentions come from. Today: [`replay`] of recorded JSON Lines feeds.
//! Live connectors (one file each behind a small trait, sharing one polling
//! core) feed the same [`crate::pipeline::Pipeline`].

pub mod replay;
