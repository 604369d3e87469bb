//! The digest as Markdown, HTML (one self-contained file: inline CSS, no
//! scripts, no external assets; every piece of mention text escaped) and JSON.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{BrandDigest, DayFigures, Digest, Hour};

/// JSON: the shape documented in `docs/digest.md`.
pub fn json(digest: &Digest) -> String {
    serde_json::to_string_pretty(digest).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("–".to_string(), |v| format!("{v:.digits$}"))
}

/// "+12 (+40%)" style change of `now` against `before`.
fn change(now: f64, before: f64) -> String {
    let diff = now - before;
    let sign = if diff > 0.0 { "+" } else { "" };
    if before.abs() < 1e-9 {
        format!("{sign}{}", num(diff))
    } else {
        format!("{sign}{} ({sign}{:.0}%)", num(diff), diff / before * 100.0)
    }
}

fn change_opt(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(n), Some(b)) => {
            let d = n - b;
            format!("{}{d:.1}", if d > 0.0 { "+" } else { "" })
        }
        _ => "–".into(),
    }
}

/// How to read one figure of a day.
type Figure = fn(&DayFigures) -> f64;

/// The count rows of the figures table, in order.
const FIGURE_ROWS: [(&str, Figure); 6] = [
    ("Mentions", |f| f.counts.total),
    ("Negative", |f| f.counts.negative),
    ("Neutral", |f| f.counts.neutral),
    ("Positive", |f| f.counts.positive),
    ("Not scored (a language the scorer does not read)", |f| {
        f.counts.not_scored
    }),
    ("Reach of negative mentions", |f| f.negative_reach),
];

