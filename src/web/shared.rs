//! What a `run` on a shared PostgreSQL database serves
//! (`run --db postgres://…`): `/healthz`, with every source's health
//! and the process polling it and every brand's detecting process, and
//! `/metrics`. The inbox, alerts and the
//! rest of the web UI read the SQLite store so far, so they are not served
//! here. Both routes are public, as on SQLite; the Host check that stops DNS
//! rebinding applies all the same.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::ApiError;
use crate::clock::Clock;
use crate::config::Config;
use crate::store::postgres::lease::{self, Holder};

/// What the two routes read.
#[derive(Clone)]
pub struct SharedState {
    pub pool: deadpool_postgres::Pool,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub holder: Holder,
}

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(super::api::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), host_check))
        .with_state(state)
}

async fn host_check(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    match super::check_host(request.headers(), &state.config.web.public_names) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// Always 200 while the process and its database answer; `status` says
/// `degraded` when a source is failing or stale. `process` is this one;
/// each source's `held_by` is the process polling it, each brand's
/// `detected_by` the process judging its spikes (null while no process
/// holds it: detection of that brand waits for the next claim).
async fn healthz(State(state): State<SharedState>) -> Result<Json<serde_json::Value>, ApiError> {
    let client = state.pool.get().await.map_err(crate::store::StoreError::from)?;
    let statuses = crate::sources::state::status_postgres(&client, &state.config.sources).await?;
    let sources = super::api::health_of(statuses, &state.config.sources, state.clock.now());
    let degraded = sources.iter().any(|s| !s.healthy && s.status != "pending");
    let mine = sources
        .iter()
        .filter(|s| {
            s.held_by
                .as_ref()
                .is_some_and(|h| h.host == state.holder.host && h.pid == i64::from(state.holder.pid))
        })
        .count();
    let held = lease::held(&client).await.map_err(crate::store::StoreError::from)?;
    let mut detecting = 0;
    let brands: Vec<serde_json::Value> = state
        .config
        .brands
        .iter()
        .map(|brand| {
            let name = lease::brand_lease(&brand.name);
            let holder = held.iter().find(|l| l.name == name);
            if holder.is_some_and(|l| l.holder == state.holder.id) {
                detecting += 1;
            }
            let detected_by = holder.map(|l| {
                serde_json::json!({
                    "host": l.host,
                    "pid": l.pid,
                    "until": chrono::DateTime::from_timestamp_millis(l.expires_at).map(crate::mention::format_time),
                })
            });
            serde_json::json!({ "brand": brand.name, "detected_by": detected_by })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "status": if degraded { "degraded" } else { "ok" },
        "process": {
            "host": state.holder.host,
            "pid": state.holder.pid,
            "polling": mine,
            "detecting": detecting,
        },
        "sources": sources,
        "brands": brands,
    })))
}

async fn metrics() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        crate::metrics::handle().render(),
    )
        .into_response()
}
