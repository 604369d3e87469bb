//! A brand's Boolean query (`query = '…'` beside or instead of its
//! keywords), the language listening tools share:
//!
//! ```text
//! query   = or
//! or      = and { "OR" and }
//! and     = unary { ["AND"] unary }        (two clauses side by side are ANDed)
//! unary   = "NOT" unary | near
//! near    = primary { "NEAR/" n primary }  (terms and phrases only)
//! primary = "(" or ")" | "\"" phrase "\"" | word["*"] | @handle | #hashtag
//!         | lang:xx | source:name | author:name | url:domain
//! ```
//!
//! `NOT` binds tighter than `AND`, `AND` tighter than `OR`. Terms match
//! whole words of the mention (`flight` is not in "flights", `@acmeair` is
//! not "@acmeairhelp"); `refund*` matches words starting with "refund";
//! case and accents are folded in the text and the query alike, decomposed
//! (NFD) text included. `NEAR/n`: the two are at most n words apart, in
//! either order. `AND NOT x` drops the whole mention when x occurs.
//!
//! A hand-written recursive-descent parser: the grammar is a dozen rules,
//! and its errors say the column and what was expected, which is what an
//! operator fixing a config needs (`docs/matching.md`).

use unicode_normalization::UnicodeNormalization;

/// What a query is checked against: the mention's text and fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    pub text: &'a str,
    pub lang: Option<&'a str>,
    pub source: Option<&'a str>,
    pub author: Option<&'a str>,
    pub url: Option<&'a str>,
}

/// A query that does not read, with the (1-based) column of the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Lang,
    Source,
    Author,
    Url,
}

/// One word of a term: whole, or a prefix (`refund*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    prefix: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Near(Box<Node>, Box<Node>, usize),
    /// A word or a phrase (words in a row), with its number in the query.
    Term(usize, Vec<Word>),
    Field(Field, String),
}

/// A parsed query, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Query {
    root: Node,
    source: String,
    /// Each term's words, by the term's number (the matcher's prefilter
    /// looks for these).
    terms: Vec<Vec<Word>>,
}

/// The longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 10_000;
/// The most words in one phrase.
pub const MAX_PHRASE_WORDS: usize = 32;
/// The deepest nesting accepted (parentheses and NOTs).
const MAX_DEPTH: usize = 50;

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        if text.len() > MAX_QUERY_BYTES {
            return Err(QueryError {
                column: 1,
                message: format!("a query is at most {MAX_QUERY_BYTES} bytes"),
            });
        }
        let tokens = lex(text)?;
        let mut parser = Parser {
            tokens: &tokens,
            at: 0,
            depth: 0,
            end_column: text.chars().count() + 1,
        };
        let root = parser.or()?;
        if let Some(extra) = parser.peek() {
            return Err(QueryError {
                column: extra.column,
                message: match extra.kind {
                    Kind::Close => "a ')' without its '('".into(),
                    _ => format!("expected AND, OR or the end of the query, found {}", extra.describe()),
                },
            });
        }
        let mut query = Query {
            root,
            source: text.to_string(),
            terms: Vec::new(),
        };
        number_terms(&mut query.root, &mut query.terms);
        if query.matches(&Input::default()) {
            return Err(QueryError {
                column: 1,
                message: "the query matches every mention (it needs a term that must appear)".into(),
            });
        }
        Ok(query)
    }

    /// The query as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, input: &Input) -> bool {
        let text = haystack(input.text);
        eval(&self.root, input, &Text::new(&text, None))
    }

    /// Each term's words, by the term's number: folded, and whether each
    /// is a prefix (`refund*`).
    pub fn terms(&self) -> impl Iterator<Item = Vec<(&str, bool)>> {
        self.terms
            .iter()
            .map(|t| t.iter().map(|w| (w.text.as_str(), w.prefix)).collect())
    }

    /// [`Query::matches`] on a [`haystack`] whose terms' words the caller
    /// has already looked for (`found[i]`, for term `i`).
    ///
    /// `starts` holds (term, byte offset) of each first word found, so a
    /// phrase is checked from those places only.
    pub fn matches_found(&self, input: &Input, text: &str, found: &[Found], starts: &[(usize, usize)]) -> bool {
        let mut t = Text::new(text, Some(found));
        t.starts = starts;
        eval(&self.root, input, &t)
    }

    /// Whether `input` matches, and the clause that decided it: for a match,
    /// the alternative that held; for none, the part that did not.
    pub fn explain(&self, input: &Input) -> (bool, String) {
        let text = haystack(input.text);
        let text = Text::new(&text, None);
        let matched = eval(&self.root, input, &text);
        (matched, why(&self.root, input, &text, matched))
    }

    /// Words at least one of which the text must contain for the query to
    /// match (folded; a trailing `*` for a prefix), or `None` when it can
    /// match without any (a `lang:` alternative, a `NOT` branch): the
    /// matcher evaluates such a query on every mention.
    pub fn required_words(&self) -> Option<Vec<String>> {
        required(&self.root)
    }
}

