//! How the commands print mentions on a terminal.

use std::io::Write;

use complaint_monitor::export::export_line;
use complaint_monitor::mention::snippet;
use complaint_monitor::store::StoredMention;
use serde_json::json;

/// Mention text on one terminal line: control characters (newlines, escape
/// sequences a stranger may have typed) become spaces.
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
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
            one_line(&snippet(&m.source, 10)),
            s.label.as_str(),
            s.sentiment.compound,
            s.reach.people,
            one_line(&snippet(m.author.handle.as_deref().unwrap_or("-"), 18)),
            one_line(&snippet(&m.text, 100)),
        )?;
    }
    Ok(())
}

/// Prints an inbox page: one line per mention (id, state, priority, time,
/// source, author, text), or one JSON object per line.
pub fn print_inbox(page: &complaint_monitor::inbox::Page, as_json: bool, out: &mut dyn Write) -> std::io::Result<()> {
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
                one_line(&row.source),
                one_line(row.author.as_deref().unwrap_or("-")),
                one_line(&snippet(&row.text, 100))
            )?;
        }
    }
    if !as_json {
        writeln!(out, "({} of {} shown)", page.rows.len(), page.total)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_is_one_line_without_control_characters() {
        assert_eq!(one_line("a\nb\u{1b}[31mc"), "a b [31mc");
        assert_eq!(snippet("abcdef", 3), "abc…");
    }
}
