//! Volume and sentiment of a brand over the last 24 hours (hourly) or 7 days
//! (six-hourly), and their server-rendered SVG: stacked bars of negative,
//! neutral and positive mentions. No script, no CDN.

use chrono::{DateTime, Duration, Utc};
use maud::{html, Markup, PreEscaped};
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Day,
    Week,
}

impl Window {
    fn bucket(self) -> Duration {
        match self {
            Window::Day => Duration::hours(1),
            Window::Week => Duration::hours(6),
        }
    }
    fn buckets(self) -> i64 {
        match self {
            Window::Day => 24,
            Window::Week => 28,
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Window::Day => "Last 24 hours",
            Window::Week => "Last 7 days",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Bucket {
    pub start: String,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
}

impl Bucket {
    fn total(&self) -> u64 {
        self.negative + self.neutral + self.positive
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Totals {
    pub mentions: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    /// (positive − negative) / all, from −1 to 1; `None` without mentions.
    pub net_sentiment: Option<f64>,
}

impl Totals {
    pub fn of(buckets: &[Bucket]) -> Totals {
        let mut t = Totals::default();
        for b in buckets {
            t.negative += b.negative;
            t.neutral += b.neutral;
            t.positive += b.positive;
        }
        t.mentions = t.negative + t.neutral + t.positive;
        t.net_sentiment = (t.mentions > 0).then(|| (t.positive as f64 - t.negative as f64) / t.mentions as f64);
        t
    }
}

/// The window's buckets ending with the one holding `now`, empty ones included.
pub fn series(conn: &Connection, brand: &str, now: DateTime<Utc>, window: Window) -> Result<Vec<Bucket>, StoreError> {
    let width = window.bucket().num_milliseconds();
    let last = now.timestamp_millis().div_euclid(width);
    let first = last - window.buckets() + 1;
    let mut buckets: Vec<Bucket> = (first..=last)
        .map(|b| Bucket {
            start: DateTime::from_timestamp_millis(b * width)
                .map(crate::mention::format_time)
                .unwrap_or_default(),
            negative: 0,
            neutral: 0,
            positive: 0,
        })
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT created_at / ?2, label, count(*) FROM mention_brands \
         WHERE brand = ?1 AND created_at >= ?3 AND created_at < ?4 GROUP BY 1, 2",
    )?;
    let rows = stmt.query_map(params![brand, width, first * width, (last + 1) * width], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (b, label, n) = row?;
        let Some(bucket) = usize::try_from(b - first).ok().and_then(|i| buckets.get_mut(i)) else {
            continue;
        };
        let n = n.max(0) as u64;
        match label.as_str() {
            "negative" => bucket.negative += n,
            "positive" => bucket.positive += n,
            _ => bucket.neutral += n,
        }
    }
    Ok(buckets)
}

/// Stacked bars, negative at the bottom where the eye lands first.
pub fn svg(buckets: &[Bucket], window: Window) -> Markup {
    let (width, height, top) = (720.0, 180.0, 16.0);
    let max = buckets.iter().map(Bucket::total).max().unwrap_or(0).max(1) as f64;
    let slot = width / buckets.len().max(1) as f64;
    let bar = (slot - 2.0).max(1.0);
    let scale = (height - top - 18.0) / max;
    let mut body = String::new();
    for (i, b) in buckets.iter().enumerate() {
        let x = i as f64 * slot + 1.0;
        let mut y = height - 18.0;
        for (n, colour) in [(b.negative, "#cf222e"), (b.neutral, "#8c959f"), (b.positive, "#1a7f37")] {
            if n == 0 {
                continue;
            }
            let h = n as f64 * scale;
            y -= h;
            body.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{} {}: {} negative, {} neutral, {} positive</title></rect>",
                html_escape::encode_text(&b.start),
                window.title(),
                b.negative,
                b.neutral,
                b.positive
            ));
        }
        let every = if window == Window::Day { 6 } else { 4 };
        if i % every == 0 {
            let label = b.start.get(5..16).unwrap_or("").replace('T', " ");
            body.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#656d76\">{}</text>",
                height - 4.0,
                html_escape::encode_text(&label)
            ));
        }
    }
    body.push_str(&format!(
        "<text x=\"0\" y=\"11\" font-size=\"11\" fill=\"#656d76\">max {max} mentions per {}</text>",
        if window == Window::Day { "hour" } else { "6 hours" }
    ));
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width="720" height="180" viewBox="0 0 720 180" role="img"
            aria-label=(format!("{}: mentions by sentiment", window.title())) {
            (PreEscaped(body))
        }
    }
}
