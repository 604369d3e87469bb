//! `complaint-monitor run` as a child process for tests: its log collected
//! as it comes (to find the address it serves on), and a SIGTERM stop that
//! waits for the clean exit.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Service {
    child: Child,
    log: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl Service {
    /// Starts `run --config CONFIG --db DB --listen 127.0.0.1:0`.
    pub fn start(config: &Path, db: &Path) -> Service {
        Service::start_with(config, db, "127.0.0.1:0", &[])
    }

    /// [`Service::start`] on another address, with environment variables.
    pub fn start_with(config: &Path, db: &Path, listen: &str, env: &[(&str, &str)]) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
            .arg("run")
            .arg("--config")
            .arg(config)
            .arg("--db")
            .arg(db)
            .args(["--listen", listen])
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let reader = {
            let log = log.clone();
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            })
        };
        Service {
            child,
            log,
            reader: Some(reader),
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The `http://host:port` it serves on, once it says so.
    pub async fn address(&self) -> String {
        const SAID: &str = "serving the inbox on ";
        let started = Instant::now();
        loop {
            let text = self.log();
            if let Some(at) = text.find(SAID) {
                let rest = &text[at + SAID.len()..];
                return rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_string();
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no address in the log:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits (at most 30 s) for the exit; returns its
    /// status and the whole log.
    pub async fn terminate(mut self) -> (ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    if let Some(reader) = self.reader.take() {
                        reader.join().unwrap();
                    }
                    return (status, self.log());
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "no clean stop after SIGTERM"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .await
        .unwrap()
    }
}
