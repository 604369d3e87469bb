//! VADER (Valence Aware Dictionary and sEntiment Reasoner) sentiment scores
//! that match the reference Python package `vaderSentiment` 3.3.2.
//!
//! A fork of the `vader_sentiment` 0.1.1 crate (MIT, by Chris Wong and Mariana
//! Meireles), itself a port of C.J. Hutto's Python original (MIT). The rules
//! here follow the reference line by line, quirks included, because users
//! compare our numbers with theirs; see the crate README for every place where
//! this fork differs from 0.1.1 and why.
//!
//! ```
//! let s = vader_sentiment::polarity_scores("The book was good.");
//! assert_eq!(s.compound, 0.4404);
//! ```
//!
//! Scoring is a pure function of the text: the lexicons are static tables
//! laid out at compile time, nothing is shared or locked, and the cost is
//! linear in the length of the text.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

include!(concat!(env!("OUT_DIR"), "/tables.rs"));
mod table_hash;
use table_hash::table_hash;

/// Valence of `word` in the lexicon (keys as written in the lexicon file).
fn lexicon_valence(word: &str) -> Option<f64> {
    let mut i = table_hash(word.as_bytes()) as usize & LEXICON_MASK;
    loop {
        let (key, valence) = LEXICON_SLOTS[i];
        if key.is_empty() {
            return None;
        }
        if key == word {
            return Some(valence);
        }
        i = (i + 1) & LEXICON_MASK;
    }
}

/// Description of a single-code-point emoji.
fn emoji_description(c: char) -> Option<&'static str> {
    if c < FIRST_EMOJI {
        return None;
    }
    EMOJI.binary_search_by_key(&c, |&(e, _)| e).ok().map(|i| EMOJI[i].1)
}

/// Empirically derived increment for booster words ("very", "extremely").
const B_INCR: f64 = 0.293;
/// Empirically derived decrement for dampener words ("kind of", "barely").
const B_DECR: f64 = -0.293;
/// Increment for a word in ALL CAPS among words that are not.
const C_INCR: f64 = 0.733;
/// Factor applied to a negated word's valence.
const N_SCALAR: f64 = -0.74;

/// The four VADER scores, rounded as the reference rounds them
/// (`compound` to 4 places, the proportions to 3).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores {
    /// Normalised sum of valences, in [-1, 1].
    pub compound: f64,
    /// Share of the text that is positive.
    pub pos: f64,
    /// Share of the text that is neutral.
    pub neu: f64,
    /// Share of the text that is negative.
    pub neg: f64,
}

/// Scores `text` exactly as `SentimentIntensityAnalyzer().polarity_scores(text)`
/// does in `vaderSentiment` 3.3.2.
pub fn polarity_scores(text: &str) -> Scores {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => score_with(text, &mut scratch),
        // Only reachable if scoring re-entered itself; stay correct anyway.
        Err(_) => score_with(text, &mut Scratch::default()),
    })
}

/// Buffers reused from one call to the next on the same thread, so scoring
/// a typical text allocates nothing.
#[derive(Default)]
struct Scratch {
    /// The current word, punctuation stripped unless it is an emoticon and
    /// lower-cased in Python's sense.
    lowered: String,
    tokens: Vec<Token>,
    sentiments: Vec<f64>,
}

/// Scratch buffers grown past this by a huge text are released afterwards.
const SCRATCH_KEEP_BYTES: usize = 64 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

fn score_with(text: &str, scratch: &mut Scratch) -> Scores {
    let text = replace_emoji(text);
    let Scratch {
        lowered,
        tokens,
        sentiments,
    } = scratch;
    lowered.clear();
    tokens.clear();
    sentiments.clear();
    for word in PySplit::new(&text) {
        let word = strip_punctuation_if_word(word);
        lowered.clear();
        push_py_lower(lowered, word);
        let lower = lowered.as_str();
        tokens.push(Token {
            word: Word::of(lower),
            negation: is_negation(lower),
            valence: lexicon_valence(lower),
            booster: booster_scalar(lower),
            is_upper: py_isupper(word),
        });
    }
    let words = Words { tokens };
    let scores = score_words(&words, sentiments, &text);
    if tokens.capacity() * std::mem::size_of::<Token>() > SCRATCH_KEEP_BYTES {
        *scratch = Scratch::default();
    }
    scores
}

