//! Sharing work among processes on one PostgreSQL database: each piece of
//! work (a source to poll, a brand to detect) is a lease row held by one
//! process until it expires; holders renew what they keep on every claim,
//! and a dead process's leases are taken over once they expire.
//!
//! Each process takes its share: the pieces divided by the processes seen
//! within one lease time, rounded up. A process holding more than its share
//! (another has just started) lets the surplus go, and the newcomer takes
//! it on its next claim. Rows being taken are locked with `FOR UPDATE SKIP
//! LOCKED`, so processes claiming at once never take the same piece.
//!
//! Times are the database's clock, not the process's: the processes may
//! run on machines whose clocks disagree, and a lease must mean the same
//! to all of them.

use std::time::Duration;

use tokio_postgres::Client;

use super::PgError;

/// Who holds a lease: one running process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// `host:pid:start`, unique across restarts of the same pid.
    pub id: String,
    pub host: String,
    pub pid: u32,
}

impl Holder {
    /// A process on `host` with `pid`, started at `started_ms`: a restarted
    /// process with a reused pid is a new holder.
    pub fn new(host: &str, pid: u32, started_ms: i64) -> Holder {
        Holder {
            id: format!("{host}:{pid}:{started_ms}"),
            host: host.to_string(),
            pid,
        }
    }
}

/// Now on the database's clock, in Unix milliseconds, as SQL: the time
/// every lease is judged by.
pub const NOW_MS_SQL: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// The lease of polling source `name`.
pub fn source_lease(name: &str) -> String {
    format!("source:{name}")
}

/// The lease of detecting spikes for brand `name` and queueing its
/// notices: one incident is one incident only if one process judges it.
pub fn brand_lease(name: &str) -> String {
    format!("brand:{name}")
}

/// The lease of polling every source that shares client-side quota
/// `credential`.
pub fn credential_lease(credential: &str) -> String {
    format!("credential:{credential}")
}

/// A lease held now, as `sources` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeaseState {
    pub name: String,
    pub holder: String,
    pub host: String,
    pub pid: i64,
    /// Unix ms (database clock).
    pub expires_at: i64,
}

/// The bounds a lease time must lie in: shorter would have processes
/// fighting over work between two claims, longer would leave a dead
/// process's work undone for a day.
pub const LEASE_TIME_BOUNDS: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(24 * 3600));

/// Claims and renews leases for one process.
#[derive(Debug, Clone)]
pub struct Leases {
    holder: Holder,
    ttl_ms: i64,
}