/// The share of all mentions, for the label rows.
fn label_share(name: &str, f: &DayFigures, v: f64) -> Option<String> {
    matches!(name, "Negative" | "Neutral" | "Positive").then(|| format!(" ({}%)", opt(f.counts.share(v), 0)))
}

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn sparkline(values: &[u64], max: u64) -> String {
    values
        .iter()
        .map(|&v| {
            if max == 0 {
                SPARKS[0]
            } else {
                SPARKS[((v as f64 / max as f64) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// Escapes text written by strangers for Markdown (and the HTML that
/// Markdown renderers pass through).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn hour_label(h: &Hour) -> String {
    h.start.get(11..16).unwrap_or("").to_string()
}

/// Markdown, for chat tools and terminals.
pub fn markdown(d: &Digest) -> String {
    let mut s = format!(
        "# Mention digest for {} ({}, {} hours)\n\nStar ratings count as NPS classes: {}.\n",
        d.date, d.time_zone, d.hours, d.rating_mapping
    );
    for b in &d.brands {
        s.push_str(&format!("\n## {}\n\n", md(&b.brand)));
        s.push_str("| | day | vs previous day | vs 7-day average |\n|---|---|---|---|\n");
        for (name, get) in FIGURE_ROWS {
            let v = get(&b.day);
            let share = label_share(name, &b.day, v).unwrap_or_default();
            s.push_str(&format!(
                "| {name} | {}{share} | {} | {} |\n",
                num(v),
                change(v, get(&b.previous_day)),
                change(v, get(&b.average_7d))
            ));
        }
        s.push_str(&format!(
            "| Net sentiment | {} | {} | {} |\n| NPS from {} rated reviews | {} | {} | {} |\n| Average rating | {} | {} | {} |\n",
            opt(b.day.net_sentiment, 0),
            change_opt(b.day.net_sentiment, b.previous_day.net_sentiment),
            change_opt(b.day.net_sentiment, b.average_7d.net_sentiment),
            num(b.day.ratings.count),
            opt(b.day.nps, 0),
            change_opt(b.day.nps, b.previous_day.nps),
            change_opt(b.day.nps, b.average_7d.nps),
            opt(b.day.average_rating, 2),
            change_opt(b.day.average_rating, b.previous_day.average_rating),
            change_opt(b.day.average_rating, b.average_7d.average_rating),
        ));
        let all: Vec<u64> = b.hourly.iter().map(|h| h.all).collect();
        let neg: Vec<u64> = b.hourly.iter().map(|h| h.negative).collect();
        let max = all.iter().copied().max().unwrap_or(0);
        s.push_str(&format!(
            "\nBy hour from {} (max {max}):\n\n    all       {}\n    negative  {}\n",
            b.hourly.first().map(hour_label).unwrap_or_default(),
            sparkline(&all, max),
            sparkline(&neg, max)
        ));
        if !b.gaps.is_empty() {
            s.push_str("\n**Gaps in the data:** ");
            let gaps: Vec<String> = b
                .gaps
                .iter()
                .map(|g| {
                    format!(
                        "no mentions from {} (usually {} a day)",
                        md(&g.source),
                        num(g.usual_per_day)
                    )
                })
                .collect();
            s.push_str(&gaps.join("; "));
            s.push('\n');
        }
        s.push_str("\n### Spike incidents\n\n");
        if b.incidents.is_empty() {
            s.push_str("None.\n");
        }
        for i in &b.incidents {
            s.push_str(&format!(
                "- #{} {} from {}: {} negative vs {} expected, reach {}; {}; {}\n",
                i.id,
                i.severity,
                i.started_at,
                i.observed,
                num(i.expected),
                i.reach,
                match (&i.acknowledged_by, i.minutes_to_acknowledge) {
                    (Some(by), Some(m)) => format!("acknowledged by {} after {m} min", md(by)),
                    _ => "not acknowledged".into(),
                },
                i.resolved_at
                    .as_deref()
                    .map_or("not resolved".into(), |r| format!("resolved {r}"))
            ));
        }
        s.push_str("\n### Negative mentions with the largest reach\n\n");
        if b.top_negative.is_empty() {
            s.push_str("None.\n");
        }
        for (n, m) in b.top_negative.iter().enumerate() {
            s.push_str(&format!(
                "{}. **{}** ({} followers, {}, {}): {} {} — reach {}, {}\n",
                n + 1,
                md(m.author.as_deref().unwrap_or("unknown")),
                m.audience.map_or("?".into(), |a| a.to_string()),
                md(&m.source),
                m.created_at.get(11..16).unwrap_or(""),
                md(&m.text),
                m.url.as_deref().map_or(String::new(), |u| format!("<{}>", md(u))),
                m.reach,
                m.state
            ));
        }
        s.push_str("\n### Responses\n\n");
        s.push_str(&responses_line(&b.responses));
        s.push('\n');
        s.push_str("\n### Won back\n\n");
        s.push_str(&closed_loop_line(&b.closed_loop));
        s.push('\n');
        if let Some(line) = spam_line(&b.spam) {
            s.push_str("\n### Campaigns and bursts\n\n");
            s.push_str(&line);
            s.push('\n');
        }
        s.push_str("\n### What people complain about\n\n");
        if b.complaints.is_empty() {
            s.push_str("Nothing stands out.\n");
        }
        for t in &b.complaints {
            s.push_str(&format!(
                "- {}: {} (7-day average {})\n",
                md(&t.term),
                t.count,
                num(t.average_7d)
            ));
        }
        s.push_str("\n### By source\n\n| source | mentions | negative | 7-day average |\n|---|---|---|---|\n");
        for (source, (all, neg)) in &b.day.sources {
            let usual = b.average_7d.sources.get(source).map_or(0.0, |u| u.0);
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                md(source),
                num(*all),
                num(*neg),
                num(usual)
            ));
        }
    }
    s
}

const CSS: &str = "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328;max-width:760px;\
margin:0 auto;padding:16px;line-height:1.4}h1{font-size:22px}h2{font-size:19px;border-bottom:2px solid #d0d7de;\
padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin-bottom:6px}table{border-collapse:collapse;width:100%;\
font-size:14px}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}\
.neg{color:#b42318}.pos{color:#067647}.muted{color:#656d76;font-size:13px}.gap{background:#fff4e5;border:1px solid #f79009;\
padding:6px 10px}.text{word-break:break-word}";

fn figure_rows(b: &BrandDigest) -> Markup {
    html! {
        @for (name, get) in FIGURE_ROWS {
            @let v = get(&b.day);
            tr {
                td { (name) }
                td { (num(v)) (label_share(name, &b.day, v).unwrap_or_default()) }
                td { (change(v, get(&b.previous_day))) }
                td { (change(v, get(&b.average_7d))) }
            }
        }
        tr {
            td { "Net sentiment" }
            td { (opt(b.day.net_sentiment, 0)) }
            td { (change_opt(b.day.net_sentiment, b.previous_day.net_sentiment)) }
            td { (change_opt(b.day.net_sentiment, b.average_7d.net_sentiment)) }
        }
        tr {
            td { "NPS from " (num(b.day.ratings.count)) " rated reviews" }
            td { (opt(b.day.nps, 0)) }
            td { (change_opt(b.day.nps, b.previous_day.nps)) }
            td { (change_opt(b.day.nps, b.average_7d.nps)) }
        }
        tr {
            td { "Average rating" }
            td { (opt(b.day.average_rating, 2)) }
            td { (change_opt(b.day.average_rating, b.previous_day.average_rating)) }
            td { (change_opt(b.day.average_rating, b.average_7d.average_rating)) }
        }
    }
}

/// An inline SVG bar chart of all (grey) and negative (red) mentions per hour.
fn chart(hours: &[Hour]) -> Markup {
    let (width, height, pad) = (720.0, 160.0, 24.0);
    let max = hours.iter().map(|h| h.all).max().unwrap_or(0).max(1) as f64;
    let slot = (width - pad) / hours.len().max(1) as f64;
    let bar = |value: u64| (value as f64 / max) * (height - pad - 8.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         role=\"img\" aria-label=\"mentions per hour\">"
    );
    for (i, h) in hours.iter().enumerate() {
        let x = pad + i as f64 * slot;
        let (all, neg) = (bar(h.all), bar(h.negative));
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{all:.1}\" fill=\"#d0d7de\"/>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{neg:.1}\" fill=\"#d92d20\"/>",
            height - pad - all,
            slot * 0.8,
            height - pad - neg,
            slot * 0.8
        ));
        if i % 3 == 0 {
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#656d76\">{}</text>",
                height - 8.0,
                hour_label(h)
            ));
        }
    }
    svg.push_str(&format!(
        "<text x=\"0\" y=\"12\" font-size=\"11\" fill=\"#656d76\">{}</text></svg>",
        max as u64
    ));
    // Only numbers and fixed labels went into the SVG.
    PreEscaped(svg)
}