fn score_words(words: &Words, sentiments: &mut Vec<f64>, text: &str) -> Scores {
    let tokens = words.tokens;
    if tokens.is_empty() {
        return Scores::default();
    }
    let upper_count = tokens.iter().filter(|t| t.is_upper).count();
    let is_cap_diff = upper_count > 0 && upper_count < tokens.len();

    for (i, token) in tokens.iter().enumerate() {
        let kind_of = token.word == Word::Kind && tokens.get(i + 1).is_some_and(|t| t.word == Word::Of);
        if token.booster.is_some() || kind_of {
            sentiments.push(0.0);
        } else {
            sentiments.push(sentiment_valence(words, i, is_cap_diff));
        }
    }
    if let Some(but) = tokens.iter().position(|t| t.word == Word::But) {
        but_check(sentiments, but);
    }
    score_valence(sentiments, text)
}

/// The words the rules look for by name, recognised once per token so that
/// the rules compare one byte instead of strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Other,
    No,
    Never,
    So,
    This,
    Without,
    Doubt,
    Least,
    At,
    Very,
    Kind,
    Of,
    But,
    Or,
    Nor,
    The,
    Shit,
    Bomb,
    Bad,
    Ass,
    Bus,
    Stop,
    Yeah,
    Right,
    Kiss,
    Death,
    To,
    Die,
    For,
    Beating,
    Heart,
    Just,
    Enough,
    Sort,
}

impl Word {
    fn of(lower: &str) -> Word {
        match lower {
            "no" => Word::No,
            "never" => Word::Never,
            "so" => Word::So,
            "this" => Word::This,
            "without" => Word::Without,
            "doubt" => Word::Doubt,
            "least" => Word::Least,
            "at" => Word::At,
            "very" => Word::Very,
            "kind" => Word::Kind,
            "of" => Word::Of,
            "but" => Word::But,
            "or" => Word::Or,
            "nor" => Word::Nor,
            "the" => Word::The,
            "shit" => Word::Shit,
            "bomb" => Word::Bomb,
            "bad" => Word::Bad,
            "ass" => Word::Ass,
            "bus" => Word::Bus,
            "stop" => Word::Stop,
            "yeah" => Word::Yeah,
            "right" => Word::Right,
            "kiss" => Word::Kiss,
            "death" => Word::Death,
            "to" => Word::To,
            "die" => Word::Die,
            "for" => Word::For,
            "beating" => Word::Beating,
            "heart" => Word::Heart,
            "just" => Word::Just,
            "enough" => Word::Enough,
            "sort" => Word::Sort,
            _ => Word::Other,
        }
    }
}

/// One whitespace-separated word, with what the rules ask of it computed once.
struct Token {
    /// Which of the words the rules name it is, if any.
    word: Word,
    /// Whether it negates (the reference `negated([word])`).
    negation: bool,
    /// Valence when the lower-cased word is in the lexicon.
    valence: Option<f64>,
    /// Scalar when the lower-cased word is a booster or dampener.
    booster: Option<f64>,
    /// Python's `str.isupper()` of the word before lower-casing.
    is_upper: bool,
}

impl Token {
    fn in_lexicon(&self) -> bool {
        self.valence.is_some()
    }
}

/// The words of one text.
struct Words<'a> {
    tokens: &'a [Token],
}

impl Words<'_> {
    /// Which named word is at position `k`.
    fn word(&self, k: usize) -> Word {
        self.tokens[k].word
    }
}

