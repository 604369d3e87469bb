//! The digest against a hand-computed fixture: a daylight-saving day in
//! London (25 hours), a source outage, star ratings, and hostile text.

use std::path::Path;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use complaint_monitor::config::Config;
use complaint_monitor::digest::{self, render};
use complaint_monitor::replay::{replay, ReplayOptions, Speed};
use complaint_monitor::store;
use serde_json::json;

use crate::support::smtp;

const NEGATIVE: &str = "acme air lost my bag, terrible service";
const POSITIVE: &str = "acme air crew was great, thank you";
const NEUTRAL: &str = "acme air flight leaves at 9";

fn line(source: &str, id: &str, at: chrono::DateTime<Utc>, text: &str, rating: Option<u8>) -> String {
    json!({
        "source": source, "id": id, "created_at": at.to_rfc3339(),
        "author": {"handle": format!("{source}-{id}"), "followers": 100},
        "text": text, "url": format!("https://example.test/{source}/{id}"),
        "rating": rating, "brand": if rating.is_some() { Some("Acme Air") } else { None },
    })
    .to_string()
}

/// The fixture, in UTC. Europe/London leaves summer time on 2026-10-25 at
/// 02:00 BST, so that local day runs from 2026-10-24T23:00Z to
/// 2026-10-26T00:00Z: 25 hours.
fn fixture(dir: &Path) -> std::path::PathBuf {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let mut lines = Vec::new();
    // Oct 18–24 (local): six neutral mastodon mentions a day at noon UTC.
    for day in 0..7 {
        let noon = Utc.with_ymd_and_hms(2026, 10, 18, 12, 0, 0).unwrap() + Duration::days(day);
        for k in 0..6 {
            lines.push(line(
                "mastodon",
                &format!("m{day}-{k}"),
                noon + Duration::minutes(k),
                NEUTRAL,
                None,
            ));
        }
    }
    // 23:59 BST on Oct 24: the day before, not the digest's day.
    lines.push(line("x", "late", t("2026-10-24T22:59:00Z"), NEGATIVE, None));
    // Oct 25 (local). Mastodon brings nothing: an outage.
    lines.push(line("x", "d1", t("2026-10-24T23:30:00Z"), NEGATIVE, None)); // 00:30 BST, hour 0
    lines.push(line("bluesky", "d2", t("2026-10-25T00:30:00Z"), POSITIVE, None)); // 01:30 BST, hour 1
    lines.push(line("x", "d3", t("2026-10-25T01:30:00Z"), NEGATIVE, None)); // 01:30 GMT, hour 2
                                                                            // Reviews at noon UTC (hour 13): the stars decide the label.
    lines.push(line("appstore", "r5", t("2026-10-25T12:00:00Z"), "meh", Some(5)));
    lines.push(line(
        "trustpilot",
        "r4",
        t("2026-10-25T12:01:00Z"),
        "terrible, awful",
        Some(4),
    ));
    lines.push(line("trustpilot", "r2", t("2026-10-25T12:02:00Z"), "lovely!", Some(2)));
    lines.push(line("bluesky", "d4", t("2026-10-25T23:30:00Z"), NEUTRAL, None)); // 23:30 GMT, hour 24
                                                                                 // Hostile text, on the day.
    lines.push(
        json!({
            "source": "x", "id": "evil", "created_at": "2026-10-25T10:00:00Z",
            "author": {"handle": "<b>evil</b>", "followers": 5_000_000},
            "text": "acme air is awful <script>alert(1)</script><img src=x onerror=alert(2)> & worse",
            "url": "javascript:alert(3)",
        })
        .to_string(),
    );
    // The next local day starts at 00:00 GMT on Oct 26.
    lines.push(line("x", "next", t("2026-10-26T00:00:00Z"), POSITIVE, None));
    let feed = dir.join("digest.jsonl");
    std::fs::write(&feed, lines.join("\n")).unwrap();
    feed
}

