//! PostgreSQL as the store when one box is not enough: connecting, its
//! migrations (the same tables as SQLite's, in `schema.sql`), and copying a
//! SQLite database into it ([`copy`], the `migrate` command).
//!
//! The shared store: the schema, its migrations, the copy, the leases that
//! share the work ([`lease`]), storing polled mentions with their cursors
//! ([`ingest`]) and replayed ones ([`writer`]). Detection, alerts and
//! digests read and write it through [`crate::store::sql`]; the inbox and
//! the web UI still read and write SQLite.
//!
//! Connections are encrypted with TLS (rustls) whenever the server offers
//! it (`sslmode=prefer`, the default) and must be with `sslmode=require`;
//! `sslmode=disable` never asks. The server's certificate is always
//! checked, as libpq's `verify-full` does: against the Mozilla roots and
//! the PEM file of a private CA that the URL's `sslrootcert` parameter
//! names (or else `PGSSLROOTCERT`), for the host in the URL.

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

    #[test]
    fn the_root_certificate_is_taken_out_of_the_url() {
        let (url, root) = super::without_root_cert("postgres://cm@db/cm?sslmode=require&sslrootcert=/etc/ca.pem");
        assert_eq!(url, "postgres://cm@db/cm?sslmode=require");
        assert_eq!(root.as_deref(), Some(std::path::Path::new("/etc/ca.pem")));
        let (url, root) = super::without_root_cert("postgres://cm@db/cm?sslrootcert=ca.pem");
        assert_eq!((url.as_str(), root.is_some()), ("postgres://cm@db/cm", true));
        let untouched = "postgres://cm:p%40ss@db:5432/cm?sslmode=disable";
        assert_eq!(super::without_root_cert(untouched), (untouched.to_string(), None));
    }
}

use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The schema's versions, oldest first; each is applied once, in one
/// transaction.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("leases.sql"),
    include_str!("shown_index.sql"),
];

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
    #[error("PostgreSQL: {}", with_causes(.0))]
    Postgres(tokio_postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    #[error("the PostgreSQL database is at schema version {found}, newer than this build knows ({known})")]
    TooNew { found: i64, known: usize },
    #[error("PostgreSQL TLS: {0}")]
    Tls(String),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        PgError::Postgres(e)
    }
}

/// An error with each cause after it: what the server said, why the TLS
/// handshake failed. The causes are kept out of `source()`, so a caller
/// printing the chain does not print them twice.
pub fn with_causes(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
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
/// current Tokio runtime, encrypted as the module says.
pub async fn connect(url: &str) -> Result<Client, PgError> {
    let (config, tls) = config(url)?;
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Bounds the CA file `PGSSLROOTCERT` may name (a bundle of every public
/// CA is about 250 KB).
const MAX_ROOT_FILE: u64 = 4 << 20;

/// `url` without its `sslrootcert` parameter (libpq's, which
/// tokio-postgres does not know), and that parameter's value.
fn without_root_cert(url: &str) -> (String, Option<std::path::PathBuf>) {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return (url.to_string(), None);
    };
    let mut root = None;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, value)| {
            let is_root = key == "sslrootcert";
            if is_root {
                root = Some(std::path::PathBuf::from(value.as_ref()));
            }
            !is_root
        })
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if root.is_none() {
        return (url.to_string(), None);
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    (parsed.to_string(), root)
}

/// The TLS client every connection uses: the Mozilla roots, plus the
/// certificates of the PEM file `root` (a private CA).
fn tls(root: Option<&std::path::Path>) -> Result<MakeRustlsConnect, PgError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = root {
        let shown = path.display().to_string();
        let bad = |why: String| PgError::Tls(format!("sslrootcert {shown}: {why}"));
        let size = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?.len();
        if size > MAX_ROOT_FILE {
            return Err(bad(format!(
                "{size} bytes, more than a CA file holds ({MAX_ROOT_FILE})"
            )));
        }
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| bad(format!("not a PEM certificate file: {e}")))?;
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no certificate in it".into()));
        }
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| PgError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The connection settings of `url` and its TLS client, with the password from `PGPASSWORD`
/// when the URL has none, and a bounded connect time.
fn config(url: &str) -> Result<(tokio_postgres::Config, MakeRustlsConnect), PgError> {
    let (url, root) = without_root_cert(url);
    let root = root.or_else(|| std::env::var_os("PGSSLROOTCERT").map(std::path::PathBuf::from));
    let mut config: tokio_postgres::Config = url.parse()?;
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    config.connect_timeout(std::time::Duration::from_secs(10));
    Ok((config, tls(root.as_deref())?))
}

/// A pool of up to `size` connections to `url` for a long-running
/// process (`run`), whose schema is brought up to date first.
pub async fn pool(url: &str, size: usize) -> Result<deadpool_postgres::Pool, PgError> {
    let (config, tls) = config(url)?;
    let manager = deadpool_postgres::Manager::from_config(
        config,
        tls,
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
