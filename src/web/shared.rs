//! What a `run` on a shared PostgreSQL database serves
//! (`run --db postgres://…`): `/healthz`, with every source's health
//! and the process polling it, and `/metrics`. The inbox, alerts and the
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
use crate::store::postgres::lease::Holder;

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
/// each source's `held_by` is the process polling it.
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
    Ok(Json(serde_json::json!({
        "status": if degraded { "degraded" } else { "ok" },
        "process": { "host": state.holder.host, "pid": state.holder.pid, "polling": mine },
        "sources": sources,
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