/// What a prefilter found of one term in a text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Found {
    /// The term's first word occurs, as a whole word (or word start).
    pub first_word: bool,
    /// Every word of the term occurs (known for one-word terms).
    pub every_word: bool,
    /// The term's words occur as written, one space apart.
    pub as_written: bool,
}

/// Numbers the terms in reading order, collecting their words.
fn number_terms(node: &mut Node, terms: &mut Vec<Vec<Word>>) {
    match node {
        Node::Term(id, words) => {
            *id = terms.len();
            terms.push(words.clone());
        }
        Node::Or(children) | Node::And(children) => children.iter_mut().for_each(|c| number_terms(c, terms)),
        Node::Not(inner) => number_terms(inner, terms),
        Node::Near(a, b, _) => {
            number_terms(a, terms);
            number_terms(b, terms);
        }
        Node::Field(..) => {}
    }
}

fn required(node: &Node) -> Option<Vec<String>> {
    match node {
        Node::Term(_, words) => words.first().map(|w| {
            vec![if w.prefix {
                format!("{}*", w.text)
            } else {
                w.text.clone()
            }]
        }),
        Node::Field(..) | Node::Not(_) => None,
        Node::Near(a, _, _) => required(a),
        Node::Or(children) => {
            let mut all = Vec::new();
            for child in children {
                all.extend(required(child)?);
            }
            Some(all)
        }
        Node::And(children) => children.iter().filter_map(required).min_by_key(Vec::len),
    }
}

/// Folds case and accents: NFD, combining marks dropped, lower case.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The text a query reads: as it is when folding would change nothing but
/// ASCII case (which is compared ignoring case): ASCII, emoji and
/// punctuation; anything with other letters or combining marks folded first.
pub fn haystack(text: &str) -> std::borrow::Cow<'_, str> {
    let unchanged =
        |c: char| c.is_ascii() || !(c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c));
    // NFD can still split a symbol ("≠" is "=" and a combining overlay).
    if text.is_ascii() || (text.chars().all(unchanged) && unicode_normalization::is_nfd(text)) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(fold(text))
    }
}

/// A text's words (byte ranges of its [`haystack`]); `@` and `#` stay on
/// the word they lead ("@acmeair", "#fail"). Texts are short: positions are
/// found by a scan, not an index, which is cheaper to build.
pub struct Words<'a> {
    text: &'a str,
    spans: Vec<(usize, usize)>,
}

impl<'a> Words<'a> {
    /// The words of a [`haystack`].
    pub fn of(text: &'a str) -> Words<'a> {
        let mut spans = Vec::new();
        let mut start: Option<usize> = None;
        let mut previous: Option<char> = None;
        for (i, c) in text.char_indices() {
            if is_word_char(c) {
                if start.is_none() {
                    start = Some(i);
                }
            } else {
                if let Some(s) = start.take() {
                    // A lone sigil is no word.
                    if text[s..i].chars().any(is_word_char) {
                        spans.push((s, i));
                    }
                }
                if (c == '@' || c == '#') && !previous.is_some_and(is_word_char) {
                    start = Some(i);
                }
            }
            previous = Some(c);
        }
        if let Some(s) = start {
            if text[s..].chars().any(is_word_char) {
                spans.push((s, text.len()));
            }
        }
        Words { text, spans }
    }

    fn word(&self, i: usize) -> Option<&'a str> {
        self.spans.get(i).map(|&(s, e)| &self.text[s..e])
    }

