//! Generates replay feeds: deterministic (a fixed seed gives the same bytes),
//! with daily seasonality, heavy-tailed audiences, complaints, praise,
//! neutral chatter, emoji, non-English lines, review-site ratings, and on
//! request an incident, duplicates and malformed lines.
//!
//! The demo feed in `fixtures/demo/feed.jsonl` is exactly:
//!
//! ```text
//! cargo run --release --example gen_feed -- --out fixtures/demo/feed.jsonl
//! ```
//!
//! and benchmark feeds are the same generator at scale, e.g.
//! `--mentions 1000000 --days 30 --no-faults`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

struct Args {
    out: PathBuf,
    mentions: usize,
    days: i64,
    seed: u64,
    start: DateTime<Utc>,
    faults: bool,
    incident: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: PathBuf::from("-"),
        mentions: 6000,
        days: 1,
        seed: 20261120,
        start: Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).single().ok_or("start")?,
        faults: true,
        incident: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--mentions" => args.mentions = value()?.parse().map_err(|e| format!("--mentions: {e}"))?,
            "--days" => args.days = value()?.parse().map_err(|e| format!("--days: {e}"))?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--start" => {
                args.start = DateTime::parse_from_rfc3339(&value()?)
                    .map_err(|e| format!("--start: {e}"))?
                    .with_timezone(&Utc)
            }
            "--no-faults" => args.faults = false,
            "--no-incident" => args.incident = false,
            "--help" | "-h" => {
                return Err("usage: gen_feed [--out FILE] [--mentions N] [--days N] [--seed N] \
                     [--start RFC3339] [--no-faults] [--no-incident]"
                    .into())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.days < 1 {
        return Err("--days must be at least 1".into());
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let sink: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        match File::create(&args.out) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("cannot create {}: {e}", args.out.display());
                std::process::exit(1);
            }
        }
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    if let Err(e) = generate(&args, &mut out).and_then(|_| out.flush()) {
        eprintln!("writing the feed failed: {e}");
        std::process::exit(1);
    }
}

/// Relative mention rate by hour of day (UTC): quiet at night, busy from
/// late morning to evening.
const HOURLY_WEIGHT: [f64; 24] = [
    0.35, 0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.6, 0.85, 1.0, 1.1, 1.15, 1.2, 1.2, 1.15, 1.1, 1.1, 1.15, 1.2, 1.2, 1.1,
    0.9, 0.7, 0.5,
];

