//! `run` on a PostgreSQL database shared by any number of processes, on one
//! machine or several. Each source is polled by the one process holding its
//! lease ([`crate::store::postgres::lease`]; sources sharing one
//! credential's quota are one lease, [`lease_name`]): every process claims its share
//! of the sources on start and every quarter of a lease time, renews what it
//! keeps, and takes over the sources of a process that stopped renewing
//! once their leases expire. A poll's mentions, cursor and health are
//! stored in one transaction that first checks the lease is still held, so
//! a source handed over mid-poll is stored by exactly one of the two.
//!
//! Spike detection is shared the same way, by brand ([`lease::brand_lease`]):
//! one blocking thread per process judges the brands it holds, each under
//! its own lease, and every write it makes (incident, notices, progress)
//! first checks that lease, so a brand handed over mid-tick is recorded by
//! one process. A brand taken over resumes from the stored progress and
//! open incident, as a restarted service does. Every process delivers the
//! shared outbox: each due notice is claimed by one of them before it is
//! sent ([`crate::alert::delivery::Dispatcher::on_postgres`]).
//!
//! Each process sends the due digests of the brands it judges.
//!
//! Replies and the web UI (but `/healthz` and `/metrics`) still run on
//! SQLite only (the start-up log says so): they read and write through
//! SQLite's one writer.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{poll_loop, DETECT_EVERY, DIGEST_EVERY};
use crate::alert::delivery::Dispatcher;
use crate::alert::service::AlertService;
use crate::clock::Clock;
use crate::config::Config;
use crate::sources::poll::{lease_name, sources_with, Limiters, Poller, Source};
use crate::store::postgres::lease::{self, Holder, Leases};
use crate::store::sql::PgBlocking;
use crate::store::StoreError;

/// Connections each process keeps: polls store concurrently, and some are
/// left for the lease claims, detection and each alert channel's delivery.
const POOL_SIZE: usize = 12;

/// How long a process waits for its in-flight polls to commit on shutdown.
const DRAIN: Duration = Duration::from_secs(30);
/// How long shutdown gives the notices due then (another process delivers
/// what is left, once this one's claims run out).
const DELIVERY_DRAIN: Duration = Duration::from_secs(10);

/// A lease lasts twice the shortest poll interval (and at least
/// [`lease::LEASE_TIME_BOUNDS`]' lower bound), so a dead process's sources
/// are polled again within about three intervals.
pub fn lease_time(sources: &[Arc<Source>]) -> Duration {
    let shortest = sources
        .iter()
        .map(|s| s.config.interval())
        .min()
        .unwrap_or(Duration::from_secs(120));
    (shortest * 2).clamp(lease::LEASE_TIME_BOUNDS.0, lease::LEASE_TIME_BOUNDS.1)
}

