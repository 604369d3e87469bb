//! The TOML configuration: every stage's section (each defined by its
//! stage) put together, plus the web server's.
//!
//! Loading goes in three steps so that `check-config` can report every
//! problem at once, each with its key path: `${ENV_VAR}` references in string
//! values are filled in from the environment (secrets never sit in the file;
//! `$${` writes a literal `${`), the result is deserialised with unknown keys
//! rejected, and then the values are validated.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The demo configuration compiled into the binary, used when no `--config`
/// is given: two example brands that match the demo feed in `fixtures/demo/`.
pub const DEMO_CONFIG: &str = include_str!("../config/demo.toml");
/// The configuration `run` uses when given none: an example brand on the
/// sources that need no key, plus the demo brands for `run --demo`.
pub const RUN_CONFIG: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub brands: Vec<crate::brand::BrandConfig>,
    #[serde(default)]
    pub reach: crate::enrich::reach::ReachConfig,
    #[serde(default)]
    pub store: crate::store::StoreConfig,
    #[serde(default)]
    pub detect: crate::detect::DetectConfig,
    #[serde(default)]
    pub alerts: crate::alert::AlertsConfig,
    #[serde(default)]
    pub digest: crate::digest::DigestConfig,
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub inbox: crate::inbox::InboxConfig,
    #[serde(default)]
    pub spam: crate::spam::SpamConfig,
    /// Read by [`crate::sources::SourceConfig::from_toml`], table by table,
    /// after the rest (each connector has its own keys).
    #[serde(default, rename = "sources")]
    source_tables: Vec<toml::Value>,
    #[serde(skip)]
    pub sources: Vec<crate::sources::SourceConfig>,
}

/// `[web]`: how the service is reached. The web server is a driver above
/// this module, so its section is defined here rather than in `web`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Host names the service answers to besides loopback names and IP
    /// addresses (the name a reverse proxy forwards, e.g.
    /// `monitor.acme.example`); any other `Host` is refused.
    pub public_names: Vec<String>,
    /// A signed-in browser is signed out after this long without a request.
    pub session_idle: crate::clock::Span,
    /// ...and this long after signing in, however busy (a shift).
    pub session_max: crate::clock::Span,
    /// Mark the session cookie `Secure` although the request came over
    /// plain HTTP: for a reverse proxy that ends TLS and does not say so
    /// with `X-Forwarded-Proto: https`.
    pub secure_cookies: bool,
    /// Serve HTTPS: the certificate chain and its private key, PEM files
    /// (both or neither).
    pub tls_cert: Option<std::path::PathBuf>,
    pub tls_key: Option<std::path::PathBuf>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_names: Vec::new(),
            session_idle: crate::clock::Span(chrono::Duration::hours(2)),
            session_max: crate::clock::Span(chrono::Duration::hours(12)),
            secure_cookies: false,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// A `public_names` entry: a host name, without scheme, port or path.
pub fn check_public_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a host name (letters, digits, '.' and '-'; no scheme or port)"
        ))
    }
}

/// One thing wrong with a configuration, at a key path such as `brands[1].handles[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
    /// The line of the file the key is on, where it could be found.
    pub line: Option<usize>,
}

/// The line of `text` where the key at `path` (`detect.bucket`,
/// `sources[2].timeout`, `brands[0].keywords[1]`) is written, if it can be
/// found: the table header it belongs to, then the key below it.
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    // Split "a.b[2].c[1]" into ("a", None), ("b", Some(2)), ("c", Some(1)).
    let mut segments: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.') {
        let (name, rest) = part.split_once('[').unwrap_or((part, ""));
        let index = rest.trim_end_matches(']').parse().ok();
        segments.push((name.to_string(), index));
    }
    let lines: Vec<&str> = text.lines().collect();
    let header_line = |header: &str, nth: usize| {
        let (table, array) = (format!("[{header}]"), format!("[[{header}]]"));
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                let l = l.trim();
                l == table || l == array
            })
            .nth(nth)
            .map(|(i, _)| i)
    };
    // The path names a table of its own (`brands[1]`): its header.
    if let Some((_, Some(index))) = segments.last() {
        let whole = segments.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(".");
        if let Some(i) = header_line(&whole, *index) {
            return Some(i + 1);
        }
    }
    let (key, _) = segments.pop()?;
    let header = segments.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(".");
    let nth = segments.last().and_then(|(_, i)| *i).unwrap_or(0);
    let mut start = 0;
    if !header.is_empty() {
        start = header_line(&header, nth)? + 1;
    }
    lines[start..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with('['))
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| start + i + 1)
}

