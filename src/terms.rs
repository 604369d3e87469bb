//! Words worth counting in what people write: the tokenizer behind the
//! digest's "what people complain about" and each alert's explanation.
//! Stop words, links, handles and the brand's own words are left out.

use std::collections::{HashMap, HashSet};

use crate::brand::BrandConfig;

/// Common English function words, social-media filler and words that carry
/// no complaint on their own.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyone",
    "are",
    "as",
    "at",
    "back",
    "be",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "done",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "know",
    "like",
    "lol",
    "me",
    "more",
    "most",
    "my",
    "no",
    "not",
    "now",
    "of",
    "off",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "please",
    "really",
    "right",
    "same",
    "she",
    "should",
    "so",
    "some",
    "still",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "today",
    "too",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yet",
    "every",
    "single",
    "thanks",
    "nothing",
    "never",
    "ever",
    "even",
    "been",
    "seriously",
    "anymore",
    "day",
    "time",
    "https",
    "http",
    "www",
    "com",
];

pub struct Tokenizer {
    stop: HashSet<String>,
}

impl Tokenizer {
    /// Leaves out the brand's own name, keywords, handles and hashtags.
    pub fn for_brand(brand: &BrandConfig) -> Self {
        let terms = brand
            .keywords
            .iter()
            .chain(&brand.handles)
            .chain(&brand.hashtags)
            .chain(std::iter::once(&brand.name));
        Tokenizer::without(terms.map(String::as_str))
    }

    /// Leaves out the words of `terms` (and each term written as one word,
    /// as in a hashtag) besides the stop words.
    pub fn without<'a>(terms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut stop: HashSet<String> = STOP_WORDS.iter().map(|w| w.to_string()).collect();
        for term in terms {
            let lower = term.to_lowercase();
            let joined: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
            for word in lower
                .split(|c: char| !c.is_alphanumeric())
                .chain(std::iter::once(joined.as_str()))
            {
                if !word.is_empty() {
                    stop.insert(word.to_string());
                }
            }
        }
        Tokenizer { stop }
    }

    /// Words worth counting in `text`, in order; `None` marks where a removed
    /// word was, so phrases never span one.
    pub fn words(&self, text: &str) -> Vec<Option<String>> {
        text.split_whitespace()
            .map(|raw| {
                if raw.contains('@') || raw.contains("://") {
                    return None;
                }
                let word: String = raw
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .chars()
                    .flat_map(char::to_lowercase)
                    .collect();
                let plain = word.chars().all(|c| c.is_alphabetic() || c == '\'');
                (word.chars().count() >= 3 && plain && !self.stop.contains(&word)).then_some(word)
            })
            .collect()
    }

    pub fn count(&self, text: &str, words: &mut HashMap<String, u64>, phrases: &mut HashMap<String, u64>) {
        let tokens = self.words(text);
        for w in tokens.iter().flatten() {
            *words.entry(w.clone()).or_default() += 1;
        }
        for pair in tokens.windows(2) {
            if let [Some(a), Some(b)] = pair {
                *phrases.entry(format!("{a} {b}")).or_default() += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brand_words_stop_words_handles_and_links_are_left_out() {
        let brand = BrandConfig {
            name: "Acme Air".into(),
            keywords: vec!["acme air".into()],
            handles: vec!["@acmeair".into()],
            hashtags: vec!["#acmeair".into()],
            exclude: vec![],
            query: None,
            ..Default::default()
        };
        let t = Tokenizer::for_brand(&brand);
        let words: Vec<String> = t
            .words("@acmeair Acme Air LOST my luggage again!!! https://t.co/x #acmeair lost luggage")
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(words, ["lost", "luggage", "lost", "luggage"]);
        let (mut w, mut p) = (HashMap::new(), HashMap::new());
        t.count("lost luggage, lost luggage", &mut w, &mut p);
        assert_eq!(p.get("lost luggage"), Some(&2));
        assert_eq!(p.get("luggage lost"), Some(&1));
    }
}