    /// The text's words, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.spans.iter().map(|&(s, e)| &self.text[s..e])
    }

    fn is(word: &str, pattern: &Word) -> bool {
        if pattern.prefix {
            word.len() >= pattern.text.len()
                && word.is_char_boundary(pattern.text.len())
                && word[..pattern.text.len()].eq_ignore_ascii_case(&pattern.text)
        } else {
            word.eq_ignore_ascii_case(&pattern.text)
        }
    }

    /// Spans (first, last word) where the term's words stand in a row.
    fn spans_of(&self, term: &[Word]) -> Vec<(usize, usize)> {
        let Some(first) = term.first() else {
            return Vec::new();
        };
        (0..self.spans.len())
            .filter(|&start| {
                self.word(start).is_some_and(|w| Self::is(w, first))
                    && term
                        .iter()
                        .enumerate()
                        .skip(1)
                        .all(|(k, p)| self.word(start + k).is_some_and(|w| Self::is(w, p)))
            })
            .map(|start| (start, start + term.len() - 1))
            .collect()
    }

    fn has(&self, term: &[Word]) -> bool {
        match term {
            [one] => self.iter().any(|w| Self::is(w, one)),
            _ => !self.spans_of(term).is_empty(),
        }
    }
}

fn field_matches(field: &Field, value: &str, input: &Input) -> bool {
    let eq = |a: &str| fold(a.trim().trim_start_matches('@')) == *value;
    match field {
        Field::Lang => input.lang.is_some_and(|l| {
            let l = fold(l);
            l == *value || l.strip_prefix(value).is_some_and(|rest| rest.starts_with(['-', '_']))
        }),
        Field::Source => input.source.is_some_and(eq),
        Field::Author => input.author.is_some_and(eq),
        Field::Url => input
            .url
            .and_then(|u| reqwest::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(fold))
            .is_some_and(|host| host == *value || host.ends_with(&format!(".{value}"))),
    }
}

/// A text being evaluated: its words, found when a term needs them, and
/// what the prefilter already knows.
struct Text<'a> {
    text: &'a str,
    words: std::cell::OnceCell<Words<'a>>,
    found: Option<&'a [Found]>,
    /// (term, byte offset) of the first words the prefilter found.
    starts: &'a [(usize, usize)],
}

impl<'a> Text<'a> {
    fn new(text: &'a str, found: Option<&'a [Found]>) -> Text<'a> {
        Text {
            text,
            words: std::cell::OnceCell::new(),
            found,
            starts: &[],
        }
    }

    /// Whether `term`'s words stand in a row from byte `at`, where its
    /// first word was found: each next word after the non-word characters
    /// that follow, as the words of [`Words`] are split.
    fn phrase_at(&self, at: usize, term: &[Word]) -> bool {
        let text = self.text;
        let word_end = |from: usize| {
            text[from..]
                .char_indices()
                .find(|(i, c)| !is_word_char(*c) && !(*i == 0 && (*c == '@' || *c == '#')))
                .map_or(text.len(), |(i, _)| from + i)
        };
        let mut end = word_end(at);
        if !Words::is(&text[at..end], &term[0]) {
            return false;
        }
        for word in &term[1..] {
            let Some(start) = text[end..]
                .char_indices()
                .find(|(_, c)| is_word_char(*c))
                .map(|(i, _)| end + i)
            else {
                return false;
            };
            // A sigil leads the word when nothing of a word comes before it.
            let before = &text[..start];
            let led = before.ends_with(['@', '#'])
                && !before[..before.len() - 1].chars().next_back().is_some_and(is_word_char);
            let start = if led { start - 1 } else { start };
            end = word_end(start);
            if !Words::is(&text[start..end], word) {
                return false;
            }
        }
        true
    }

    fn words(&self) -> &Words<'a> {
        self.words.get_or_init(|| Words::of(self.text))
    }

    fn has(&self, id: usize, term: &[Word]) -> bool {
        match self.found.map(|f| f.get(id).copied().unwrap_or_default()) {
            // Its first word is absent: so is the term.
            Some(Found { first_word: false, .. }) => false,
            // A word, or a phrase as written: nothing more to look at.
            Some(Found { every_word: true, .. } | Found { as_written: true, .. }) => true,
            // Its first word is there: are the others, in a row after it?
            Some(_) if !self.starts.is_empty() => self
                .starts
                .iter()
                .filter(|(t, _)| *t == id)
                .any(|&(_, at)| self.phrase_at(at, term)),
            _ => self.words().has(term),
        }
    }
}