/// Splits like Python's `str.split()`: on runs of whitespace, with no empty
/// words. ASCII bytes are tested directly; only the lead bytes of the few
/// non-ASCII whitespace characters need a character decoded.
struct PySplit<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> PySplit<'a> {
    fn new(text: &'a str) -> Self {
        PySplit { text, at: 0 }
    }

    /// `Some(len)` of the whitespace character at byte `at`, `None` if the
    /// character there is not whitespace (`at` is on a character boundary).
    #[inline]
    fn space_at(&self, at: usize) -> Option<usize> {
        let b = self.text.as_bytes()[at];
        match b {
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f | b' ' => Some(1),
            0x00..=0x7f => None,
            // U+0085, U+00A0, U+1680, U+2000..U+205F, U+3000 start with these.
            0xc2 | 0xe1 | 0xe2 | 0xe3 => {
                let c = self.text[at..].chars().next()?;
                is_py_space(c).then(|| c.len_utf8())
            }
            _ => None,
        }
    }

    /// Length of the character whose first byte is at `at`.
    #[inline]
    fn char_len_at(&self, at: usize) -> usize {
        match self.text.as_bytes()[at] {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        }
    }
}

impl<'a> Iterator for PySplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let len = self.text.len();
        while self.at < len {
            match self.space_at(self.at) {
                Some(n) => self.at += n,
                None => break,
            }
        }
        if self.at >= len {
            return None;
        }
        let start = self.at;
        while self.at < len && self.space_at(self.at).is_none() {
            self.at += self.char_len_at(self.at);
        }
        Some(&self.text[start..self.at])
    }
}

/// The reference replaces each single-code-point emoji by its description,
/// separated by a space from whatever precedes it unless that is a space.
fn replace_emoji(text: &str) -> Cow<'_, str> {
    // Every emoji key is outside ASCII, so most texts need no copy at all.
    if text.is_ascii() || !text.chars().any(|c| emoji_description(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut prev_space = true;
    for c in text.chars() {
        if let Some(description) = emoji_description(c) {
            if !prev_space {
                out.push(' ');
            }
            out.push_str(description);
            prev_space = false;
        } else {
            out.push(c);
            prev_space = c == ' ';
        }
    }
    Cow::Owned(out)
}

/// Python's `str.isspace()` for one character: Unicode White_Space plus the
/// four ASCII information separators, which Python also splits on.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `token.strip(string.punctuation)`, keeping the token whole when fewer than
/// three characters would remain (it was most likely an emoticon such as `:)`).
fn strip_punctuation_if_word(token: &str) -> &str {
    // All of `string.punctuation` is ASCII, so bytes can be trimmed directly.
    let bytes = token.as_bytes();
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_punctuation())
        .unwrap_or(bytes.len());
    let last = bytes
        .iter()
        .rposition(|b| !b.is_ascii_punctuation())
        .map_or(first, |i| i + 1);
    let stripped = &token[first..last.max(first)];
    if stripped.chars().nth(2).is_none() {
        token
    } else {
        stripped
    }
}

/// Appends Python's `str.lower()` of `word`: full Unicode case mapping,
/// including the final-sigma rule, which Rust's `to_lowercase` shares.
fn push_py_lower(out: &mut String, word: &str) {
    if word.is_ascii() {
        out.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.push_str(&word.to_lowercase());
    }
}

/// Python's `str.isupper()`: no lower- or title-case character and at least
/// one upper-case one.
fn py_isupper(word: &str) -> bool {
    if word.is_ascii() {
        let bytes = word.as_bytes();
        return !bytes.iter().any(u8::is_ascii_lowercase) && bytes.iter().any(u8::is_ascii_uppercase);
    }
    let mut cased = false;
    for c in word.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// The 31 characters of Unicode category Lt, which Python treats as cased
/// but neither upper nor lower.
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}'
        | '\u{1f88}'..='\u{1f8f}'
        | '\u{1f98}'..='\u{1f9f}'
        | '\u{1fa8}'..='\u{1faf}'
        | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}')
}

