//! What inflates the counts without being a wave of customers: copy-paste
//! **campaigns** (near-duplicate texts from many accounts), **bursts** (one
//! account posting again and again), blocklisted authors, domains and
//! phrases, and authors staff marked "not about us" more than once.
//!
//! Decided per brand as each new mention is stored, in the writer's
//! transaction ([`Grouper::place`]). Nothing is dropped: a grouped mention is
//! stored and shown, but it weighs less in detection (`mention_brands.weight`:
//! by default a campaign's copies count nothing once it is recognised, and an
//! account counts once an hour however much it posts), the inbox shows a
//! group as its first mention with the group's size, and the digest counts
//! groups apart.
//!
//! Near-duplicates are found by SimHash (Charikar, 2002) over word
//! 3-shingles of the folded text without handles and links: two texts
//! whose 64-bit fingerprints differ in at most `campaign_distance` bits are
//! copies. The fingerprints of the window are indexed by four 16-bit bands,
//! so that (by the pigeonhole principle) any fingerprint within 3 bits
//! shares a band with the new one and a lookup reads only those.
//!
//! The in-memory window is a cache of what the database holds
//! (`mentions.fingerprint`, `mention_brands.group_id`): it is rebuilt from
//! the database when the writer starts and after a transaction that placed
//! mentions was rolled back.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::Duration;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Deserialize;

use crate::brand::BrandConfig;
use crate::clock::Span;
use crate::enrich::query::fold;

/// The `[spam]` config table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpamConfig {
    /// How far apart near-duplicate texts may be posted and still be one campaign.
    pub campaign_window: Span,
    /// Distinct accounts posting near-duplicates that make a campaign (a
    /// real wave brings new accounts too, but in its own words).
    pub campaign_accounts: u32,
    /// Fingerprint bits (of 64) two texts may differ in and be copies (0 to 3).
    pub campaign_distance: u32,
    /// Shorter texts (words, without handles and links) are never called
    /// copies: "@acme refund please" is how many people write on their own.
    pub campaign_min_words: u32,
    /// What each copy counts in detection once its campaign is recognised
    /// (0: kept out of the counts; 1: every copy counts, and an incident
    /// made mostly of one campaign says so).
    pub campaign_weight: f64,
    /// An account's mentions of a brand within this long count as one in
    /// detection, and are shown as one burst...
    pub burst_window: Span,
    /// ...once there are this many.
    pub burst_mentions: u32,
    /// What an account's mentions after its first within `burst_window`
    /// count in detection.
    pub burst_weight: f64,
    /// Authors staff took off a brand ("not about us") this many times are
    /// blocked for it from then on (0: never learn).
    pub learn_after: u32,
    /// Blocked for every brand: `handle` (any network) or `network:handle`.
    pub block_authors: Vec<String>,
    /// Mentions linking to these domains (or their subdomains).
    pub block_domains: Vec<String>,
    /// Mentions containing these phrases (whole words, case and accents folded).
    pub block_phrases: Vec<String>,
}

impl Default for SpamConfig {
    fn default() -> Self {
        SpamConfig {
            campaign_window: Span(Duration::hours(6)),
            campaign_accounts: 5,
            campaign_distance: 3,
            campaign_min_words: 6,
            campaign_weight: 0.0,
            burst_window: Span(Duration::hours(1)),
            burst_mentions: 5,
            burst_weight: 0.0,
            learn_after: 2,
            block_authors: Vec::new(),
            block_domains: Vec::new(),
            block_phrases: Vec::new(),
        }
    }
}

impl SpamConfig {
    /// Problems with the values, as `(key, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let mut check_span = |key, span: Span| {
            if let Err(e) = span.check(Duration::minutes(1), Duration::days(7)) {
                problems.push((key, e));
            }
        };
        check_span("campaign_window", self.campaign_window);
        check_span("burst_window", self.burst_window);
        if !(2..=10_000).contains(&self.campaign_accounts) {
            problems.push(("campaign_accounts", "must be from 2 to 10000".to_string()));
        }
        if self.campaign_distance > 3 {
            problems.push((
                "campaign_distance",
                "must be from 0 to 3 (more bits would call different texts copies)".to_string(),
            ));
        }
        if !(3..=100).contains(&self.campaign_min_words) {
            problems.push(("campaign_min_words", "must be from 3 to 100".to_string()));
        }
        if !(2..=10_000).contains(&self.burst_mentions) {
            problems.push(("burst_mentions", "must be from 2 to 10000".to_string()));
        }
        for (key, weight) in [
            ("campaign_weight", self.campaign_weight),
            ("burst_weight", self.burst_weight),
        ] {
            if !(0.0..=1.0).contains(&weight) {
                problems.push((key, "must be from 0 to 1".to_string()));
            }
        }
        if self.learn_after > 1000 {
            problems.push(("learn_after", "must be from 0 (never) to 1000".to_string()));
        }
        problems.extend(blocklist_problems(
            &self.block_authors,
            &self.block_domains,
            &self.block_phrases,
        ));
        problems
    }
}