impl Leases {
    /// `lease_time` is clamped to [`LEASE_TIME_BOUNDS`]; it should be about
    /// twice the interval between claims, so that a live holder renews in time.
    pub fn new(holder: Holder, lease_time: Duration) -> Leases {
        let ttl = lease_time.clamp(LEASE_TIME_BOUNDS.0, LEASE_TIME_BOUNDS.1);
        Leases {
            holder,
            ttl_ms: ttl.as_millis() as i64,
        }
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Makes this process known to the others before it claims anything,
    /// so that processes started together count each other in their first
    /// shares instead of the first one taking everything and handing most
    /// of it back a claim later.
    pub async fn announce(&self, client: &Client) -> Result<(), PgError> {
        client
            .execute(
                &format!(
                    "INSERT INTO lease_holders (holder, host, pid, seen_at) VALUES ($1, $2, $3, {NOW_MS_SQL}) \
                     ON CONFLICT (holder) DO UPDATE SET seen_at = excluded.seen_at"
                ),
                &[&self.holder.id, &self.holder.host, &i64::from(self.holder.pid)],
            )
            .await?;
        Ok(())
    }

    /// Renews this process's share of `names` and takes free or expired
    /// ones up to it; returns the names it holds now, sorted.
    pub async fn claim(&self, client: &mut Client, names: &[String]) -> Result<Vec<String>, PgError> {
        let me = &self.holder.id;
        let tx = client.transaction().await?;
        let now: i64 = tx.query_one(&format!("SELECT {NOW_MS_SQL}"), &[]).await?.get(0);
        tx.execute(
            "INSERT INTO lease_holders (holder, host, pid, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (holder) DO UPDATE SET seen_at = excluded.seen_at",
            &[me, &self.holder.host, &i64::from(self.holder.pid), &now],
        )
        .await?;
        tx.execute(
            "INSERT INTO leases (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            &[&names],
        )
        .await?;
        let live: i64 = tx
            .query_one(
                "SELECT count(*) FROM lease_holders WHERE seen_at > $1",
                &[&(now - self.ttl_ms)],
            )
            .await?
            .get(0);
        let share = names.len().div_ceil(live.max(1) as usize) as i64;
        let own: Vec<String> = tx
            .query(
                "SELECT name FROM leases WHERE holder = $1 AND expires_at > $2 AND name = ANY($3) ORDER BY name",
                &[me, &now, &names],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let (kept, surplus) = own.split_at(own.len().min(share as usize));
        if !surplus.is_empty() {
            tx.execute(
                "UPDATE leases SET holder = NULL, expires_at = 0 WHERE holder = $1 AND name = ANY($2)",
                &[me, &surplus],
            )
            .await?;
        }
        // What the renewal actually renewed: a lease that expired since it
        // was read may have been taken by another process in the meantime
        // (whose clock reading came later), and is no longer ours.
        let mut held: Vec<String> = tx
            .query(
                "UPDATE leases SET expires_at = $2 WHERE holder = $1 AND name = ANY($3) RETURNING name",
                &[me, &(now + self.ttl_ms), &kept],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let wanted = share - held.len() as i64;
        if wanted > 0 {
            let taken = tx
                .query(
                    "WITH free AS (SELECT name FROM leases \
                       WHERE name = ANY($1) AND (holder IS NULL OR expires_at <= $2) \
                       ORDER BY name LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     UPDATE leases l SET holder = $4, expires_at = $5, taken_at = $2 \
                     FROM free WHERE l.name = free.name RETURNING l.name",
                    &[&names, &now, &wanted, me, &(now + self.ttl_ms)],
                )
                .await?;
            held.extend(taken.iter().map(|r| r.get::<_, String>(0)));
        }
        tx.commit().await?;
        held.sort();
        Ok(held)
    }

    /// Lets every lease of this process go (on shutdown), so others take
    /// them over at once instead of after they expire.
    pub async fn release_all(&self, client: &Client) -> Result<(), PgError> {
        client
            .execute(
                "UPDATE leases SET holder = NULL, expires_at = 0 WHERE holder = $1",
                &[&self.holder.id],
            )
            .await?;
        client
            .execute("DELETE FROM lease_holders WHERE holder = $1", &[&self.holder.id])
            .await?;
        Ok(())
    }
}

/// Checks, inside `tx`, that `holder` still holds lease `name`, and keeps
/// it from being taken until `tx` ends: work done under a lease is written
/// with this check first, so a process that lost its lease (paused past
/// the expiry, cut off from the database) can never write over the work of
/// the process that took it over.
pub async fn fence(
    tx: &tokio_postgres::Transaction<'_>,
    name: &str,
    holder: &str,
) -> Result<(), crate::store::StoreError> {
    let held = tx
        .query_opt(
            &format!("SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND expires_at > {NOW_MS_SQL} FOR UPDATE"),
            &[&name, &holder],
        )
        .await?;
    match held {
        Some(_) => Ok(()),
        None => Err(crate::store::StoreError::Conflict(format!(
            "this process no longer holds the lease {name}; its work is left to the process that took it over"
        ))),
    }
}

/// Every lease held now, with its holder, by name.
pub async fn held(client: &Client) -> Result<Vec<LeaseState>, PgError> {
    Ok(client
        .query(
            &format!(
                "SELECT l.name, l.holder, h.host, h.pid, l.expires_at FROM leases l \
                 JOIN lease_holders h ON h.holder = l.holder WHERE l.expires_at > {NOW_MS_SQL} ORDER BY l.name"
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| LeaseState {
            name: r.get(0),
            holder: r.get(1),
            host: r.get(2),
            pid: r.get(3),
            expires_at: r.get(4),
        })
        .collect())
}
