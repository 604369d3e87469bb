//! Staff corrections of the scorer: when VADER gets a mention wrong
//! (sarcasm, a language it does not read), an agent sets its label, with who
//! and when. The corrected label becomes the mention's label in the store,
//! so detection, the digest and exports count what staff said; the scorer's
//! own label is kept in the first correction, and every correction is
//! listed, the material for seeing where the scorer fails.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::mention::scored::Label;
use crate::store::{from_ms, StoreError};

/// One correction as the list shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Correction {
    pub mention_id: i64,
    pub source: String,
    pub text: String,
    /// The scorer's compound score, unchanged by corrections.
    pub compound: f64,
    /// What the scorer said.
    pub computed: String,
    /// What the label was before this correction, and what it is now.
    pub from: String,
    pub to: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The scorer's label of a corrected mention, and the latest correction.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct CorrectedLabel {
    pub computed: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Sets mention `id`'s label to `label` for every brand it is about, in the
/// caller's transaction, and records it.
pub fn correct(tx: &Transaction, id: i64, label: Label, by: &str, at: DateTime<Utc>) -> Result<Correction, StoreError> {
    let by = by.trim();
    if by.is_empty() || by.len() > 100 {
        return Err(StoreError::Invalid(
            "say who corrects it (by, at most 100 bytes)".into(),
        ));
    }
    let (current, source, text, compound): (String, String, String, f64) = tx
        .query_row(
            "SELECT label, source, text, compound FROM mentions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no mention {id}")))?;
    let computed = corrected_label(tx, id)?.map_or(current.clone(), |c| c.computed);
    tx.execute(
        "INSERT INTO label_corrections (mention_id, computed, label_from, label_to, actor, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, computed, current, label.as_str(), by, at.timestamp_millis()],
    )?;
    // A person has read it: whatever the scorer could not, it is scored now.
    tx.execute(
        "UPDATE mentions SET label = ?2, not_scored = 0 WHERE id = ?1",
        params![id, label.as_str()],
    )?;
    tx.execute(
        "UPDATE mention_brands SET label = ?2 WHERE mention_id = ?1",
        params![id, label.as_str()],
    )?;
    crate::inbox::record_change(tx, id)?;
    Ok(Correction {
        mention_id: id,
        source,
        text,
        compound,
        computed,
        from: current,
        to: label.as_str().to_string(),
        by: by.to_string(),
        at,
    })
}

/// The scorer's label of mention `id` and its latest correction, if staff
/// corrected it.
pub fn corrected_label(conn: &Connection, id: i64) -> Result<Option<CorrectedLabel>, StoreError> {
    let mut first =
        conn.prepare_cached("SELECT computed FROM label_corrections WHERE mention_id = ?1 ORDER BY id LIMIT 1")?;
    let Some(computed) = first.query_row([id], |r| r.get::<_, String>(0)).optional()? else {
        return Ok(None);
    };
    let mut last =
        conn.prepare_cached("SELECT actor, at FROM label_corrections WHERE mention_id = ?1 ORDER BY id DESC LIMIT 1")?;
    let (by, at): (String, i64) = last.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(CorrectedLabel {
        computed,
        by,
        at: from_ms(at),
    }))
}

/// Every correction, newest first.
pub fn list(conn: &Connection, limit: u32) -> Result<Vec<Correction>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.mention_id, m.source, m.text, m.compound, c.computed, c.label_from, c.label_to, c.actor, c.at \
         FROM label_corrections c JOIN mentions m ON m.id = c.mention_id ORDER BY c.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Correction {
            mention_id: r.get(0)?,
            source: r.get(1)?,
            text: r.get(2)?,
            compound: r.get(3)?,
            computed: r.get(4)?,
            from: r.get(5)?,
            to: r.get(6)?,
            by: r.get(7)?,
            at: from_ms(r.get(8)?),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