/// The reference `BOOSTER_DICT`, single-word entries (the two-word ones are
/// matched as n-grams in [`special_idioms_check`]).
fn booster_scalar(word: &str) -> Option<f64> {
    let scalar = match word {
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably" | "decidedly"
        | "deeply" | "effing" | "enormous" | "enormously" | "entirely" | "especially" | "exceptional"
        | "exceptionally" | "extreme" | "extremely" | "fabulously" | "flipping" | "flippin" | "frackin"
        | "fracking" | "fricking" | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly" | "intensely"
        | "major" | "majorly" | "more" | "most" | "particularly" | "purely" | "quite" | "really" | "remarkably"
        | "so" | "substantially" | "thoroughly" | "total" | "totally" | "tremendous" | "tremendously" | "uber"
        | "unbelievably" | "unusually" | "utter" | "utterly" | "very" => B_INCR,
        "almost" | "barely" | "hardly" | "kinda" | "kindof" | "kind-of" | "less" | "little" | "marginal"
        | "marginally" | "occasional" | "occasionally" | "partly" | "scarce" | "scarcely" | "slight" | "slightly"
        | "somewhat" | "sorta" | "sortof" | "sort-of" => B_DECR,
        _ => return None,
    };
    Some(scalar)
}

/// The reference `BOOSTER_DICT` entries of two words.
const BOOSTER_BIGRAMS: [([Word; 2], f64); 3] = [
    ([Word::Just, Word::Enough], B_DECR),
    ([Word::Kind, Word::Of], B_DECR),
    ([Word::Sort, Word::Of], B_DECR),
];

/// The reference `SPECIAL_CASES` that can match: its one-word key "badass" is
/// only ever compared with multi-word sequences, so it never fires there either.
const SPECIAL_CASES: [(&[Word], f64); 8] = [
    (&[Word::The, Word::Shit], 3.0),
    (&[Word::The, Word::Bomb], 3.0),
    (&[Word::Bad, Word::Ass], 1.5),
    (&[Word::Bus, Word::Stop], 0.0),
    (&[Word::Yeah, Word::Right], -2.0),
    (&[Word::Kiss, Word::Of, Word::Death], -1.5),
    (&[Word::To, Word::Die, Word::For], 3.0),
    (&[Word::Beating, Word::Heart], 3.5),
];

/// The reference `NEGATE` list plus its rule that any word containing "n't"
/// negates.
fn is_negation(word: &str) -> bool {
    matches!(
        word,
        "aint"
            | "arent"
            | "cannot"
            | "cant"
            | "couldnt"
            | "darent"
            | "didnt"
            | "doesnt"
            | "ain't"
            | "aren't"
            | "can't"
            | "couldn't"
            | "daren't"
            | "didn't"
            | "doesn't"
            | "dont"
            | "hadnt"
            | "hasnt"
            | "havent"
            | "isnt"
            | "mightnt"
            | "mustnt"
            | "neither"
            | "don't"
            | "hadn't"
            | "hasn't"
            | "haven't"
            | "isn't"
            | "mightn't"
            | "mustn't"
            | "neednt"
            | "needn't"
            | "never"
            | "none"
            | "nope"
            | "nor"
            | "not"
            | "nothing"
            | "nowhere"
            | "oughtnt"
            | "shant"
            | "shouldnt"
            | "uhuh"
            | "wasnt"
            | "werent"
            | "oughtn't"
            | "shan't"
            | "shouldn't"
            | "uh-uh"
            | "wasn't"
            | "weren't"
            | "without"
            | "wont"
            | "wouldnt"
            | "won't"
            | "wouldn't"
            | "rarely"
            | "seldom"
            | "despite"
    ) || word.contains("n't")
}

