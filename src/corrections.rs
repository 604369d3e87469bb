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

/// A mention staff said is about none of the brands it matched.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct NotAboutUs {
    pub mention_id: i64,
    /// The brands it was matched to and is no longer counted for.
    pub brands: Vec<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Takes mention `id` off every brand it matched ("Acme air fryer" is not
/// Acme Air), in the caller's transaction: detection, the brand figures and
/// the digest stop counting it, it leaves the inbox as ignored ("not about
/// us"), and who and when are recorded. Saying it twice changes nothing more.
pub fn not_about_us(tx: &Transaction, id: i64, by: &str, at: DateTime<Utc>) -> Result<NotAboutUs, StoreError> {
    if let Some(done) = not_about_us_of(tx, id)? {
        return Ok(done);
    }
    let brands: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT brand FROM mention_brands WHERE mention_id = ?1 ORDER BY brand")?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let ignore = crate::inbox::Action::Ignore {
        note: Some("not about us".into()),
    };
    // Checks the mention exists and who acts, and records the action.
    crate::inbox::apply(tx, &[id], &ignore, by, at)?;
    tx.execute(
        "INSERT INTO not_about_us (mention_id, brands, actor, at) VALUES (?1, ?2, ?3, ?4)",
        params![id, brands.join("\u{1f}"), by.trim(), at.timestamp_millis()],
    )?;
    tx.execute("DELETE FROM mention_brands WHERE mention_id = ?1", [id])?;
    // Learnt: an author taken off a brand often enough is blocked for it
    // ([spam] learn_after, read as each mention is stored).
    tx.execute(
        "INSERT INTO learnt_authors (source, author, brand, marks, since) \
         SELECT m.source, m.author, b.value, 1, ?2 FROM mentions m, json_each(?3) b \
         WHERE m.id = ?1 AND m.author IS NOT NULL \
         ON CONFLICT (source, author, brand) DO UPDATE SET marks = marks + 1",
        params![
            id,
            at.timestamp_millis(),
            serde_json::to_string(&brands).unwrap_or_default()
        ],
    )?;
    Ok(NotAboutUs {
        mention_id: id,
        brands,
        by: by.trim().to_string(),
        at,
    })
}

/// Whether staff took mention `id` off its brands, and from which.
pub fn not_about_us_of(conn: &Connection, id: i64) -> Result<Option<NotAboutUs>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT brands, actor, at FROM not_about_us WHERE mention_id = ?1")?;
    Ok(stmt
        .query_row([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })
        .optional()?
        .map(|(brands, by, at)| NotAboutUs {
            mention_id: id,
            brands: brand_list(&brands),
            by,
            at: from_ms(at),
        }))
}

/// The brands of a "not about us" mark, as stored (joined by char 31).
pub fn brand_list(stored: &str) -> Vec<String> {
    stored
        .split('\u{1f}')
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .collect()
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