/// Problems with blocklists (`[spam]`'s or a brand's), as `(key, message)`.
pub fn blocklist_problems(authors: &[String], domains: &[String], phrases: &[String]) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    for (key, list) in [
        ("block_authors", authors),
        ("block_domains", domains),
        ("block_phrases", phrases),
    ] {
        if list.len() > MAX_BLOCKLIST {
            problems.push((key, format!("at most {MAX_BLOCKLIST} entries")));
        }
        if list.iter().any(|e| e.trim().is_empty() || e.len() > 200) {
            problems.push((key, "entries must be 1 to 200 characters".to_string()));
        }
    }
    if domains.iter().any(|d| host_of(d.trim()).is_none()) {
        problems.push((
            "block_domains",
            "each entry must be a domain such as spam.example".to_string(),
        ));
    }
    problems
}

const MAX_BLOCKLIST: usize = 10_000;
/// Most mentions one brand's window holds (the oldest leave first): bounds
/// memory whatever the volume (about 60 bytes each).
const MAX_WINDOW: usize = 500_000;

/// What a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Near-duplicate texts from many accounts.
    Campaign,
    /// Many mentions from one account in a short time.
    Burst,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Campaign => "campaign",
            Kind::Burst => "burst",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "campaign" => Some(Kind::Campaign),
            "burst" => Some(Kind::Burst),
            _ => None,
        }
    }
}

/// The fingerprint of a text for near-duplicate search, or `None` when it
/// has fewer than `min_words` words once handles and links are left out.
pub fn fingerprint(text: &str, min_words: usize) -> Option<u64> {
    let words = content_words(text);
    if words.len() < min_words.max(3) {
        return None;
    }
    let mut bits = [0i32; 64];
    for shingle in words.windows(3) {
        let joined = shingle.join(" ");
        let hash = xxhash_rust::xxh3::xxh3_64(joined.as_bytes());
        for (i, bit) in bits.iter_mut().enumerate() {
            *bit += if hash >> i & 1 == 1 { 1 } else { -1 };
        }
    }
    Some(
        bits.iter()
            .enumerate()
            .filter(|(_, &b)| b > 0)
            .fold(0u64, |f, (i, _)| f | 1 << i),
    )
}

/// Folded words of a text, without handles (`@…`) and links: copies of a
/// campaign differ in whom they tag and where they link.
fn content_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for chunk in text.split_whitespace() {
        if chunk.starts_with('@') || is_link(chunk) {
            continue;
        }
        for word in fold(chunk).split(|c: char| !c.is_alphanumeric()) {
            if !word.is_empty() {
                words.push(word.to_string());
            }
        }
    }
    words
}

fn is_link(chunk: &str) -> bool {
    chunk.contains("://") || chunk.starts_with("www.")
}

