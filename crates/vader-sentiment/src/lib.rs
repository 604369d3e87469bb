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
//! Scoring is a pure function of the text: the lexicons are perfect-hash
//! tables built at compile time, nothing is shared or locked, and the cost is
//! linear in the length of the text.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

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
    let text = replace_emoji(text);
    let mut lowered = String::with_capacity(text.len());
    let mut spans = Vec::new();
    for word in text.split(is_py_space).filter(|w| !w.is_empty()) {
        let word = strip_punctuation_if_word(word);
        let start = lowered.len();
        push_py_lower(&mut lowered, word);
        spans.push((word, start, lowered.len()));
    }
    let tokens: Vec<Token> = spans
        .iter()
        .map(|&(original, start, end)| Token::new(original, &lowered[start..end]))
        .collect();
    if tokens.is_empty() {
        return Scores::default();
    }
    let upper_count = tokens.iter().filter(|t| t.is_upper).count();
    let is_cap_diff = upper_count > 0 && upper_count < tokens.len();

    let mut sentiments = Vec::with_capacity(tokens.len());
    for i in 0..tokens.len() {
        let token = &tokens[i];
        let kind_of = token.lower == "kind" && tokens.get(i + 1).is_some_and(|t| t.lower == "of");
        if token.booster.is_some() || kind_of {
            sentiments.push(0.0);
        } else {
            sentiments.push(sentiment_valence(&tokens, i, is_cap_diff));
        }
    }
    if let Some(but) = tokens.iter().position(|t| t.lower == "but") {
        but_check(&mut sentiments, but);
    }
    score_valence(&sentiments, &text)
}

/// One whitespace-separated word, with what the rules ask of it computed once.
struct Token<'a> {
    /// The word, punctuation stripped unless it is an emoticon, lower-cased
    /// in Python's sense.
    lower: &'a str,
    /// Valence when the lower-cased word is in the lexicon.
    valence: Option<f64>,
    /// Scalar when the lower-cased word is a booster or dampener.
    booster: Option<f64>,
    /// Python's `str.isupper()` of the word before lower-casing.
    is_upper: bool,
}

impl<'a> Token<'a> {
    fn new(original: &'a str, lower: &'a str) -> Self {
        Token {
            lower,
            valence: LEXICON.get(lower).copied(),
            booster: booster_scalar(lower),
            is_upper: py_isupper(original),
        }
    }

    fn in_lexicon(&self) -> bool {
        self.valence.is_some()
    }
}

