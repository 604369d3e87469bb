//! `run`: the long-running service on wall time. One task per source polls
//! every `every` (with jitter, so sources do not fire together; failing
//! sources back off, rate-limited ones wait for the server's reset), the
//! alert service judges closed buckets every half minute, the outbox is
//! delivered continuously, due digests are sent, and the web UI and API
//! ([`crate::web`]) are served. SIGINT or SIGTERM stops polling, lets
//! requests and in-flight deliveries finish (bounded), flushes the writer and
//! closes the database.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::Rng;
use tokio::sync::watch;

use crate::alert::delivery::Dispatcher;
use crate::alert::service::AlertService;
use crate::clock::Clock;
use crate::config::Config;
use crate::digest;
use crate::sources::poll::{sources_with, Limiters, Poller, Source};
use crate::store::writer::Writer;

mod shared;
pub use shared::run_shared;

/// How often closed buckets are judged.
const DETECT_EVERY: Duration = Duration::from_secs(30);
/// How often due digests are looked for.
const DIGEST_EVERY: Duration = Duration::from_secs(300);
/// The longest a failing source waits between polls.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How long shutdown waits for deliveries under way.
const DRAIN: Duration = Duration::from_secs(10);

/// Where and how to serve the web UI and API.
pub struct WebOptions {
    pub listen: SocketAddr,
}

/// Runs until `shutdown` resolves, on `clock` (the wall clock, given by
/// the `run` command).
pub async fn run(
    config: Config,
    db: &Path,
    web: Option<WebOptions>,
    clock: Arc<dyn Clock>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    if let Some(web) = &web {
        let active_users = crate::accounts::active_count(&crate::store::open(db)?)?;
        crate::web::check_access(web.listen, active_users).map_err(anyhow::Error::msg)?;
    }
    // A bad certificate is found before anything starts.
    let tls = match (&config.web.tls_cert, &config.web.tls_key) {
        (Some(cert), Some(key)) if web.is_some() => {
            Some(crate::web::tls::server_config(cert, key).map_err(anyhow::Error::msg)?)
        }
        _ => None,
    };
    let (writer, handle) = Writer::start_with(db, &config.store, config.grouper())?;
    let (stop_tx, stop) = watch::channel(false);
    crate::metrics::handle();

    let server = match web {
        Some(web) => {
            let listener = tokio::net::TcpListener::bind(web.listen)
                .await
                .with_context(|| format!("cannot listen on {}; choose another address with --listen", web.listen))?;
            let address = listener.local_addr()?;
            let mut state = crate::web::AppState::new(
                Arc::new(config.clone()),
                db.to_path_buf(),
                handle.clone(),
                clock.clone(),
                web.listen.ip().is_loopback(),
            )?;
            if let Some(tls) = &tls {
                state = state.with_tls(tls.clone());
            }
            let mut web_stop = stop.clone();
            let scheme = if tls.is_some() { "https" } else { "http" };
            tracing::info!("serving the inbox on {scheme}://{address}/");
            Some(tokio::spawn(crate::web::serve(listener, state, async move {
                let _ = web_stop.changed().await;
            })))
        }
        None => None,
    };

    let poller = Arc::new(Poller::new(config.enricher()?, db, handle.clone(), clock.clone())?);
    let limiters = Limiters::new(&config.sources);
    let mut tasks = Vec::new();
    for source in sources_with(&config.sources, &limiters) {
        tasks.push(tokio::spawn(poll_loop(
            poller.clone(),
            Arc::new(source),
            clock.clone(),
            stop.clone(),
        )));
    }
    tracing::info!(sources = config.sources.len(), "polling");

    let detect_config = config.clone();
    let detect_clock = clock.clone();
    let detect_db = db.to_path_buf();
    let detect_writer = handle.clone();
    let mut detect_stop = stop.clone();
    let detector = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut service = AlertService::start(
            &detect_config.brands,
            &detect_config.detect,
            &detect_config.alerts,
            &detect_db,
            detect_writer,
        )?;
        loop {
            if let Err(e) = service.tick(detect_clock.now()) {
                tracing::error!("spike detection failed: {e}");
            }
            // Sleep in small steps so a shutdown is noticed promptly.
            for _ in 0..(DETECT_EVERY.as_millis() / 250) {
                if *detect_stop.borrow_and_update() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    });

    let dispatcher = Arc::new(Dispatcher::new(&config.alerts, db, handle.clone(), clock.clone())?);
    let delivery = deliver_until(dispatcher.clone(), stop.clone());

    // Replies written in the inbox, posted under the same limits as the polls.
    let replies = {
        let sender = crate::reply::Sender::new(&config.sources, &limiters, db, handle.clone(), clock.clone())?;
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = sender.run() => if let Err(e) = result { tracing::error!("posting replies stopped: {e}") },
                _ = stop.changed() => {}
            }
        })
    };

    let digests = {
        let (config, db, mut stop, clock) = (config.clone(), db.to_path_buf(), stop.clone(), clock.clone());
        tokio::spawn(async move {
            loop {
                send_digests(&config, &config.brands, &db, clock.now()).await;
                tokio::select! {
                    _ = tokio::time::sleep(DIGEST_EVERY) => {}
                    _ = stop.changed() => return,
                }
            }
        })
    };

    shutdown.await;
    tracing::info!("stopping: no new polls; finishing deliveries and writes");
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    if let Some(server) = server {
        // Requests under way finish; event streams end.
        match server.await {
            Ok(Err(e)) => tracing::error!("the web server failed: {e}"),
            Err(e) => tracing::error!("the web server task failed: {e}"),
            Ok(Ok(())) => {}
        }
    }
    let _ = digests.await;
    let _ = replies.await;
    let _ = delivery.await;
    // Deliveries that were due when the signal came get a bounded last chance.
    if let Err(e) = dispatcher.drain(tokio::time::Instant::now() + DRAIN).await {
        tracing::error!("final delivery failed: {e}");
    }
    detector.await.context("the detector task")??;
    drop(dispatcher);
    drop(poller);
    drop(handle);
    tokio::task::spawn_blocking(move || writer.finish())
        .await
        .context("the writer")??;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Sends the due digests of `brands` from `db`, saying what went where.
