use std::io::{BufRead, Write};
use std::process::ExitCode;

use complaint_monitor::enrich::sentiment;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    text: Option<String>,
    /// One JSON object per line: compound, pos, neu, neg, label.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        score(
            self.text.as_deref(),
            self.json,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
        )?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Scores `text`, or each line of `input` when there is no text.
fn score(text: Option<&str>, as_json: bool, input: &mut dyn BufRead, out: &mut dyn Write) -> std::io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