/// HTML: one self-contained file that renders in mail clients and browsers.
pub fn html(d: &Digest) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Mention digest " (d.date.to_string()) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { "Mention digest for " (d.date.to_string()) }
                p.muted { (d.time_zone) ", " (d.hours) " hours. Star ratings count as NPS classes: " (d.rating_mapping) "." }
                @for b in &d.brands {
                    h2 { (b.brand) }
                    table {
                        tr { th { "" } th { "Day" } th { "vs previous day" } th { "vs 7-day average" } }
                        (figure_rows(b))
                    }
                    @if !b.gaps.is_empty() {
                        p.gap {
                            strong { "Gaps in the data: " }
                            @for (k, g) in b.gaps.iter().enumerate() {
                                @if k > 0 { "; " }
                                "no mentions from " (g.source) " (usually " (num(g.usual_per_day)) " a day)"
                            }
                        }
                    }
                    h3 { "Mentions per hour" }
                    p.muted { "grey: all, red: negative" }
                    (chart(&b.hourly))
                    h3 { "Spike incidents" }
                    @if b.incidents.is_empty() { p { "None." } } @else {
                        table {
                            tr { th { "#" } th { "Started" } th { "Severity" } th { "Negative vs expected" } th { "Reach" } th { "Acknowledged" } th { "Resolved" } }
                            @for i in &b.incidents {
                                tr {
                                    td { (i.id) }
                                    td { (i.started_at.get(11..16).unwrap_or("")) }
                                    td.neg[i.severity == "critical"] { (i.severity) }
                                    td { (i.observed) " vs " (num(i.expected)) }
                                    td { (i.reach) }
                                    td {
                                        @match (&i.acknowledged_by, i.minutes_to_acknowledge) {
                                            (Some(by), Some(m)) => { (by) " after " (m) " min" }
                                            _ => { "no" }
                                        }
                                    }
                                    td { (i.resolved_at.as_deref().and_then(|r| r.get(11..16)).unwrap_or("no")) }
                                }
                            }
                        }
                    }
                    h3 { "Negative mentions with the largest reach" }
                    @if b.top_negative.is_empty() { p { "None." } } @else {
                        table {
                            tr { th { "Author" } th { "Source, time" } th { "Mention" } th { "Reach" } th { "State" } }
                            @for m in &b.top_negative {
                                tr {
                                    td { (m.author.as_deref().unwrap_or("unknown")) br; span.muted { (m.audience.map_or("?".to_string(), |a| a.to_string())) " followers" } }
                                    td { (m.source) br; span.muted { (m.created_at.get(11..16).unwrap_or("")) } }
                                    td.text {
                                        (m.text)
                                        @if let Some(url) = &m.url {
                                            @if url.starts_with("https://") || url.starts_with("http://") {
                                                " " a href=(url) { "link" }
                                            }
                                        }
                                    }
                                    td { (m.reach) }
                                    td { (m.state) }
                                }
                            }
                        }
                    }
                    h3 { "Responses" }
                    p { (responses_line(&b.responses)) }
                    h3 { "Won back" }
                    p { (closed_loop_line(&b.closed_loop)) }
                    @if let Some(line) = spam_line(&b.spam) {
                        h3 { "Campaigns and bursts" }
                        p { (line) }
                    }
                    h3 { "What people complain about" }
                    @if b.complaints.is_empty() { p { "Nothing stands out." } } @else {
                        table {
                            tr { th { "Word or phrase" } th { "Negative mentions" } th { "7-day average" } }
                            @for t in &b.complaints {
                                tr { td { (t.term) } td { (t.count) } td { (num(t.average_7d)) } }
                            }
                        }
                    }
                    h3 { "By source" }
                    table {
                        tr { th { "Source" } th { "Mentions" } th { "Negative" } th { "7-day average" } }
                        @for (source, (all, neg)) in &b.day.sources {
                            tr {
                                td { (source) }
                                td { (num(*all)) }
                                td { (num(*neg)) }
                                td { (num(b.average_7d.sources.get(source).map_or(0.0, |u| u.0))) }
                            }
                        }
                    }
                }
            }
        }
    };
    page.into_string()
}