/// Everything wrong with a configuration file.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{}: {n} problem{}", self.origin, if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            if let Some(line) = p.line {
                write!(f, "\n  line {line}: {}: {}", p.path, p.message)?;
            } else if p.path.is_empty() {
                write!(f, "\n  {}", p.message)?;
            } else {
                write!(f, "\n  {}: {}", p.path, p.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Structural problems reported before giving up on a file.
const MAX_STRUCTURAL_PROBLEMS: usize = 100;

/// Takes the value at `path` out of `value`; false if there is none.
fn remove_at(value: &mut toml::Value, path: &serde_path_to_error::Path) -> bool {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = path.iter().collect();
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut at = value;
    for segment in parents {
        let next = match (segment, at) {
            (Segment::Map { key }, toml::Value::Table(t)) => t.get_mut(key.as_str()),
            (Segment::Seq { index }, toml::Value::Array(a)) => a.get_mut(*index),
            _ => None,
        };
        match next {
            Some(v) => at = v,
            None => return false,
        }
    }
    match (last, at) {
        (Segment::Map { key }, toml::Value::Table(t)) => t.remove(key.as_str()).is_some(),
        // An array element is not taken out: later elements would move and
        // their paths with them, so the reading stops there.
        _ => false,
    }
}

/// Reads `value` with `read`. A structural problem (an unknown key, a
/// wrong type) stops serde at the first; so each is recorded (its path
/// after `at`), its value taken out, and the rest read again, until it
/// reads or a problem cannot be taken out (a missing required key), so that
/// one run reports them all.
fn read_reporting_all<T>(
    mut value: toml::Value,
    at: &str,
    problems: &mut Vec<Problem>,
    read: impl Fn(toml::Value) -> Result<T, serde_path_to_error::Error<toml::de::Error>>,
) -> Option<T> {
    loop {
        match read(value.clone()) {
            Ok(read) => return Some(read),
            Err(e) => {
                let message = e.inner().message().to_string();
                problems.push(Problem {
                    path: format!("{at}{}", e.path())
                        .trim_start_matches('.')
                        .trim_end_matches('.')
                        .to_string(),
                    message: message.clone(),
                    line: None,
                });
                // Taken out, a missing key or an unknown `kind` only leaves
                // another problem that says the same.
                let is_kind = matches!(
                    e.path().iter().next_back(),
                    Some(serde_path_to_error::Segment::Map { key }) if key == "kind"
                );
                let removable = !message.starts_with("missing field") && !is_kind;
                if !removable || problems.len() >= MAX_STRUCTURAL_PROBLEMS || !remove_at(&mut value, e.path()) {
                    return None;
                }
            }
        }
    }
}

impl Config {
    /// The writer's campaign, burst and blocklist rules (`[spam]` and the
    /// brands' own blocklists).
    pub fn grouper(&self) -> crate::spam::Grouper {
        crate::spam::Grouper::new(&self.spam, &self.brands)
    }

    /// The enricher for these brands and this reach model.
    pub fn enricher(&self) -> Result<crate::enrich::Enricher, crate::enrich::matcher::MatcherError> {
        crate::enrich::Enricher::new(&self.brands, &self.reach)
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: origin.clone(),
            problems: vec![Problem {
                path: String::new(),
                message: format!("cannot read the file: {e}"),
                line: None,
            }],
        })?;
        Config::parse(&text, &origin, &|name| std::env::var(name).ok())
    }

    /// The file at `path`, or the embedded demo config when there is none.
    pub fn load_or_demo(path: Option<&PathBuf>) -> Result<Config, ConfigError> {
        match path {
            Some(path) => Config::load(path),
            None => Config::parse(DEMO_CONFIG, "embedded demo config", &|name| std::env::var(name).ok()),
        }
    }

    /// `path`'s config, or the embedded default of `run`.
    pub fn load_or_default_run(path: Option<&PathBuf>) -> Result<Config, ConfigError> {
        match path {
            Some(path) => Config::load(path),
            None => Config::parse(RUN_CONFIG, "embedded default config", &|name| std::env::var(name).ok()),
        }
    }

    /// Parses config text; `env` looks up `${NAME}` references.
    pub fn parse(text: &str, origin: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let fail = |mut problems: Vec<Problem>| {
            for p in &mut problems {
                p.line = p.line.or_else(|| line_of(text, &p.path));
            }
            problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            ConfigError {
                origin: origin.to_string(),
                problems,
            }
        };
        let mut value: toml::Value = toml::from_str(text).map_err(|e| {
            fail(vec![Problem {
                path: String::new(),
                message: format!("not valid TOML: {}", e.message()),
                line: None,
            }])
        })?;
        let mut problems = Vec::new();
        interpolate(&mut value, &mut String::new(), env, &mut problems);
        // A key whose variable is not set has said so; what its placeholder
        // then fails (a URL, a key) would only repeat it.
        let unresolved: std::collections::BTreeSet<String> = problems.iter().map(|p| p.path.clone()).collect();
        // The sources are read table by table after the rest, each kind
        // with its own keys; every structural problem is reported.
        let mut config = match read_reporting_all(value, "", &mut problems, |v| {
            serde_path_to_error::deserialize::<_, Config>(v)
        }) {
            Some(config) => config,
            None => return Err(fail(problems)),
        };
        // Where each source read was in the file, for the value problems.
        let mut positions = Vec::new();
        for (i, table) in std::mem::take(&mut config.source_tables).into_iter().enumerate() {
            let at = format!("sources[{i}].");
            if let Some(source) = read_reporting_all(table, &at, &mut problems, crate::sources::SourceConfig::from_toml)
            {
                config.sources.push(source);
                positions.push(i);
            }
        }
        if problems.len() >= MAX_STRUCTURAL_PROBLEMS {
            return Err(fail(problems));
        }
        problems.extend(
            config
                .validate(&positions)
                .into_iter()
                .filter(|p| !unresolved.contains(&p.path)),
        );
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(fail(problems))
        }
    }

    /// Value problems; `positions[n]` is where `sources[n]` was in the file.
    fn validate(&self, positions: &[usize]) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: &str| {
            problems.push(Problem {
                path,
                message: message.to_string(),
                line: None,
            })
        };
        if self.brands.is_empty() {
            problem("brands".into(), "at least one [[brands]] table is needed");
        }
        for (i, name) in self.web.public_names.iter().enumerate() {
            if let Err(e) = check_public_name(name) {
                problem(format!("web.public_names[{i}]"), &e);
            }
        }
        if let Err(e) = self
            .web
            .session_idle
            .check(chrono::Duration::minutes(1), chrono::Duration::days(7))
        {
            problem("web.session_idle".into(), &e);
        }
        if let Err(e) = self
            .web
            .session_max
            .check(chrono::Duration::minutes(5), chrono::Duration::days(30))
        {
            problem("web.session_max".into(), &e);
        }
        if let Err(e) = self
            .inbox
            .response_target
            .check(chrono::Duration::minutes(1), chrono::Duration::days(30))
        {
            problem("inbox.response_target".into(), &e);
        }
        if let Err(e) = self
            .inbox
            .follow_up
            .check(chrono::Duration::days(1), chrono::Duration::days(90))
        {
            problem("inbox.follow_up".into(), &e);
        }
        match (&self.web.tls_cert, &self.web.tls_key) {
            (Some(_), None) => problem("web.tls_key".into(), "tls_cert is set: set its key too"),
            (None, Some(_)) => problem("web.tls_cert".into(), "tls_key is set: set its certificate too"),
            _ => {}
        }
        let mut seen = BTreeMap::new();
        for (i, brand) in self.brands.iter().enumerate() {
            let at = format!("brands[{i}]");
            if brand.name.trim().is_empty() {
                problem(format!("{at}.name"), "must not be empty");
            } else if let Some(first) = seen.insert(brand.name.to_lowercase(), i) {
                problem(
                    format!("{at}.name"),
                    &format!("\"{}\" is already the name of brands[{first}]", brand.name),
                );
            }
            let query = brand.query.as_deref().filter(|q| !q.trim().is_empty());
            if brand.keywords.is_empty() && brand.handles.is_empty() && brand.hashtags.is_empty() && query.is_none() {
                problem(
                    at.clone(),
                    "needs at least one of keywords, handles, hashtags or a query",
                );
            }
            if let Some(Err(e)) = query.map(crate::enrich::query::Query::parse) {
                problem(format!("{at}.query"), &format!("brand {:?}: {e}", brand.name));
            }
            let lists = [
                ("keywords", &brand.keywords, None),
                ("handles", &brand.handles, Some('@')),
                ("hashtags", &brand.hashtags, Some('#')),
                ("exclude", &brand.exclude, None),
            ];
            for (key, list, prefix) in lists {
                for (j, term) in list.iter().enumerate() {
                    let path = format!("{at}.{key}[{j}]");
                    if term.trim().is_empty() {
                        problem(path, "must not be empty");
                    } else if let Some(prefix) = prefix {
                        if !term.starts_with(prefix) || term.chars().count() < 2 {
                            problem(path, &format!("must start with '{prefix}' and name something"));
                        }
                    } else if term.trim() != term {
                        problem(path, "has leading or trailing spaces");
                    }
                }
            }
        }
        let r = &self.reach;
        let constants = [
            ("default_audience", r.default_audience),
            ("reposter_audience", r.reposter_audience),
            ("engagement_reach", r.engagement_reach),
            ("default_review_readership", r.default_review_readership),
            ("helpful_vote_factor", r.helpful_vote_factor),
        ];
        for (key, v) in constants {
            if !v.is_finite() || v < 0.0 {
                problem(format!("reach.{key}"), "must be a finite number, zero or more");
            }
        }
        for (site, v) in &r.review_readership {
            if !v.is_finite() || *v < 0.0 {
                problem(
                    format!("reach.review_readership.{site}"),
                    "must be a finite number, zero or more",
                );
            }
        }
        for (key, message) in self.detect.problems() {
            problem(format!("detect.{key}"), &message);
        }
        for (key, message) in self.spam.problems() {
            problem(format!("spam.{key}"), &message);
        }
        for (i, brand) in self.brands.iter().enumerate() {
            for (key, message) in
                crate::spam::blocklist_problems(&brand.block_authors, &brand.block_domains, &brand.block_phrases)
            {
                problem(format!("brands[{i}].{key}"), &message);
            }
        }
        for (key, message) in self.alerts.problems() {
            problem(format!("alerts.{key}"), &message);
        }
        let mut source_names = BTreeMap::new();
        for (&i, source) in positions.iter().zip(&self.sources) {
            for (key, message) in source.problems() {
                problem(format!("sources[{i}].{key}"), &message);
            }
            if let Some(first) = source_names.insert(source.name.clone(), i) {
                problem(
                    format!("sources[{i}].name"),
                    &format!("\"{}\" is already the name of sources[{first}]", source.name),
                );
            }
            if let Some(brand) = &source.brand {
                if !self.brands.iter().any(|b| b.name.eq_ignore_ascii_case(brand)) {
                    problem(
                        format!("sources[{i}].brand"),
                        &format!("\"{brand}\" is not a configured brand"),
                    );
                }
            }
        }
        for (key, message) in self.digest.problems() {
            problem(format!("digest.{key}"), &message);
        }
        let mut channel_names = BTreeMap::new();
        for (i, channel) in self.alerts.channels.iter().enumerate() {
            for (key, message) in channel.problems() {
                problem(format!("alerts.channels[{i}].{key}"), &message);
            }
            if let Some(first) = channel_names.insert(channel.name.clone(), i) {
                problem(
                    format!("alerts.channels[{i}].name"),
                    &format!("\"{}\" is already the name of alerts.channels[{first}]", channel.name),
                );
            }
        }
        if self.store.batch_size == 0 {
            problem("store.batch_size".into(), "must be at least 1");
        }
        if self.store.max_size_mb == Some(0) {
            problem("store.max_size_mb".into(), "must be at least 1");
        }
        if self.store.queue_batches == 0 {
            problem("store.queue_batches".into(), "must be at least 1");
        }
        problems
    }
}

