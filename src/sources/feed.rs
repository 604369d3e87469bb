//! The feed reader: JSON Lines files (or bytes the binary carries) read
//! line by line with every line's length capped, each parsed into a
//! [`Mention`] or the reason it is rejected. The replay driver and `run
//! --demo` read feeds through it.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::mention::{LineError, Mention, MAX_LINE_BYTES};

/// A feed to replay: a file, or bytes the program carries (the demo feed).
#[derive(Debug, Clone, Copy)]
pub enum Feed<'a> {
    File(&'a Path),
    Bytes { name: &'a str, data: &'a [u8] },
}

impl<'a> Feed<'a> {
    pub fn name(&self) -> String {
        match self {
            Feed::File(path) => path.display().to_string(),
            Feed::Bytes { name, .. } => name.to_string(),
        }
    }

    pub fn open(&self) -> anyhow::Result<Box<dyn BufRead + 'a>> {
        Ok(match self {
            Feed::File(path) => {
                let file = File::open(path).with_context(|| format!("cannot open feed {}", path.display()))?;
                Box::new(BufReader::with_capacity(256 * 1024, file))
            }
            Feed::Bytes { data, .. } => Box::new(*data),
        })
    }

    /// Its size in bytes, where it can be known (for the progress bar).
    pub fn size(&self) -> Option<u64> {
        match self {
            Feed::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Feed::Bytes { data, .. } => Some(data.len() as u64),
        }
    }
}

/// The newest mention time in a feed (unreadable lines are skipped).
pub fn latest_time(feed: Feed) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut latest = None;
    for line in feed.open()?.split(b'\n') {
        let line = line.with_context(|| format!("reading feed {}", feed.name()))?;
        if let Ok(m) = Mention::from_feed_line(&line) {
            latest = latest.max(Some(m.created_at));
        }
    }
    Ok(latest)
}

/// Reads a feed's lines one by one.
pub struct FeedReader<'a> {
    reader: Box<dyn BufRead + 'a>,
    buf: Vec<u8>,
    line_no: u64,
}

/// One line of a feed.
pub struct FeedLine {
    /// Counted from 1, blank lines included (as an editor counts them).
    pub line_no: u64,
    /// Bytes the line took in the feed, terminator included.
    pub bytes_consumed: usize,
    /// The mention or why the line is rejected; `None` for a blank line.
    pub parsed: Option<Result<Mention, LineError>>,
}

impl<'a> FeedReader<'a> {
    pub fn open(feed: Feed<'a>) -> anyhow::Result<Self> {
        Ok(FeedReader {
            reader: feed.open()?,
            buf: Vec::new(),
            line_no: 0,
        })
    }

    /// The next line, or `None` at the end of the feed.
    pub fn next_line(&mut self) -> io::Result<Option<FeedLine>> {
        let Some(read) = read_capped_line(&mut self.reader, &mut self.buf, MAX_LINE_BYTES)? else {
            return Ok(None);
        };
        self.line_no += 1;
        let parsed = if read.bytes_in_line > MAX_LINE_BYTES {
            Some(Err(LineError::TooLong {
                bytes: read.bytes_in_line,
            }))
        } else if self.buf.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(Mention::from_feed_line(&self.buf))
        };
        Ok(Some(FeedLine {
            line_no: self.line_no,
            bytes_consumed: read.bytes_consumed,
            parsed,
        }))
    }
}

/// One line read by [`read_capped_line`].
struct LineRead {
    /// Bytes the line took in the file, terminator included.
    bytes_consumed: usize,
    /// Length of the line without its terminator; larger than the cap when
    /// the line was too long (the buffer then holds only its start).
    bytes_in_line: usize,
}

/// Reads the next line into `buf` (without `\n` or `\r\n`), keeping at most
/// `cap + 1` bytes of it in memory however long it is.
fn read_capped_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<Option<LineRead>> {
    buf.clear();
    let mut consumed = 0usize;
    let mut length = 0usize;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            if consumed == 0 {
                return Ok(None);
            }
            break;
        }
        let (chunk, found_newline) = match memchr_newline(available) {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        let room = (cap + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        length += chunk.len();
        let used = chunk.len() + usize::from(found_newline);
        consumed += used;
        reader.consume(used);
        if found_newline {
            break;
        }
    }
    if length == buf.len() && buf.last() == Some(&b'\r') {
        buf.pop();
        length -= 1;
    }
    Ok(Some(LineRead {
        bytes_consumed: consumed,
        bytes_in_line: length,
    }))
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reader_splits_lines_and_bounds_memory() {
        let data = b"one\r\ntwo\n\nthree-is-long\nlast";
        let mut reader = BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        while let Some(read) = read_capped_line(&mut reader, &mut buf, 5).unwrap() {
            lines.push((
                String::from_utf8(buf.clone()).unwrap(),
                read.bytes_in_line,
                read.bytes_consumed,
            ));
        }
        assert_eq!(
            lines,
            [
                ("one".to_string(), 3, 5),
                ("two".to_string(), 3, 4),
                (String::new(), 0, 1),
                ("three-".to_string(), 13, 14),
                ("last".to_string(), 4, 4),
            ]
        );
    }
}