fn eval(node: &Node, input: &Input, text: &Text) -> bool {
    match node {
        Node::Or(children) => children.iter().any(|c| eval(c, input, text)),
        Node::And(children) => children.iter().all(|c| eval(c, input, text)),
        Node::Not(inner) => !eval(inner, input, text),
        Node::Term(id, term) => text.has(*id, term),
        Node::Field(field, value) => field_matches(field, value, input),
        Node::Near(a, b, n) => near(a, b, *n, text),
    }
}

fn near(a: &Node, b: &Node, n: usize, text: &Text) -> bool {
    let (Node::Term(ia, a), Node::Term(ib, b)) = (a, b) else {
        return false;
    };
    if !text.has(*ia, a) || !text.has(*ib, b) {
        return false;
    }
    let words = text.words();
    let (left, right) = (words.spans_of(a), words.spans_of(b));
    left.iter().any(|&(a0, a1)| {
        right.iter().any(|&(b0, b1)| {
            // Overlapping spans are 0 apart.
            let gap = if a1 < b0 { b0 - a1 } else { a0.saturating_sub(b1) };
            gap <= n
        })
    })
}

/// The clause that decided `node` being `matched`.
fn why(node: &Node, input: &Input, words: &Text, matched: bool) -> String {
    match node {
        // A match of OR: the alternative that held; a failure: all failed.
        Node::Or(children) if matched => children
            .iter()
            .find(|c| eval(c, input, words))
            .map_or_else(|| show(node), |c| why(c, input, words, true)),
        // A failure of AND: the part that did not hold.
        Node::And(children) if !matched => children
            .iter()
            .find(|c| !eval(c, input, words))
            .map_or_else(|| show(node), |c| why(c, input, words, false)),
        _ => show(node),
    }
}

/// A clause written back in the query language.
fn show(node: &Node) -> String {
    let group = |n: &Node| match n {
        Node::Or(_) | Node::And(_) => format!("({})", show(n)),
        _ => show(n),
    };
    match node {
        Node::Or(c) => c.iter().map(group).collect::<Vec<_>>().join(" OR "),
        Node::And(c) => c.iter().map(group).collect::<Vec<_>>().join(" AND "),
        Node::Not(inner) => format!("NOT {}", group(inner)),
        Node::Near(a, b, n) => format!("{} NEAR/{n} {}", show(a), show(b)),
        Node::Term(_, words) => {
            let text: Vec<String> = words
                .iter()
                .map(|w| {
                    if w.prefix {
                        format!("{}*", w.text)
                    } else {
                        w.text.clone()
                    }
                })
                .collect();
            if words.len() == 1 {
                text[0].clone()
            } else {
                format!("\"{}\"", text.join(" "))
            }
        }
        Node::Field(field, value) => {
            let name = match field {
                Field::Lang => "lang",
                Field::Source => "source",
                Field::Author => "author",
                Field::Url => "url",
            };
            format!("{name}:{value}")
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    And,
    Or,
    Not,
    Near(usize),
    Term(Vec<Word>),
    Field(Field, String),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    column: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            Kind::Open => "'('".into(),
            Kind::Close => "')'".into(),
            Kind::And => "AND".into(),
            Kind::Or => "OR".into(),
            Kind::Not => "NOT".into(),
            Kind::Near(n) => format!("NEAR/{n}"),
            Kind::Term(_) | Kind::Field(..) => "a term".into(),
        }
    }
}