fn sentiment_valence(words: &Words, i: usize, is_cap_diff: bool) -> f64 {
    let tokens = words.tokens;
    let token = &tokens[i];
    let Some(lexicon_valence) = token.valence else {
        return 0.0;
    };
    let w = |k: usize| words.word(k);
    let mut valence = lexicon_valence;
    // "no" before another lexicon word negates it rather than counting itself.
    if token.word == Word::No && tokens.get(i + 1).is_some_and(Token::in_lexicon) {
        valence = 0.0;
    }
    if (i > 0 && w(i - 1) == Word::No)
        || (i > 1 && w(i - 2) == Word::No)
        || (i > 2 && w(i - 3) == Word::No && matches!(w(i - 1), Word::Or | Word::Nor))
    {
        valence = lexicon_valence * N_SCALAR;
    }
    if token.is_upper && is_cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }
    for start_i in 0..3 {
        if i > start_i && !tokens[i - (start_i + 1)].in_lexicon() {
            let mut scalar = scalar_inc_dec(&tokens[i - (start_i + 1)], valence, is_cap_diff);
            if start_i == 1 && scalar != 0.0 {
                scalar *= 0.95;
            }
            if start_i == 2 && scalar != 0.0 {
                scalar *= 0.9;
            }
            valence += scalar;
            valence = negation_check(valence, words, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, words, i);
            }
        }
    }
    least_check(valence, words, i)
}

fn scalar_inc_dec(word: &Token, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(mut scalar) = word.booster else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar *= -1.0;
    }
    if word.is_upper && is_cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

