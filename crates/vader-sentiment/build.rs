//! Turns the VADER lexicons into perfect-hash tables at build time, so the
//! scorer has nothing to parse or allocate when it starts.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=data/vader_lexicon.txt");
    println!("cargo:rerun-if-changed=data/emoji_utf8_lexicon.txt");

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
    let mut map = phf_codegen::Map::new();
    for (word, mean) in &words {
        map.entry(word.as_str(), &format!("{mean:?}"));
    }
    writeln!(
        code,
        "/// The VADER lexicon: word (as written in the file) to mean valence.\n\
         static LEXICON: phf::Map<&'static str, f64> = {};",
        map.build()
    )
    .expect("format lexicon");
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
    let mut map = phf_codegen::Map::new();
    for (c, description) in &emoji {
        map.entry(*c, &format!("{description:?}"));
    }
    writeln!(
        code,
        "/// Single-code-point emoji to their textual description.\n\
         static EMOJI: phf::Map<char, &'static str> = {};",
        map.build()
    )
    .expect("format emoji table");
}