/// The reference replaces each single-code-point emoji by its description,
/// separated by a space from whatever precedes it unless that is a space.
fn replace_emoji(text: &str) -> Cow<'_, str> {
    // Every emoji key is outside ASCII, so most texts need no copy at all.
    if text.is_ascii() || !text.chars().any(|c| EMOJI.contains_key(&c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut prev_space = true;
    for c in text.chars() {
        if let Some(description) = EMOJI.get(&c) {
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
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
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
        "absolutely" | "amazingly" | "awfully" | "completely" | "considerable" | "considerably"
        | "decidedly" | "deeply" | "effing" | "enormous" | "enormously" | "entirely"
        | "especially" | "exceptional" | "exceptionally" | "extreme" | "extremely"
        | "fabulously" | "flipping" | "flippin" | "frackin" | "fracking" | "fricking"
        | "frickin" | "frigging" | "friggin" | "fully" | "fuckin" | "fucking" | "fuggin"
        | "fugging" | "greatly" | "hella" | "highly" | "hugely" | "incredible" | "incredibly"
        | "intensely" | "major" | "majorly" | "more" | "most" | "particularly" | "purely"
        | "quite" | "really" | "remarkably" | "so" | "substantially" | "thoroughly" | "total"
        | "totally" | "tremendous" | "tremendously" | "uber" | "unbelievably" | "unusually"
        | "utter" | "utterly" | "very" => B_INCR,
        "almost" | "barely" | "hardly" | "kinda" | "kindof" | "kind-of" | "less" | "little"
        | "marginal" | "marginally" | "occasional" | "occasionally" | "partly" | "scarce"
        | "scarcely" | "slight" | "slightly" | "somewhat" | "sorta" | "sortof" | "sort-of" => {
            B_DECR
        }
        _ => return None,
    };
    Some(scalar)
}

/// The reference `BOOSTER_DICT` entries of two words.
const BOOSTER_BIGRAMS: [([&str; 2], f64); 3] = [
    (["just", "enough"], B_DECR),
    (["kind", "of"], B_DECR),
    (["sort", "of"], B_DECR),
];

/// The reference `SPECIAL_CASES` that can match: its one-word key "badass" is
/// only ever compared with multi-word sequences, so it never fires there either.
const SPECIAL_CASES: [(&[&str], f64); 8] = [
    (&["the", "shit"], 3.0),
    (&["the", "bomb"], 3.0),
    (&["bad", "ass"], 1.5),
    (&["bus", "stop"], 0.0),
    (&["yeah", "right"], -2.0),
    (&["kiss", "of", "death"], -1.5),
    (&["to", "die", "for"], 3.0),
    (&["beating", "heart"], 3.5),
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

fn sentiment_valence(tokens: &[Token], i: usize, is_cap_diff: bool) -> f64 {
    let token = &tokens[i];
    let Some(lexicon_valence) = token.valence else {
        return 0.0;
    };
    let lower = |k: usize| tokens[k].lower;
    let mut valence = lexicon_valence;
    // "no" before another lexicon word negates it rather than counting itself.
    if token.lower == "no" && tokens.get(i + 1).is_some_and(Token::in_lexicon) {
        valence = 0.0;
    }
    if (i > 0 && lower(i - 1) == "no")
        || (i > 1 && lower(i - 2) == "no")
        || (i > 2 && lower(i - 3) == "no" && matches!(lower(i - 1), "or" | "nor"))
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
            valence = negation_check(valence, tokens, start_i, i);
            if start_i == 2 {
                valence = special_idioms_check(valence, tokens, i);
            }
        }
    }
    least_check(valence, tokens, i)
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

fn negation_check(valence: f64, tokens: &[Token], start_i: usize, i: usize) -> f64 {
    let w = |k: usize| tokens[k].lower;
    match start_i {
        0 if is_negation(w(i - 1)) => valence * N_SCALAR,
        1 => {
            if w(i - 2) == "never" && matches!(w(i - 1), "so" | "this") {
                valence * 1.25
            } else if w(i - 2) == "without" && w(i - 1) == "doubt" {
                valence
            } else if is_negation(w(i - 2)) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            // The reference's `and`/`or` precedence makes a plain "so" or "this"
            // right before the word count as "never so"; kept for parity.
            if (w(i - 3) == "never" && matches!(w(i - 2), "so" | "this"))
                || matches!(w(i - 1), "so" | "this")
            {
                valence * 1.25
            } else if w(i - 3) == "without" && (w(i - 2) == "doubt" || w(i - 1) == "doubt") {
                valence
            } else if is_negation(w(i - 3)) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// Whether the lower-cased words `tokens[from..from + key.len()]` are `key`.
fn words_are(tokens: &[Token], from: usize, key: &[&str]) -> bool {
    tokens.len() >= from + key.len()
        && key
            .iter()
            .enumerate()
            .all(|(k, word)| tokens[from + k].lower == *word)
}

fn special_case(tokens: &[Token], from: usize, len: usize) -> Option<f64> {
    SPECIAL_CASES
        .iter()
        .find(|(key, _)| key.len() == len && words_are(tokens, from, key))
        .map(|&(_, valence)| valence)
}

/// Only reached with `i >= 3`, as in the reference.
fn special_idioms_check(mut valence: f64, tokens: &[Token], i: usize) -> f64 {
    // onezero, twoonezero, twoone, threetwoone, threetwo: the first that matches.
    let sequences = [(i - 1, 2), (i - 2, 3), (i - 2, 2), (i - 3, 3), (i - 3, 2)];
    if let Some(v) = sequences
        .iter()
        .find_map(|&(from, len)| special_case(tokens, from, len))
    {
        valence = v;
    }
    if tokens.len() - 1 > i {
        if let Some(v) = special_case(tokens, i, 2) {
            valence = v;
        }
    }
    if tokens.len() - 1 > i + 1 {
        if let Some(v) = special_case(tokens, i, 3) {
            valence = v;
        }
    }
    // Dampener bigrams ("kind of", "sort of") among the preceding words. The
    // reference also tries the trigram before the word, but no booster has
    // three words, so only threetwo and twoone can match.
    for from in [i - 3, i - 2] {
        for (key, scalar) in &BOOSTER_BIGRAMS {
            if words_are(tokens, from, key) {
                valence += scalar;
            }
        }
    }
    valence
}

fn least_check(valence: f64, tokens: &[Token], i: usize) -> f64 {
    let previous_is_least = i > 0 && !tokens[i - 1].in_lexicon() && tokens[i - 1].lower == "least";
    if !previous_is_least {
        return valence;
    }
    if i > 1 {
        if tokens[i - 2].lower != "at" && tokens[i - 2].lower != "very" {
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
/// The reference is quadratic here; this keeps, for every distinct non-zero
/// value, the set of positions currently holding it, which makes the rule
/// O(n log n). Zeros never change under scaling, so they are skipped.
fn but_check(sentiments: &mut [f64], but: usize) {
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
    fn empty_and_blank_texts_are_neutral() {
        assert_eq!(polarity_scores(""), Scores::default());
        assert_eq!(polarity_scores(" \t\n\u{3000}"), Scores::default());
    }
}
