//! The `webhook` channel: the notification's JSON, POSTed with an
//! `Idempotency-Key` header (receivers drop repeats of a key they have
//! accepted) and, when a secret is configured, `X-Signature-256:
//! sha256=<hex HMAC-SHA256 of the body>` so receivers can check the sender.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{classify, transport_error, SendError};
use crate::secret::Secret;

pub struct Webhook {
    http: reqwest::Client,
    url: String,
    secret: Option<Secret>,
    timeout: Duration,
}

/// The signature header value for `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Webhook {
    pub fn new(http: reqwest::Client, url: String, secret: Option<Secret>, timeout: Duration) -> Self {
        Webhook {
            http,
            url,
            secret,
            timeout,
        }
    }

    pub async fn send(&self, payload: &str, key: &str, now: chrono::DateTime<chrono::Utc>) -> Result<(), SendError> {
        let mut request = self
            .http
            .post(&self.url)
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", key);
        if let Some(secret) = &self.secret {
            request = request.header("X-Signature-256", signature(secret.expose(), payload.as_bytes()));
        }
        let response = request
            .body(payload.to_string())
            .send()
            .await
            .map_err(transport_error)?;
        classify(&response, now)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
