//! Secrets from the configuration: tokens, keys and webhook URLs, read from
//! `${ENV_VAR}` references. Kept in a bottom module so that every stage that
//! holds one (sources, channels, the web) shares the one redacting type.

use std::fmt;

use serde::Deserialize;

/// A secret from the config (normally `${ENV_VAR}`), never printed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
