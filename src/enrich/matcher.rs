//! Which configured brands a mention talks about.
//!
//! All keywords, handles, hashtags and exclusions of all brands go into one
//! Aho–Corasick automaton, so matching costs one pass over the text however
//! many brands are configured. A hit counts only on word boundaries, and a
//! keyword hit that lies inside an exclusion hit of the same brand ("acme air"
//! inside "acme air fryer") does not count.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::query::{self, Input, Query, QueryError};
use crate::brand::BrandConfig;

/// Index of a brand in the configuration's `brands` list.
pub type BrandId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Include,
    Exclude,
}

#[derive(Debug, Clone, Copy)]
struct Pattern {
    brand: BrandId,
    role: Role,
    /// Whether the pattern's last character is a word character: only then
    /// must a word boundary follow ("c++" may be followed by anything). The
    /// start is always checked, so "joe@acme" is not the handle "@acme".
    check_end: bool,
}

#[derive(Debug)]
pub struct BrandMatcher {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    names: Vec<String>,
    queries: Queries,
}

/// The brands' Boolean queries behind one Aho–Corasick pass: the first
/// word of every term of every query is a pattern, so a text costs one
/// pass however many queries; a query is evaluated only when one of its
/// required words occurs (one of which must, for it to match), and then
/// mostly from what the pass found (a one-word term found whole is true,
/// a term whose first word is absent is false) without reading the text's
/// words again.
///
/// Each distinct word is one pattern, whoever uses it: a thousand brands
/// excluding "giveaway" make one pattern and one hit per occurrence, not a
/// thousand, and only the queries evaluated look at it.
#[derive(Debug, Default)]
struct Queries {
    all: Vec<(BrandId, Query)>,
    automaton: Option<AhoCorasick>,
    /// For each pattern: the queries that need it (one of their required
    /// words), which makes them candidates.
    required_by: Vec<Vec<usize>>,
    /// For each query: the patterns its terms read.
    reads: Vec<Vec<(usize, TermPattern)>>,
    /// Queries that can match without any word (a `lang:` alternative).
    always: Vec<usize>,
    /// Each query's terms' word counts.
    term_sizes: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, Copy)]
struct TermPattern {
    term: usize,
    /// The term's first word (`false`: the whole phrase as written).
    first_word: bool,
    /// A prefix (`refund*`): no boundary after it.
    prefix: bool,
}

/// Where a pattern occurs in a text, starting on a word boundary.
#[derive(Debug, Clone, Copy)]
struct QueryHit {
    pattern: usize,
    start: usize,
    /// A word boundary follows (a prefix needs none).
    ends_word: bool,
}