async fn send_digests(
    config: &Config,
    brands: &[crate::brand::BrandConfig],
    db: impl Into<digest::schedule::DigestDb>,
    now: chrono::DateTime<chrono::Utc>,
) {
    let sent =
        digest::schedule::send_due(brands, &config.inbox, &config.digest, &config.alerts.channels, db, now).await;
    match sent {
        Ok(sent) => {
            for s in sent {
                tracing::info!("sent the {} digest of {} to {}", s.brand, s.date, s.target);
            }
        }
        Err(e) => tracing::error!("sending digests failed: {e}"),
    }
}

/// Delivers the outbox until told to stop (the last due notices are the
/// caller's to drain).
fn deliver_until(dispatcher: Arc<Dispatcher>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            result = dispatcher.run() => if let Err(e) = result { tracing::error!("delivery stopped: {e}") },
            _ = stop.changed() => {}
        }
    })
}

/// Polls one source until told to stop.
async fn poll_loop(poller: Arc<Poller>, source: Arc<Source>, clock: Arc<dyn Clock>, mut stop: watch::Receiver<bool>) {
    let every = source.config.interval();
    // A random start so that sources configured alike do not fire together.
    let mut delay = every.mul_f64(rand::thread_rng().gen_range(0.0..0.25));
    let mut failures = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
        let report = poller.poll(&source).await;
        let jitter = rand::thread_rng().gen_range(0.9..1.1);
        delay = match (&report.error, report.rate_limited_until) {
            (Some(e), _) => {
                failures += 1;
                // One clear line per failure streak; then quieter.
                if failures == 1 {
                    tracing::warn!(source = %source.config.name, "poll failed: {e}");
                } else {
                    tracing::debug!(source = %source.config.name, failures, "poll failed again: {e}");
                }
                // A failing source is asked again after its interval, then
                // ever more rarely: the shared policy, based on `every`.
                crate::http::Backoff::new(every, MAX_BACKOFF).delay(failures + 1, None)
            }
            (None, Some(until)) => {
                failures = 0;
                tracing::info!(source = %source.config.name, until = %until.to_rfc3339(), "rate limited: waiting");
                (until - clock.now())
                    .to_std()
                    .unwrap_or(every)
                    .max(every)
                    .mul_f64(jitter)
            }
            (None, None) => {
                if failures > 0 {
                    tracing::info!(source = %source.config.name, "polling again after {failures} failures");
                }
                failures = 0;
                tracing::debug!(source = %source.config.name, new = report.stored, "polled");
                every.mul_f64(jitter)
            }
        };
    }
}

/// A future that resolves on SIGINT or SIGTERM. The handlers are installed
/// when this is called (inside the runtime), not when the future is first
/// polled, so a signal during start-up (rebuilding detectors can take a
/// while) still stops the service cleanly instead of killing it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                (interrupt, terminate) => {
                    tracing::error!(
                        "cannot listen for signals ({:?}, {:?}); stop with SIGKILL",
                        interrupt.err(),
                        terminate.err()
                    );
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
