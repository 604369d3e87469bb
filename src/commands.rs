//! Small CLI commands around the store and the scorer, kept out of
//! `main.rs` so they are testable and `main` only parses arguments.

use std::io::{BufRead, Write};

use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::parse_duration;
use serde_json::json;

use crate::enrich::sentiment::{self, Label};
use crate::export::export_line;
use crate::store::StoredMention;

/// Parses a `--since` value: a duration back from `now` (`90m`, `24h`,
/// `7d`, `2w`), an RFC 3339 time, or a date (midnight UTC).
pub fn parse_since(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    let span = parse_duration(value).map_err(|_| {
        format!("{value:?} is not a time: use a duration like 24h, 7d, 90m, 2w, a date, or an RFC 3339 time")
    })?;
    now.checked_sub_signed(span)
        .ok_or_else(|| format!("{value:?} reaches back before the earliest representable time"))
}

/// Prints mentions newest first, as a table or as JSON lines.
pub fn print_mentions(mentions: &[StoredMention], as_json: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if as_json {
        for stored in mentions {
            let mut line = export_line(stored);
            line["db_id"] = json!(stored.id);
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{:<20}  {:<10}  {:<8}  {:>7}  {:>9}  {:<18}  text",
        "time (UTC)", "source", "label", "score", "reach", "author"
    )?;
    for stored in mentions {
        let s = &stored.scored;
        let m = &s.mention;
        writeln!(
            out,
            "{:<20}  {:<10}  {:<8}  {:>7.4}  {:>9}  {:<18}  {}",
            m.created_at.format("%Y-%m-%d %H:%M:%S"),
            crate::mention::snippet(&m.source, 10),
            s.label.as_str(),
            s.sentiment.compound,
            s.reach.people,
            crate::mention::snippet(m.author.handle.as_deref().unwrap_or("-"), 18),
            one_line(&crate::mention::snippet(&m.text, 100)),
        )?;
    }
    Ok(())
}

/// `score`: scores `text`, or each line of `input` when there is no text.
pub fn score(text: Option<&str>, as_json: bool, input: &mut dyn BufRead, out: &mut dyn Write) -> std::io::Result<()> {
    let mut print = |t: &str| -> std::io::Result<()> {
        let s = sentiment::score(t);
        if as_json {
            let line = json!({"compound": s.compound, "pos": s.pos, "neu": s.neu, "neg": s.neg, "label": s.label});
            writeln!(out, "{line}")
        } else {
            writeln!(
                out,
                "compound {:.4}  pos {:.3}  neu {:.3}  neg {:.3}  {}",
                s.compound, s.pos, s.neu, s.neg, s.label
            )
        }
    };
    if let Some(text) = text {
        return print(text);
    }
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        print(&String::from_utf8_lossy(&buf))?;
    }
}

/// Prints an inbox page: one line per mention (id, state, priority, time,
/// source, author, text), or one JSON object per line.
pub fn print_inbox(page: &crate::inbox::Page, as_json: bool, out: &mut dyn Write) -> std::io::Result<()> {
    for row in &page.rows {
        if as_json {
            writeln!(out, "{}", serde_json::to_string(row).map_err(std::io::Error::other)?)?;
        } else {
            writeln!(
                out,
                "{:>8}  {:<9} {:>10.0}  {}  {:<10} {}: {}",
                row.id,
                row.state.state.as_str(),
                row.priority,
                row.created_at,
                row.source,
                row.author.as_deref().unwrap_or("-"),
                crate::mention::snippet(&row.text, 100)
            )?;
        }
    }
    if !as_json {
        writeln!(out, "({} of {} shown)", page.rows.len(), page.total)?;
    }
    Ok(())
}

/// Parses a `--label` value.
pub fn parse_label(value: &str) -> Result<Label, String> {
    value.parse()
}

/// Mention text on one terminal line: control characters (newlines, escape
/// sequences a stranger may have typed) become spaces.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn since_accepts_durations_dates_and_times() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        assert_eq!(parse_since("24h", now).unwrap(), now - Duration::hours(24));
        assert_eq!(parse_since("7d", now).unwrap(), now - Duration::days(7));
        assert_eq!(parse_since("90m", now).unwrap(), now - Duration::minutes(90));
        assert_eq!(
            parse_since("2026-11-20", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse_since("2026-11-20T10:00:00+01:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
        );
        for bad in ["", "h", "24", "24y", "-3h", "99999999999999999999d"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn score_reads_each_input_line() {
        let mut out = Vec::new();
        score(None, true, &mut &b"I love it\nterrible!\r\n"[..], &mut out).unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["label"], "positive");
        assert_eq!(lines[1]["label"], "negative");
        assert_eq!(lines[0]["compound"], 0.6369);
    }

    #[test]
    fn terminal_output_is_one_line_without_control_characters() {
        assert_eq!(one_line("a\nb\u{1b}[31mc"), "a b [31mc");
        assert_eq!(crate::mention::snippet("abcdef", 3), "abc…");
    }
}