/// The words of a term as written: folded, split on what is not a word
/// character, a trailing `*` making the last a prefix.
fn term_words(raw: &str, column: usize) -> Result<Vec<Word>, QueryError> {
    let folded = fold(raw);
    let mut words = Vec::new();
    for piece in folded.split(|c: char| c.is_whitespace()) {
        if piece.is_empty() {
            continue;
        }
        let (body, prefix) = match piece.strip_suffix('*') {
            Some(body) => (body, true),
            None => (piece, false),
        };
        if body.contains('*') {
            return Err(QueryError {
                column,
                message: format!("{piece:?}: a wildcard `*` may only end a word"),
            });
        }
        // "customer-service" is the two words "customer service" in a row.
        let (sigil, rest) = match body.chars().next() {
            Some(c @ ('@' | '#')) => (Some(c), &body[1..]),
            _ => (None, body),
        };
        let parts: Vec<&str> = rest
            .split(|c: char| !is_word_char(c))
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(QueryError {
                column,
                message: format!("{piece:?} has no letters or digits to match"),
            });
        }
        if prefix && parts.len() == 1 && parts[0].chars().count() < 2 && sigil.is_none() {
            return Err(QueryError {
                column,
                message: format!("{piece:?}: a wildcard needs at least two letters before it"),
            });
        }
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            let text = match (i, sigil) {
                (0, Some(s)) => format!("{s}{part}"),
                _ => part.to_string(),
            };
            words.push(Word {
                text,
                prefix: prefix && i == last,
            });
        }
    }
    if words.is_empty() {
        return Err(QueryError {
            column,
            message: "an empty phrase".into(),
        });
    }
    if words.len() > MAX_PHRASE_WORDS {
        return Err(QueryError {
            column,
            message: format!("a phrase is at most {MAX_PHRASE_WORDS} words"),
        });
    }
    Ok(words)
}

fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '(' || c == ')' {
            tokens.push(Token {
                kind: if c == '(' { Kind::Open } else { Kind::Close },
                column,
            });
            i += 1;
            continue;
        }
        if c == '"' {
            let Some(len) = chars[i + 1..].iter().position(|&q| q == '"') else {
                return Err(QueryError {
                    column,
                    message: "a phrase without its closing '\"'".into(),
                });
            };
            let phrase: String = chars[i + 1..i + 1 + len].iter().collect();
            tokens.push(Token {
                kind: Kind::Term(term_words(&phrase, column)?),
                column,
            });
            i += len + 2;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '(' | ')' | '"') {
            i += 1;
        }
        let raw: String = chars[start..i].iter().collect();
        let kind = match raw.as_str() {
            "AND" => Kind::And,
            "OR" => Kind::Or,
            "NOT" => Kind::Not,
            _ if raw.starts_with("NEAR/") => {
                let n = raw["NEAR/".len()..]
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=100).contains(n));
                Kind::Near(n.ok_or_else(|| QueryError {
                    column,
                    message: format!("{raw:?}: NEAR takes a distance from 1 to 100 words, as in NEAR/5"),
                })?)
            }
            _ => match raw.split_once(':') {
                Some((name @ ("lang" | "source" | "author" | "url"), value)) => {
                    let value = fold(value.trim_start_matches('@'));
                    if value.is_empty() {
                        return Err(QueryError {
                            column,
                            message: format!("{name}: needs a value, as in {name}:{}", example(name)),
                        });
                    }
                    let field = match name {
                        "lang" => Field::Lang,
                        "source" => Field::Source,
                        "author" => Field::Author,
                        _ => Field::Url,
                    };
                    Kind::Field(field, value)
                }
                _ => Kind::Term(term_words(&raw, column)?),
            },
        };
        tokens.push(Token { kind, column });
    }
    Ok(tokens)
}

