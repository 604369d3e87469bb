//! A throwaway PostgreSQL server for one test: a cluster made by `initdb`
//! in a temporary directory and served by `postgres` on a free loopback
//! port, stopped and deleted when dropped. `COMPLAINT_MONITOR_TEST_PG` (a
//! URL) uses a server already running instead, with a fresh database.
//!
//! Without PostgreSQL's binaries the test says so and passes, unless
//! `REQUIRE_POSTGRES_TESTS=1` (set by `.ci/run`), when it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    /// A database of this test's own.
    pub url: String,
    server: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(server) = &mut self.server {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// The directory holding `initdb` and `postgres`: `PG_BIN`, else the newest
/// of Debian's `/usr/lib/postgresql/*/bin`, else the `PATH`.
fn binaries() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(PathBuf::from)
        .find(|d| d.join("initdb").is_file() && d.join("postgres").is_file())
}

/// PostgreSQL refuses to run as root: then the cluster belongs to the
/// `postgres` account (Debian's package makes it), or `nobody`.
fn run_as() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> Option<u32> {
        let out = Command::new("id").args(args).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    if id(&["-u"])? != 0 {
        return None;
    }
    ["postgres", "nobody"]
        .iter()
        .find_map(|user| Some((id(&["-u", user])?, id(&["-g", user])?)))
}

fn command(program: &Path, owner: Option<(u32, u32)>) -> Command {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command
}

/// A PostgreSQL database for this test, or `None` (skipped) when there is
/// no PostgreSQL here and none is required.
pub async fn start() -> Option<Postgres> {
    if let Ok(url) = std::env::var("COMPLAINT_MONITOR_TEST_PG") {
        return Some(fresh_database(&url).await);
    }
    start_cluster(false).await
}

/// A throwaway server that also offers TLS, with the test certificate for
/// `localhost` and `127.0.0.1` (`fixtures/keys`, signed by
/// `tls-ca.cert.pem`). Always a cluster of its own.
pub async fn start_with_tls() -> Option<Postgres> {
    start_cluster(true).await
}

async fn start_cluster(tls: bool) -> Option<Postgres> {
    let Some(bin) = binaries() else {
        assert!(
            std::env::var("REQUIRE_POSTGRES_TESTS").as_deref() != Ok("1"),
            "PostgreSQL is required (apt-get install postgresql)"
        );
        eprintln!("skipped: PostgreSQL's initdb and postgres not found");
        return None;
    };
    let owner = run_as();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sockets = dir.path().join("sockets");
    std::fs::create_dir(&sockets).unwrap();
    if let Some((uid, gid)) = owner {
        for path in [dir.path(), &sockets] {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
    }
    let init = command(&bin.join("initdb"), owner)
        .args([
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ])
        .args(["--locale=C", "--no-sync"])
        .stdout(Stdio::null())
        .output()
        .expect("initdb runs");
    assert!(
        init.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let mut tls_settings: Vec<String> = Vec::new();
    if tls {
        // The server reads its key only if nobody else may.
        let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys");
        for (file, setting) in [
            ("tls-localhost.cert.pem", "ssl_cert_file"),
            ("tls-localhost.key.pem", "ssl_key_file"),
        ] {
            let copy = dir.path().join(file);
            std::fs::copy(keys.join(file), &copy).unwrap();
            std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(&copy, Some(uid), Some(gid)).unwrap();
            }
            tls_settings.extend(["-c".to_string(), format!("{setting}={}", copy.display())]);
        }
        tls_settings.extend(["-c".to_string(), "ssl=on".to_string()]);
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = command(&bin.join("postgres"), owner)
        .args([
            "-D",
            data.to_str().unwrap(),
            "-p",
            &port.to_string(),
            "-k",
            sockets.to_str().unwrap(),
        ])
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=50",
        ])
        // Several clusters run at once, one per test: small, and with no
        // need for /dev/shm, which containers often keep tiny.
        .args(["-c", "shared_buffers=16MB", "-c", "dynamic_shared_memory_type=mmap"])
        .args(&tls_settings)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("postgres starts");
    let mut postgres = Postgres {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        server: Some(server),
        _dir: Some(dir),
    };
    let started = Instant::now();
    loop {
        if tokio_postgres::connect(&postgres.url, tokio_postgres::NoTls)
            .await
            .is_ok()
        {
            break;
        }
        if let Some(status) = postgres.server.as_mut().and_then(|s| s.try_wait().ok().flatten()) {
            panic!("postgres exited before accepting connections: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "postgres did not start within a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    postgres.url = fresh_database(&postgres.url).await.url.clone();
    Some(postgres)
}

/// Creates a database with a name of its own on the server behind `url`.
async fn fresh_database(url: &str) -> Postgres {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the PostgreSQL server answers");
    tokio::spawn(connection);
    let name = format!(
        "cm_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    Postgres {
        url: format!("{base}/{name}"),
        server: None,
        _dir: None,
    }
}
