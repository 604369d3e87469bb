//! Turns the VADER lexicons into static tables at build time, so the scorer
//! has nothing to parse, allocate or lock when it starts:
//!
//! * the word lexicon as an open-addressing hash table (linear probing, load
//!   under one half) keyed by [`table_hash`], shared with the scorer;
//! * the emoji lexicon as a sorted array for binary search.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

include!("src/table_hash.rs");

fn main() {
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=data/vader_lexicon.txt");
    println!("cargo:rerun-if-changed=data/emoji_utf8_lexicon.txt");
    println!("cargo:rerun-if-changed=src/table_hash.rs");

    let mut code = String::new();
    write_lexicon(&mut code);
    write_emoji(&mut code);
    fs::write(Path::new(&out_dir).join("tables.rs"), code).expect("write generated tables");
}

/// `word<TAB>mean<TAB>...` per line. Like the reference `make_lex_dict`, a word
/// listed twice keeps its last value.
fn write_lexicon(code: &mut String) {
    let text = fs::read_to_string("data/vader_lexicon.txt").expect("read vader_lexicon.txt");
    let mut words = BTreeMap::new();
    for line in text.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            continue;
        }
        let mut fields = line.trim().split('\t');
        let word = fields.next().expect("lexicon word");
        let mean: f64 = fields
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("lexicon line without a valence: {line:?}"));
        words.insert(word.to_string(), mean);
    }
    let size = (words.len() * 2).next_power_of_two();
    let mask = size - 1;
    let mut slots: Vec<Option<(&str, f64)>> = vec![None; size];
    for (word, mean) in &words {
        let mut i = table_hash(word.as_bytes()) as usize & mask;
        while slots[i].is_some() {
            i = (i + 1) & mask;
        }
        slots[i] = Some((word.as_str(), *mean));
    }
    writeln!(code, "/// The VADER lexicon as a hash table: see `build.rs`.").unwrap();
    writeln!(code, "const LEXICON_MASK: usize = {mask};").unwrap();
    writeln!(code, "static LEXICON_SLOTS: [(&str, f64); {size}] = [").unwrap();
    for slot in &slots {
        match slot {
            // An empty key marks a free slot: no lexicon word is empty.
            None => writeln!(code, "    (\"\", 0.0),").unwrap(),
            Some((word, mean)) => writeln!(code, "    ({word:?}, {mean:?}),").unwrap(),
        }
    }
    writeln!(code, "];").unwrap();
}

/// `emoji<TAB>description` per line. The reference looks emoji up one code
/// point at a time, so multi-code-point keys can never match and are left out.
fn write_emoji(code: &mut String) {
    let text = fs::read_to_string("data/emoji_utf8_lexicon.txt").expect("read emoji lexicon");
    let mut emoji = BTreeMap::new();
    for line in text.trim_end_matches('\n').split('\n') {
        let mut fields = line.trim().split('\t');
        let key = fields.next().expect("emoji key");
        let description = fields
            .next()
            .unwrap_or_else(|| panic!("emoji line without description: {line:?}"));
        let mut chars = key.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            emoji.insert(c, description.to_string());
        }
    }
    let first = emoji.keys().next().copied().unwrap_or('\0');
    writeln!(code, "/// The lowest code point with an emoji description.").unwrap();
    writeln!(code, "const FIRST_EMOJI: char = {first:?};").unwrap();
    writeln!(code, "/// Single-code-point emoji and their descriptions, sorted.").unwrap();
    writeln!(code, "static EMOJI: [(char, &str); {}] = [", emoji.len()).unwrap();
    for (c, description) in &emoji {
        writeln!(code, "    ({c:?}, {description:?}),").unwrap();
    }
    writeln!(code, "];").unwrap();
}
