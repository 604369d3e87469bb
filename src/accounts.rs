//! Who may act: named users with a role, their passwords (argon2id), their
//! browser sessions and their API tokens, all kept in the database so that
//! `users add` on the command line takes effect in a running `run`.
//!
//! Secrets are never stored as given: a password as an argon2id PHC string
//! (slow on purpose, salted), a session id and an API token as SHA-256 (they
//! are 256 random bits, so a fast hash is enough and a lookup is one index
//! probe). The value itself is shown once, to its owner, and never logged.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::store::{from_ms, StoreError};

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; staff
/// accounts guard customer data, so more).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted: argon2 takes any length, but a stranger's
/// megabyte should not be hashed.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest user name: what the audit trail keeps of a name is 100 bytes,
/// and 25 characters fit in it whatever the script.
pub const MAX_NAME_CHARS: usize = 25;
/// What every API token starts with, so a leaked one is recognisable (and
/// secret scanners can be taught it).
pub const TOKEN_PREFIX: &str = "cm_";

/// What a user may do. Each role may do everything the one before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works the inbox: reads everything, acts on mentions.
    Agent,
    /// Also acknowledges, resolves and silences alerts.
    Manager,
    /// Also sees the users.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "{:?} is not a role: agent, manager or admin",
                crate::mention::truncate(other, 40)
            )),
        }
    }
}

/// A user as the service sees them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// How long a browser session lasts: at most `max` after sign-in, and not
/// past `idle` without a request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionLimits {
    pub idle: Duration,
    pub max: Duration,
}

/// A name is what the audit trail shows: letters, digits and `.-_@`, so it
/// reads the same in a log line, a page and a shell.
pub fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok && name != "local" {
        Ok(())
    } else if name == "local" {
        Err(StoreError::Invalid(
            "\"local\" is the name of the no-login user on loopback; choose another".into(),
        ))
    } else {
        Err(StoreError::Invalid(format!(
            "a user name is 1 to {MAX_NAME_CHARS} letters, digits or . - _ @ (got {:?})",
            crate::mention::truncate(name, 80)
        )))
    }
}

pub fn check_password(password: &str) -> Result<(), StoreError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::Invalid(format!(
            "a password is at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt_bytes: [u8; 16] = rand::thread_rng().gen();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| StoreError::Invalid(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash the password: {e}")))
}

/// A hash with the current parameters, checked against when the account
/// does not exist, so that a wrong name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not the password of anyone at all").unwrap_or_default())
}

fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_secret() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    hex::encode(bytes)
}

const USER_COLUMNS: &str = "id, name, role, disabled_at IS NOT NULL, created_at, last_login_at";

fn user_row(row: &rusqlite::Row) -> rusqlite::Result<User> {
    user_at(row, 0)
}

/// A user read from `USER_COLUMNS` starting at column `first`.
fn user_at(row: &rusqlite::Row, first: usize) -> rusqlite::Result<User> {
    let role: String = row.get(first + 2)?;
    Ok(User {
        id: row.get(first)?,
        name: row.get(first + 1)?,
        // The table's CHECK allows only the three names.
        role: role.parse().unwrap_or(Role::Agent),
        disabled: row.get(first + 3)?,
        created_at: from_ms(row.get(first + 4)?),
        last_login_at: row.get::<_, Option<i64>>(first + 5)?.map(from_ms),
    })
}

/// `USER_COLUMNS` of the users table joined as `u`.
fn joined_user_columns() -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds a user; their name must be new.
pub fn add(conn: &Connection, name: &str, role: Role, password: &str, now: DateTime<Utc>) -> Result<User, StoreError> {
    check_name(name)?;
    check_password(password)?;
    let exists: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)", [name], |r| {
        r.get(0)
    })?;
    if exists {
        return Err(StoreError::Invalid(format!("there is already a user named {name:?}")));
    }
    conn.execute(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, role.as_str(), hash_password(password)?, now.timestamp_millis()],
    )?;
    find(conn, name)
}

pub fn find(conn: &Connection, name: &str) -> Result<User, StoreError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
        [name],
        user_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("no user named {:?}", crate::mention::truncate(name, 80))))
}

pub fn list(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
    let users = stmt.query_map([], user_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(users)
}

/// Users who can sign in. With none, `run` stays open on loopback only.
pub fn active_count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM users WHERE disabled_at IS NULL", [], |r| r.get(0))?)
}

/// Disables (or enables again) a user. Disabling ends their sessions and
/// revokes their API tokens at once.
pub fn set_disabled(conn: &Connection, name: &str, disabled: bool, now: DateTime<Utc>) -> Result<User, StoreError> {
    let user = find(conn, name)?;
    conn.execute(
        "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
        params![user.id, disabled.then(|| now.timestamp_millis())],
    )?;
    if disabled {
        revoke_all(conn, user.id)?;
    }
    find(conn, name)
}