/// The host a link points at, lower case, without `www.`.
fn host_of(link: &str) -> Option<String> {
    let rest = link.split_once("://").map_or(link, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    (!host.is_empty()).then_some(host)
}

/// One blocklist: authors, domains and phrases.
#[derive(Debug, Clone, Default)]
struct Blocklist {
    /// `(network or "", handle)`, folded, without `@`.
    authors: HashSet<(String, String)>,
    domains: Vec<String>,
    phrases: Vec<Vec<String>>,
}

impl Blocklist {
    fn add(&mut self, authors: &[String], domains: &[String], phrases: &[String]) {
        for author in authors {
            let author = author.trim();
            let (network, handle) = match author.split_once(':') {
                Some((network, handle)) if !network.contains('@') => (network.trim().to_ascii_lowercase(), handle),
                _ => (String::new(), author),
            };
            self.authors.insert((network, normal_handle(handle)));
        }
        for domain in domains {
            if let Some(host) = host_of(domain.trim()) {
                self.domains.push(host);
            }
        }
        for phrase in phrases {
            let words = content_words(phrase);
            if !words.is_empty() {
                self.phrases.push(words);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.authors.is_empty() && self.domains.is_empty() && self.phrases.is_empty()
    }

    /// Why a mention is blocked, if it is.
    fn reason(&self, post: &Post, words: &[String]) -> Option<String> {
        if let Some(author) = post.author {
            let handle = normal_handle(author);
            let network = post.source.to_ascii_lowercase();
            if self.authors.contains(&(String::new(), handle.clone())) || self.authors.contains(&(network, handle)) {
                return Some(format!("author {author}"));
            }
        }
        if !self.domains.is_empty() {
            let links = post
                .url
                .into_iter()
                .chain(post.text.split_whitespace().filter(|c| is_link(c)));
            for host in links.filter_map(host_of) {
                if let Some(domain) = self
                    .domains
                    .iter()
                    .find(|d| host == **d || host.strip_suffix(d.as_str()).is_some_and(|s| s.ends_with('.')))
                {
                    return Some(format!("domain {domain}"));
                }
            }
        }
        self.phrases
            .iter()
            .find(|phrase| words.windows(phrase.len()).any(|w| w == phrase.as_slice()))
            .map(|phrase| format!("phrase \"{}\"", phrase.join(" ")))
    }
}

fn normal_handle(handle: &str) -> String {
    fold(handle.trim().trim_start_matches('@'))
}

/// A newly stored mention, as [`Grouper::place`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct Post<'a> {
    pub id: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    pub source: &'a str,
    pub author: Option<&'a str>,
    pub text: &'a str,
    pub url: Option<&'a str>,
    pub fingerprint: Option<u64>,
}

#[derive(Debug, Clone)]
struct Entry {
    mention: i64,
    at: i64,
    /// Who posted it; `None` for a mention without an author (never a
    /// burst, and a distinct account in a campaign).
    author: Option<u64>,
    fingerprint: Option<u64>,
    group: Option<(Kind, i64)>,
}

/// One brand's recent mentions.
#[derive(Debug, Default)]
struct Window {
    entries: VecDeque<Entry>,
    /// Sequence number of `entries[0]`.
    first: u64,
    newest: i64,
    /// Band key → sequence numbers of entries with that band.
    bands: HashMap<u64, Vec<u64>>,
    /// Author → sequence numbers of their entries.
    authors: HashMap<u64, Vec<u64>>,
}

fn band_keys(fingerprint: u64) -> [u64; 4] {
    std::array::from_fn(|band| (band as u64) << 16 | (fingerprint >> (16 * band) & 0xffff))
}

impl Window {
    fn get(&self, seq: u64) -> Option<&Entry> {
        seq.checked_sub(self.first).and_then(|i| self.entries.get(i as usize))
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Entry> {
        seq.checked_sub(self.first)
            .and_then(|i| self.entries.get_mut(i as usize))
    }

    fn push(&mut self, entry: Entry, keep: i64) -> u64 {
        self.newest = self.newest.max(entry.at);
        let seq = self.first + self.entries.len() as u64;
        if let Some(f) = entry.fingerprint {
            for key in band_keys(f) {
                self.bands.entry(key).or_default().push(seq);
            }
        }
        if let Some(a) = entry.author {
            self.authors.entry(a).or_default().push(seq);
        }
        self.entries.push_back(entry);
        while self
            .entries
            .front()
            .is_some_and(|e| e.at < self.newest - keep || self.entries.len() > MAX_WINDOW)
        {
            self.evict();
        }
        seq
    }

    fn evict(&mut self) {
        let Some(old) = self.entries.pop_front() else { return };
        let seq = self.first;
        self.first += 1;
        let forget = |map: &mut HashMap<u64, Vec<u64>>, key: u64| {
            if let Some(list) = map.get_mut(&key) {
                list.retain(|&s| s != seq);
                if list.is_empty() {
                    map.remove(&key);
                }
            }
        };
        if let Some(f) = old.fingerprint {
            for key in band_keys(f) {
                forget(&mut self.bands, key);
            }
        }
        if let Some(a) = old.author {
            forget(&mut self.authors, a);
        }
    }
}

/// A group a mention joins or forms: its kind, and the mentions in it so
/// far (sequence numbers), the first one posted leading.
enum Grouping {
    Join(Kind, i64),
    Form(Kind, Vec<u64>),
}

/// The campaign, burst and blocklist decisions of one writer.
pub struct Grouper {
    config: SpamConfig,
    blocked: Blocklist,
    blocked_for: HashMap<String, Blocklist>,
    windows: HashMap<Arc<str>, Window>,
    /// Placed mentions since the last commit: a rollback must rebuild.
    dirty: bool,
}

impl Grouper {
    pub fn new(config: &SpamConfig, brands: &[BrandConfig]) -> Grouper {
        let mut blocked = Blocklist::default();
        blocked.add(&config.block_authors, &config.block_domains, &config.block_phrases);
        let mut blocked_for = HashMap::new();
        for brand in brands {
            let mut list = Blocklist::default();
            list.add(&brand.block_authors, &brand.block_domains, &brand.block_phrases);
            if !list.is_empty() {
                blocked_for.insert(brand.name.clone(), list);
            }
        }
        Grouper {
            config: config.clone(),
            blocked,
            blocked_for,
            windows: HashMap::new(),
            dirty: false,
        }
    }

    pub fn min_words(&self) -> usize {
        self.config.campaign_min_words as usize
    }

    fn keep_ms(&self) -> i64 {
        self.config
            .campaign_window
            .0
            .max(self.config.burst_window.0)
            .num_milliseconds()
    }

    /// Rebuilds the windows from what the database holds.
    pub fn load(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        self.windows.clear();
        self.dirty = false;
        let newest: Option<i64> = conn.query_row("SELECT max(created_at) FROM mentions", [], |r| r.get(0))?;
        let Some(newest) = newest else { return Ok(()) };
        let mut stmt = conn.prepare(
            "SELECT b.brand, m.id, m.created_at, m.source, m.author, m.fingerprint, g.kind, g.id \
             FROM mentions m JOIN mention_brands b ON b.mention_id = m.id \
             LEFT JOIN spam_groups g ON g.id = b.group_id \
             WHERE m.created_at >= ?1 AND b.blocked IS NULL ORDER BY m.created_at, m.id",
        )?;
        let keep = self.keep_ms();
        let mut rows = stmt.query([newest.saturating_sub(keep)])?;
        while let Some(row) = rows.next()? {
            let brand: String = row.get(0)?;
            let source: String = row.get(3)?;
            let author: Option<String> = row.get(4)?;
            let kind: Option<String> = row.get(6)?;
            let group: Option<i64> = row.get(7)?;
            let entry = Entry {
                mention: row.get(1)?,
                at: row.get(2)?,
                author: author.as_deref().map(|a| author_key(&source, a)),
                fingerprint: row.get::<_, Option<i64>>(5)?.map(|f| f as u64),
                group: kind.as_deref().and_then(Kind::parse).zip(group),
            };
            self.windows.entry(Arc::from(brand)).or_default().push(entry, keep);
        }
        Ok(())
    }

    /// After a commit: what was placed stands.
    pub fn committed(&mut self) {
        self.dirty = false;
    }

    /// After a rollback: forgets what was placed in it, from the database.
    pub fn rolled_back(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if self.dirty {
            self.load(conn)?;
        }
        Ok(())
    }

    /// Decides, for each of `brands`, whether the newly stored `post` is
    /// blocked, part of a campaign or a burst, or counts on its own, and
    /// records it in `tx` (its `mention_brands` rows were just written with
    /// weight 1).
    pub fn place(&mut self, tx: &Transaction, post: &Post, brands: &[Arc<str>]) -> rusqlite::Result<()> {
        self.dirty = true;
        let words = if self.blocked.is_empty() && self.blocked_for.is_empty() {
            Vec::new()
        } else {
            content_words(post.text)
        };
        let author = post.author.map(|a| author_key(post.source, a));
        for brand in brands {
            let reason = match self.blocked.reason(post, &words) {
                Some(reason) => Some(reason),
                None => match self.blocked_for.get(&**brand) {
                    Some(list) => list.reason(post, &words),
                    None => None,
                },
            };
            let reason = match reason {
                Some(reason) => Some(reason),
                None => self.learnt(tx, post, brand)?,
            };
            if let Some(reason) = reason {
                tx.prepare_cached(
                    "UPDATE mention_brands SET weight = 0, blocked = ?4 \
                     WHERE brand = ?1 AND created_at = ?2 AND mention_id = ?3",
                )?
                .execute(params![&**brand, post.created_at, post.id, reason])?;
                fold_mention(tx, post.id)?;
                continue;
            }
            self.group(tx, post, author, brand)?;
        }
        Ok(())
    }

    /// Whether staff marked this author "not about us" for `brand` often enough.
    fn learnt(&self, tx: &Transaction, post: &Post, brand: &str) -> rusqlite::Result<Option<String>> {
        let (Some(author), true) = (post.author, self.config.learn_after > 0) else {
            return Ok(None);
        };
        let marks: Option<i64> = tx
            .prepare_cached("SELECT marks FROM learnt_authors WHERE source = ?1 AND author = ?2 AND brand = ?3")?
            .query_row(params![post.source, author, brand], |r| r.get(0))
            .optional()?;
        Ok(marks
            .filter(|&m| m >= i64::from(self.config.learn_after))
            .map(|m| format!("author {author}: marked not about us {m} times")))
    }

    fn group(&mut self, tx: &Transaction, post: &Post, author: Option<u64>, brand: &Arc<str>) -> rusqlite::Result<()> {
        let keep = self.keep_ms();
        let config = &self.config;
        let window = self.windows.entry(brand.clone()).or_default();
        let grouping = campaign_of(window, config, post, author).or_else(|| burst_of(window, config, post, author));
        // What this mention weighs is settled now and never changed: the
        // detector may already have counted the mentions before it, and
        // replay, live polling at any tick and backtest must agree. So a
        // campaign's copies from before it was recognised keep counting
        // (at most `campaign_accounts - 1`), and an account counts once
        // per `burst_window` from its first mention on.
        let burst_span = config.burst_window.0.num_milliseconds();
        let repeat = author.is_some_and(|a| {
            window.authors.get(&a).is_some_and(|seqs| {
                seqs.iter().any(|&s| {
                    window
                        .get(s)
                        .is_some_and(|e| (e.at - post.created_at).abs() <= burst_span)
                })
            })
        });
        let weight = match grouping {
            Some(Grouping::Join(Kind::Campaign, _) | Grouping::Form(Kind::Campaign, _)) => config.campaign_weight,
            _ if repeat => config.burst_weight,
            _ => 1.0,
        };
        if weight != 1.0 {
            tx.prepare_cached(
                "UPDATE mention_brands SET weight = ?4 WHERE brand = ?1 AND created_at = ?2 AND mention_id = ?3",
            )?
            .execute(params![&**brand, post.created_at, post.id, weight])?;
        }
        let seq = window.push(
            Entry {
                mention: post.id,
                at: post.created_at,
                author,
                fingerprint: post.fingerprint,
                group: None,
            },
            keep,
        );
        let (kind, id, members) = match grouping {
            None => return Ok(()),
            Some(Grouping::Join(kind, id)) => (kind, id, vec![seq]),
            Some(Grouping::Form(kind, mut members)) => {
                members.push(seq);
                members.sort_by_key(|&s| window.get(s).map(|e| (e.at, e.mention)));
                let Some(first) = members.first().and_then(|&s| window.get(s)) else {
                    return Ok(());
                };
                tx.prepare_cached(
                    "INSERT INTO spam_groups (brand, kind, representative, formed_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![&**brand, kind.as_str(), first.mention, post.created_at])?;
                (kind, tx.last_insert_rowid(), members)
            }
        };
        let representative: i64 = tx
            .prepare_cached("SELECT representative FROM spam_groups WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        for seq in members {
            let Some(entry) = window.get_mut(seq) else { continue };
            entry.group = Some((kind, id));
            let (mention, at) = (entry.mention, entry.at);
            let leads = mention == representative;
            tx.prepare_cached(
                "UPDATE mention_brands SET group_id = ?4 \
                 WHERE brand = ?1 AND created_at = ?2 AND mention_id = ?3 AND blocked IS NULL",
            )?
            .execute(params![&**brand, at, mention, id])?;
            if !leads {
                fold_mention(tx, mention)?;
            }
        }
        Ok(())
    }
}

/// Hides a mention behind its group's first one in the inbox.
fn fold_mention(tx: &Transaction, id: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE mentions SET folded = 1 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

fn author_key(source: &str, author: &str) -> u64 {
    let key = format!("{}\u{1f}{}", source.to_ascii_lowercase(), normal_handle(author));
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

/// The campaign `post` belongs to: one its near-duplicates are already in,
/// or a new one when enough distinct accounts posted them.
fn campaign_of(window: &Window, config: &SpamConfig, post: &Post, author: Option<u64>) -> Option<Grouping> {
    let fingerprint = post.fingerprint?;
    let span = config.campaign_window.0.num_milliseconds();
    let mut copies: Vec<u64> = Vec::new();
    for key in band_keys(fingerprint) {
        for &seq in window.bands.get(&key).into_iter().flatten() {
            if copies.contains(&seq) {
                continue;
            }
            let Some(entry) = window.get(seq) else { continue };
            let near = entry
                .fingerprint
                .is_some_and(|f| (f ^ fingerprint).count_ones() <= config.campaign_distance);
            if near && (entry.at - post.created_at).abs() <= span {
                if let Some((Kind::Campaign, id)) = entry.group {
                    return Some(Grouping::Join(Kind::Campaign, id));
                }
                copies.push(seq);
            }
        }
    }
    let mut accounts: HashSet<Result<u64, i64>> = copies
        .iter()
        .filter_map(|&s| window.get(s))
        .map(|e| e.author.ok_or(e.mention))
        .collect();
    accounts.insert(author.ok_or(post.id));
    (accounts.len() >= config.campaign_accounts as usize).then_some(Grouping::Form(Kind::Campaign, copies))
}

/// The burst `post` belongs to: its author's, when they posted
/// `burst_mentions` times within `burst_window`.
fn burst_of(window: &Window, config: &SpamConfig, post: &Post, author: Option<u64>) -> Option<Grouping> {
    let span = config.burst_window.0.num_milliseconds();
    let recent: Vec<u64> = window
        .authors
        .get(&author?)?
        .iter()
        .copied()
        .filter(|&s| window.get(s).is_some_and(|e| (e.at - post.created_at).abs() <= span))
        .collect();
    if let Some((Kind::Burst, id)) = recent.iter().rev().find_map(|&s| window.get(s)?.group) {
        return Some(Grouping::Join(Kind::Burst, id));
    }
    // Mentions already in a campaign stay there.
    let free: Vec<u64> = recent
        .into_iter()
        .filter(|&s| window.get(s).is_some_and(|e| e.group.is_none()))
        .collect();
    (free.len() + 1 >= config.burst_mentions as usize).then_some(Grouping::Form(Kind::Burst, free))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_differing_in_handles_links_and_case_share_a_fingerprint() {
        let a = fingerprint(
            "@acmeair you lost my bag and nobody answers the phone, refund me now https://t.co/abc",
            6,
        );
        let b = fingerprint(
            "@AcmeAirHelp You LOST my bag and nobody answers the phone, refund me now! https://bit.ly/x",
            6,
        );
        assert!(a.is_some());
        assert_eq!(a, b);
    }

    #[test]
    fn different_complaints_are_far_apart_and_short_texts_have_no_fingerprint() {
        let a = fingerprint("acme air lost my bag and nobody answers the phone at the desk", 6).unwrap();
        let b = fingerprint("waited three hours at the gate for acme air and the crew never came", 6).unwrap();
        assert!((a ^ b).count_ones() > 10, "{} bits apart", (a ^ b).count_ones());
        assert_eq!(fingerprint("@acmeair refund please https://t.co/x", 6), None);
    }

    #[test]
    fn hosts_are_read_from_links() {
        assert_eq!(
            host_of("https://www.Spam.example:8080/x?y").as_deref(),
            Some("spam.example")
        );
        assert_eq!(host_of("spam.example").as_deref(), Some("spam.example"));
        assert_eq!(host_of("http://user@evil.example/").as_deref(), Some("evil.example"));
    }

    #[test]
    fn blocklists_name_their_reason() {
        let mut list = Blocklist::default();
        list.add(
            &["@Bot1".into(), "x:promo".into()],
            &["spam.example".into()],
            &["crypto giveaway".into()],
        );
        let post = |source, author, text, url| Post {
            id: 1,
            created_at: 0,
            source,
            author,
            text,
            url,
            fingerprint: None,
        };
        let check = |p: Post| list.reason(&p, &content_words(p.text));
        assert_eq!(
            check(post("mastodon", Some("bot1"), "hi", None)).as_deref(),
            Some("author bot1")
        );
        assert_eq!(
            check(post("x", Some("@promo"), "hi", None)).as_deref(),
            Some("author @promo")
        );
        assert_eq!(check(post("bluesky", Some("promo"), "hi", None)), None);
        assert_eq!(
            check(post("x", None, "see https://win.spam.example/now", None)).as_deref(),
            Some("domain spam.example")
        );
        assert_eq!(
            check(post("x", None, "see notspam.example", Some("https://notspam.example"))),
            None
        );
        assert_eq!(
            check(post("x", None, "Huge CRYPTO Giveaway for acme fans", None)).as_deref(),
            Some("phrase \"crypto giveaway\"")
        );
        assert_eq!(check(post("x", None, "crypto giveaways", None)), None);
    }
}