/// `lines` written to `feed` and replayed into `db`.
fn replay_into(config: &Config, db: &Path, feed: &Path, lines: &[String]) {
    std::fs::write(feed, lines.join("\n")).unwrap();
    let options = ReplayOptions {
        feeds: vec![feed.to_path_buf()],
        db: db.to_path_buf(),
        speed: Speed::Max,
        progress: false,
        time_shift: chrono::Duration::zero(),
        delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
    };
    replay(config, &options).unwrap();
}

/// The fixture replayed into `dir/digest.db` with the quiet demo config.
fn fixture_db(dir: &Path) -> (Config, std::path::PathBuf) {
    let db = dir.join("digest.db");
    let mut config = Config::load_or_demo(None).unwrap();
    config.alerts.channels.clear();
    let options = ReplayOptions {
        feeds: vec![fixture(dir)],
        db: db.clone(),
        speed: Speed::Max,
        progress: false,
        time_shift: chrono::Duration::zero(),
        delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
    };
    replay(&config, &options).unwrap();
    (config, db)
}

fn digest_of(tz: &str, date: NaiveDate) -> (tempfile::TempDir, digest::Digest) {
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = fixture_db(dir.path());
    let conn = store::open_read_only(&db).unwrap();
    let d = digest::compute(&conn, &config.brands, &config.inbox, Some("Acme Air"), date, tz).unwrap();
    (dir, d)
}

