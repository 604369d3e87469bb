//! The web UI and JSON API of `run` (axum): the response inbox, alerts,
//! brand overviews, live updates over Server-Sent Events, `/healthz` and
//! `/metrics`. Every page is rendered on the server from the same queries the
//! API answers with ([`api`] for JSON, [`pages`] for HTML), so the UI works
//! without JavaScript; a little script adds live refresh and remembers the
//! user's name. `docs/api.md` documents the endpoints.
//!
//! Access: on a loopback address the UI is open, as any local tool; on any
//! other address `run` refuses to start without an access token (from the
//! environment), and every request must carry it (`Authorization: Bearer`, or
//! the cookie `/login` sets). Changes are POSTs: forms carry a CSRF token
//! that must match their cookie (double submit, `SameSite=Strict`), and JSON
//! bodies must say `application/json` and come from our own origin.

pub mod api;
pub mod charts;
pub mod events;
pub mod pages;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rand::Rng;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

use crate::alert::channels::Secret;
use crate::clock::Clock;
use crate::config::Config;
use crate::store::writer::WriterHandle;
use crate::store::{self, StoreError};

/// The environment variable holding the access token.
pub const TOKEN_ENV: &str = "COMPLAINT_MONITOR_TOKEN";
const ACCESS_COOKIE: &str = "cm_access";
const CSRF_COOKIE: &str = "cm_csrf";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: PathBuf,
    pub writer: WriterHandle,
    pub clock: Arc<dyn Clock>,
    pub events: broadcast::Sender<events::Event>,
    access: Option<Arc<Secret>>,
    /// Turns true when the server stops, ending the event streams (a
    /// graceful shutdown waits for every open connection).
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(
        config: Arc<Config>,
        db: PathBuf,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
        access: Option<Secret>,
    ) -> Self {
        AppState {
            config,
            db,
            writer,
            clock,
            events: broadcast::channel(256).0,
            access: access.map(Arc::new),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Runs a read query on a connection of its own, off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let conn = store::open_read_only(&db)?;
            crate::inbox::register_priority(&conn)?;
            query(&conn)
        })
        .await
        .map_err(|e| ApiError::internal(format!("a read task failed: {e}")))?
        .map_err(ApiError::from)
    }
}

/// Checks that the service may listen on `addr` with the given token.
pub fn check_access(addr: SocketAddr, token: Option<&Secret>) -> Result<(), String> {
    if !addr.ip().is_loopback() && token.is_none_or(|t| t.expose().trim().is_empty()) {
        return Err(format!(
            "listening on {addr} (not a loopback address) needs an access token: set {TOKEN_ENV}"
        ));
    }
    Ok(())
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/mentions", get(api::mentions))
        .route("/mentions/{id}", get(api::mention))
        .route("/mentions/actions", post(api::mention_actions))
        .route("/alerts", get(api::alerts))
        .route("/alerts/{id}", get(api::alert))
        .route("/alerts/{id}/{change}", post(api::change_alert))
        .route("/brands", get(api::brands))
        .route("/brands/{brand}/series", get(api::series))
        .route("/sources", get(api::sources))
        .route("/events", get(events::stream))
        .fallback(api::not_found);
    Router::new()
        .route("/", get(pages::inbox))
        .route("/inbox/rows", get(pages::inbox_rows))
        .route("/inbox/actions", post(pages::inbox_action))
        .route("/alerts", get(pages::alerts))
        .route("/alerts/{id}", post(pages::alert_action))
        .route("/brands", get(pages::brands))
        .route("/brands/{brand}", get(pages::brand))
        .route("/health", get(pages::health))
        .route("/banner", get(pages::banner))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .nest("/api", api)
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves; requests
/// under way finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.stopping.clone();
    let watcher = events::spawn_watcher(state.db.clone(), state.events.clone(), stopping.subscribe());
    let app = router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.send_replace(true);
        })
        .await;
    let _ = watcher.await;
    result
}

/// The CSRF token of this browser (its cookie's value), for forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Access control and CSRF protection for every request.
async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let cookies = cookies(request.headers());
    let path = request.uri().path().to_string();
    if let Some(token) = &state.access {
        let presented = bearer(request.headers()).or_else(|| {
            cookies
                .get(ACCESS_COOKIE)
                .map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        });
        let open = path == "/login";
        if !open && !presented.is_some_and(|p| same_secret(&p, token.expose())) {
            return unauthorized(request.headers());
        }
    }
    if request.method() == Method::POST && path.starts_with("/api/") {
        if let Err(e) = check_json_post(request.headers()) {
            return e.into_response();
        }
    }
    let existing = cookies.get(CSRF_COOKIE).filter(|v| v.len() == 32).cloned();
    let csrf = existing.clone().unwrap_or_else(|| {
        let bytes: [u8; 16] = rand::thread_rng().gen();
        hex::encode(bytes)
    });
    request.extensions_mut().insert(CsrfToken(csrf.clone()));
    let mut response = next.run(request).await;
    if existing.is_none() {
        if let Ok(cookie) = HeaderValue::from_str(&format!("{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict")) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    let headers = response.headers_mut();
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

/// JSON changes must say so (a cross-site form cannot) and, when the browser
/// names an origin, come from ours.
fn check_json_post(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim() == "application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send a JSON body with Content-Type: application/json",
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if origin_host != host {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "cross-origin request refused"));
        }
    }
    Ok(())
}

fn unauthorized(headers: &HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        pages::page(
            StatusCode::UNAUTHORIZED,
            pages::login_page(Some("Sign in with the access token.")),
        )
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "an access token is required: Authorization: Bearer <token>",
        )
        .into_response()
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

pub(crate) fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Compares secrets by their digests, so the time taken says nothing about
/// how much of a guess was right.
fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// An error answer: a status and a message, as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn internal(detail: String) -> Self {
        tracing::error!("request failed: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the service log has the details",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            StoreError::WriterStopped => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the service is stopping"),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({"error": self.message, "status": self.status.as_u16()})),
        )
            .into_response()
    }
}