/// Replaces `${NAME}` in every string value, recording each unset variable
/// as a problem at its key path.
fn interpolate(
    value: &mut toml::Value,
    path: &mut String,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<Problem>,
) {
    match value {
        toml::Value::String(s) => match expand(s, env) {
            Ok(expanded) => *s = expanded,
            Err(message) => problems.push(Problem {
                path: path.clone(),
                message,
                line: None,
            }),
        },
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                interpolate(item, path, env, problems);
                path.truncate(len);
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                interpolate(item, path, env, problems);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn expand(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    if !s.contains('$') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(stripped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = stripped;
        } else if let Some(body) = after.strip_prefix("${") {
            let end = body.find('}').ok_or("unterminated ${ in value")?;
            let name = &body[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("${{{name}}} is not a valid environment variable reference"));
            }
            let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, "test.toml", &|name| {
            (name == "TOKEN").then(|| "s3cret".to_string())
        })
    }

    #[test]
    fn the_demo_config_is_valid() {
        let config = Config::load_or_demo(None).unwrap();
        assert_eq!(config.brands.len(), 2);
    }

    #[test]
    fn unknown_keys_are_errors_with_their_path() {
        let err = parse("[[brands]]\nname = \"A\"\nkeywords = [\"a\"]\nkeyword = [\"b\"]\n").unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].path, "brands[0].keyword");
        assert!(err.problems[0].message.contains("unknown field `keyword`"), "{err}");
    }

    #[test]
    fn every_validation_problem_is_reported() {
        let err = parse(
            "[[brands]]\nname = \"A\"\nhandles = [\"acme\"]\nhashtags = [\"\"]\n\
             [[brands]]\nname = \"a\"\n[reach]\ndefault_audience = -1.0\n",
        )
        .unwrap_err();
        let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "brands[0].handles[0]",
                "brands[0].hashtags[0]",
                "brands[1]",
                "brands[1].name",
                "reach.default_audience"
            ]
        );
        let lines: Vec<Option<usize>> = err.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(5), Some(6), Some(8)]);
    }

    #[test]
    fn environment_references_are_filled_in_and_missing_ones_named() {
        let config = parse("[[brands]]\nname = \"${TOKEN} $${TOKEN}\"\nkeywords = [\"a\"]\n").unwrap();
        assert_eq!(config.brands[0].name, "s3cret ${TOKEN}");
        let err = parse("[[brands]]\nname = \"A\"\nkeywords = [\"${MISSING}\", \"${}\"]\n").unwrap_err();
        assert_eq!(err.problems[0].path, "brands[0].keywords[0]");
        assert!(err.problems[0].message.contains("MISSING is not set"));
        assert_eq!(err.problems[1].path, "brands[0].keywords[1]");
    }
}