fn negation_check(valence: f64, words: &Words, start_i: usize, i: usize) -> f64 {
    let w = |k: usize| words.word(k);
    let negates = |k: usize| words.tokens[k].negation;
    let so_or_this = |k: usize| matches!(w(k), Word::So | Word::This);
    match start_i {
        0 if negates(i - 1) => valence * N_SCALAR,
        1 => {
            if w(i - 2) == Word::Never && so_or_this(i - 1) {
                valence * 1.25
            } else if w(i - 2) == Word::Without && w(i - 1) == Word::Doubt {
                valence
            } else if negates(i - 2) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            // The reference's `and`/`or` precedence makes a plain "so" or "this"
            // right before the word count as "never so"; kept for parity.
            if (w(i - 3) == Word::Never && so_or_this(i - 2)) || so_or_this(i - 1) {
                valence * 1.25
            } else if w(i - 3) == Word::Without && (w(i - 2) == Word::Doubt || w(i - 1) == Word::Doubt) {
                valence
            } else if negates(i - 3) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// Whether the words at `from..from + key.len()` are `key`.
fn words_are(words: &Words, from: usize, key: &[Word]) -> bool {
    words
        .tokens
        .get(from..from + key.len())
        .is_some_and(|run| run.iter().zip(key).all(|(t, k)| t.word == *k))
}

fn special_case(words: &Words, from: usize, len: usize) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(key, _)| key.len() == len && words_are(words, from, key))
        .map(|&(_, valence)| valence)
}

/// Only reached with `i >= 3`, as in the reference.
fn special_idioms_check(mut valence: f64, words: &Words, i: usize) -> f64 {
    let tokens = words.tokens;
    // onezero, twoonezero, twoone, threetwoone, threetwo: the first that matches.
    let sequences = [(i - 1, 2), (i - 2, 3), (i - 2, 2), (i - 3, 3), (i - 3, 2)];
    if let Some(v) = sequences.iter().find_map(|&(from, len)| special_case(words, from, len)) {
        valence = v;
    }
    if tokens.len() - 1 > i {
        if let Some(v) = special_case(words, i, 2) {
            valence = v;
        }
    }
    if tokens.len() - 1 > i + 1 {
        if let Some(v) = special_case(words, i, 3) {
            valence = v;
        }
    }
    // Dampener bigrams ("kind of", "sort of") among the preceding words. The
    // reference also tries the trigram before the word, but no booster has
    // three words, so only threetwo and twoone can match.
    for from in [i - 3, i - 2] {
        for (key, scalar) in &BOOSTER_BIGRAMS {
            if words_are(words, from, key) {
                valence += scalar;
            }
        }
    }
    valence
}

fn least_check(valence: f64, words: &Words, i: usize) -> f64 {
    let previous_is_least = i > 0 && !words.tokens[i - 1].in_lexicon() && words.word(i - 1) == Word::Least;
    if !previous_is_least {
        return valence;
    }
    if i > 1 {
        if !matches!(words.word(i - 2), Word::At | Word::Very) {
            return valence * N_SCALAR;
        }
        return valence;
    }
    valence * N_SCALAR
}

/// The reference's contrastive-"but" rule, with its quirk reproduced: each
/// score is located again with `list.index`, so a value equal to an earlier
/// one rescales that earlier position instead of its own.
///
/// Zeros never change under scaling, so only non-zero scores take part.
fn but_check(sentiments: &mut [f64], but: usize) {
    const FEW: usize = 32;
    if sentiments.iter().filter(|&&v| v != 0.0).count() <= FEW {
        but_check_few(sentiments, but);
    } else {
        but_check_many(sentiments, but);
    }
}

/// The rule as the reference runs it, for texts with few scored words.
fn but_check_few(sentiments: &mut [f64], but: usize) {
    for k in 0..sentiments.len() {
        let v = sentiments[k];
        if v == 0.0 {
            continue;
        }
        let Some(first) = sentiments.iter().position(|&x| x == v) else {
            continue;
        };
        match first.cmp(&but) {
            std::cmp::Ordering::Less => sentiments[first] = v * 0.5,
            std::cmp::Ordering::Greater => sentiments[first] = v * 1.5,
            std::cmp::Ordering::Equal => {}
        }
    }
}

/// The same rule in O(n log n) for long texts, where the reference is
/// quadratic: for every distinct non-zero value, the set of positions
/// currently holding it.
fn but_check_many(sentiments: &mut [f64], but: usize) {
    let key = |v: f64| (v + 0.0).to_bits(); // folds -0.0 into 0.0, as `==` does
    let mut positions: HashMap<u64, BTreeSet<usize>> = HashMap::new();
    for (k, &v) in sentiments.iter().enumerate() {
        if v != 0.0 {
            positions.entry(key(v)).or_default().insert(k);
        }
    }
    for k in 0..sentiments.len() {
        let v = sentiments[k];
        if v == 0.0 {
            continue;
        }
        let Some(first) = positions.get(&key(v)).and_then(|set| set.first().copied()) else {
            continue;
        };
        let scaled = match first.cmp(&but) {
            std::cmp::Ordering::Less => v * 0.5,
            std::cmp::Ordering::Greater => v * 1.5,
            std::cmp::Ordering::Equal => continue,
        };
        if let Some(set) = positions.get_mut(&key(v)) {
            set.remove(&first);
        }
        positions.entry(key(scaled)).or_default().insert(first);
        sentiments[first] = scaled;
    }
}

fn score_valence(sentiments: &[f64], text: &str) -> Scores {
    let punct_emph_amplifier = punctuation_emphasis(text);
    let mut sum_s: f64 = sentiments.iter().sum();
    if sum_s > 0.0 {
        sum_s += punct_emph_amplifier;
    } else if sum_s < 0.0 {
        sum_s -= punct_emph_amplifier;
    }
    let compound = normalize(sum_s);

    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct_emph_amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct_emph_amplifier;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu_count);
    Scores {
        compound: py_round(compound, 4),
        pos: py_round((pos_sum / total).abs(), 3),
        neu: py_round((f64::from(neu_count) / total).abs(), 3),
        neg: py_round((neg_sum / total).abs(), 3),
    }
}