/// The sources of one lease being polled by this process, and how to stop them.
struct Polling {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Runs until `shutdown` resolves: polls this process's share of the
/// sources into the database at `url`.
pub async fn run_shared(
    config: Config,
    url: &str,
    web: Option<super::WebOptions>,
    clock: Arc<dyn Clock>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let shown = crate::store::postgres::redacted(url);
    let pool = crate::store::postgres::pool(url, POOL_SIZE)
        .await
        .with_context(|| format!("cannot open the database {shown}"))?;
    crate::metrics::handle();
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let holder = Holder::new(&host, std::process::id(), clock.now().timestamp_millis());
    let limiters = Limiters::new(&config.sources);
    let sources: Vec<Arc<Source>> = sources_with(&config.sources, &limiters)
        .into_iter()
        .map(Arc::new)
        .collect();
    let lease_time = lease_time(&sources);
    let leases = Leases::new(holder.clone(), lease_time);
    let poller = Arc::new(Poller::on_postgres(
        config.enricher()?,
        pool.clone(),
        &holder.id,
        &config.spam,
        clock.clone(),
    )?);
    // Each lease and the sources polled under it, in config order.
    let mut groups: Vec<(String, Vec<Arc<Source>>)> = Vec::new();
    for source in &sources {
        let name = lease_name(&source.config);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, group)) => group.push(source.clone()),
            None => groups.push((name, vec![source.clone()])),
        }
    }
    let names: Vec<String> = groups.iter().map(|(name, _)| name.clone()).collect();
    let brand_leases: Vec<String> = config.brands.iter().map(|b| lease::brand_lease(&b.name)).collect();
    tracing::info!(
        database = %shown,
        holder = %holder.id,
        sources = sources.len(),
        brands = brand_leases.len(),
        lease_seconds = lease_time.as_secs_f64(),
        "sharing the sources and brands with every process on this database"
    );
    tracing::warn!(
        "on PostgreSQL this process polls, detects spikes, delivers alerts and sends digests; replies and the \
         web UI (but /healthz and /metrics) run on SQLite only so far"
    );

    let (web_stop, web_stopped) = watch::channel(false);
    let server = match web {
        Some(web) => {
            let listener = tokio::net::TcpListener::bind(web.listen)
                .await
                .with_context(|| format!("cannot listen on {}; choose another address with --listen", web.listen))?;
            tracing::info!("serving /healthz and /metrics on http://{}/", listener.local_addr()?);
            let app = crate::web::shared::router(crate::web::shared::SharedState {
                pool: pool.clone(),
                config: Arc::new(config.clone()),
                clock: clock.clone(),
                holder: holder.clone(),
            });
            let mut stopped = web_stopped;
            Some(tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.changed().await;
                    })
                    .await
            }))
        }
        None => None,
    };

    let (brands_held, brands_to_detect) = watch::channel(BTreeSet::new());
    let (detect_stop, detect_stopped) = watch::channel(false);
    let detector = {
        let (config, holder, clock) = (config.clone(), holder.id.clone(), clock.clone());
        let db = PgBlocking::new(pool.clone(), tokio::runtime::Handle::current());
        tokio::task::spawn_blocking(move || {
            detect_held_brands(&config, db, &holder, brands_to_detect, clock, detect_stopped)
        })
    };
    let dispatcher = Arc::new(Dispatcher::on_postgres(&config.alerts, pool.clone(), clock.clone())?);
    let delivery = super::deliver_until(dispatcher.clone(), detect_stop.subscribe());

    let digests = {
        let (config, clock, mut stopped, mut held) = (
            config.clone(),
            clock.clone(),
            detect_stop.subscribe(),
            brands_held.subscribe(),
        );
        let db = crate::digest::schedule::DigestDb::Postgres(PgBlocking::new(
            pool.clone(),
            tokio::runtime::Handle::current(),
        ));
        tokio::spawn(async move {
            loop {
                let leases = held.borrow_and_update().clone();
                let mine: Vec<_> = config
                    .brands
                    .iter()
                    .filter(|b| leases.contains(&lease::brand_lease(&b.name)))
                    .cloned()
                    .collect();
                if !mine.is_empty() {
                    super::send_digests(&config, &mine, db.clone(), clock.now()).await;
                }
                // Soon after a brand is taken over, then every few minutes.
                tokio::select! {
                    _ = tokio::time::sleep(DIGEST_EVERY) => {}
                    changed = held.changed() => if changed.is_err() { return },
                    _ = stopped.changed() => return,
                }
            }
        })
    };

    // Known to the others first; the first claim comes one claim period
    // later, when processes started together have all announced themselves.
    leases.announce(&**pool.get().await?).await?;
    let mut polling: HashMap<String, Polling> = HashMap::new();
    let mut stopping: Vec<JoinHandle<()>> = Vec::new();
    let mut claims = tokio::time::interval_at(tokio::time::Instant::now() + lease_time / 4, lease_time / 4);
    claims.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_held: Option<BTreeSet<String>> = None;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = claims.tick() => {}
        }
        match claim(&pool, &leases, &brand_leases).await {
            Ok(brands) => {
                brands_held.send_if_modified(|held| {
                    let changed = *held != brands;
                    *held = brands;
                    changed
                });
            }
            Err(e) => tracing::warn!("cannot renew the brands' leases: {e}"),
        }
        let held = match claim(&pool, &leases, &names).await {
            Ok(held) => held,
            Err(e) => {
                // Polls go on; what they store is checked against the
                // lease, which expires if this goes on too long.
                tracing::warn!("cannot renew the leases: {e}");
                continue;
            }
        };
        polling.retain(|name, p| {
            let keep = held.contains(name);
            if !keep {
                let _ = p.stop.send(true);
                stopping.append(&mut p.tasks);
            }
            keep
        });
        stopping.retain(|task| !task.is_finished());
        for (name, group) in &groups {
            if held.contains(name) && !polling.contains_key(name) {
                let (stop, stopped) = watch::channel(false);
                let tasks = group
                    .iter()
                    .map(|source| {
                        tokio::spawn(poll_loop(
                            poller.clone(),
                            source.clone(),
                            clock.clone(),
                            stopped.clone(),
                        ))
                    })
                    .collect();
                polling.insert(name.clone(), Polling { stop, tasks });
            }
        }
        if last_held.as_ref() != Some(&held) {
            tracing::info!(
                held = held.len(),
                of = names.len(),
                "polling this process's share of the sources"
            );
            last_held = Some(held);
        }
    }

    tracing::info!("stopping: no new polls; committing the polls under way");
    let _ = web_stop.send(true);
    if let Some(server) = server {
        match server.await {
            Ok(Err(e)) => tracing::error!("the health server failed: {e}"),
            Err(e) => tracing::error!("the health server task failed: {e}"),
            Ok(Ok(())) => {}
        }
    }
    for p in polling.values() {
        let _ = p.stop.send(true);
    }
    stopping.extend(polling.into_values().flat_map(|p| p.tasks));
    let drained = tokio::time::timeout(DRAIN, futures::future::join_all(stopping)).await;
    if drained.is_err() {
        tracing::error!("polls still under way after {DRAIN:?}: their leases expire and another process redoes them");
    }
    // The last polls' mentions are judged before detection stops.
    let _ = detect_stop.send(true);
    match detector.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!("spike detection failed: {e}"),
        Err(e) => tracing::error!("the detection thread failed: {e}"),
    }
    let _ = delivery.await;
    let _ = digests.await;
    if let Err(e) = dispatcher.drain(tokio::time::Instant::now() + DELIVERY_DRAIN).await {
        tracing::error!("final delivery failed: {e}");
    }
    // Handed back at once, so the others take the sources over now rather
    // than after the leases expire.
    match pool.get().await {
        Ok(client) => {
            if let Err(e) = leases.release_all(&client).await {
                tracing::warn!("cannot hand the leases back ({e}); they expire in {lease_time:?}");
            }
        }
        Err(e) => tracing::warn!("cannot hand the leases back ({e}); they expire in {lease_time:?}"),
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Judges the brands whose leases this process holds (`held`, lease names)
/// every [`DETECT_EVERY`], and at once when they change; one service per
/// brand, so that a brand lost to another process is dropped alone.
fn detect_held_brands(
    config: &Config,
    db: PgBlocking,
    holder: &str,
    mut held: watch::Receiver<BTreeSet<String>>,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut services: BTreeMap<String, AlertService> = BTreeMap::new();
    // Brands whose ticks fail (the database is away): one clear line when
    // a brand starts failing and one when it works again, not one a tick.
    let mut failing: BTreeSet<String> = BTreeSet::new();
    let mut last_round = false;
    loop {
        let leases = held.borrow_and_update().clone();
        services.retain(|lease, _| leases.contains(lease));
        for brand in &config.brands {
            let lease = lease::brand_lease(&brand.name);
            if !leases.contains(&lease) || services.contains_key(&lease) {
                continue;
            }
            let started = AlertService::on_postgres(
                std::slice::from_ref(brand),
                &config.detect,
                &config.alerts,
                db.clone(),
                Some((&lease, holder)),
            );
            match started {
                Ok(service) => {
                    tracing::info!(brand = %brand.name, "detecting spikes");
                    services.insert(lease, service);
                }
                Err(e) => tracing::error!(brand = %brand.name, "cannot start spike detection: {e}"),
            }
        }
        let now = clock.now();
        services.retain(|lease, service| match service.tick(now) {
            Ok(_) => {
                if failing.remove(lease) {
                    tracing::info!(lease = %lease, "spike detection works again");
                }
                true
            }
            // Taken over since the last claim: the new holder judges it.
            Err(StoreError::Conflict(why)) => {
                tracing::info!("{why}");
                failing.remove(lease);
                false
            }
            Err(e) => {
                if failing.insert(lease.clone()) {
                    tracing::error!(lease = %lease, "spike detection failed: {e}");
                } else {
                    tracing::debug!(lease = %lease, "spike detection failed again: {e}");
                }
                true
            }
        });
        if last_round {
            return Ok(());
        }
        // Sleep in small steps so a shutdown or a change of leases is noticed promptly.
        let next = std::time::Instant::now() + DETECT_EVERY;
        while std::time::Instant::now() < next {
            if *stop.borrow_and_update() {
                last_round = true;
                break;
            }
            match held.has_changed() {
                Ok(true) => break,
                Ok(false) => {}
                // The claims have stopped: so does detection.
                Err(_) => {
                    last_round = true;
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

async fn claim(
    pool: &deadpool_postgres::Pool,
    leases: &Leases,
    names: &[String],
) -> Result<BTreeSet<String>, crate::store::postgres::PgError> {
    let mut client = pool.get().await?;
    Ok(leases.claim(&mut client, names).await?.into_iter().collect())
}
