//! `export`: stored mentions back out in the feed format, plus the derived
//! fields (`brands`, `sentiment`, `reach`) that replay ignores, so that
//! export → replay reproduces the same database.

use std::io::Write;

use rusqlite::Connection;
use serde_json::{json, Value};

use crate::store::{self, MentionFilter, StoreError, StoredMention};

/// Writes every mention matching `filter` as one JSON line, oldest first.
/// Returns how many were written.
pub fn write_jsonl(conn: &Connection, filter: &MentionFilter, out: &mut dyn Write) -> Result<u64, ExportError> {
    let mut written = 0u64;
    store::for_each_mention(conn, filter, |stored| {
        let line = export_line(&stored);
        serde_json::to_writer(&mut *out, &line).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.write_all(b"\n")
            .map_err(|e| StoreError::Corrupt(format!("writing export: {e}")))?;
        written += 1;
        Ok(())
    })?;
    out.flush()
        .map_err(|e| StoreError::Corrupt(format!("writing export: {e}")))?;
    Ok(written)
}

#[derive(Debug, thiserror::Error)]
#[error("export failed: {0}")]
pub struct ExportError(#[from] StoreError);

/// The feed-format object of a stored mention with its derived fields.
pub fn export_line(stored: &StoredMention) -> Value {
    let s = &stored.scored;
    let mut object = s.mention.to_feed_json();
    object.insert(
        "brands".into(),
        json!(s.brands.iter().map(|b| &**b).collect::<Vec<_>>()),
    );
    object.insert(
        "sentiment".into(),
        json!({
            "compound": s.sentiment.compound,
            "pos": s.sentiment.pos,
            "neu": s.sentiment.neu,
            "neg": s.sentiment.neg,
            "label": s.label,
        }),
    );
    object.insert("reach".into(), json!(s.reach.people));
    Value::Object(object)
}
