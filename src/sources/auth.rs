//! How a source proves who it is, written once for every connector: OAuth
//! client credentials (Reddit), a Google service account's signed JWT
//! exchanged for a token (Google Play), a refresh token (Google Business
//! Profile), and a JWT the source signs and sends itself (App Store
//! Connect). The poller caches what [`fetch`] returns until shortly before
//! it expires and asks again on a 401. Keys and secrets stay in [`Secret`]s:
//! no error message here carries one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// What a connector needs to be let in.
#[derive(Debug, Clone)]
pub enum OAuth {
    /// App-only client credentials, sent as HTTP Basic with
    /// `grant_type=client_credentials`.
    ClientCredentials {
        token_url: String,
        client_id: Secret,
        client_secret: Secret,
    },
    /// A Google service account: an RS256 JWT assertion signed with its
    /// private key, exchanged at `token_url` for an access token
    /// (RFC 7523, `urn:ietf:params:oauth:grant-type:jwt-bearer`).
    ServiceAccount {
        token_url: String,
        client_email: String,
        private_key: Secret,
        scope: String,
    },
    /// A refresh token the brand's account granted once, exchanged for an
    /// access token (`grant_type=refresh_token`).
    RefreshToken {
        token_url: String,
        client_id: Secret,
        client_secret: Secret,
        refresh_token: Secret,
        client_auth: ClientAuth,
    },
    /// A JWT signed with the team's key and sent as the bearer itself
    /// (App Store Connect: ES256, at most 20 minutes).
    SignedBearer {
        algorithm: Algorithm,
        key_id: String,
        issuer: String,
        audience: String,
        private_key: Secret,
        lifetime: chrono::Duration,
    },
}

/// Where a token request carries the client's id and secret: Google takes
/// them in the form, Reddit only as HTTP Basic (RFC 6749 allows either,
/// never both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Form,
    Basic,
}

/// The longest a self-signed bearer lives (App Store Connect refuses longer).
pub const MAX_SIGNED_LIFETIME: chrono::Duration = chrono::Duration::minutes(20);

/// A Google service account's JSON key, as the Cloud console hands it out.
#[derive(Deserialize)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key: String,
    #[serde(default = "google_token_uri")]
    pub token_uri: String,
}

fn google_token_uri() -> String {
    "https://oauth2.googleapis.com/token".into()
}

impl ServiceAccountKey {
    /// Reads the key file's text; the message never quotes the key.
    pub fn parse(json: &str) -> Result<ServiceAccountKey, String> {
        let key: ServiceAccountKey = serde_json::from_str(json).map_err(|e| {
            format!(
                "is not a service account JSON key (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        EncodingKey::from_rsa_pem(key.private_key.as_bytes())
            .map_err(|_| "its private_key is not an RSA private key in PEM".to_string())?;
        Ok(key)
    }
}

/// Whether `pem` is a private key `algorithm` can sign with.
pub fn check_key(algorithm: Algorithm, pem: &str) -> Result<(), String> {
    encoding_key(algorithm, pem).map(|_| ())
}

fn encoding_key(algorithm: Algorithm, pem: &str) -> Result<EncodingKey, String> {
    let key = match algorithm {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    };
    key.map_err(|_| format!("the private key does not read as a PEM key for {algorithm:?}"))
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Serialize)]
struct BearerClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<i64>,
}

/// Largest token response read.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;

/// A token for `oauth` at `now`, and when to stop using it (a minute early,
/// so that a token never expires in the middle of a page walk).
pub async fn fetch(
    http: &reqwest::Client,
    oauth: &OAuth,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), String> {
    let form: Vec<(&str, String)>;
    let request = match oauth {
        OAuth::SignedBearer {
            algorithm,
            key_id,
            issuer,
            audience,
            private_key,
            lifetime,
        } => {
            let lifetime = (*lifetime).clamp(chrono::Duration::minutes(2), MAX_SIGNED_LIFETIME);
            let mut header = Header::new(*algorithm);
            header.kid = Some(key_id.clone());
            let claims = BearerClaims {
                iss: issuer,
                aud: audience,
                iat: now.timestamp(),
                exp: (now + lifetime).timestamp(),
            };
            let token = jsonwebtoken::encode(&header, &claims, &encoding_key(*algorithm, private_key.expose())?)
                .map_err(|e| format!("signing the bearer token: {e}"))?;
            return Ok((token, now + lifetime - chrono::Duration::minutes(1)));
        }
        OAuth::ClientCredentials {
            token_url,
            client_id,
            client_secret,
        } => {
            form = vec![("grant_type", "client_credentials".into())];
            http.post(token_url)
                .basic_auth(client_id.expose(), Some(client_secret.expose()))
                .form(&form)
        }
        OAuth::ServiceAccount {
            token_url,
            client_email,
            private_key,
            scope,
        } => {
            let claims = AssertionClaims {
                iss: client_email,
                scope,
                aud: token_url,
                iat: now.timestamp(),
                exp: (now + chrono::Duration::hours(1)).timestamp(),
            };
            let assertion = jsonwebtoken::encode(
                &Header::new(Algorithm::RS256),
                &claims,
                &encoding_key(Algorithm::RS256, private_key.expose())?,
            )
            .map_err(|e| format!("signing the service account assertion: {e}"))?;
            form = vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".into()),
                ("assertion", assertion),
            ];
            http.post(token_url).form(&form)
        }
        OAuth::RefreshToken {
            token_url,
            client_id,
            client_secret,
            refresh_token,
            client_auth,
        } => {
            let mut fields = vec![
                ("grant_type", "refresh_token".into()),
                ("refresh_token", refresh_token.expose().to_string()),
            ];
            match client_auth {
                ClientAuth::Form => {
                    fields.push(("client_id", client_id.expose().to_string()));
                    fields.push(("client_secret", client_secret.expose().to_string()));
                    form = fields;
                    http.post(token_url).form(&form)
                }
                ClientAuth::Basic => {
                    form = fields;
                    http.post(token_url)
                        .basic_auth(client_id.expose(), Some(client_secret.expose()))
                        .form(&form)
                }
            }
        }
    };
    let response = request
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| format!("fetching an OAuth token: {}", crate::http::describe(e)))?;
    if !response.status().is_success() {
        return Err(format!("the token endpoint answered {}", response.status()));
    }
    let body = crate::http::read_capped(response, MAX_TOKEN_RESPONSE)
        .await
        .map_err(|e| format!("fetching an OAuth token: {e}"))?;
    let token: TokenResponse =
        serde_json::from_slice(&body).map_err(|e| format!("unreadable OAuth token response: {e}"))?;
    let lifetime = token.expires_in.unwrap_or(3600).clamp(60, 86_400) - 60;
    Ok((token.access_token, now + chrono::Duration::seconds(lifetime)))
}
