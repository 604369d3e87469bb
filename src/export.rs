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
    let mut lines = Lines::new(out);
    let walked = store::for_each_mention(conn, filter, |stored| {
        let corrected = crate::corrections::corrected_label(conn, stored.id)?;
        let off = crate::corrections::not_about_us_of(conn, stored.id)?;
        lines.write(&export_line_with_corrections(&stored, corrected, off))
    });
    lines.finish(walked)
}

/// Export lines written out, counted. A failed write (a closed pipe, a
/// full disk) is the reader's or the disk's doing, not the database's: it
/// is kept aside, and the walk stopped.
struct Lines<'a> {
    out: &'a mut dyn Write,
    written: u64,
    write_error: Option<std::io::Error>,
}

impl<'a> Lines<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        Lines {
            out,
            written: 0,
            write_error: None,
        }
    }

    fn write(&mut self, line: &Value) -> Result<(), StoreError> {
        let result = serde_json::to_writer(&mut *self.out, line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match result {
            Ok(()) => {
                self.written += 1;
                Ok(())
            }
            Err(e) => {
                self.write_error = Some(e);
                Err(StoreError::Invalid("export stopped".into()))
            }
        }
    }

    fn finish(self, walked: Result<(), StoreError>) -> Result<u64, ExportError> {
        if let Some(e) = self.write_error {
            return Err(ExportError::Write(e));
        }
        walked?;
        self.out.flush().map_err(ExportError::Write)?;
        Ok(self.written)
    }
}

/// What staff changed about a mention, read beside it from PostgreSQL (in
/// SQLite, by `corrections::corrected_label` and `not_about_us_of`).
const CORRECTION_COLUMNS: &str = "\
    (SELECT computed FROM label_corrections c WHERE c.mention_id = m.id ORDER BY c.id LIMIT 1), \
    (SELECT actor FROM label_corrections c WHERE c.mention_id = m.id ORDER BY c.id DESC LIMIT 1), \
    (SELECT at FROM label_corrections c WHERE c.mention_id = m.id ORDER BY c.id DESC LIMIT 1), \
    (SELECT brands FROM not_about_us n WHERE n.mention_id = m.id), \
    (SELECT actor FROM not_about_us n WHERE n.mention_id = m.id), \
    (SELECT at FROM not_about_us n WHERE n.mention_id = m.id)";

/// [`write_jsonl`] from a PostgreSQL database: the same lines, byte for
/// byte, for the same data.
pub async fn write_jsonl_postgres(
    client: &tokio_postgres::Client,
    filter: &MentionFilter,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    use crate::store::postgres::read::{for_each_row, MENTION_COLUMN_COUNT as AT};
    use crate::store::Columns;
    let mut lines = Lines::new(out);
    let walked = for_each_row(client, CORRECTION_COLUMNS, filter, "ASC", |mention, row| {
        let corrected = match (row.text(AT)?, row.text(AT + 1)?, row.int(AT + 2)?) {
            (Some(computed), Some(by), Some(at)) => Some(crate::corrections::CorrectedLabel {
                computed,
                by,
                at: store::from_ms(at),
            }),
            _ => None,
        };
        let off = match (row.text(AT + 3)?, row.text(AT + 4)?, row.int(AT + 5)?) {
            (Some(brands), Some(by), Some(at)) => Some(crate::corrections::NotAboutUs {
                mention_id: mention.id,
                brands: crate::corrections::brand_list(&brands),
                by,
                at: store::from_ms(at),
            }),
            _ => None,
        };
        lines.write(&export_line_with_corrections(&mention, corrected, off))
    })
    .await;
    lines.finish(walked)
}

/// The export line of a stored mention with what staff changed about it.
fn export_line_with_corrections(
    stored: &StoredMention,
    corrected: Option<crate::corrections::CorrectedLabel>,
    off: Option<crate::corrections::NotAboutUs>,
) -> Value {
    let mut line = export_line(stored);
    // A label staff corrected: `sentiment.label` is theirs, and the
    // scorer's is kept beside it.
    if let Some(corrected) = corrected {
        if let Some(sentiment) = line.get_mut("sentiment").and_then(Value::as_object_mut) {
            sentiment.insert("computed_label".into(), json!(corrected.computed));
            sentiment.insert("corrected_by".into(), json!(corrected.by));
            sentiment.insert("corrected_at".into(), json!(corrected.at));
        }
    }
    // Taken off its brands by staff: `brands` is empty, and which they were is kept.
    if let Some(off) = off {
        if let Some(object) = line.as_object_mut() {
            object.insert(
                "not_about_us".into(),
                json!({"brands": off.brands, "by": off.by, "at": off.at}),
            );
        }
    }
    line
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("export failed: {0}")]
    Store(#[from] StoreError),
    #[error("export failed writing its output: {0}")]
    Write(#[source] std::io::Error),
}

impl ExportError {
    /// Whether the reader went away (`export | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, ExportError::Write(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

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
    if s.not_scored {
        if let Some(sentiment) = object.get_mut("sentiment").and_then(Value::as_object_mut) {
            sentiment.insert("not_scored".into(), json!(true));
        }
    }
    object.insert("reach".into(), json!(s.reach.people));
    Value::Object(object)
}