/// Sets a new password; every session and token of the user ends (a reset
/// is what one does after a leak).
pub fn reset_password(conn: &Connection, name: &str, password: &str) -> Result<User, StoreError> {
    check_password(password)?;
    let user = find(conn, name)?;
    conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![user.id, hash_password(password)?],
    )?;
    revoke_all(conn, user.id)?;
    Ok(user)
}

fn revoke_all(conn: &Connection, user_id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    conn.execute("DELETE FROM api_tokens WHERE user_id = ?1", [user_id])?;
    Ok(())
}

/// The user, if `password` is theirs and they are not disabled. Takes the
/// same time whether or not the name exists.
pub fn verify_password(conn: &Connection, name: &str, password: &str) -> Result<Option<User>, StoreError> {
    if password.len() > MAX_PASSWORD_BYTES || name.chars().count() > MAX_NAME_CHARS {
        return Ok(None);
    }
    let found: Option<(String, User)> = conn
        .query_row(
            &format!("SELECT password_hash, {USER_COLUMNS} FROM users WHERE name = ?1"),
            [name],
            |r| Ok((r.get(0)?, user_at(r, 1)?)),
        )
        .optional()?;
    let stored = found.as_ref().map_or(decoy_hash(), |(hash, _)| hash.as_str());
    let matches = PasswordHash::new(stored)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false);
    Ok(found
        .filter(|(_, user)| matches && !user.disabled)
        .map(|(_, user)| user))
}

/// Starts a browser session for `user`; the returned value goes into the
/// cookie and is stored only as its digest.
pub fn start_session(conn: &Connection, user: &User, now: DateTime<Utc>) -> Result<String, StoreError> {
    let secret = random_secret();
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
        params![secret_digest(&secret), user.id, now.timestamp_millis()],
    )?;
    conn.execute(
        "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
        params![user.id, now.timestamp_millis()],
    )?;
    // Ended sessions are of no use to anyone: dropped as new ones start.
    conn.execute(
        "DELETE FROM sessions WHERE last_seen_at < ?1",
        [now.timestamp_millis() - Duration::days(30).num_milliseconds()],
    )?;
    Ok(secret)
}

/// A live session: its user and when it was last used.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub digest: String,
    pub last_seen_at: DateTime<Utc>,
}

/// The session behind a cookie value, if it is still live.
pub fn session(
    conn: &Connection,
    secret: &str,
    now: DateTime<Utc>,
    limits: SessionLimits,
) -> Result<Option<Session>, StoreError> {
    if secret.len() != 64 {
        return Ok(None);
    }
    let digest = secret_digest(secret);
    let found = conn
        .query_row(
            &format!(
                "SELECT s.created_at, s.last_seen_at, {} FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id_hash = ?1",
                joined_user_columns()
            ),
            [&digest],
            |r| Ok((from_ms(r.get(0)?), from_ms(r.get(1)?), user_at(r, 2)?)),
        )
        .optional()?;
    Ok(found.and_then(|(created, last_seen, user)| {
        let live = !user.disabled && now - created < limits.max && now - last_seen < limits.idle;
        live.then_some(Session {
            user,
            digest,
            last_seen_at: last_seen,
        })
    }))
}

/// Marks a session as used now (its idle clock starts again).
pub fn touch_session(conn: &Connection, digest: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
        params![digest, now.timestamp_millis()],
    )?;
    Ok(())
}

/// Ends the session behind a cookie value (sign-out).
pub fn end_session(conn: &Connection, secret: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [secret_digest(secret)])?;
    Ok(())
}

/// A new API token for `name`'s scripts, shown once: the user's role is the
/// token's role, and disabling the user or resetting the password revokes it.
pub fn new_token(conn: &Connection, name: &str, label: &str, now: DateTime<Utc>) -> Result<String, StoreError> {
    let user = find(conn, name)?;
    if user.disabled {
        return Err(StoreError::Invalid(format!("{name} is disabled")));
    }
    let label = crate::mention::truncate(label.trim(), 100);
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![secret_digest(&token), user.id, label, now.timestamp_millis()],
    )?;
    Ok(token)
}