#[test]
fn a_daylight_saving_day_is_counted_by_hand() {
    let (_dir, d) = digest_of("Europe/London", NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
    assert_eq!(d.hours, 25);
    assert_eq!(d.from, "2026-10-25T00:00:00+01:00");
    assert_eq!(d.until, "2026-10-26T00:00:00+00:00");
    let b = &d.brands[0];
    let c = b.day.counts;
    // x d1, x d3, trustpilot 2★, the hostile one: negative; bluesky d2, 5★, 4★: positive; d4 neutral.
    assert_eq!((c.total, c.negative, c.positive, c.neutral), (8.0, 4.0, 3.0, 1.0));
    assert_eq!(b.day.net_sentiment, Some((3.0 - 4.0) / 7.0 * 100.0));
    assert_eq!(b.day.ratings.count, 3.0);
    assert_eq!(b.day.nps, Some(0.0)); // one promoter, one passive, one detractor
    assert!((b.day.average_rating.unwrap() - 11.0 / 3.0).abs() < 1e-9);

    let hourly: Vec<(u64, u64)> = b.hourly.iter().map(|h| (h.all, h.negative)).collect();
    assert_eq!(hourly.len(), 25);
    assert_eq!(hourly[0], (1, 1));
    assert_eq!(hourly[1], (1, 0));
    assert_eq!(hourly[2], (1, 1));
    assert_eq!(hourly[11], (1, 1)); // the hostile mention, 10:00 GMT
    assert_eq!(hourly[13], (3, 1));
    assert_eq!(hourly[24], (1, 0));
    assert_eq!(b.hourly[1].start, "2026-10-25T01:00:00+01:00");
    assert_eq!(b.hourly[2].start, "2026-10-25T01:00:00+00:00");

    // The day before: six mastodon mentions and the 23:59 BST negative.
    assert_eq!(b.previous_day.counts.total, 7.0);
    assert!((b.average_7d.counts.total - 43.0 / 7.0).abs() < 1e-9);
    // Mastodon usually brings six a day and brought none: a gap, not a quiet day.
    assert_eq!(b.gaps.len(), 1);
    assert_eq!(b.gaps[0].source, "mastodon");
    assert_eq!(b.gaps[0].usual_per_day, 6.0);

    // Largest reach first; words of the brand and stop words are not complaints.
    assert_eq!(b.top_negative[0].author.as_deref(), Some("<b>evil</b>"));
    assert!(b.complaints.iter().any(|t| t.term == "terrible" && t.count == 2));
    assert!(!b
        .complaints
        .iter()
        .any(|t| t.term == "acme" || t.term == "air" || t.term == "the"));
}

#[test]
fn spring_forward_has_23_hours_and_an_empty_day_is_all_zero() {
    let (_dir, d) = digest_of("Europe/London", NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
    assert_eq!(d.hours, 23);
    assert_eq!(d.brands[0].hourly.len(), 23);
    assert_eq!(d.brands[0].day.counts.total, 0.0);
    assert_eq!(d.brands[0].day.net_sentiment, None);
}

#[test]
fn hostile_mention_text_is_inert_in_html_and_markdown() {
    let (_dir, d) = digest_of("Europe/London", NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
    let html = render::html(&d);
    assert!(!html.contains("<script"), "script tag in the HTML");
    assert!(!html.contains("<img"), "img tag in the HTML");
    assert!(!html.contains("<b>evil"), "author markup in the HTML");
    assert!(!html.contains("javascript:"), "a javascript: link");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;b&gt;evil&lt;/b&gt;"));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"//"),
        "no external assets"
    );

    let md = render::markdown(&d);
    assert!(!md.contains("<script") && !md.contains("<img") && !md.contains("<b>"));

    let json: serde_json::Value = serde_json::from_str(&render::json(&d)).unwrap();
    assert_eq!(json["hours"], 25);
    assert_eq!(json["brands"][0]["day"]["counts"]["negative"], 4.0);
}

#[test]
fn the_digest_says_whether_the_team_answered() {
    use complaint_monitor::inbox::{self, Action};
    let dir = tempfile::tempdir().unwrap();
    let (config, db) = fixture_db(dir.path());
    let date = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
    let id_of = |conn: &rusqlite::Connection, source_id: &str| -> i64 {
        conn.query_row("SELECT id FROM mentions WHERE source_id = ?1", [source_id], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let mut conn = store::open(&db).unwrap();
    let (d1, d3, evil, r2) = (
        id_of(&conn, "d1"),
        id_of(&conn, "d3"),
        id_of(&conn, "evil"),
        id_of(&conn, "r2"),
    );
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let tx = conn.transaction().unwrap();
    let respond = Action::Respond {
        reply_url: Some("https://x.com/acmeairhelp/status/1".into()),
        note: None,
    };
    // d1 (00:30 BST = 23:30Z) answered 30 minutes later; d3 (01:30Z) after 90.
    inbox::apply(&tx, &[d1], &respond, "ana", at("2026-10-25T00:00:00Z")).unwrap();
    inbox::apply(&tx, &[d3], &respond, "ana", at("2026-10-25T03:00:00Z")).unwrap();
    // A response taken back does not count, and its time is not used.
    inbox::apply(&tx, &[evil], &respond, "bo", at("2026-10-25T10:05:00Z")).unwrap();
    inbox::apply(&tx, &[evil], &Action::Undo, "bo", at("2026-10-25T10:06:00Z")).unwrap();
    inbox::apply(
        &tx,
        &[evil],
        &Action::Ignore {
            note: Some("troll".into()),
        },
        "bo",
        at("2026-10-25T10:07:00Z"),
    )
    .unwrap();
    inbox::apply(
        &tx,
        &[r2],
        &Action::Assign { assignee: "cy".into() },
        "ana",
        at("2026-10-25T13:00:00Z"),
    )
    .unwrap();
    tx.commit().unwrap();
    drop(conn);

    let conn = store::open_read_only(&db).unwrap();
    let d = digest::compute(
        &conn,
        &config.brands,
        &config.inbox,
        Some("Acme Air"),
        date,
        "Europe/London",
    )
    .unwrap();
    let r = &d.brands[0].responses;
    assert_eq!((r.negative, r.responded, r.ignored, r.assigned, r.new), (4, 2, 1, 1, 0));
    assert_eq!(r.handled_share, Some(0.75));
    assert_eq!(
        r.median_minutes_to_respond,
        Some(60.0),
        "the median of 30 and 90 minutes"
    );
    let states: Vec<&str> = d.brands[0].top_negative.iter().map(|m| m.state.as_str()).collect();
    assert_eq!(states[0], "ignored", "the hostile mention, largest reach");
    let md = render::markdown(&d);
    assert!(
        md.contains("2 of 4 negative mentions answered, a median of 60 min after posting"),
        "{md}"
    );
    assert!(render::html(&d).contains("2 of 4 negative mentions answered"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_digests_go_out_exactly_once_and_catch_up_after_downtime() {
    let receiver = smtp::Receiver::start(0).await;
    let chat = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&chat)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scheduled.db");
    let files = dir.path().join("digests");
    let mut config = Config::load_or_demo(None).unwrap();
    config.alerts.channels = vec![
        toml::from_str(&format!(
            "name = \"mail\"\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\ntls = \"none\"\n\
             from = \"monitor@example.test\"\nto = [\"managers@example.test\"]\n",
            receiver.port
        ))
        .unwrap(),
        toml::from_str(&format!(
            "name = \"chat\"\nkind = \"slack\"\nurl = \"{}/slack\"\n",
            chat.uri()
        ))
        .unwrap(),
    ];
    config.digest = toml::from_str(&format!(
        "tz = \"Europe/London\"\nsend_at = \"08:00\"\nemail_channel = \"mail\"\nslack_channel = \"chat\"\n\
         directory = {:?}\ncatch_up_days = 3\n",
        files.display().to_string()
    ))
    .unwrap();
    let (replay_config, feed, db2) = (
        {
            let mut c = config.clone();
            c.alerts.channels.clear();
            c
        },
        fixture(dir.path()),
        db.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let options = ReplayOptions {
            feeds: vec![feed],
            db: db2,
            speed: Speed::Max,
            progress: false,
            time_shift: chrono::Duration::zero(),
            delivery_clock: std::sync::Arc::new(complaint_monitor::clock::WallClock),
        };
        replay(&replay_config, &options).unwrap()
    })
    .await
    .unwrap();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);

    // 07:59 on Oct 26: Oct 25's digest is not due yet; the three days before
    // are (the service was down: it catches up).
    let early = digest::schedule::send_due(
        &config.brands,
        &config.inbox,
        &config.digest,
        &config.alerts.channels,
        &db,
        at("2026-10-26T07:59:00Z"),
    )
    .await
    .unwrap();
    let days: Vec<String> = early
        .iter()
        .map(|s| format!("{} {} {}", s.brand, s.date, s.target))
        .collect();
    let mut expected = Vec::new();
    for day in ["2026-10-22", "2026-10-23", "2026-10-24"] {
        for brand in ["Acme Air", "Globex Bank"] {
            for target in ["directory", "mail", "chat"] {
                expected.push(format!("{brand} {day} {target}"));
            }
        }
    }
    assert_eq!(days, expected);
    // After 08:00 local (GMT now): Oct 25 is due. Run twice, as a restarted service would.
    let sent = digest::schedule::send_due(
        &config.brands,
        &config.inbox,
        &config.digest,
        &config.alerts.channels,
        &db,
        at("2026-10-26T08:01:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(sent.len(), 6);
    let again = digest::schedule::send_due(
        &config.brands,
        &config.inbox,
        &config.digest,
        &config.alerts.channels,
        &db,
        at("2026-10-26T09:30:00Z"),
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "sent twice: {again:?}");

    let messages = receiver.messages();
    assert_eq!(messages.len(), 8, "one email per brand per day");
    let acme_25: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains("Subject: Acme Air: mention digest for 2026-10-25"))
        .collect();
    assert_eq!(acme_25.len(), 1);
    assert!(acme_25[0].contains("text/html") && acme_25[0].contains("text/plain"));
    for ext in ["html", "md", "json"] {
        assert!(files.join(format!("acme-air-2026-10-25.{ext}")).exists(), "{ext}");
    }
    let recorded: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM digest_deliveries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 24);
    let posts = chat.received_requests().await.unwrap();
    assert_eq!(posts.len(), 8, "one chat summary per brand per day");
    let texts: Vec<String> = posts
        .iter()
        .map(|p| {
            serde_json::from_slice::<serde_json::Value>(&p.body).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let acme_25 = texts.iter().find(|t| t.starts_with("Acme Air on 2026-10-25")).unwrap();
    assert!(
        acme_25.contains("8 mentions") && acme_25.contains("no data from mastodon"),
        "{acme_25}"
    );
    assert!(!texts.iter().any(|t| t.contains("<script>")), "chat text is escaped");
}

/// Answered detractors who come back positive are won back: a feed in two
/// halves (the complaints, then what their authors said after the answers)
/// replayed around the answers, and the digest JSON's closed loop counted
/// by hand.
#[test]
fn answered_authors_who_come_back_positive_are_counted_as_won_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("loop.db");
    let mut config = Config::load_or_demo(None).unwrap();
    config.alerts.channels.clear();
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let said = |id: &str, author: &str, at: &str, text: &str| {
        json!({"source": "mastodon", "id": id, "created_at": at, "author": {"handle": author, "followers": 50},
               "text": text, "url": format!("https://example.test/{id}")})
        .to_string()
    };
    let replay_lines = |name: &str, lines: Vec<String>| replay_into(&config, &db, &dir.path().join(name), &lines);
    // Nov 10, 09:00: five complaints.
    let authors = ["ann", "ben", "cat", "dan", "eve"];
    replay_lines(
        "complaints.jsonl",
        authors
            .iter()
            .map(|a| said(&format!("c-{a}"), a, "2026-11-10T09:00:00Z", NEGATIVE))
            .collect(),
    );
    // 10:00: the team answers four of them (not eve).
    {
        let mut conn = store::open(&db).unwrap();
        let tx = conn.transaction().unwrap();
        for a in &authors[..4] {
            let id: i64 = tx
                .query_row(
                    "SELECT id FROM mentions WHERE source_id = ?1",
                    [format!("c-{a}")],
                    |r| r.get(0),
                )
                .unwrap();
            let answer = complaint_monitor::inbox::Action::Respond {
                reply_url: None,
                note: Some("answered".into()),
            };
            complaint_monitor::inbox::apply(&tx, &[id], &answer, "ana", t("2026-11-10T10:00:00Z")).unwrap();
        }
        tx.commit().unwrap();
    }
    // Nov 11: ann, ben and cat come back happy, dan is angry again, eve
    // (never answered) is happy too, and ann's word on another network is
    // not the same conversation.
    replay_lines(
        "after.jsonl",
        vec![
            said("f-ann", "ann", "2026-11-11T12:00:00Z", POSITIVE),
            said("f-ben", "ben", "2026-11-11T12:01:00Z", POSITIVE),
            said("f-cat", "cat", "2026-11-11T12:02:00Z", POSITIVE),
            said("f-dan", "dan", "2026-11-11T12:03:00Z", NEGATIVE),
            said("f-eve", "eve", "2026-11-11T12:04:00Z", POSITIVE),
            json!({"source": "bluesky", "id": "f-ann-2", "created_at": "2026-11-11T13:00:00Z",
                   "author": {"handle": "ann"}, "text": NEGATIVE})
            .to_string(),
        ],
    );
    let conn = store::open_read_only(&db).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 12).unwrap();
    let d = digest::compute(&conn, &config.brands, &config.inbox, Some("Acme Air"), day, "UTC").unwrap();
    let json = serde_json::to_value(&d).unwrap();
    let closed = &json["brands"][0]["closed_loop"];
    assert_eq!(
        (
            &closed["responded"],
            &closed["recovered"],
            &closed["lost"],
            &closed["waiting"],
            &closed["no_word"]
        ),
        (&json!(4), &json!(3), &json!(1), &json!(0), &json!(0)),
        "{closed:#}"
    );
    assert_eq!(closed["recovery_rate"], json!(0.75));
    assert_eq!(closed["by_source"]["mastodon"]["recovered"], json!(3));
    assert_eq!(closed["follow_up_days"], json!(14.0));
    let markdown = render::markdown(&d);
    assert!(
        markdown.contains(
            "Of 4 detractors answered in the last 14 days, 3 came back positive, 1 negative again, \
             0 said nothing more, 0 are still in their follow-up window. Recovery rate 75%."
        ),
        "{markdown}"
    );
    // Fifteen days after the answers, one still silent would be "no word";
    // here dan's case was decided: the case page says so.
    let dan: i64 = conn
        .query_row("SELECT id FROM mentions WHERE source_id = 'c-dan'", [], |r| r.get(0))
        .unwrap();
    let case =
        complaint_monitor::closed_loop::case_of(&conn, dan, chrono::Duration::days(14), t("2026-11-12T00:00:00Z"))
            .unwrap()
            .unwrap();
    assert_eq!(case.outcome, complaint_monitor::closed_loop::Outcome::Lost);
    let f_dan: i64 = conn
        .query_row("SELECT id FROM mentions WHERE source_id = 'f-dan'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(case.decided_by, Some(f_dan));
}

/// A review answered and then re-rated up is won back, though it is now
/// positive: the answered version (1★) is in its revisions.
#[test]
fn a_review_re_rated_up_after_the_answer_is_won_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rerated.db");
    let mut config = Config::load_or_demo(None).unwrap();
    config.alerts.channels.clear();
    let review = |at: &str, stars: u8, text: &str| {
        json!({"source": "googleplay", "id": "gp:review-1", "created_at": at, "author": {"handle": "Jo"},
               "text": text, "rating": stars, "brand": "Acme Air"})
        .to_string()
    };
    let replay_line = |name: &str, line: String| replay_into(&config, &db, &dir.path().join(name), &[line]);
    replay_line(
        "first.jsonl",
        review("2026-11-10T09:00:00Z", 1, "Acme Air app crashes at check-in, awful"),
    );
    let id: i64 = {
        let mut conn = store::open(&db).unwrap();
        let tx = conn.transaction().unwrap();
        let id = tx
            .query_row("SELECT id FROM mentions WHERE source_id = 'gp:review-1'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let answer = complaint_monitor::inbox::Action::Respond {
            reply_url: None,
            note: Some("4.2.2 fixes it".into()),
        };
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-10T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        complaint_monitor::inbox::apply(&tx, &[id], &answer, "ana", at).unwrap();
        tx.commit().unwrap();
        id
    };
    // The edit arrives the next day (Google Play dates it by its change).
    replay_line(
        "edit.jsonl",
        review("2026-11-11T12:00:00Z", 5, "Acme Air fixed it, works great now"),
    );
    let conn = store::open_read_only(&db).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-12T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let case = complaint_monitor::closed_loop::case_of(&conn, id, chrono::Duration::days(14), now)
        .unwrap()
        .unwrap();
    assert_eq!(case.outcome, complaint_monitor::closed_loop::Outcome::Recovered);
    assert_eq!((case.rating_when_answered, case.rating_now), (Some(1), Some(5)));
    let d = digest::compute(
        &conn,
        &config.brands,
        &config.inbox,
        Some("Acme Air"),
        NaiveDate::from_ymd_opt(2026, 11, 11).unwrap(),
        "UTC",
    )
    .unwrap();
    let closed = &d.brands[0].closed_loop;
    assert_eq!((closed.total.responded, closed.total.recovered), (1, 1));
    assert_eq!((closed.nps_when_answered, closed.nps_now), (Some(-100.0), Some(100.0)));
}