fn example(field: &str) -> &'static str {
    match field {
        "lang" => "en",
        "source" => "reddit",
        "author" => "acmeair",
        _ => "acme.example",
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
    end_column: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn expected(&self, what: &str) -> QueryError {
        match self.peek() {
            Some(t) => QueryError {
                column: t.column,
                message: format!("expected {what}, found {}", t.describe()),
            },
            None => QueryError {
                column: self.end_column,
                message: format!("expected {what}, found the end of the query"),
            },
        }
    }

    fn or(&mut self) -> Result<Node, QueryError> {
        let mut children = vec![self.and()?];
        while matches!(self.peek().map(|t| &t.kind), Some(Kind::Or)) {
            self.at += 1;
            children.push(self.and()?);
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Node::Or(children)
        })
    }

    fn and(&mut self) -> Result<Node, QueryError> {
        let mut children = vec![self.unary()?];
        loop {
            match self.peek().map(|t| &t.kind) {
                Some(Kind::And) => {
                    self.at += 1;
                    children.push(self.unary()?);
                }
                Some(Kind::Term(_) | Kind::Field(..) | Kind::Open | Kind::Not) => children.push(self.unary()?),
                _ => break,
            }
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Node::And(children)
        })
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        if matches!(self.peek().map(|t| &t.kind), Some(Kind::Not)) {
            self.at += 1;
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.near()
    }

    fn near(&mut self) -> Result<Node, QueryError> {
        let mut left = self.primary()?;
        while let Some(Token {
            kind: Kind::Near(n),
            column,
        }) = self.peek().cloned()
        {
            self.at += 1;
            let right = self.primary()?;
            if !matches!(left, Node::Term(..)) || !matches!(right, Node::Term(..)) {
                return Err(QueryError {
                    column,
                    message: "NEAR joins two words or phrases, not groups or fields".into(),
                });
            }
            left = Node::Near(Box::new(left), Box::new(right), n);
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Node, QueryError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.expected("a term, a phrase or '('"));
        };
        match token.kind {
            Kind::Open => {
                self.at += 1;
                self.deeper()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.peek().map(|t| &t.kind) {
                    Some(Kind::Close) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err(self.expected(&format!("')' to close the '(' of column {}", token.column))),
                }
            }
            Kind::Term(words) => {
                self.at += 1;
                Ok(Node::Term(0, words))
            }
            Kind::Field(field, value) => {
                self.at += 1;
                Ok(Node::Field(field, value))
            }
            _ => Err(self.expected("a term, a phrase or '('")),
        }
    }

    fn deeper(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.expected(&format!("at most {MAX_DEPTH} levels of nesting")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_read_as_it_is_folds_to_itself_but_for_ascii_case() {
        for text in [
            "Acme AIR 😡😡 !!! ¿qué? — “late”",
            "≠ Acme",
            "Ⓐcme air",
            "CAFÉ acme",
            "cafe\u{301} acme",
            "Ⅻ acme ℃ ™",
            "ÅNGSTRÖM",
        ] {
            let read = haystack(text);
            if matches!(read, std::borrow::Cow::Borrowed(_)) {
                assert_eq!(read.to_ascii_lowercase(), fold(text), "{text}");
            } else {
                assert_eq!(read, fold(text), "{text}");
            }
        }
    }

    fn m(query: &str, text: &str) -> bool {
        Query::parse(query).unwrap().matches(&Input {
            text,
            ..Input::default()
        })
    }

    #[test]
    fn precedence_not_and_or() {
        // a OR b AND NOT c  ==  a OR (b AND (NOT c))
        let q = "apple OR shell AND NOT oil";
        assert!(m(q, "apple oil"));
        assert!(m(q, "shell station"));
        assert!(!m(q, "shell oil"));
        assert!(m("(apple OR shell) NOT oil", "shell station"));
        assert!(!m("(apple OR shell) NOT oil", "apple oil"));
    }

    #[test]
    fn whole_words_prefixes_phrases_and_sigils() {
        assert!(!m("flight", "three flights late"));
        assert!(m("flight*", "three flights late"));
        assert!(m("\"acme air\"", "I flew ACME   air."));
        assert!(!m("\"acme air\"", "acme fryer air"));
        assert!(m("@acmeair", "hey @AcmeAir!"));
        assert!(!m("@acmeair", "hey @acmeairhelp"));
        assert!(!m("@acmeair", "acmeair"));
        assert!(m("#fail", "#Fail again"));
        assert!(m("refund*", "no Refunds yet"));
    }

    #[test]
    fn accents_fold_in_text_query_and_decomposed_input() {
        assert!(m("cafe creme", "Café Crème rocks"));
        assert!(m("\"café crème\"", "cafe creme rocks"));
        assert!(m("creme", "Cre\u{0300}me brûlée"));
        assert!(m("#creme", "#Crème"));
    }

    #[test]
    fn near_either_order_within_n_words() {
        let q = "refund NEAR/3 delay*";
        assert!(m(q, "refund for the delayed flight"));
        assert!(m(q, "delays mean a refund"));
        assert!(!m(q, "refund is fine but one two three four delays"));
        assert!(m("\"lost bag\" NEAR/2 acme", "lost bag at acme"));
    }

    #[test]
    fn fields() {
        let q = Query::parse("acme AND lang:en AND NOT source:reddit AND url:acme.example").unwrap();
        let input = |lang, source, url| Input {
            text: "acme is late",
            lang,
            source,
            author: None,
            url,
        };
        assert!(q.matches(&input(Some("en-GB"), Some("x"), Some("https://www.acme.example/a"))));
        assert!(!q.matches(&input(Some("fr"), Some("x"), Some("https://acme.example/"))));
        assert!(!q.matches(&input(Some("en"), Some("reddit"), Some("https://acme.example/"))));
        assert!(!q.matches(&input(Some("en"), Some("x"), Some("https://notacme.example/"))));
        let by = Query::parse("acme AND author:@Bob").unwrap();
        assert!(by.matches(&Input {
            text: "acme",
            author: Some("bob"),
            ..Input::default()
        }));
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        let err = |q: &str| Query::parse(q).unwrap_err().to_string();
        assert_eq!(
            err("acme AND"),
            "column 9: expected a term, a phrase or '(', found the end of the query"
        );
        assert_eq!(
            err("acme OR OR air"),
            "column 9: expected a term, a phrase or '(', found OR"
        );
        assert_eq!(
            err("(acme air"),
            "column 10: expected ')' to close the '(' of column 1, found the end of the query"
        );
        assert_eq!(err("acme) air"), "column 5: a ')' without its '('");
        assert_eq!(err("\"acme air"), "column 1: a phrase without its closing '\"'");
        assert_eq!(
            err("acme NEAR/0 air"),
            "column 6: \"NEAR/0\": NEAR takes a distance from 1 to 100 words, as in NEAR/5"
        );
        assert_eq!(
            err("(a OR b) NEAR/2 c"),
            "column 10: NEAR joins two words or phrases, not groups or fields"
        );
        assert_eq!(
            err("NOT acme"),
            "column 1: the query matches every mention (it needs a term that must appear)"
        );
        assert_eq!(
            err("a*"),
            "column 1: \"a*\": a wildcard needs at least two letters before it"
        );
        assert_eq!(err("ac*me"), "column 1: \"ac*me\": a wildcard `*` may only end a word");
        assert_eq!(err("lang:"), "column 1: lang: needs a value, as in lang:en");
    }

    #[test]
    fn explain_names_the_deciding_clause() {
        let q = Query::parse("(\"acme air\" OR @acmeair) AND NOT fryer").unwrap();
        let input = |text| Input {
            text,
            ..Input::default()
        };
        assert_eq!(
            q.explain(&input("thanks @acmeair")),
            (true, "(\"acme air\" OR @acmeair) AND NOT fryer".into())
        );
        assert_eq!(q.explain(&input("acme air fryer")), (false, "NOT fryer".into()));
        assert_eq!(q.explain(&input("hello")), (false, "\"acme air\" OR @acmeair".into()));
        assert_eq!(
            q.required_words(),
            Some(vec!["acme".to_string(), "@acmeair".to_string()])
        );
        assert_eq!(Query::parse("acme OR lang:fr").unwrap().required_words(), None);
    }

    /// The prefilter's fast path (phrases checked from where their first
    /// word was found) agrees with splitting the text into words.
    #[test]
    fn phrases_checked_in_place_agree_with_the_words() {
        let query = Query::parse("\"acme air fryer\" OR \"shell @station\" OR \"egg* shell\"").unwrap();
        for text in [
            "my ACME  air,fryer broke",
            "acme air-fryer",
            "acme airfryer",
            "acme @air fryer",
            "the shell @station",
            "the shell station",
            "eggs shell",
            "egg shells",
            "acme air",
        ] {
            let hay = haystack(text);
            let words = Words::of(&hay);
            let slow = query.terms.iter().any(|t| words.has(t));
            let found: Vec<Found> = query
                .terms
                .iter()
                .map(|t| Found {
                    first_word: words.iter().any(|w| Words::is(w, &t[0])),
                    ..Found::default()
                })
                .collect();
            let hay_str: &str = &hay;
            let mut starts: Vec<(usize, usize)> = Vec::new();
            for (i, t) in query.terms.iter().enumerate() {
                for &(s, e) in &words.spans {
                    if Words::is(&hay_str[s..e], &t[0]) {
                        starts.push((i, s));
                    }
                }
            }
            let fast = query.matches_found(
                &Input {
                    text,
                    ..Input::default()
                },
                &hay,
                &found,
                &starts,
            );
            assert_eq!(fast, slow, "{text}");
        }
    }

    #[test]
    fn hostile_queries_are_bounded() {
        let deep = format!("{}a{}", "(".repeat(60), ")".repeat(60));
        assert!(Query::parse(&deep).unwrap_err().message.contains("levels of nesting"));
        assert!(Query::parse(&"a ".repeat(6000)).is_err());
    }
}
