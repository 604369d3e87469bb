//! PostgreSQL as the store when one box is not enough: connecting, its
//! migrations (the same tables as SQLite's, in `schema.sql`), and copying a
//! SQLite database into it ([`copy`], the `migrate` command).
//!
//! This is the first part of the shared store: the schema, its migrations,
//! the copy, the leases that share the work ([`lease`]), and storing
//! polled mentions with their cursors ([`ingest`]), which is what `run`
//! does on PostgreSQL so far: detection, alerts, the inbox and the web UI
//! still read and write SQLite.

pub mod copy;
pub mod ingest;
pub mod lease;
pub mod read;
pub mod writer;

#[cfg(test)]
mod tests {
    #[test]
    fn a_shown_url_has_no_password() {
        assert_eq!(
            super::redacted("postgres://cm:s3cret@db:5432/cm"),
            "postgres://cm:***@db:5432/cm"
        );
        assert_eq!(super::redacted("postgres://cm@db/cm"), "postgres://cm@db/cm");
        assert_eq!(super::redacted("complaint-monitor.db"), "complaint-monitor.db");
    }
}

use tokio_postgres::{Client, NoTls};

/// The schema's versions, oldest first; each is applied once, in one
/// transaction.
const MIGRATIONS: &[&str] = &[include_str!("schema.sql"), include_str!("leases.sql")];

/// Tables only PostgreSQL has: its migrations' bookkeeping and the leases
/// that share work among processes (one SQLite file has one process).
pub const POSTGRES_ONLY_TABLES: &[&str] = &["schema_migrations", "lease_holders", "leases"];

/// Every migration of every process takes this advisory lock first, so
/// processes starting at once on an empty database apply each migration
/// once (the second waits, then finds it applied).
const MIGRATION_LOCK: i64 = 0x636d_5f6d_6967; // "cm_mig"

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// `url` as it may be shown: without its password.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// Why PostgreSQL could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    #[error("the PostgreSQL database is at schema version {found}, newer than this build knows ({known})")]
    TooNew { found: i64, known: usize },
}

impl From<deadpool_postgres::PoolError> for PgError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => PgError::Postgres(e),
            other => PgError::Pool(other.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for crate::store::StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        PgError::from(e).into()
    }
}

impl From<PgError> for crate::store::StoreError {
    fn from(e: PgError) -> Self {
        match e {
            PgError::Postgres(e) => crate::store::StoreError::Postgres(e),
            other => crate::store::StoreError::Invalid(other.to_string()),
        }
    }
}

/// Connects to `url` (a `postgres://` URL; the password may come from
/// `PGPASSWORD` instead of the URL) and drives the connection on the
/// current Tokio runtime. Loopback and trusted networks only for now: the
/// connection is not encrypted.
pub async fn connect(url: &str) -> Result<Client, PgError> {
    let (client, connection) = config(url)?.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// The connection settings of `url`, with the password from `PGPASSWORD`
/// when the URL has none, and a bounded connect time.
fn config(url: &str) -> Result<tokio_postgres::Config, PgError> {
    let mut config: tokio_postgres::Config = url.parse()?;
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    config.connect_timeout(std::time::Duration::from_secs(10));
    Ok(config)
}

/// A pool of up to `size` connections to `url` for a long-running
/// process (`run`), whose schema is brought up to date first.
pub async fn pool(url: &str, size: usize) -> Result<deadpool_postgres::Pool, PgError> {
    let manager = deadpool_postgres::Manager::from_config(
        config(url)?,
        NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    let pool = deadpool_postgres::Pool::builder(manager)
        .max_size(size.max(1))
        // A connection is waited for at most this long: a database that
        // stops answering fails polls (which retry) instead of hanging them.
        .wait_timeout(Some(std::time::Duration::from_secs(30)))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| PgError::Pool(e.to_string()))?;
    let mut client = pool.get().await?;
    migrate(&mut client).await?;
    Ok(pool)
}

/// Connects to `url` and brings its schema up to date, as
/// [`crate::store::open`] does for a SQLite file.
pub async fn open(url: &str) -> Result<Client, PgError> {
    let mut client = connect(url).await?;
    migrate(&mut client).await?;
    Ok(client)
}

/// Brings the schema up to date; safe to run from any number of processes
/// at once. Returns the version reached.
pub async fn migrate(client: &mut Client) -> Result<usize, PgError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await?;
    let found: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])
        .await?
        .get(0);
    if found > MIGRATIONS.len() as i64 {
        return Err(PgError::TooNew {
            found,
            known: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&(index as i64 + 1)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(MIGRATIONS.len())
}
