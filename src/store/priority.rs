//! The inbox's order, computed here because the store
//! keeps it: `reach × negativity × recency`, and a stored key that sorts
//! the same at every moment.

use rusqlite::Transaction;

/// Hours after which a mention's priority has halved.
pub const HALF_LIFE_HOURS: f64 = 12.0;

/// `reach × negativity × recency` (see the module documentation).
pub fn priority(reach: i64, compound: f64, rating: Option<i64>, created_at_ms: i64, now_ms: i64) -> f64 {
    let age_hours = ((now_ms - created_at_ms).max(0) as f64) / 3_600_000.0;
    let recency = 0.5f64.powf(age_hours / HALF_LIFE_HOURS);
    weight(reach, compound, rating) * recency
}

/// `reach × negativity`, the part of the priority that does not age.
fn weight(reach: i64, compound: f64, rating: Option<i64>) -> f64 {
    let from_text = (-compound).max(0.0);
    let from_rating = rating.map_or(0.0, |r| ((5 - r.clamp(1, 5)) as f64) / 4.0);
    let negativity = from_text.max(from_rating).max(0.05);
    (reach.max(1) as f64) * negativity
}

/// The inbox's order as one stored number: `log2(priority at t) + t / half-life`
/// is the same at every `t`, because recency halves once per half-life. So
/// mentions sort by it exactly as by priority at any moment, it is computed
/// once when a mention is stored (and again when it is revised), and the
/// inbox reads the first page from an index and pages by key, however many
/// mentions are open. (Only a mention dated in the future, at most a day
/// ahead, sorts as if already aged that far below its clamped priority.)
pub fn priority_key(reach: i64, compound: f64, rating: Option<i64>, created_at_ms: i64) -> f64 {
    weight(reach, compound, rating).log2() + created_at_ms as f64 / (HALF_LIFE_HOURS * 3_600_000.0)
}

/// Fills `priority_key` wherever it is missing (the migration that added it).
pub fn fill_priority_keys(tx: &Transaction) -> Result<usize, rusqlite::Error> {
    tx.create_scalar_function(
        "cm_priority_key",
        4,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8 | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(priority_key(ctx.get(0)?, ctx.get(1)?, ctx.get(2)?, ctx.get(3)?)),
    )?;
    let filled = tx.execute(
        "UPDATE mentions SET priority_key = cm_priority_key(reach, compound, rating, created_at) \
         WHERE priority_key IS NULL",
        [],
    )?;
    tx.remove_function("cm_priority_key", 4)?;
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_weighs_reach_negativity_and_age() {
        let now = 1_000_000_000_000;
        let hour = 3_600_000;
        let fresh = priority(1000, -0.8, None, now, now);
        assert!((fresh - 800.0).abs() < 1e-9);
        // Twice the reach, one half-life older: the same priority.
        let older = priority(2000, -0.8, None, now - 12 * hour, now);
        assert!((older - fresh).abs() < 1e-6);
        // A 1-star review with upbeat words is still fully negative.
        assert!((priority(100, 0.6, Some(1), now, now) - 100.0).abs() < 1e-9);
        // Nothing sorts at zero.
        assert!(priority(0, 0.9, None, now, now) > 0.0);
    }

    /// reach, compound, rating, created_at
    type Stored = (i64, f64, Option<i64>, i64);

    #[test]
    fn the_key_sorts_as_the_priority_at_any_moment() {
        let hour = 3_600_000i64;
        let start = 1_780_000_000_000i64;
        let mentions: Vec<Stored> = (0..200)
            .map(|i| {
                (
                    1 + (i * 7919) % 50_000,
                    -((i % 10) as f64) / 10.0,
                    (i % 7 == 0).then_some(i % 5 + 1),
                    start + (i * 37 % 96) * hour,
                )
            })
            .collect();
        let order_by = |f: &dyn Fn(&Stored) -> f64| {
            let mut ids: Vec<usize> = (0..mentions.len()).collect();
            ids.sort_by(|&a, &b| f(&mentions[b]).total_cmp(&f(&mentions[a])).then(b.cmp(&a)));
            ids
        };
        let by_key = order_by(&|m| priority_key(m.0, m.1, m.2, m.3));
        for now in [start + 96 * hour, start + 200 * hour, start + 2000 * hour] {
            let at_now: Vec<f64> = by_key
                .iter()
                .map(|&i| {
                    let m = mentions[i];
                    priority(m.0, m.1, m.2, m.3, now)
                })
                .collect();
            assert!(at_now.windows(2).all(|w| w[0] >= w[1] * (1.0 - 1e-9)), "at {now}");
        }
    }

    #[test]
    fn the_migration_fills_the_key_of_every_stored_mention() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let migrations = super::super::schema::migrations();
        migrations.to_version(&mut conn, 10).unwrap();
        for (id, reach, compound, at) in [
            ("a", 50i64, -0.6, 1_780_000_000_000i64),
            ("b", 5000, -0.2, 1_780_000_600_000),
        ] {
            conn.execute(
                "INSERT INTO mentions (source, source_id, created_at, text, text_chars, compound, pos, neu, neg, \
                 label, reach, reach_inputs, ingested_at) \
                 VALUES ('x', ?1, ?2, 'acme air awful', 14, ?3, 0.0, 0.4, 0.6, 'negative', ?4, '{}', 0)",
                rusqlite::params![id, at, compound, reach],
            )
            .unwrap();
        }
        migrations.to_latest(&mut conn).unwrap();
        let keys: Vec<(f64, i64, f64, i64)> = conn
            .prepare("SELECT priority_key, reach, compound, created_at FROM mentions ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(keys.len(), 2);
        for (key, reach, compound, at) in keys {
            assert_eq!(key, priority_key(reach, compound, None, at));
        }
    }
}
