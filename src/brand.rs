//! The brands being watched: the one definition every stage reads (the
//! matcher, the detector's scopes, the digest, the complaint terms), kept
//! below all of them so that none has to import the whole configuration.

use serde::Deserialize;

/// One watched brand. This table's shape is a contract with users' configs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandConfig {
    pub name: String,
    /// Words or phrases, matched case-insensitively on word boundaries.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Account handles, with their `@`.
    #[serde(default)]
    pub handles: Vec<String>,
    /// Hashtags, with their `#`.
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// Phrases whose occurrences do not count as a mention (`acme air fryer`
    /// when watching Acme Air).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// A Boolean query (`docs/matching.md`), beside or instead of the
    /// keywords: the brand is matched when either says so.
    #[serde(default)]
    pub query: Option<String>,
    /// This brand's blocklists, beside `[spam]`'s for every brand
    /// (`handle` or `network:handle`; domains; phrases).
    #[serde(default)]
    pub block_authors: Vec<String>,
    #[serde(default)]
    pub block_domains: Vec<String>,
    #[serde(default)]
    pub block_phrases: Vec<String>,
}
