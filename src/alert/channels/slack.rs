//! The `slack` channel: an incoming-webhook message with blocks that say
//! what staff need: the numbers and the top negative mentions with links.

use std::time::Duration;

use serde_json::json;

use super::{classify, transport_error, SendError};
use crate::alert::Notification;

pub struct Slack {
    http: reqwest::Client,
    url: String,
    timeout: Duration,
}

/// Slack's mrkdwn treats `&`, `<` and `>` as markup: escape them in text
/// written by strangers.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub fn message(n: &Notification) -> serde_json::Value {
    let mut lines = vec![format!(
        "*{}*\nwindow {} – {}, peak at {}\nobserved {} negative mentions vs {:.1} expected{}; reach {}",
        escape(&n.headline()),
        n.started_at,
        n.last_anomalous_at,
        n.peak_at,
        n.peak_observed,
        n.peak_expected,
        n.negative_share
            .map(|s| format!(
                ", negative share {:.0}% (usually {:.0}%)",
                s * 100.0,
                n.usual_share * 100.0
            ))
            .unwrap_or_default(),
        n.reach
    )];
    lines[0].push_str(&format!("\n_Why:_ {}", escape(&n.explanation.summary())));
    for m in &n.top_mentions {
        let who = m.author.as_deref().map(escape).unwrap_or_else(|| "unknown".into());
        let link = m
            .url
            .as_deref()
            .map(|u| format!(" <{}|link>", escape(u)))
            .unwrap_or_default();
        lines.push(format!(
            "• {who} ({} followers, {}): {}{link}",
            m.audience.map_or("?".to_string(), |a| a.to_string()),
            escape(&m.source),
            escape(&m.text)
        ));
    }
    json!({
        "text": n.headline(),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": lines[0]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": if lines.len() > 1 { lines[1..].join("\n") } else { "no negative mentions stored for the window".into() }}},
        ]
    })
}

impl Slack {
    pub fn new(http: reqwest::Client, url: String, timeout: Duration) -> Self {
        Slack { http, url, timeout }
    }

    pub async fn send(&self, notification: &Notification, now: chrono::DateTime<chrono::Utc>) -> Result<(), SendError> {
        self.post(&message(notification), now).await
    }

    /// Posts a plain message (escaped: it may quote strangers).
    pub async fn send_text(&self, text: &str, now: chrono::DateTime<chrono::Utc>) -> Result<(), SendError> {
        self.post(&json!({ "text": escape(text) }), now).await
    }

    async fn post(&self, body: &serde_json::Value, now: chrono::DateTime<chrono::Utc>) -> Result<(), SendError> {
        let response = self
            .http
            .post(&self.url)
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .map_err(transport_error)?;
        classify(&response, now)
    }
}
