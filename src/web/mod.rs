//! The web UI and JSON API of `run` (axum): the response inbox, alerts,
//! brand overviews, live updates over Server-Sent Events, `/healthz` and
//! `/metrics`. Every page is rendered on the server from the same queries the
//! API answers with ([`api`] for JSON, [`pages`] for HTML), so the UI works
//! without JavaScript; a little script adds live refresh and remembers the
//! user's name. `docs/api.md` documents the endpoints.
//!
//! Access (`docs/security.md`): every request acts as someone. Users
//! (`users add`) sign in with a name and password for a session cookie, or
//! send one of their API tokens (`Authorization: Bearer`); each route needs
//! a role ([`auth::required_role`]). While no account exists, loopback is
//! open to the one local user and every page says so; any other address
//! refuses to start without an account. Every request must name us in
//! `Host` (a loopback name, an IP address or one of `[web] public_names`),
//! so a page that rebinds its own name to our address gets nothing. Changes
//! are POSTs that a browser must say come from our own origin (`Origin`,
//! `Sec-Fetch-Site`); forms also carry a CSRF token, an HMAC of the session
//! (or, signed out, of a cookie) under a key only this process knows, and
//! JSON bodies must say `application/json`. Pages and answers are
//! `no-store`, under a Content Security Policy that allows only our own
//! inline style and script.

pub mod api;
pub mod auth;
pub mod charts;
pub mod events;
pub mod openapi;
pub mod pages;
pub mod shared;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use rand::Rng;
use rusqlite::Connection;
use sha2::Sha256;
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::config::Config;
use crate::store::writer::WriterHandle;
use crate::store::{self, StoreError};

const CSRF_COOKIE: &str = "cm_csrf";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: PathBuf,
    pub writer: WriterHandle,
    pub clock: Arc<dyn Clock>,
    pub events: broadcast::Sender<events::Event>,
    /// The connections every read shares (`READERS` at most).
    readers: store::ReadPool,
    /// Served on a loopback address: with no accounts, open to the local user.
    loopback: bool,
    session_limits: crate::accounts::SessionLimits,
    login_throttle: auth::Throttle,
    /// Serve HTTPS with these settings (`[web] tls_cert`, `tls_key`).
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Derives each browser's form token from its CSRF cookie; random per
    /// process, never sent.
    csrf_key: Arc<[u8; 32]>,
    /// Turns true when the server stops, ending the event streams (a
    /// graceful shutdown waits for every open connection).
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

/// Most read connections open at once: SQLite reads in parallel under WAL,
/// and more connections than cores only add memory.
const READERS: u32 = 4;

impl AppState {
    /// The database at `db` must exist (the writer has opened it).
    pub fn new(
        config: Arc<Config>,
        db: PathBuf,
        writer: WriterHandle,
        clock: Arc<dyn Clock>,
        loopback: bool,
    ) -> Result<Self, StoreError> {
        Ok(AppState {
            readers: store::read_pool(&db, READERS)?,
            session_limits: auth::limits(&config.web),
            config,
            db,
            writer,
            clock,
            events: broadcast::channel(256).0,
            loopback,
            login_throttle: Arc::default(),
            tls: None,
            csrf_key: Arc::new(rand::thread_rng().gen()),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        })
    }

    /// Serves HTTPS with `tls` (see [`tls::server_config`]).
    pub fn with_tls(mut self, tls: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Runs a read query on a pooled read-only connection, off the async
    /// threads.
    pub async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool
                .get()
                .map_err(|e| StoreError::Invalid(format!("no database connection free: {e}")))?;
            query(&conn)
        })
        .await
        .map_err(|e| ApiError::internal(format!("a read task failed: {e}")))?
        .map_err(ApiError::from)
    }
}

/// Checks that the service may listen on `addr` with `active_users`
/// accounts: off loopback, someone must be able to sign in.
pub fn check_access(addr: SocketAddr, active_users: i64) -> Result<(), String> {
    if !addr.ip().is_loopback() && active_users == 0 {
        return Err(format!(
            "listening on {addr} (not a loopback address) needs an account to sign in with: \
             add one with `complaint-monitor users add NAME --role admin`"
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
        .route("/mentions/{id}/label", post(api::correct_label))
        .route("/mentions/{id}/not-about-us", post(api::not_about_us))
        .route("/mentions/{id}/reply", post(api::reply))
        .route("/replies/{id}/retry", post(api::retry_reply))
        .route(
            "/reply-templates",
            get(api::reply_templates).post(api::save_reply_template),
        )
        .route("/reply-templates/{id}/delete", post(api::delete_reply_template))
        .route("/views", get(api::views).post(api::save_view))
        .route("/response-times", get(api::response_times))
        .route("/views/{id}/delete", post(api::delete_view))
        .route("/corrections", get(api::corrections))
        .route("/alerts", get(api::alerts))
        .route("/alerts/{id}", get(api::alert))
        .route("/alerts/{id}/{change}", post(api::change_alert))
        .route("/brands", get(api::brands))
        .route("/brands/{brand}/series", get(api::series))
        .route("/sources", get(api::sources))
        .route("/users", get(api::users))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/events", get(events::stream))
        .fallback(api::not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .route("/", get(pages::inbox))
        .route("/inbox/rows", get(pages::inbox_rows))
        .route("/mentions/{id}", get(pages::mention))
        .route("/mentions/{id}/reply", post(pages::reply))
        .route("/replies/{id}/retry", post(pages::retry_reply))
        .route("/reply-templates", post(pages::save_reply_template))
        .route("/reply-templates/{id}/delete", post(pages::delete_reply_template))
        .route("/inbox/views", post(pages::save_view))
        .route("/inbox/views/{id}/delete", post(pages::delete_view))
        .route("/inbox/actions", post(pages::inbox_action))
        .route("/alerts", get(pages::alerts))
        .route("/alerts/{id}", post(pages::alert_action))
        .route("/brands", get(pages::brands))
        .route("/brands/{brand}", get(pages::brand))
        .route("/health", get(pages::health))
        .route("/banner", get(pages::banner))
        .route("/assets/events-worker.js", get(pages::events_worker))
        .route("/login", get(pages::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/users", get(pages::users))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .nest("/api", api)
        .fallback(pages::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        // One access line per request: method, path (without the query),
        // user, status and latency; never a header, so never a token or a
        // cookie.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        user = tracing::field::Empty
                    )
                })
                .on_request(())
                .on_response(|response: &Response, latency: std::time::Duration, _: &tracing::Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_millis() as u64,
                        "served"
                    );
                })
                .on_failure(()),
        )
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
    let tls = state.tls.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    shutdown.await;
                    stopping.send_replace(true);
                })
                .await
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopping.send_replace(true);
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(
                listener.into_std()?,
                axum_server::tls_rustls::RustlsConfig::from_config(tls),
            )
            .handle(handle)
            .serve(app)
            .await
        }
    };
    let _ = watcher.await;
    result
}