impl Queries {
    fn new(brands: &[BrandConfig]) -> Result<Queries, MatcherError> {
        let mut queries = Queries::default();
        let mut needles: Vec<String> = Vec::new();
        let mut index_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut pattern_of = |needle: String, required_by: &mut Vec<Vec<usize>>| {
            *index_of.entry(needle).or_insert_with_key(|needle| {
                needles.push(needle.clone());
                required_by.push(Vec::new());
                needles.len() - 1
            })
        };
        for (brand, config) in brands.iter().enumerate() {
            let Some(text) = config.query.as_deref().filter(|q| !q.trim().is_empty()) else {
                continue;
            };
            let query = Query::parse(text).map_err(|e| MatcherError::Query(config.name.clone(), e))?;
            let index = queries.all.len();
            let required = query.required_words();
            if required.is_none() {
                queries.always.push(index);
            }
            let mut reads = Vec::new();
            for (term, words) in query.terms().enumerate() {
                // The first word stands for the term: later words are often
                // common ones ("app", "support") shared by many brands.
                if let Some(&(word, prefix)) = words.first() {
                    let written = if prefix { format!("{word}*") } else { word.to_string() };
                    let pattern = pattern_of(word.to_string(), &mut queries.required_by);
                    if required.as_ref().is_some_and(|r| r.contains(&written)) {
                        queries.required_by[pattern].push(index);
                    }
                    reads.push((
                        pattern,
                        TermPattern {
                            term,
                            first_word: true,
                            prefix,
                        },
                    ));
                }
                if words.len() > 1 && !words.iter().any(|w| w.1) {
                    let phrase = words.iter().map(|w| w.0).collect::<Vec<_>>().join(" ");
                    let pattern = pattern_of(phrase, &mut queries.required_by);
                    reads.push((
                        pattern,
                        TermPattern {
                            term,
                            first_word: false,
                            prefix: false,
                        },
                    ));
                }
            }
            queries.reads.push(reads);
            queries.term_sizes.push(query.terms().map(|t| t.len()).collect());
            queries.all.push((brand, query));
        }
        // A query needing a word twice is listed once (its pushes are adjacent).
        for by in &mut queries.required_by {
            by.dedup();
        }
        if !needles.is_empty() {
            queries.automaton = Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(query_automaton_kind(&needles))
                    .build(&needles)?,
            );
        }
        Ok(queries)
    }

    /// The brands whose query matches `input`.
    fn matching(&self, input: &Input) -> Vec<BrandId> {
        let text = query::haystack(input.text);
        let mut hits: Vec<QueryHit> = Vec::new();
        let mut candidates: Vec<usize> = self.always.clone();
        if let Some(automaton) = &self.automaton {
            for m in automaton.find_overlapping_iter(text.as_bytes()) {
                if char_before(&text, m.start()).is_some_and(is_word_char) {
                    continue;
                }
                let pattern = m.pattern().as_usize();
                let ends_word = !char_at(&text, m.end()).is_some_and(is_word_char);
                hits.push(QueryHit {
                    pattern,
                    start: m.start(),
                    ends_word,
                });
                candidates.extend(&self.required_by[pattern]);
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        candidates.sort_unstable();
        candidates.dedup();
        // By pattern (stable: each pattern's hits stay in text order), so
        // each term reads its own hits only.
        hits.sort_by_key(|h| h.pattern);
        let mut terms = Vec::new();
        let mut starts = Vec::new();
        candidates
            .into_iter()
            .filter(|&i| {
                let query = &self.all[i].1;
                let sizes = &self.term_sizes[i];
                terms.clear();
                terms.resize(sizes.len(), query::Found::default());
                starts.clear();
                for &(pattern, p) in &self.reads[i] {
                    let first = hits.partition_point(|h| h.pattern < pattern);
                    let own = hits[first..].iter().take_while(|h| h.pattern == pattern);
                    for hit in own.filter(|h| p.prefix || h.ends_word) {
                        let term = &mut terms[p.term];
                        if p.first_word {
                            term.first_word = true;
                            term.every_word = sizes[p.term] == 1;
                            if sizes[p.term] > 1 {
                                starts.push((p.term, hit.start));
                            }
                        } else {
                            term.as_written = true;
                        }
                    }
                }
                query.matches_found(input, &text, &terms, &starts)
            })
            .map(|i| self.all[i].0)
            .collect()
    }
}

/// A DFA reads a text fastest, which overlapping search over thousands of
/// query words needs (a contiguous NFA is about 1.4× slower at 1,000
/// brands), but costs about 110 bytes per byte of its words (25 MB for the
/// benchmark's 1,000 brands): past a few thousand brands the NFA's memory
/// wins.
const DFA_MAX_NEEDLE_BYTES: usize = 400_000;

fn query_automaton_kind(needles: &[String]) -> Option<aho_corasick::AhoCorasickKind> {
    let bytes: usize = needles.iter().map(String::len).sum();
    (bytes <= DFA_MAX_NEEDLE_BYTES).then_some(aho_corasick::AhoCorasickKind::DFA)
}

/// Why the matcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error("cannot build the brand matcher: {0}")]
    Build(#[from] aho_corasick::BuildError),
    #[error("brand {0:?}: its query: {1}")]
    Query(String, QueryError),
}

impl BrandMatcher {
    pub fn new(brands: &[BrandConfig]) -> Result<Self, MatcherError> {
        let mut needles = Vec::new();
        let mut patterns = Vec::new();
        for (brand, config) in brands.iter().enumerate() {
            let includes = config.keywords.iter().chain(&config.handles).chain(&config.hashtags);
            let terms = includes
                .map(|t| (t, Role::Include))
                .chain(config.exclude.iter().map(|t| (t, Role::Exclude)));
            for (term, role) in terms {
                let needle = term.trim().to_lowercase();
                let Some(last) = needle.chars().last() else {
                    continue;
                };
                patterns.push(Pattern {
                    brand,
                    role,
                    check_end: is_word_char(last),
                });
                needles.push(needle);
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&needles)?;
        Ok(BrandMatcher {
            automaton,
            patterns,
            names: brands.iter().map(|b| b.name.clone()).collect(),
            queries: Queries::new(brands)?,
        })
    }

    /// Bytes the automata take (the benchmark reports it).
    pub fn memory_usage(&self) -> usize {
        self.automaton.memory_usage() + self.queries.automaton.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    pub fn brand_names(&self) -> &[String] {
        &self.names
    }

    pub fn brand_id(&self, name: &str) -> Option<BrandId> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name.trim()))
    }

    /// The brands `text` mentions, in configuration order, each once.
    pub fn matches(&self, text: &str) -> Vec<BrandId> {
        self.matches_input(&Input {
            text,
            ..Input::default()
        })
    }

    /// The brands a mention talks about: by its brands' keywords, or by
    /// their queries (which may read its language, source, author and link).
    pub fn matches_input(&self, input: &Input) -> Vec<BrandId> {
        let hits = self.hits(input.text);
        let mut brands: Vec<BrandId> = hits.iter().filter(|h| h.counts(&hits)).map(|h| h.brand).collect();
        brands.extend(self.queries.matching(input));
        brands.sort_unstable();
        brands.dedup();
        brands
    }

    /// Why `brand` is or is not matched: the keyword that hit, or the
    /// query's deciding clause (the `match` command).
    pub fn explain(&self, brand: BrandId, input: &Input) -> Explanation {
        let hits = self.hits(input.text);
        let keyword = hits
            .iter()
            .find(|h| h.brand == brand && h.counts(&hits))
            .map(|h| input_slice(input.text, h.start, h.end));
        let query = self
            .queries
            .all
            .iter()
            .find(|(b, _)| *b == brand)
            .map(|(_, q)| (q.as_str().to_string(), q.explain(input)));
        Explanation { keyword, query }
    }

    /// Whether a mention a source attributed to `brand` stays attributed: it
    /// does unless the text's only references to the brand are excluded ones.
    pub fn keeps_attribution(&self, brand: BrandId, text: &str) -> bool {
        let hits = self.hits(text);
        let of_brand = || hits.iter().filter(|h| h.brand == brand);
        let excluded = of_brand().any(|h| h.role == Role::Exclude);
        !excluded || of_brand().any(|h| h.counts(&hits))
    }

    fn hits(&self, text: &str) -> Vec<Hit> {
        if self.patterns.is_empty() {
            // Every brand is a query: no keyword pass, and no lowered copy.
            return Vec::new();
        }
        // ASCII case folding happens in the automaton; other scripts are
        // lower-cased up front (offsets then refer to the lowered copy).
        let haystack: Cow<str> = if text.is_ascii() {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(text.to_lowercase())
        };
        let bytes = haystack.as_bytes();
        let mut hits = Vec::new();
        for m in self.automaton.find_overlapping_iter(bytes) {
            let pattern = self.patterns[m.pattern().as_usize()];
            let before_ok = !char_before(&haystack, m.start()).is_some_and(is_word_char);
            let after_ok = !pattern.check_end || !char_at(&haystack, m.end()).is_some_and(is_word_char);
            if before_ok && after_ok {
                hits.push(Hit {
                    brand: pattern.brand,
                    role: pattern.role,
                    start: m.start(),
                    end: m.end(),
                });
            }
        }
        hits
    }
}

