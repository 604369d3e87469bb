//! Parity with the reference `vaderSentiment` 3.3.2: every text in
//! `tests/data/reference.tsv` (written by `tools/make_reference.py`) must score
//! within 1e-3 of the reference in all four numbers.

const TOLERANCE: f64 = 1e-3;

#[test]
fn every_reference_text_scores_as_the_reference_does() {
    let data = include_str!("data/reference.tsv");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (n, line) in data.lines().enumerate().filter(|(_, l)| !l.starts_with('#')) {
        let fields: Vec<&str> = line.splitn(5, '\t').collect();
        let [compound, pos, neu, neg, text] = fields[..] else {
            panic!("reference.tsv line {}: expected 5 fields", n + 1);
        };
        let text: String = serde_json_lite(text);
        let expected = [compound, pos, neu, neg].map(|f| f.parse::<f64>().expect("number"));
        let got = vader_sentiment::polarity_scores(&text);
        let got = [got.compound, got.pos, got.neu, got.neg];
        if expected.iter().zip(got).any(|(e, g)| (e - g).abs() > TOLERANCE) {
            failures.push(format!("line {}: {text:?}: expected {expected:?}, got {got:?}", n + 1));
        }
        checked += 1;
    }
    assert!(checked > 4000, "only {checked} reference lines read");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Decodes the JSON string literal the generator writes (json.dumps with
/// ensure_ascii=False): only the escapes Python emits need handling.
fn serde_json_lite(literal: &str) -> String {
    let inner = literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .expect("JSON string literal");
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next().expect("escape") {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = u32::from_str_radix(&hex, 16).expect("hex escape");
                out.push(char::from_u32(unit).expect("no surrogates are written"));
            }
            other => out.push(other),
        }
    }
    out
}