/// The form token of this request: an HMAC of its session (signed out: of
/// its `cm_csrf` cookie) under the process's key, for forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Access control and CSRF protection for every request.
async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Err(e) = check_host(request.headers(), &state.config.web.public_names) {
        return e.into_response();
    }
    let path = request.uri().path().to_string();
    let identity = match auth::identify(&state, request.headers()).await {
        Ok(identity) => identity,
        Err(e) => return e.into_response(),
    };
    if let Some(who) = &identity {
        tracing::Span::current().record("user", tracing::field::display(&who.name));
    }
    if let Some(needed) = auth::required_role(request.method(), &path) {
        match &identity {
            None => return unauthorized(request.headers()),
            Some(who) if who.role < needed => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("this needs the {needed} role; {} is {}", who.name, who.role),
                )
                .into_response()
            }
            Some(_) => {}
        }
    }
    if request.method() == Method::POST {
        if let Err(e) = check_same_origin(request.headers()) {
            return e.into_response();
        }
    }
    // A signed-in browser's form token is bound to its session; a browser
    // not signed in gets one bound to a random cookie of its own.
    let existing = cookies(request.headers())
        .get(CSRF_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .cloned();
    let mut new_cookie = None;
    let basis = match identity.as_ref().map(|who| &who.via) {
        Some(auth::Via::Session { digest }) => digest.clone(),
        _ => existing.clone().unwrap_or_else(|| {
            let bytes: [u8; 16] = rand::thread_rng().gen();
            let fresh = hex::encode(bytes);
            new_cookie = Some(fresh.clone());
            fresh
        }),
    };
    request
        .extensions_mut()
        .insert(CsrfToken(form_token(&state.csrf_key, &basis)));
    if let Some(who) = identity {
        request.extensions_mut().insert(who);
    }
    let mut response = next.run(request).await;
    if let Some(csrf) = new_cookie {
        if let Ok(cookie) = HeaderValue::from_str(&format!("{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict")) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    let headers = response.headers_mut();
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // Customer data: never kept by a browser or a proxy cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(policy) = HeaderValue::from_str(pages::content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// Whether the browser reached us over HTTPS: directly when we serve TLS,
/// else by a reverse proxy's `X-Forwarded-Proto`, or by config.
fn is_https(headers: &HeaderMap, state: &AppState) -> bool {
    state.tls.is_some()
        || state.config.web.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A known path asked with the wrong method: JSON, as every error.
async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "this path does not take that method")
}

/// The form token of the browser whose CSRF cookie is `cookie`.
fn form_token(key: &[u8; 32], cookie: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes a key of any length: unreachable, and harmless if not.
        Err(_) => return String::new(),
    };
    mac.update(cookie.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The name a request is addressed to must be ours: a loopback name, an IP
/// address (which no other site can rebind) or a configured public name.
fn check_host(headers: &HeaderMap, public_names: &[String]) -> Result<(), ApiError> {
    let Some(host) = headers.get(header::HOST) else {
        // HTTP/1.0 clients and tools; browsers always send Host.
        return Ok(());
    };
    let host = host.to_str().unwrap_or("").trim();
    let name = match host.strip_prefix('[') {
        // [::1]:8080
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let ours = name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
        || public_names.iter().any(|p| p.eq_ignore_ascii_case(&name));
    if ours {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this service does not answer to {:?}: add it to [web] public_names if it is really ours",
                crate::mention::truncate(host, 100)
            ),
        ))
    }
}

/// A change a browser sends from another origin is refused, whatever it
/// carries: by `Sec-Fetch-Site` (which a page cannot forge) and by `Origin`.
/// Scripts (curl) send neither and pass.
fn check_same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || ApiError::new(StatusCode::FORBIDDEN, "cross-origin request refused");
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Err(refused());
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if origin == "null" || !origin_host.eq_ignore_ascii_case(host) {
            return Err(refused());
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
        Redirect::to("/login").into_response()
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "sign in: send Authorization: Bearer <token> (`complaint-monitor users token NAME`)",
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
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
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