fn generate(args: &Args, out: &mut impl Write) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let incident_start = args.start + Duration::hours(14);
    let incident_len = Duration::minutes(75);
    let mut events: Vec<(i64, Kind)> = Vec::with_capacity(args.mentions + 400);
    let day_ms = 86_400_000i64;
    let total_weight: f64 = HOURLY_WEIGHT.iter().sum();
    for _ in 0..args.mentions {
        let day = rng.gen_range(0..args.days);
        let mut pick = rng.gen::<f64>() * total_weight;
        let mut hour = 0;
        while hour < 23 && pick > HOURLY_WEIGHT[hour] {
            pick -= HOURLY_WEIGHT[hour];
            hour += 1;
        }
        let ms = day * day_ms + hour as i64 * 3_600_000 + rng.gen_range(0..3_600_000);
        events.push((ms, Kind::Regular));
    }
    if args.incident {
        // Acme Air loses a flight's bags: a wave of complaints that peaks
        // twenty minutes in and fades over an hour and a quarter.
        let count = (args.mentions / 25).max(40);
        for _ in 0..count {
            let u: f64 = rng.gen::<f64>().max(1e-9);
            let offset = (-(u.ln()) * 20.0 * 60_000.0) as i64 + rng.gen_range(0..10 * 60_000);
            let offset = offset.min(incident_len.num_milliseconds());
            let ms = (incident_start - args.start).num_milliseconds() + offset;
            events.push((ms, Kind::Incident));
        }
    }
    events.sort_by_key(|e| e.0);

    let mut written: Vec<String> = Vec::new();
    // Wording varies on a stream of its own, so that the rest of the feed
    // (times, sources, audiences, templates) is what the seed always gave.
    let mut wording = ChaCha8Rng::seed_from_u64(args.seed ^ 0x00C0_FFEE);
    for (i, (ms, kind)) in events.iter().enumerate() {
        let t = args.start + Duration::milliseconds(*ms);
        let line = mention_line(&mut rng, &mut wording, i, t, *kind);
        if args.faults && written.len() < 200 && rng.gen_bool(0.02) {
            written.push(line.clone());
        }
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        if args.faults && i % 500 == 250 {
            // A line seen earlier, delivered again (overlapping pages, a retried export).
            if let Some(dup) = written.choose(&mut rng) {
                out.write_all(dup.as_bytes())?;
                out.write_all(b"\n")?;
            }
            write_malformed(&mut rng, out, i / 500, t)?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Regular,
    Incident,
}

fn write_malformed(rng: &mut ChaCha8Rng, out: &mut impl Write, n: usize, t: DateTime<Utc>) -> std::io::Result<()> {
    let time = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let line: Vec<u8> = match n % 7 {
        0 => br#"{"source":"mastodon","id":"broken","created_at":"#.to_vec(),
        1 => format!(r#"{{"source":"reddit","created_at":"{time}","text":"acme air lost my bag"}}"#).into_bytes(),
        2 => format!(r#"{{"source":"x","id":"m{n}","created_at":"yesterday at 5","text":"@acmeair hello"}}"#)
            .into_bytes(),
        3 => {
            let mut l = format!(r#"{{"source":"bluesky","id":"bad-utf8-{n}","created_at":"{time}","text":"acme air "#)
                .into_bytes();
            l.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
            l
        }
        4 => format!(r#"{{"source":"appstore","id":"r{n}","created_at":"{time}","text":"Globex app","rating":7}}"#)
            .into_bytes(),
        5 => format!(
            r#"{{"source":"hackernews","id":"{}","created_at":"{time}"}}"#,
            rng.gen::<u32>()
        )
        .into_bytes(),
        _ => format!(
            r#"{{"source":"trustpilot","id":"tp{n}","created_at":"{time}","text":"ok","brand":"Initech","rating":3}}"#
        )
        .into_bytes(),
    };
    out.write_all(&line)?;
    out.write_all(b"\n")
}

const CITIES: &[&str] = &[
    "Lisbon", "Denver", "Oslo", "Chicago", "Madrid", "Toronto", "Berlin", "Austin", "Dublin",
];

const ACME_NEGATIVE: &[&str] = &[
    "@acmeair lost my bag AGAIN. {n} hours at the carousel and nobody answers the phone",
    "Flight {fl} delayed {n} hours with no explanation. Worst airline ever #acmeair",
    "acme air customer service is a joke, on hold for {m} minutes 😡",
    "Never flying Acme Air again. Rude staff, dirty seats and a broken tray table.",
    "Seriously @acmeair?? You cancelled my flight to {city} with no notice!!!",
    "The acme air app crashed during check-in and now I'm stuck at the airport. Terrible.",
    "Acme Air charged me twice for a checked bag and refuses to refund it",
    "Stuck on the tarmac for {n} hours, no water, no updates. Thanks for nothing @acmeair",
    "I hate how acme air treats families. Separated from my kids on a {n} hour flight",
    "#acmeair overbooked again, bumped from my flight to {city}. Awful.",
];
const ACME_INCIDENT: &[&str] = &[
    "@acmeair where are our bags?? Flight {fl} landed {m} minutes ago and nothing on the belt",
    "Whole flight from {city} has no luggage. @acmeair this is a disaster",
    "acme air lost every single bag on {fl}. Nobody at the desk. Unbelievable!!!",
    "Been waiting {n} hours for my bag @acmeair, staff just shrug. Worst experience ever 😡😡",
    "Is anyone else's luggage missing from acme air flight {fl}? Furious right now",
    "@acmeairhelp no bags, no answers, no help. Absolutely horrible",
    "#acmeair baggage meltdown at {city} airport, hundreds of angry people here",
];
const ACME_POSITIVE: &[&str] = &[
    "Great crew on my Acme Air flight to {city} today, thank you! 😍",
    "@acmeair upgraded me for my birthday, you're the best ❤️",
    "Smooth flight, friendly staff, landed early. Acme Air did well today",
    "Shoutout to the acme air agent in {city} who rebooked me in two minutes. Excellent service!",
    "Loving the new seats on #acmeair, so much legroom 👍",
    "acme air found my lost bag and delivered it to the hotel. Impressed!",
];
const ACME_NEUTRAL: &[&str] = &[
    "Anyone know if Acme Air allows pets in the cabin?",
    "Booked an acme air flight to {city} for next week",
    "#acmeair flight {fl} boarding at gate B{n}",
    "Does @acmeair fly direct from {city} to Oslo?",
    "Acme Air announces new routes to {city} starting in March",
    "What's the carry-on size limit on acme air these days",
];
const GLOBEX_NEGATIVE: &[&str] = &[
    "globex app keeps crashing when I try to log in, third day in a row",
    "@globexbank charged me twice and support just closed my ticket. Awful.",
    "Globex Bank froze my card while I was abroad in {city}. No warning, no help 😤",
    "The globex app update is terrible, can't even see my balance anymore",
    "Waited {m} minutes in the globex bank branch for a 2 minute task. Ridiculous.",
    "#globexbank hidden fees again. Switching banks, this is a scam",
];
const GLOBEX_POSITIVE: &[&str] = &[
    "Globex Bank sorted my mortgage question in five minutes, great service",
    "Really like the new globex app budgeting feature 👏",
    "@globexbank thanks for the quick refund, much appreciated!",
    "globex card works everywhere in {city}, no fees. Love it",
];
const GLOBEX_NEUTRAL: &[&str] = &[
    "Is the globex bank branch in {city} open on Saturdays?",
    "How do I change my address in the globex app",
    "#globex quarterly results out tomorrow",
    "Globex Bank is changing its savings rates from next month",
];
const NON_ENGLISH: &[(&str, &str)] = &[
    (
        "es",
        "El servicio de Acme Air es terrible, perdieron mi maleta en {city}",
    ),
    ("de", "Die Globex Bank App funktioniert schon wieder nicht"),
    ("fr", "Merci @acmeair pour ce vol parfait vers {city} !"),
    ("ja", "acme air の遅延がひどい、{n}時間待ち"),
    ("pt", "Atendimento da globex bank é péssimo"),
    ("it", "Volo acme air in orario, personale gentilissimo"),
];
const UNMATCHED: &[&str] = &[
    "My acme air fryer makes the best fries, highly recommend",
    "Just had the best coffee in {city}",
    "Does anyone have a good recipe for the Acme Air Fryer? Mine burns everything",
    "Globex Corporation is hiring engineers in {city}",
    "Traffic in {city} is unbelievable today",
    "acmecorp stock is up again",
];
const APPSTORE_REVIEWS: &[(u8, &str)] = &[
    (1, "Crashes every time I open it. Useless."),
    (1, "Can't log in since the update. Fix it!!"),
    (2, "Used to be good, now it's slow and full of bugs"),
    (3, "It's fine. Transfers work, the design is a bit dated"),
    (4, "Good app, does what I need"),
    (5, "Best banking app I've used, fast and simple"),
    (5, "Love the budgeting tools!"),
    (2, "Great app but it logs me out every five minutes"),
];
const TRUSTPILOT_REVIEWS: &[(u8, &str)] = &[
    (1, "Lost my luggage and never replied to my claim."),
    (2, "Flight was late and the staff were unhelpful."),
    (3, "Average airline. Nothing special."),
    (4, "Comfortable seats and decent food."),
    (5, "Wonderful crew, will fly again."),
    (5, "Excellent! Friendly check-in and on time."),
];
const SOCIAL_SOURCES: &[&str] = &["mastodon", "bluesky", "reddit", "x", "hackernews"];

fn fill(rng: &mut ChaCha8Rng, template: &str) -> String {
    template
        .replace("{n}", &rng.gen_range(2..9).to_string())
        .replace("{m}", &rng.gen_range(20..180).to_string())
        .replace("{fl}", &format!("AA{}", rng.gen_range(100..999)))
        .replace("{city}", CITIES.choose(rng).copied().unwrap_or("Oslo"))
}

/// Followers: log-normal, a few accounts with very large audiences.
fn followers(rng: &mut ChaCha8Rng) -> u64 {
    let normal: f64 = (0..12).map(|_| rng.gen::<f64>()).sum::<f64>() - 6.0;
    let base = (5.0 + 1.6 * normal).exp();
    let boosted = if rng.gen_bool(0.003) { base * 500.0 } else { base };
    boosted.min(5e7) as u64
}

/// Openings and endings people add to the same complaint: the templates
/// alone would make a day of posts a few hundred verbatim copies, which
/// real people do not write (and the campaign filter rightly folds). None
/// of them carries sentiment, so a text keeps its label.
const OPENINGS: &[&str] = &[
    "Update:",
    "PSA:",
    "Right,",
    "So",
    "Day {n}:",
    "Heads up:",
    "Just now:",
    "For the record,",
    "Story time:",
    "Quick one:",
    "Reporting from {city}:",
    "Again:",
];
const ENDINGS: &[&str] = &[
    "(posted from {city})",
    "#travel",
    "Thread 1/{n}",
    "Day {n} of this.",
    "Ref {code}.",
    "Case {code}.",
    "{n}:{mm} local time",
    "at gate B{n}",
    "this morning",
    "tonight",
    "via phone",
    "cc @travelnews",
    "Screenshot attached.",
    "Booking {code}.",
    "on my way to {city}",
    "from seat {n}{row}",
    "{m} people here",
    "Ticket {code}.",
    "#{city}",
    "{n} days before my trip",
    "writing this from the lounge",
    "after {m} minutes in the queue",
    "my {n}th trip this year",
    "with my two kids",
    "on the {n}:{mm} departure",
];

/// Endings that read in any language.
const ANY_LANGUAGE_ENDINGS: &[&str] = &["#{city}", "Ref {code}", "{n}:{mm}", "#{code}", "{city} {n}:{mm}"];

/// `text` in one person's wording: an opening about half the time (English
/// only), an ending always, fillers drawn anew.
fn reword(rng: &mut ChaCha8Rng, text: &str, english: bool) -> String {
    let mut out = String::new();
    if english && rng.gen_bool(0.5) {
        out.push_str(pick(rng, OPENINGS));
        out.push(' ');
    }
    out.push_str(text);
    out.push(' ');
    out.push_str(pick(rng, if english { ENDINGS } else { ANY_LANGUAGE_ENDINGS }));
    fill(rng, &out)
        .replace("{mm}", &format!("{:02}", rng.gen_range(0..60)))
        .replace("{code}", &format!("{:06X}", rng.gen_range(0..0xFF_FFFF)))
        .replace(
            "{row}",
            ["A", "B", "C", "D", "E", "F"].choose(rng).copied().unwrap_or("A"),
        )
}

fn mention_line(rng: &mut ChaCha8Rng, wording: &mut ChaCha8Rng, i: usize, t: DateTime<Utc>, kind: Kind) -> String {
    let created_at = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let roll: f64 = rng.gen();
    let (source, text, lang, rating, brand) = match kind {
        Kind::Incident => {
            let source = SOCIAL_SOURCES.choose(rng).copied().unwrap_or("x");
            (
                source,
                {
                    let t = pick(rng, ACME_INCIDENT);
                    fill(rng, t)
                },
                "en",
                None,
                None,
            )
        }
        Kind::Regular if roll < 0.07 => {
            let (stars, text) = *APPSTORE_REVIEWS.choose(rng).unwrap_or(&(3, "ok"));
            ("appstore", text.to_string(), "en", Some(stars), Some("Globex Bank"))
        }
        Kind::Regular if roll < 0.11 => {
            let (stars, text) = *TRUSTPILOT_REVIEWS.choose(rng).unwrap_or(&(3, "ok"));
            ("trustpilot", text.to_string(), "en", Some(stars), Some("Acme Air"))
        }
        Kind::Regular if roll < 0.15 => {
            let (lang, text) = *NON_ENGLISH.choose(rng).unwrap_or(&("es", ""));
            let source = SOCIAL_SOURCES.choose(rng).copied().unwrap_or("x");
            (source, fill(rng, text), lang, None, None)
        }
        Kind::Regular if roll < 0.22 => {
            let source = SOCIAL_SOURCES.choose(rng).copied().unwrap_or("x");
            (
                source,
                {
                    let t = pick(rng, UNMATCHED);
                    fill(rng, t)
                },
                "en",
                None,
                None,
            )
        }
        Kind::Regular => {
            let acme = rng.gen_bool(0.6);
            let mood: f64 = rng.gen();
            let templates = match (acme, mood) {
                (true, m) if m < 0.38 => ACME_NEGATIVE,
                (true, m) if m < 0.65 => ACME_POSITIVE,
                (true, _) => ACME_NEUTRAL,
                (false, m) if m < 0.35 => GLOBEX_NEGATIVE,
                (false, m) if m < 0.6 => GLOBEX_POSITIVE,
                (false, _) => GLOBEX_NEUTRAL,
            };
            let source = SOCIAL_SOURCES.choose(rng).copied().unwrap_or("x");
            (
                source,
                {
                    let t = pick(rng, templates);
                    fill(rng, t)
                },
                "en",
                None,
                None,
            )
        }
    };
    let text = reword(wording, &text, lang == "en");
    let handle = format!("user{}", rng.gen_range(1..40_000));
    let audience = followers(rng);
    let engagement = |rng: &mut ChaCha8Rng, scale: f64| (audience as f64 * scale * rng.gen::<f64>()).round() as u64;
    let likes = engagement(rng, 0.02);
    let reposts = engagement(rng, 0.004);
    let replies = engagement(rng, 0.003);
    let value = match source {
        "appstore" | "trustpilot" => json!({
            "source": source, "id": format!("{source}-{i}"), "created_at": created_at,
            "author": {"handle": handle, "followers": null}, "text": text,
            "url": format!("https://reviews.example/{source}/{i}"),
            "metrics": {"likes": rng.gen_range(0..12), "reposts": null, "replies": null, "views": null},
            "rating": rating, "lang": lang, "brand": brand,
        }),
        _ => {
            let (id, author, url) = match source {
                "mastodon" => (
                    format!("{}", 113_000_000_000_000u64 + i as u64 * 7919),
                    format!("{handle}@example.social"),
                    format!("https://example.social/@{handle}/{i}"),
                ),
                "bluesky" => (
                    format!("at://did:plc:{handle}/app.bsky.feed.post/3l{i:08}"),
                    format!("{handle}.bsky.social"),
                    format!("https://bsky.app/profile/{handle}.bsky.social/post/3l{i:08}"),
                ),
                "reddit" => (
                    format!("t3_{i:x}"),
                    handle.clone(),
                    format!("https://www.reddit.com/comments/{i:x}"),
                ),
                "hackernews" => (
                    format!("{}", 42_000_000 + i),
                    handle.clone(),
                    format!("https://news.ycombinator.com/item?id={}", 42_000_000 + i),
                ),
                _ => (
                    format!("{}", 1_860_000_000_000_000_000u64 + i as u64),
                    handle.clone(),
                    format!("https://x.com/{handle}/status/{i}"),
                ),
            };
            let views = (source == "x").then(|| audience / 3 + likes * 40);
            json!({
                "source": source, "id": id, "created_at": created_at,
                "author": {"handle": author, "followers": audience}, "text": text, "url": url,
                "metrics": {"likes": likes, "reposts": reposts, "replies": replies, "views": views},
                "rating": null, "lang": lang, "brand": null,
            })
        }
    };
    value.to_string()
}

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or("")
}
