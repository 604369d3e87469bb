//! The `email` channel: a plain-text message over SMTP (`lettre`), STARTTLS
//! by default, credentials from the environment. The idempotency key becomes
//! the Message-ID, so a receiver that saw it already can drop a repeat.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::{ChannelConfig, ChannelError, SendError};
use crate::alert::Notification;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmailTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or in tests.
    None,
}

pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl Email {
    pub fn new(config: &ChannelConfig, timeout: Duration) -> Result<Self, ChannelError> {
        let name = &config.name;
        let host = config
            .smtp_host
            .clone()
            .ok_or_else(|| ChannelError::config(name, "smtp_host is required"))?;
        let tls = config.tls.unwrap_or_default();
        let port = config.smtp_port.unwrap_or(match tls {
            EmailTls::Starttls => 587,
            EmailTls::Tls => 465,
            EmailTls::None => 25,
        });
        let parameters =
            || TlsParameters::new(host.clone()).map_err(|e| ChannelError::config(name, format!("TLS: {e}")));
        let tls = match tls {
            EmailTls::Starttls => Tls::Required(parameters()?),
            EmailTls::Tls => Tls::Wrapper(parameters()?),
            EmailTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(
                user.expose().to_string(),
                password.expose().to_string(),
            ));
        }
        let parse = |address: &str| {
            address
                .parse::<Mailbox>()
                .map_err(|e| ChannelError::config(name, format!("{address:?} is not an email address: {e}")))
        };
        let from = parse(
            config
                .from
                .as_deref()
                .ok_or_else(|| ChannelError::config(name, "from is required"))?,
        )?;
        let to = config.to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(ChannelError::config(name, "to needs at least one address"));
        }
        Ok(Email {
            transport: builder.build(),
            from,
            to,
        })
    }

    pub async fn send(&self, n: &Notification, key: &str) -> Result<(), SendError> {
        let message = self
            .builder(&n.headline(), key)
            .header(ContentType::TEXT_PLAIN)
            .body(body(n))
            .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
        self.deliver(message).await
    }

    /// Sends `html` with a plain-text alternative (the daily digest).
    pub async fn send_html(&self, subject: &str, key: &str, text: String, html: String) -> Result<(), SendError> {
        let message = self
            .builder(subject, key)
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
        self.deliver(message).await
    }

    fn builder(&self, subject: &str, key: &str) -> lettre::message::MessageBuilder {
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .message_id(Some(format!("<{key}@complaint-monitor>")));
        for to in &self.to {
            message = message.to(to.clone());
        }
        message
    }

    async fn deliver(&self, message: Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP server refused: {e}"))),
            Err(e) => Err(SendError::Retry {
                error: format!("SMTP: {e}"),
                after: None,
            }),
        }
    }
}

/// The message text: the numbers, then the top negative mentions. Mention
/// text goes out as plain text, so there is nothing to escape.
pub fn body(n: &Notification) -> String {
    let mut text = format!(
        "{}\n\nWindow: {} to {} (peak at {})\nNegative mentions: {} in the peak window, {:.1} expected; {} over the incident, {:.1} expected\n",
        n.headline(),
        n.started_at,
        n.last_anomalous_at,
        n.peak_at,
        n.peak_observed,
        n.peak_expected,
        n.observed,
        n.expected
    );
    if let Some(share) = n.negative_share {
        text.push_str(&format!(
            "Negative share: {:.0}% (usually {:.0}%)\n",
            share * 100.0,
            n.usual_share * 100.0
        ));
    }
    text.push_str(&format!("Estimated reach of the negative mentions: {}\n", n.reach));
    text.push_str(&format!("What changed: {}\n", n.explanation.summary()));
    if !n.top_mentions.is_empty() {
        text.push_str("\nLargest reach first:\n");
        for m in &n.top_mentions {
            text.push_str(&format!(
                "\n- {} ({} followers) on {}, {}:\n  {}\n  {}\n",
                m.author.as_deref().unwrap_or("unknown author"),
                m.audience.map_or("?".to_string(), |a| a.to_string()),
                m.source,
                m.created_at,
                m.text.replace('\n', "\n  "),
                m.url.as_deref().unwrap_or("(no link)")
            ));
        }
    }
    text
}