/// Why a brand is matched or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The keyword, handle or hashtag that hit (as the text has it).
    pub keyword: Option<String>,
    /// The brand's query, whether it matched, and its deciding clause.
    pub query: Option<(String, (bool, String))>,
}

impl Explanation {
    pub fn matched(&self) -> bool {
        self.keyword.is_some() || self.query.as_ref().is_some_and(|(_, (m, _))| *m)
    }
}

/// The hit's text: offsets are into the lowered copy for non-ASCII text.
fn input_slice(text: &str, start: usize, end: usize) -> String {
    if text.is_ascii() {
        text.get(start..end).unwrap_or_default().to_string()
    } else {
        text.to_lowercase().get(start..end).unwrap_or_default().to_string()
    }
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    brand: BrandId,
    role: Role,
    start: usize,
    end: usize,
}

impl Hit {
    /// An include hit counts unless an exclusion of its brand covers it.
    fn counts(&self, all: &[Hit]) -> bool {
        self.role == Role::Include
            && !all
                .iter()
                .any(|x| x.role == Role::Exclude && x.brand == self.brand && x.start <= self.start && self.end <= x.end)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn char_before(s: &str, at: usize) -> Option<char> {
    s.get(..at).and_then(|p| p.chars().next_back())
}

fn char_at(s: &str, at: usize) -> Option<char> {
    s.get(at..).and_then(|p| p.chars().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(name: &str, keywords: &[&str], handles: &[&str], hashtags: &[&str], exclude: &[&str]) -> BrandConfig {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        BrandConfig {
            name: name.into(),
            keywords: v(keywords),
            handles: v(handles),
            hashtags: v(hashtags),
            exclude: v(exclude),
            query: None,
            ..Default::default()
        }
    }

    fn matcher() -> BrandMatcher {
        BrandMatcher::new(&[
            brand(
                "Acme Air",
                &["acme air"],
                &["@acmeair"],
                &["#acmeair"],
                &["acme air fryer"],
            ),
            brand("Acme", &["acme"], &[], &[], &[]),
            brand("Café Crème", &["café crème", "c++"], &[], &[], &[]),
        ])
        .unwrap()
    }

    #[test]
    fn queries_sharing_a_word_each_read_it_their_own_way() {
        let query = |name: &str, q: &str| BrandConfig {
            name: name.into(),
            query: Some(q.into()),
            ..Default::default()
        };
        let matcher = BrandMatcher::new(&[
            query("Whole", "acme AND refund"),
            query("Prefix", "acme AND refund*"),
            query("Phrase", "\"acme refund\" AND NOT giveaway"),
            query("Other", "globex AND NOT giveaway"),
        ])
        .unwrap();
        let names = |text: &str| -> Vec<&str> {
            matcher
                .matches(text)
                .into_iter()
                .map(|b| matcher.brand_names()[b].as_str())
                .collect()
        };
        assert_eq!(names("acme refunds please"), ["Prefix"]);
        assert_eq!(names("acme refund please"), ["Whole", "Prefix", "Phrase"]);
        assert_eq!(names("acme refund giveaway, globex"), ["Whole", "Prefix"]);
        assert_eq!(names("globex"), ["Other"]);
        assert!(names("refund giveaway").is_empty());
    }

    #[test]
    fn keywords_match_case_insensitively_on_word_boundaries() {
        let m = matcher();
        assert_eq!(m.matches("Flew ACME AIR today"), vec![0, 1]);
        assert_eq!(m.matches("acme"), vec![1]);
        assert_eq!(m.matches("acmecorp is hiring"), Vec::<BrandId>::new());
        assert_eq!(m.matches("the acme_air team"), Vec::<BrandId>::new());
        assert_eq!(m.matches("ACME, again."), vec![1]);
        assert_eq!(m.matches("(acme air)"), vec![0, 1]);
    }

    #[test]
    fn handles_and_hashtags_need_their_sigil_and_a_boundary_after() {
        let m = matcher();
        assert_eq!(m.matches("thanks @AcmeAir!"), vec![0]);
        assert_eq!(m.matches("#acmeair delays"), vec![0]);
        assert_eq!(m.matches("#acmeairlines"), Vec::<BrandId>::new());
        assert_eq!(m.matches("mail me at joe@acmeair"), Vec::<BrandId>::new());
        assert_eq!(m.matches("acmeair"), Vec::<BrandId>::new());
    }

    #[test]
    fn exclusions_remove_only_the_hits_they_cover() {
        let m = matcher();
        assert_eq!(m.matches("my new Acme Air Fryer is great"), vec![1]);
        assert_eq!(m.matches("acme air fryer burnt, acme air lost my bag"), vec![0, 1]);
        assert!(!m.keeps_attribution(0, "the acme air fryer review"));
        assert!(m.keeps_attribution(0, "five stars, great crew"));
        assert!(m.keeps_attribution(0, "acme air fryer? no, acme air flight"));
    }

    #[test]
    fn non_ascii_keywords_and_symbols() {
        let m = matcher();
        assert_eq!(m.matches("CAFÉ CRÈME is the best"), vec![2]);
        assert_eq!(m.matches("café crèmes"), Vec::<BrandId>::new());
        assert_eq!(m.matches("I write C++."), vec![2]);
        assert_eq!(m.brand_id("acme air"), Some(0));
    }
}