/// The user an API token belongs to, if it is live.
pub fn token_user(conn: &Connection, token: &str) -> Result<Option<User>, StoreError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() != TOKEN_PREFIX.len() + 64 {
        return Ok(None);
    }
    let user = conn
        .query_row(
            &format!(
                "SELECT {} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1",
                joined_user_columns()
            ),
            [secret_digest(token)],
            user_row,
        )
        .optional()?;
    Ok(user.filter(|u| !u.disabled))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrations().to_latest(&mut conn).unwrap();
        conn
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap().to_utc()
    }

    #[test]
    fn a_password_is_stored_as_argon2id_and_checked() {
        let conn = db();
        add(&conn, "maria", Role::Agent, "correct horse battery", now()).unwrap();
        let stored: String = conn
            .query_row("SELECT password_hash FROM users WHERE name = 'maria'", [], |r| r.get(0))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert_eq!(
            verify_password(&conn, "maria", "correct horse battery")
                .unwrap()
                .map(|u| u.name),
            Some("maria".into())
        );
        assert_eq!(verify_password(&conn, "maria", "wrong horse battery").unwrap(), None);
        assert_eq!(verify_password(&conn, "nobody", "correct horse battery").unwrap(), None);
    }

    #[test]
    fn names_passwords_and_roles_are_checked() {
        let conn = db();
        for (name, password) in [
            ("", "long enough password"),
            ("a b", "long enough password"),
            ("local", "long enough password"),
            ("<script>", "long enough password"),
            ("maria", "short"),
        ] {
            assert!(
                add(&conn, name, Role::Agent, password, now()).is_err(),
                "{name:?} {password:?}"
            );
        }
        assert!(add(&conn, "maria", Role::Agent, &"x".repeat(MAX_PASSWORD_BYTES + 1), now()).is_err());
        add(&conn, "maria", Role::Agent, "long enough password", now()).unwrap();
        assert!(add(&conn, "maria", Role::Admin, "another long password", now()).is_err());
        assert!(add(&conn, "MARIA", Role::Admin, "another long password", now()).is_err());
        assert_eq!("Manager".parse::<Role>(), Ok(Role::Manager));
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Agent < Role::Manager && Role::Manager < Role::Admin);
    }

    #[test]
    fn sessions_end_when_idle_too_long_or_too_old_or_signed_out() {
        let conn = db();
        let user = add(&conn, "maria", Role::Manager, "long enough password", now()).unwrap();
        let limits = SessionLimits {
            idle: Duration::minutes(30),
            max: Duration::hours(12),
        };
        let secret = start_session(&conn, &user, now()).unwrap();
        let stored: String = conn
            .query_row("SELECT id_hash FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, secret, "only the digest is stored");
        let live = session(&conn, &secret, now() + Duration::minutes(29), limits)
            .unwrap()
            .unwrap();
        assert_eq!(live.user.role, Role::Manager);
        assert!(session(&conn, &secret, now() + Duration::minutes(31), limits)
            .unwrap()
            .is_none());
        // Used every 20 minutes it lives until its maximum age, not past it.
        let mut t = now();
        while t < now() + Duration::hours(11) {
            t += Duration::minutes(20);
            touch_session(&conn, &live.digest, t).unwrap();
        }
        assert!(session(&conn, &secret, t + Duration::minutes(1), limits)
            .unwrap()
            .is_some());
        assert!(session(&conn, &secret, now() + Duration::hours(12), limits)
            .unwrap()
            .is_none());

        let other = start_session(&conn, &user, now()).unwrap();
        end_session(&conn, &other).unwrap();
        assert!(session(&conn, &other, now(), limits).unwrap().is_none());
        assert!(session(&conn, "not a session", now(), limits).unwrap().is_none());
    }

    #[test]
    fn disabling_or_resetting_ends_sessions_and_tokens() {
        let conn = db();
        let user = add(&conn, "maria", Role::Agent, "long enough password", now()).unwrap();
        let limits = SessionLimits {
            idle: Duration::hours(1),
            max: Duration::hours(12),
        };
        let token = new_token(&conn, "maria", "export script", now()).unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));
        let stored: String = conn
            .query_row("SELECT token_hash FROM api_tokens", [], |r| r.get(0))
            .unwrap();
        assert!(!stored.contains(&token[TOKEN_PREFIX.len()..]));
        assert_eq!(token_user(&conn, &token).unwrap().map(|u| u.name), Some("maria".into()));
        assert!(token_user(&conn, "cm_guess").unwrap().is_none());

        let secret = start_session(&conn, &user, now()).unwrap();
        set_disabled(&conn, "maria", true, now()).unwrap();
        assert!(session(&conn, &secret, now(), limits).unwrap().is_none());
        assert!(token_user(&conn, &token).unwrap().is_none());
        assert_eq!(verify_password(&conn, "maria", "long enough password").unwrap(), None);
        assert_eq!(active_count(&conn).unwrap(), 0);

        set_disabled(&conn, "maria", false, now()).unwrap();
        let token = new_token(&conn, "maria", "", now()).unwrap();
        let secret = start_session(&conn, &user, now()).unwrap();
        reset_password(&conn, "maria", "a brand new password").unwrap();
        assert!(session(&conn, &secret, now(), limits).unwrap().is_none());
        assert!(token_user(&conn, &token).unwrap().is_none());
        assert!(verify_password(&conn, "maria", "a brand new password")
            .unwrap()
            .is_some());
    }
}
