//! Who is asking, and may they: the identity behind a request (a browser
//! session, a user's API token, or on loopback with no accounts the one
//! local user), the role each route needs, sign-in with throttling, and
//! sign-out.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{ApiError, AppState, CsrfToken};
use crate::accounts::{self, Role, SessionLimits};

pub(super) const SESSION_COOKIE: &str = "cm_session";
/// A session's idle clock is written back at most this often, not on every
/// request (each write goes through the one writer).
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// Keys the throttles remember before forgetting the idle ones (a stranger
/// trying a million names must not grow memory without bound).
const MAX_THROTTLE_KEYS: usize = 10_000;

/// Who a request acts as.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    /// Loopback with no accounts: the one person trying it, with every role.
    Local,
    /// A browser session; `digest` names it in the store.
    Session { digest: String },
    /// A user's API token.
    Token,
}

/// Checks a `by` sent with an action: at most as long as a user name,
/// whoever sends it (it is refused even where it is ignored).
pub fn check_by(claimed: Option<&str>) -> Result<(), ApiError> {
    match claimed {
        Some(by) if by.chars().count() > accounts::MAX_NAME_CHARS => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("by is at most {} characters", accounts::MAX_NAME_CHARS),
        )),
        _ => Ok(()),
    }
}

impl Identity {
    /// The name an action is recorded under. Only the local user may say
    /// who they are (`by`); everyone else is who they signed in as.
    pub fn actor(&self, claimed: Option<&str>) -> String {
        match (&self.via, claimed.map(str::trim).filter(|c| !c.is_empty())) {
            (Via::Local, Some(name)) => crate::mention::truncate(name, 64).to_string(),
            _ => self.name.clone(),
        }
    }

    pub fn is_local(&self) -> bool {
        self.via == Via::Local
    }
}

/// The role a route needs. Everything not named here is read-only and open
/// to every signed-in user.
pub fn required_role(method: &Method, path: &str) -> Option<Role> {
    let changes_alert = method == Method::POST && (path.starts_with("/alerts/") || path.starts_with("/api/alerts/"));
    // Saved replies speak for the brand: managers write them, agents use them.
    let changes_templates =
        method == Method::POST && (path.starts_with("/api/reply-templates") || path.starts_with("/reply-templates"));
    if path == "/login" || path == "/logout" {
        None
    } else if path == "/api/users" || path == "/users" {
        Some(Role::Admin)
    } else if changes_alert || changes_templates {
        Some(Role::Manager)
    } else {
        Some(Role::Agent)
    }
}

/// Failed and successful sign-ins alike, per account and per address: an
/// account takes 5 at once and then one a minute; an address 30 at once and
/// then one every 2 seconds (a proxy puts many people behind one address).
pub struct LoginThrottle {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let burst = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let account = Quota::per_minute(NonZeroU32::MIN).allow_burst(burst(5));
        let address = Quota::with_period(std::time::Duration::from_secs(2))
            .unwrap_or(Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst(30));
        LoginThrottle {
            per_account: RateLimiter::keyed(account),
            per_address: RateLimiter::keyed(address),
        }
    }
}

impl LoginThrottle {
    /// Whether one more attempt for `name` from `address` may be tried now.
    fn allow(&self, name: &str, address: IpAddr) -> bool {
        if self.per_account.len() > MAX_THROTTLE_KEYS {
            self.per_account.retain_recent();
        }
        if self.per_address.len() > MAX_THROTTLE_KEYS {
            self.per_address.retain_recent();
        }
        let by_address = self.per_address.check_key(&address).is_ok();
        let by_account = self.per_account.check_key(&name.to_lowercase()).is_ok();
        by_address && by_account
    }
}