/// Up to four "!" add 0.292 each; two or three "?" add 0.18 each, more add 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut exclamations, mut questions) = (0u32, 0u32);
    for b in text.bytes() {
        exclamations += u32::from(b == b'!');
        questions += u32::from(b == b'?');
    }
    let ep = f64::from(exclamations.min(4)) * 0.292;
    let qm = match questions {
        0 | 1 => 0.0,
        2 | 3 => f64::from(questions) * 0.18,
        _ => 0.96,
    };
    ep + qm
}

fn normalize(score: f64) -> f64 {
    const ALPHA: f64 = 15.0;
    (score / (score * score + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// Python's `round(x, digits)`: the decimal nearest to the exact binary value,
/// ties to even. The fast path is exact whenever `x * 10^digits` is not
/// within rounding error of a half; the rest go through exact formatting.
fn py_round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let scaled = x * scale;
    if (scaled.fract().abs() - 0.5).abs() > 1e-6 {
        return scaled.round() / scale;
    }
    format!("{:.*}", digits as usize, x).parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_examples() {
        // From the reference module's own demo, scores as printed by 3.3.2.
        let cases = [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is very smart, handsome, and funny.", 0.8545),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("At least it isn't a horrible book.", 0.431),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
            ("Make sure you :) or :D today!", 0.8633),
            ("Not bad at all", 0.431),
        ];
        for (text, compound) in cases {
            assert_eq!(polarity_scores(text).compound, compound, "{text}");
        }
    }

    #[test]
    fn python_rounding() {
        assert_eq!(py_round(0.125, 2), 0.12);
        assert_eq!(py_round(0.375, 2), 0.38);
        assert_eq!(py_round(2.675, 2), 2.67); // 2.675 is stored just below the half
        assert_eq!(py_round(-0.00005, 4), -0.0001);
        assert_eq!(py_round(0.83159, 4), 0.8316);
    }

    #[test]
    fn python_string_predicates() {
        assert!(py_isupper("GREAT!"));
        assert!(!py_isupper(":)"));
        assert!(!py_isupper("..."));
        assert!(!py_isupper("Dž"));
        assert!(is_py_space('\u{1f}'));
        assert_eq!(strip_punctuation_if_word(":)"), ":)");
        assert_eq!(strip_punctuation_if_word("(ok)"), "(ok)");
        assert_eq!(strip_punctuation_if_word("'great!'"), "great");
    }

    #[test]
    fn both_but_rules_agree() {
        // Values repeat on purpose: that is where `list.index` bites.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..2000 {
            let len = 1 + round % 90;
            let values = [0.0, 1.5, -1.5, 0.75, 3.0, -2.0, 2.25, -0.0];
            let scores: Vec<f64> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    values[(state % values.len() as u64) as usize]
                })
                .collect();
            let but = (state as usize / 7) % len;
            let (mut few, mut many) = (scores.clone(), scores.clone());
            but_check_few(&mut few, but);
            but_check_many(&mut many, but);
            assert_eq!(few, many, "{scores:?} but at {but}");
        }
    }

    #[test]
    fn long_texts_score_in_linear_time_without_panicking() {
        let unit = "good but bad, NOT great!!! 😡 no problem at least ";
        let text = unit.repeat(1_000_000 / unit.len());
        let s = polarity_scores(&text);
        assert!(s.compound >= -1.0 && s.compound <= 1.0);
        for odd in [
            "\u{200d}\u{200d}",
            "👨‍👩‍👧‍👦",
            "\u{202e}abc\u{202c}",
            "\0\u{1}\u{7f}",
            "\u{85}\u{a0}",
        ] {
            let _ = polarity_scores(odd);
        }
    }

    #[test]
    fn empty_and_blank_texts_are_neutral() {
        assert_eq!(polarity_scores(""), Scores::default());
        assert_eq!(polarity_scores(" \t\n\u{3000}"), Scores::default());
    }
}
