//! The `stdout` channel: the notification as one JSON line on standard output.

use std::io::Write;

use super::SendError;

pub fn send(payload: &str) -> Result<(), SendError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{payload}")
        .and_then(|_| out.flush())
        .map_err(|e| SendError::Retry {
            error: format!("cannot write to standard output: {e}"),
            after: None,
        })
}