/// "12 of 40 negative mentions answered …": the closed loop in one line.
fn responses_line(r: &super::Responses) -> String {
    if r.negative == 0 {
        return "No negative mentions to answer.".into();
    }
    let median = match (r.median_minutes_to_respond, r.p90_minutes_to_respond) {
        (Some(m), Some(p90)) => format!(
            ", a median of {} min after posting (90% within {} min)",
            num(m),
            num(p90)
        ),
        (Some(m), None) => format!(", a median of {} min after posting", num(m)),
        _ => String::new(),
    };
    let within = r.answered_within_target_share.map_or(String::new(), |share| {
        format!(" {}% answered within the response target.", num(share * 100.0))
    });
    format!(
        "{} of {} negative mentions answered{median}; {} ignored, {} assigned, {} not handled yet ({}% handled).{within}",
        r.responded,
        r.negative,
        r.ignored,
        r.assigned,
        r.new,
        num(r.handled_share.unwrap_or(0.0) * 100.0)
    )
}

/// "2 copy-paste campaigns (340 mentions), …", or nothing on a day without.
fn spam_line(f: &super::SpamFigures) -> Option<String> {
    let mut parts = Vec::new();
    if f.campaigns > 0 {
        parts.push(format!(
            "{} copy-paste campaign{} ({} mentions)",
            f.campaigns,
            if f.campaigns == 1 { "" } else { "s" },
            f.campaign_mentions
        ));
    }
    if f.bursts > 0 {
        parts.push(format!(
            "{} burst{} from single accounts ({} mentions)",
            f.bursts,
            if f.bursts == 1 { "" } else { "s" },
            f.burst_mentions
        ));
    }
    if f.blocked_mentions > 0 {
        parts.push(format!("{} blocked mentions", f.blocked_mentions));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "{}: stored and in the volume above, but counted once (or not at all) by spike detection.",
            parts.join(", ")
        )
    })
}

/// "Of 8 detractors answered in the last 14 days, 3 came back positive …".
fn closed_loop_line(c: &crate::closed_loop::Summary) -> String {
    let t = &c.total;
    if t.responded == 0 {
        return format!("No detractor answered in the last {} days.", num(c.follow_up_days));
    }
    let rate = t
        .recovery_rate
        .map_or(String::new(), |r| format!(" Recovery rate {}%.", num(r * 100.0)));
    let nps = match (c.nps_when_answered, c.nps_now) {
        (Some(then), Some(now)) => format!(
            " NPS of the {} answered reviews: {} when answered, {} now.",
            c.answered_reviews,
            num(then),
            num(now)
        ),
        _ => String::new(),
    };
    format!(
        "Of {} detractors answered in the last {} days, {} came back positive, {} negative again, \
         {} said nothing more, {} are still in their follow-up window.{rate}{nps}",
        t.responded,
        num(c.follow_up_days),
        t.recovered,
        t.lost,
        t.no_word,
        t.waiting
    )
}
