//! Where notifications go. Each channel kind is one file; all of them take a
//! [`Notification`] and an idempotency key and say whether delivery worked,
//! failed for now (retry, perhaps after a time the receiver named), or failed
//! for good.

pub mod email;
mod log;
pub mod slack;
mod stdout;
mod webhook;

pub use email::EmailTls;
pub use webhook::signature as webhook_signature;

use std::time::Duration;

use serde::Deserialize;

use super::Notification;
use crate::clock::Span;
use crate::detect::incident::Severity;
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// A `tracing` log line per notification.
    Log,
    /// One JSON object per line on standard output (used by replay).
    Stdout,
    /// JSON POST with an `Idempotency-Key` and an HMAC-SHA256 signature.
    Webhook,
    /// A Slack incoming-webhook message with blocks.
    Slack,
    /// A plain-text email over SMTP.
    Email,
}

/// One `[[alerts.channels]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Names the channel in the outbox and in logs.
    pub name: String,
    pub kind: ChannelKind,
    /// Only these brands (all when empty).
    #[serde(default)]
    pub brands: Vec<String>,
    /// Only incidents of at least this severity.
    #[serde(default = "lowest_severity")]
    pub min_severity: Severity,
    /// Receiver URL (webhook, slack). May hold a secret: use `${ENV_VAR}`.
    #[serde(default)]
    pub url: Option<Secret>,
    /// HMAC key for the webhook signature; use `${ENV_VAR}`.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Time allowed for one delivery attempt.
    #[serde(default = "default_timeout")]
    pub timeout: Span,
    /// Email: the SMTP server, its port (default by `tls`: 587, 465 or 25),
    /// how the connection is secured, and the credentials (use `${ENV_VAR}`).
    #[serde(default)]
    pub smtp_host: Option<String>,
    #[serde(default)]
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub tls: Option<EmailTls>,
    #[serde(default)]
    pub username: Option<Secret>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// Email: sender and recipients.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
}

fn lowest_severity() -> Severity {
    Severity::Warning
}

fn default_timeout() -> Span {
    Span(chrono::Duration::seconds(10))
}

impl ChannelConfig {
    pub fn accepts(&self, brand: &str, severity: Severity) -> bool {
        severity >= self.min_severity
            && (self.brands.is_empty() || self.brands.iter().any(|b| b.eq_ignore_ascii_case(brand)))
    }

    /// Problems with this channel's settings.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push(("name", "must not be empty".to_string()));
        }
        match self.kind {
            ChannelKind::Webhook | ChannelKind::Slack => match &self.url {
                None => problems.push(("url", "is required for this kind".to_string())),
                Some(url) if reqwest::Url::parse(url.expose()).map(|u| u.scheme().starts_with("http")) != Ok(true) => {
                    problems.push(("url", "is not an http(s) URL".to_string()))
                }
                Some(_) => {}
            },
            ChannelKind::Email => {
                if self.smtp_host.is_none() {
                    problems.push(("smtp_host", "is required for email".to_string()));
                }
                if self.from.is_none() {
                    problems.push(("from", "is required for email".to_string()));
                }
                if self.to.is_empty() {
                    problems.push(("to", "needs at least one address".to_string()));
                }
            }
            ChannelKind::Log | ChannelKind::Stdout => {}
        }
        problems
    }
}

/// Why one delivery attempt failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again; `after` is the receiver's own `Retry-After`.
    #[error("{error}")]
    Retry { error: String, after: Option<Duration> },
    /// Trying again cannot help (the receiver rejected the request).
    #[error("{0}")]
    Permanent(String),
}

/// Why the alert channels could not be set up (found at start, before any
/// incident needs them).
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("channel {channel}: {reason}")]
    Config { channel: String, reason: String },
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
}

impl ChannelError {
    pub(crate) fn config(channel: &str, reason: impl Into<String>) -> Self {
        ChannelError::Config {
            channel: channel.to_string(),
            reason: reason.into(),
        }
    }
}

/// A channel ready to send.
pub enum Channel {
    Log,
    Stdout,
    Webhook(webhook::Webhook),
    Slack(slack::Slack),
    Email(Box<email::Email>),
}

impl Channel {
    pub fn new(config: &ChannelConfig, http: &reqwest::Client) -> Result<Channel, ChannelError> {
        let url = || {
            config
                .url
                .as_ref()
                .map(|u| u.expose().to_string())
                .ok_or_else(|| ChannelError::config(&config.name, "url is required"))
        };
        let timeout = config.timeout.0.to_std().unwrap_or(Duration::from_secs(10));
        Ok(match config.kind {
            ChannelKind::Log => Channel::Log,
            ChannelKind::Stdout => Channel::Stdout,
            ChannelKind::Webhook => Channel::Webhook(webhook::Webhook::new(
                http.clone(),
                url()?,
                config.secret.clone(),
                timeout,
            )),
            ChannelKind::Slack => Channel::Slack(slack::Slack::new(http.clone(), url()?, timeout)),
            ChannelKind::Email => Channel::Email(Box::new(email::Email::new(config, timeout)?)),
        })
    }

    /// Sends one notification; `now` dates a receiver's `Retry-After`.
    pub async fn send(
        &self,
        notification: &Notification,
        payload: &str,
        key: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SendError> {
        match self {
            Channel::Log => log::send(notification),
            Channel::Stdout => stdout::send(payload),
            Channel::Webhook(w) => w.send(payload, key, now).await,
            Channel::Slack(s) => s.send(notification, now).await,
            Channel::Email(e) => e.send(notification, key).await,
        }
    }
}

/// Classifies an HTTP answer: 2xx delivered; 408, 425, 429 and 5xx worth a
/// retry (after the receiver's `Retry-After` if it gave one); any other
/// status rejected for good.
pub(crate) fn classify(response: &reqwest::Response, now: chrono::DateTime<chrono::Utc>) -> Result<(), SendError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let error = format!("receiver answered HTTP {status}");
    if status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429) {
        let after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::http::parse_retry_after(v, now));
        Err(SendError::Retry { error, after })
    } else {
        Err(SendError::Permanent(error))
    }
}

/// A transport failure (timeout, refused, reset) is always worth a retry.
pub(crate) fn transport_error(e: reqwest::Error) -> SendError {
    SendError::Retry {
        error: crate::http::describe(e),
        after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config: ChannelConfig = toml::from_str(
            "name = \"hook\"\nkind = \"webhook\"\nurl = \"https://example.test/hook?token=abc\"\nsecret = \"s3cret\"\n",
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("token=abc"), "{shown}");
    }
}