/// The identity behind a request, if any: a bearer token, a session cookie,
/// or (loopback, no active accounts) the local user.
pub(super) async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Identity>, ApiError> {
    let bearer = super::bearer(headers);
    let session = super::cookies(headers).get(SESSION_COOKIE).cloned();
    let now = state.clock.now();
    let limits = state.session_limits;
    let loopback = state.loopback;
    let found = state
        .read(move |conn| {
            if let Some(token) = bearer {
                return Ok(accounts::token_user(conn, &token)?.map(|user| (user.name, user.role, Via::Token, None)));
            }
            if let Some(secret) = session {
                if let Some(s) = accounts::session(conn, &secret, now, limits)? {
                    let stale = now - s.last_seen_at > TOUCH_EVERY;
                    let digest = s.digest.clone();
                    return Ok(Some((
                        s.user.name,
                        s.user.role,
                        Via::Session { digest },
                        stale.then_some(s.digest),
                    )));
                }
            }
            if loopback && accounts::active_count(conn)? == 0 {
                return Ok(Some(("local".to_string(), Role::Admin, Via::Local, None)));
            }
            Ok(None)
        })
        .await?;
    let Some((name, role, via, touch)) = found else {
        return Ok(None);
    };
    if let Some(digest) = touch {
        state
            .writer
            .transact(move |tx| accounts::touch_session(tx, &digest, now))
            .await?;
    }
    Ok(Some(Identity { name, role, via }))
}

fn client_address(request_extensions: &axum::http::Extensions) -> IpAddr {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
}

/// The sign-in form's answer.
pub async fn login(State(state): State<AppState>, Extension(csrf): Extension<CsrfToken>, request: Request) -> Response {
    let address = client_address(request.extensions());
    let secure = super::is_https(request.headers(), &state);
    let Ok(body) = axum::body::to_bytes(request.into_body(), 16 * 1024).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "a sign-in form is small").into_response();
    };
    let fields = super::pages::form(&body);
    if let Err(e) = super::pages::check_csrf(&fields, &csrf) {
        return super::pages::login_response(StatusCode::FORBIDDEN, Some(&e.message), &csrf);
    }
    let name = super::pages::field(&fields, "name").unwrap_or("").trim().to_string();
    let password = super::pages::field(&fields, "password").unwrap_or("").to_string();
    if !state.login_throttle.allow(&name, address) {
        tracing::warn!(%address, "sign-in throttled");
        let mut response = super::pages::login_response(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many attempts. Wait a minute and try again."),
            &csrf,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return response;
    }
    let checked_name = name.clone();
    // argon2 is slow on purpose: off the async threads.
    let verified = state
        .read(move |conn| accounts::verify_password(conn, &checked_name, &password))
        .await;
    let user = match verified {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::info!(%address, "sign-in refused");
            return super::pages::login_response(
                StatusCode::UNAUTHORIZED,
                Some("That name and password do not match an active account."),
                &csrf,
            );
        }
        Err(e) => return e.into_response(),
    };
    let now = state.clock.now();
    let signed_in = user.clone();
    let secret = match state
        .writer
        .transact(move |tx| accounts::start_session(tx, &signed_in, now))
        .await
    {
        Ok(secret) => secret,
        Err(e) => return ApiError::from(e).into_response(),
    };
    tracing::info!(user = %user.name, "signed in");
    let mut response = Redirect::to("/").into_response();
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.session_limits.max.num_seconds(),
        if secure { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Sign-out: the session ends in the store, and the cookie is cleared. The
/// form's token is bound to the session, so another site cannot sign
/// someone out.
pub async fn logout(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = super::pages::form(&body);
    if let Err(e) = super::pages::check_csrf(&fields, &csrf) {
        return e.into_response();
    }
    if let Some(secret) = super::cookies(&headers).get(SESSION_COOKIE).cloned() {
        if let Err(e) = state
            .writer
            .transact(move |tx| accounts::end_session(tx, &secret))
            .await
        {
            return ApiError::from(e).into_response();
        }
    }
    let mut response = Redirect::to("/login").into_response();
    let cleared = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cleared) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Session limits from `[web]`.
pub fn limits(web: &crate::config::WebConfig) -> SessionLimits {
    SessionLimits {
        idle: web.session_idle.0,
        max: web.session_max.0,
    }
}

pub type Throttle = Arc<LoginThrottle>;
