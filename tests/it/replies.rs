//! Replies from the inbox, posted through each network's API against a local
//! server that checks the request's shape and auth (answers built to each
//! API's documented bodies, `fixtures/recorded/replies/`), and posted
//! exactly once: an attempt cut off between sending and recording is looked
//! up on the network, not sent again.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use complaint_monitor::clock::{Clock, VirtualClock};
use complaint_monitor::config::Config;
use complaint_monitor::reply::{self, Reply, ReplyStatus, SendStats, Sender};
use complaint_monitor::sources::poll::Limiters;
use complaint_monitor::store::writer::{NewMention, Writer, WriterHandle};
use complaint_monitor::store::{self, StoreError};
use serde_json::json;
use wiremock::matchers::{body_partial_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::sources::{config_with, demo_toml, recorded, service_account_key, GoogleTokenEndpoint};

const NOW: &str = "2026-11-20T14:41:00Z";
/// The brand account's secrets: never in an error, a log line or a page.
const TOKEN: &str = "reply-token-7f3a9c";

fn json_body(file: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(recorded(&format!("replies/{file}")), "application/json")
}

/// A database with mentions, a writer, and a clock the test moves.
struct Desk {
    _dir: tempfile::TempDir,
    db: PathBuf,
    config: Config,
    writer: Option<Writer>,
    handle: WriterHandle,
    clock: Arc<VirtualClock>,
}

impl Desk {
    fn new(sources: &str, env: &[(&str, &str)]) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("replies.db");
        let (writer, handle) = Writer::start(&db, 4).unwrap();
        Desk {
            _dir: dir,
            db,
            config: config_with(sources, env),
            writer: Some(writer),
            handle,
            clock: Arc::new(VirtualClock::starting_at(NOW.parse().unwrap())),
        }
    }

    /// Stores a mention as a poll would and returns its id.
    async fn store(&self, line: serde_json::Value) -> i64 {
        use complaint_monitor::enrich::Enriched;
        let mention = complaint_monitor::mention::Mention::from_feed_line(line.to_string().as_bytes()).unwrap();
        let Enriched::Scored(scored) = self.config.enricher().unwrap().enrich(mention) else {
            panic!("not matched: {line}");
        };
        let (source, id) = (scored.mention.source.clone(), scored.mention.source_id.clone());
        let writer = self.handle.clone();
        let at = self.clock.now();
        tokio::task::spawn_blocking(move || {
            writer
                .write_blocking(vec![NewMention {
                    scored: *scored,
                    ingested_at: at,
                }])
                .unwrap()
        })
        .await
        .unwrap();
        let conn = store::open_read_only(&self.db).unwrap();
        conn.query_row(
            "SELECT id FROM mentions WHERE source = ?1 AND source_id = ?2",
            [source, id],
            |r| r.get(0),
        )
        .unwrap()
    }

    async fn queue(&self, mention: i64, text: &str) -> Result<Reply, StoreError> {
        let (sources, text, at) = (self.config.sources.clone(), text.to_string(), self.clock.now());
        self.handle
            .transact(move |tx| reply::queue(tx, &sources, mention, None, &text, "dana", at))
            .await
    }

    fn sender(&self) -> Sender {
        let clock: Arc<dyn Clock> = self.clock.clone();
        Sender::new(
            &self.config.sources,
            &Limiters::new(&self.config.sources),
            &self.db,
            self.handle.clone(),
            clock,
        )
        .unwrap()
        .with_backoff(Duration::from_millis(1))
    }

    fn reply(&self, id: i64) -> Reply {
        reply::reply(&store::open_read_only(&self.db).unwrap(), id).unwrap()
    }

    fn state(&self, mention: i64) -> (String, Option<String>, Option<String>, Option<String>) {
        store::open_read_only(&self.db)
            .unwrap()
            .query_row(
                "SELECT coalesce(s.state, 'new'), s.updated_by, s.reply_url, s.note FROM mentions m \
                 LEFT JOIN mention_states s ON s.mention_id = m.id WHERE m.id = ?1",
                [mention],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    }

    fn later(&self, seconds: i64) {
        self.clock
            .advance_to(self.clock.now() + chrono::Duration::seconds(seconds));
    }

    /// Stops the writer; the database stays until the returned directory goes.
    async fn finish(mut self) -> tempfile::TempDir {
        drop(self.handle);
        if let Some(writer) = self.writer.take() {
            tokio::task::spawn_blocking(move || writer.finish().unwrap())
                .await
                .unwrap();
        }
        self._dir
    }
}

fn mention(source: &str, id: &str, author: &str, url: &str) -> serde_json::Value {
    json!({
        "source": source, "id": id, "created_at": "2026-11-20T14:20:00Z",
        "author": {"handle": author, "followers": 420},
        "text": "Acme Air lost my bag again. Awful service.",
        "url": url,
    })
}

async fn posts_to(server: &MockServer, route: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method == wiremock::http::Method::POST && r.url.path() == route)
        .count()
}

fn mastodon_source(server: &MockServer) -> String {
    format!(
        "[[sources]]\nname = \"mastodon-acme\"\nkind = \"mastodon\"\nbase_url = \"{}\"\nhashtag = \"acmeair\"\n\
         brand = \"Acme Air\"\nreply = {{ token = \"${{MASTODON_REPLY_TOKEN}}\" }}\n",
        server.uri()
    )
}

async fn mount_mastodon_lookup(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("q", "https://social.example/@alice/109000000000000001"))
        .and(query_param("resolve", "true"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_body("mastodon-search.json"))
        .mount(server)
        .await;
}

const ANSWER: &str = "Sorry about your bag: send us a DM with the file number.";

#[tokio::test]
async fn mastodon_reply_is_threaded_under_the_status_as_the_brands_instance_knows_it() {
    let server = MockServer::start().await;
    mount_mastodon_lookup(&server).await;
    let desk = Desk::new(&mastodon_source(&server), &[("MASTODON_REPLY_TOKEN", TOKEN)]);
    let id = desk
        .store(mention(
            "mastodon",
            "109000000000000001",
            "alice@social.example",
            "https://social.example/@alice/109000000000000001",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    assert_eq!(queued.status, ReplyStatus::Queued);
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("Idempotency-Key", queued_key(&desk, queued.id).as_str()))
        .and(body_partial_json(json!({
            "status": format!("@alice@social.example {ANSWER}"),
            "in_reply_to_id": "113500000000000042",
            "visibility": "public",
        })))
        .respond_with(json_body("mastodon-status-created.json"))
        .expect(1)
        .mount(&server)
        .await;

    let stats = desk.sender().send_due().await.unwrap();
    assert_eq!(
        stats,
        SendStats {
            posted: 1,
            ..SendStats::default()
        }
    );
    let posted = desk.reply(queued.id);
    assert_eq!(posted.status, ReplyStatus::Posted);
    assert_eq!(
        posted.url.as_deref(),
        Some("https://mastodon.social/@acmeair/113500000000000099")
    );
    assert_eq!(posted.posted_at.as_deref(), Some("2026-11-20T14:41:00Z"));
    // The mention is answered by whoever wrote the reply, with its link.
    let (state, by, url, note) = desk.state(id);
    assert_eq!((state.as_str(), by.as_deref()), ("responded", Some("dana")));
    assert_eq!(url, posted.url);
    assert_eq!(note.unwrap(), format!("Replied on mastodon: {ANSWER}"));
    // Nothing more to send.
    assert_eq!(desk.sender().send_due().await.unwrap(), SendStats::default());
    desk.finish().await;
}

fn queued_key(desk: &Desk, reply: i64) -> String {
    store::open_read_only(&desk.db)
        .unwrap()
        .query_row("SELECT key FROM replies WHERE id = ?1", [reply], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn bluesky_reply_carries_the_threads_root_and_parent_and_its_own_record_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .and(body_partial_json(
            json!({"identifier": "acmeair.bsky.social", "password": TOKEN}),
        ))
        .respond_with(json_body("bluesky-create-session.json"))
        .expect(1)
        .mount(&server)
        .await;
    let post = "at://did:plc:alice4u2yqhdlfnfqfnc2m3c/app.bsky.feed.post/3lbqexample2k";
    let jwt = "Bearer eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.session-access";
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .and(query_param("uris", post))
        .and(header("Authorization", jwt))
        .respond_with(json_body("bluesky-get-posts.json"))
        .mount(&server)
        .await;
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"bluesky-acme\"\nkind = \"bluesky\"\nquery = \"acme air\"\n\
             reply = {{ identifier = \"acmeair.bsky.social\", app_password = \"${{BSKY_APP_PASSWORD}}\", service = \"{}\" }}\n",
            server.uri()
        ),
        &[("BSKY_APP_PASSWORD", TOKEN)],
    );
    let id = desk
        .store(mention(
            "bluesky",
            post,
            "alice.bsky.social",
            "https://bsky.app/profile/alice.bsky.social/post/3lbqexample2k",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    let key = queued_key(&desk, queued.id);
    assert_eq!(key.len(), 13, "a TID record key: {key}");
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header("Authorization", jwt))
        .and(body_partial_json(json!({
            "repo": "did:plc:acmeair5dk3nqlwvbzh2xb6",
            "collection": "app.bsky.feed.post",
            "rkey": key,
            "record": {
                "$type": "app.bsky.feed.post",
                "text": ANSWER,
                "reply": {
                    "root": {"uri": "at://did:plc:carol7k2yqhdlfnfqfnc2m3c/app.bsky.feed.post/3lbqroot2222",
                             "cid": "bafyreirootrootrootrootrootrootrootrootrootrootrootrootro"},
                    "parent": {"uri": post, "cid": "bafyreihalsy3vcvv6fzkr3wpqygcuc6fd7dbnvdhbmtzgktl6ruz5ro3oe"},
                },
            },
        })))
        .respond_with(json_body("bluesky-create-record.json"))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(desk.sender().send_due().await.unwrap().posted, 1);
    let posted = desk.reply(queued.id);
    assert_eq!(
        posted.url,
        Some(format!(
            "https://bsky.app/profile/did:plc:acmeair5dk3nqlwvbzh2xb6/post/{key}"
        ))
    );
    assert_eq!(desk.state(id).0, "responded");
    desk.finish().await;
}

#[tokio::test]
async fn x_reply_names_the_post_it_answers_with_the_users_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(json!({
            "text": ANSWER,
            "reply": {"in_reply_to_tweet_id": "1859230000000000001"},
        })))
        .respond_with(
            ResponseTemplate::new(201).set_body_raw(recorded("replies/x-create-tweet.json"), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let desk = Desk::new(&x_source(&server), &[("X_USER_TOKEN", TOKEN)]);
    let id = desk
        .store(mention(
            "x",
            "1859230000000000001",
            "alice",
            "https://x.com/alice/status/1859230000000000001",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    assert_eq!(desk.sender().send_due().await.unwrap().posted, 1);
    assert_eq!(
        desk.reply(queued.id).url.as_deref(),
        Some("https://x.com/i/web/status/1859231000000000099")
    );
    desk.finish().await;
}

fn x_source(server: &MockServer) -> String {
    format!(
        "[[sources]]\nname = \"x-acme\"\nkind = \"x\"\nbase_url = \"{}\"\nquery = \"acme air\"\ntoken = \"app-only\"\n\
         reply = {{ user_token = \"${{X_USER_TOKEN}}\" }}\n",
        server.uri()
    )
}

#[tokio::test]
async fn reddit_reply_signs_in_with_the_accounts_refresh_token_and_waits_out_a_ratelimit() {
    let server = MockServer::start().await;
    // Reddit takes the app's credentials only as HTTP Basic.
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .and(header("Authorization", "Basic YXBwLWlkOmFwcC1zZWNyZXQ="))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains(format!("refresh_token={TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "reddit-user-token", "token_type": "bearer", "expires_in": 86400, "scope": "submit history identity"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let comment = || {
        Mock::given(method("POST"))
            .and(path("/api/comment"))
            .and(header("Authorization", "Bearer reddit-user-token"))
            .and(body_string_contains("thing_id=t3_1gx0001"))
            .and(body_string_contains("api_type=json"))
    };
    comment()
        .respond_with(json_body("reddit-ratelimit.json"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    comment()
        .respond_with(json_body("reddit-comment.json"))
        .mount(&server)
        .await;
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"reddit-acme\"\nkind = \"reddit\"\nbase_url = \"{0}\"\nauth_url = \"{0}/api/v1/access_token\"\n\
             query = \"acme air\"\nclient_id = \"app-id\"\nclient_secret = \"app-secret\"\n\
             reply = {{ username = \"acme_support\", refresh_token = \"${{REDDIT_REFRESH_TOKEN}}\" }}\n",
            server.uri()
        ),
        &[("REDDIT_REFRESH_TOKEN", TOKEN)],
    );
    let id = desk
        .store(mention(
            "reddit",
            "t3_1gx0001",
            "alice",
            "https://www.reddit.com/r/travel/comments/1gx0001/",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    let sender = desk.sender();
    assert_eq!(sender.send_due().await.unwrap().retried, 1);
    let waiting = desk.reply(queued.id);
    assert_eq!(waiting.status, ReplyStatus::Queued, "a RATELIMIT posted nothing");
    assert!(
        waiting.last_error.as_deref().unwrap().contains("RATELIMIT"),
        "{waiting:?}"
    );
    assert_eq!(desk.state(id).0, "new");
    // Reddit said how long to wait (`ratelimit`, seconds): not before.
    desk.later(120);
    assert_eq!(sender.send_due().await.unwrap(), SendStats::default());
    desk.later(61);
    assert_eq!(sender.send_due().await.unwrap().posted, 1);
    drop(sender);
    let posted = desk.reply(queued.id);
    assert_eq!(
        posted.url.as_deref(),
        Some("https://www.reddit.com/r/travel/comments/1gx0001/acme_air_lost_my_bag/lx1abcd/")
    );
    assert_eq!(posted.attempts, 2);
    desk.finish().await;
}

#[tokio::test]
async fn youtube_reply_goes_under_the_thread_as_the_brands_channel() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("client_id=yt-client"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.channel-token", "expires_in": 3599, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/youtube/v3/comments"))
        .and(query_param("part", "snippet"))
        .and(header("Authorization", "Bearer ya29.channel-token"))
        .and(body_partial_json(json!({
            "snippet": {"parentId": "UgzAcmeThread0001AaABAg", "textOriginal": ANSWER},
        })))
        .respond_with(json_body("youtube-comment-inserted.json"))
        .expect(1)
        .mount(&server)
        .await;
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"youtube-acme\"\nkind = \"youtube\"\nbase_url = \"{0}\"\nvideo_id = \"dQw4w9WgXcQ\"\napi_key = \"key\"\n\
             reply = {{ client_id = \"yt-client\", client_secret = \"yt-secret\", refresh_token = \"${{YT_REFRESH_TOKEN}}\", auth_url = \"{0}/token\" }}\n",
            server.uri()
        ),
        &[("YT_REFRESH_TOKEN", TOKEN)],
    );
    let id = desk
        .store(mention(
            "youtube",
            "UgzAcmeThread0001AaABAg",
            "@alice",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAcmeThread0001AaABAg",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    assert_eq!(desk.sender().send_due().await.unwrap().posted, 1);
    assert_eq!(
        desk.reply(queued.id).url.as_deref(),
        Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzAcmeThread0001AaABAg.AcmeReply0099")
    );
    desk.finish().await;
}

#[tokio::test]
async fn google_play_reply_answers_the_review_as_the_developer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(GoogleTokenEndpoint {
            audience: format!("{}/token", server.uri()),
            exchanges: Arc::new(Mutex::new(0)),
        })
        .mount(&server)
        .await;
    let text = "Sorry about the crash: version 4.2.2 fixes check-in. Tell us if it does not.";
    Mock::given(method("POST"))
        .and(path(
            "/androidpublisher/v3/applications/com.acme.air/reviews/gp:AOqpTOH7x1QmAcmeAir0001:reply",
        ))
        .and(header("Authorization", "Bearer ya29.test-token"))
        .and(body_partial_json(json!({"replyText": text})))
        .respond_with(json_body("googleplay-reply.json"))
        .expect(1)
        .mount(&server)
        .await;
    let key = service_account_key(&format!("{}/token", server.uri()));
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"play\"\nkind = \"googleplay\"\nbase_url = \"{}\"\npackage_name = \"com.acme.air\"\n\
             service_account = \"${{GOOGLE_PLAY_KEY}}\"\nbrand = \"Acme Air\"\nreply = true\n",
            server.uri()
        ),
        &[("GOOGLE_PLAY_KEY", &key)],
    );
    let mut review = mention(
        "googleplay",
        "gp:AOqpTOH7x1QmAcmeAir0001",
        "Jo",
        "https://play.google.com/store/apps/details?id=com.acme.air&reviewId=gp:AOqpTOH7x1QmAcmeAir0001",
    );
    review["rating"] = json!(1);
    let id = desk.store(review).await;
    // The token endpoint checks the assertion's times against its own clock.
    desk.clock.advance_to(chrono::Utc::now());
    // Google Play takes 350 characters.
    let long = "x".repeat(351);
    let refused = desk.queue(id, &long).await.unwrap_err().to_string();
    assert_eq!(refused, "the reply has 351 characters; googleplay takes at most 350");
    let queued = desk.queue(id, text).await.unwrap();
    assert_eq!(
        desk.sender().send_due().await.unwrap().posted,
        1,
        "{:?}",
        desk.reply(queued.id)
    );
    assert_eq!(desk.reply(queued.id).status, ReplyStatus::Posted);
    desk.finish().await;
}

#[tokio::test]
async fn a_kill_between_sending_and_recording_never_posts_twice() {
    let server = MockServer::start().await;
    mount_mastodon_lookup(&server).await;
    // The network takes the reply but its answer never arrives: the
    // process is killed while waiting (the send is dropped mid-request).
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(json_body("mastodon-status-created.json").set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let desk = Desk::new(&mastodon_source(&server), &[("MASTODON_REPLY_TOKEN", TOKEN)]);
    let id = desk
        .store(mention(
            "mastodon",
            "109000000000000001",
            "alice@social.example",
            "https://social.example/@alice/109000000000000001",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    let killed = tokio::time::timeout(Duration::from_millis(1500), desk.sender().send_due()).await;
    assert!(killed.is_err(), "the send was cut off");
    assert_eq!(posts_to(&server, "/api/v1/statuses").await, 1);
    let cut = desk.reply(queued.id);
    assert_eq!(
        (cut.status, cut.attempts),
        (ReplyStatus::Sending, 1),
        "the attempt was on disk first"
    );

    // The next process asks the thread before sending anything.
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .respond_with(json_body("mastodon-verify-credentials.json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses/113500000000000042/context"))
        .respond_with(json_body("mastodon-context.json"))
        .mount(&server)
        .await;
    let stats = desk.sender().send_due().await.unwrap();
    assert_eq!(
        stats,
        SendStats {
            found: 1,
            ..SendStats::default()
        }
    );
    assert_eq!(posts_to(&server, "/api/v1/statuses").await, 1, "never posted twice");
    let found = desk.reply(queued.id);
    assert_eq!(found.status, ReplyStatus::Posted);
    assert_eq!(
        found.url.as_deref(),
        Some("https://mastodon.social/@acmeair/113500000000000099")
    );
    assert_eq!(desk.state(id).0, "responded");
    desk.finish().await;
}

#[tokio::test]
async fn a_bluesky_attempt_cut_off_is_found_by_its_record_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(json_body("bluesky-create-session.json"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .respond_with(json_body("bluesky-get-posts.json"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"bluesky-acme\"\nkind = \"bluesky\"\nquery = \"acme air\"\n\
             reply = {{ identifier = \"acmeair.bsky.social\", app_password = \"{TOKEN}\", service = \"{}\" }}\n",
            server.uri()
        ),
        &[],
    );
    let post = "at://did:plc:alice4u2yqhdlfnfqfnc2m3c/app.bsky.feed.post/3lbqexample2k";
    let id = desk
        .store(mention("bluesky", post, "alice.bsky.social", "https://bsky.app/"))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    let key = queued_key(&desk, queued.id);
    // A 502 from a proxy: the PDS may or may not have written the record.
    assert_eq!(desk.sender().send_due().await.unwrap().retried, 1);
    assert_eq!(desk.reply(queued.id).status, ReplyStatus::Sending);
    // It had: the record under the reply's own key is there.
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", "did:plc:acmeair5dk3nqlwvbzh2xb6"))
        .and(query_param("rkey", key.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": format!("at://did:plc:acmeair5dk3nqlwvbzh2xb6/app.bsky.feed.post/{key}"),
            "cid": "bafyreiacmeairreplyacmeairreplyacmeairreplyacmeairreplyac",
            "value": {"$type": "app.bsky.feed.post", "text": ANSWER, "createdAt": NOW},
        })))
        .mount(&server)
        .await;
    desk.later(60);
    assert_eq!(desk.sender().send_due().await.unwrap().found, 1);
    assert_eq!(posts_to(&server, "/xrpc/com.atproto.repo.createRecord").await, 1);
    assert_eq!(desk.reply(queued.id).status, ReplyStatus::Posted);
    desk.finish().await;
}

#[tokio::test]
async fn an_unknown_outcome_that_did_not_post_is_sent_again_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(201).set_body_raw(recorded("replies/x-create-tweet.json"), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .respond_with(json_body("x-users-me.json"))
        .mount(&server)
        .await;
    // The account's posts since the attempt: none answers this one.
    Mock::given(method("GET"))
        .and(path("/2/users/2244994945/tweets"))
        .and(query_param("start_time", "2026-11-20T14:36:00Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})))
        .mount(&server)
        .await;
    let desk = Desk::new(&x_source(&server), &[("X_USER_TOKEN", TOKEN)]);
    let id = desk
        .store(mention(
            "x",
            "1859230000000000777",
            "alice",
            "https://x.com/alice/status/1859230000000000777",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    assert_eq!(desk.sender().send_due().await.unwrap().retried, 1);
    let doubt = desk.reply(queued.id);
    assert_eq!(doubt.status, ReplyStatus::Sending);
    assert!(
        doubt.last_error.as_deref().unwrap().contains("may have been posted"),
        "{doubt:?}"
    );
    desk.later(60);
    assert_eq!(desk.sender().send_due().await.unwrap().posted, 1);
    assert_eq!(posts_to(&server, "/2/tweets").await, 2);
    assert_eq!(desk.reply(queued.id).status, ReplyStatus::Posted);
    desk.finish().await;
}

#[tokio::test]
async fn a_refusal_keeps_the_networks_reason_and_never_the_secret() {
    let server = MockServer::start().await;
    mount_mastodon_lookup(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": "This action is not allowed"})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let desk = Desk::new(&mastodon_source(&server), &[("MASTODON_REPLY_TOKEN", TOKEN)]);
    let id = desk
        .store(mention(
            "mastodon",
            "109000000000000001",
            "alice@social.example",
            "https://social.example/@alice/109000000000000001",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    assert_eq!(desk.sender().send_due().await.unwrap().failed, 1);
    let failed = desk.reply(queued.id);
    assert_eq!(failed.status, ReplyStatus::Failed);
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the network answered 403 Forbidden: This action is not allowed")
    );
    assert!(!format!("{failed:?}{:?}", desk.config).contains(TOKEN));
    assert_eq!(desk.state(id).0, "new", "not answered");
    // Tried again, it goes.
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(json_body("mastodon-status-created.json"))
        .mount(&server)
        .await;
    let at = desk.clock.now();
    let again = desk
        .handle
        .transact(move |tx| reply::retry(tx, queued.id, at))
        .await
        .unwrap();
    assert_eq!(again.status, ReplyStatus::Queued);
    assert_eq!(desk.sender().send_due().await.unwrap().posted, 1);
    desk.finish().await;
}

#[tokio::test]
async fn no_account_means_reply_there_and_one_reply_at_a_time() {
    let server = MockServer::start().await;
    let desk = Desk::new(&mastodon_source(&server), &[("MASTODON_REPLY_TOKEN", TOKEN)]);
    let hn = desk
        .store(mention(
            "hackernews",
            "4242",
            "bob",
            "https://news.ycombinator.com/item?id=4242",
        ))
        .await;
    let refused = desk.queue(hn, ANSWER).await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict(_)));
    assert_eq!(
        refused.to_string(),
        "no account is configured to reply on hackernews; reply there: https://news.ycombinator.com/item?id=4242"
    );
    let id = desk
        .store(mention(
            "mastodon",
            "1",
            "alice@social.example",
            "https://social.example/@alice/1",
        ))
        .await;
    assert_eq!(
        desk.queue(id, "  ").await.unwrap_err().to_string(),
        "the reply is empty (text)"
    );
    desk.queue(id, ANSWER).await.unwrap();
    let twice = desk.queue(id, ANSWER).await.unwrap_err().to_string();
    assert_eq!(
        twice,
        format!("a reply to mention {id} is still being posted; wait for it before sending another")
    );
    desk.finish().await;
}

#[test]
fn templates_fill_in_the_author_and_the_brand() {
    assert_eq!(
        reply::fill("Hi {author}, {brand} here: sorry!", Some("alice"), "Acme Air"),
        "Hi alice, Acme Air here: sorry!"
    );
    assert_eq!(reply::fill("Hi {author}", None, "Acme Air"), "Hi there");
}

#[tokio::test]
async fn mentions_reply_on_the_command_line_posts_when_no_service_runs() {
    let server = MockServer::start().await;
    mount_mastodon_lookup(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("Authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_body("mastodon-status-created.json"))
        .expect(1)
        .mount(&server)
        .await;
    let desk = Desk::new(&mastodon_source(&server), &[("MASTODON_REPLY_TOKEN", TOKEN)]);
    let id = desk
        .store(mention(
            "mastodon",
            "109000000000000001",
            "alice@social.example",
            "https://social.example/@alice/109000000000000001",
        ))
        .await;
    let db = desk.db.clone();
    let config = db.with_file_name("replies.toml");
    std::fs::write(&config, format!("{}\n{}", demo_toml(), mastodon_source(&server))).unwrap();
    let _dir = desk.finish().await;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
            .args(["mentions", "reply", &id.to_string(), "--text", ANSWER, "--by", "dana"])
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(&db)
            .env("MASTODON_REPLY_TOKEN", TOKEN)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("mention {id} answered on mastodon: https://mastodon.social/@acmeair/113500000000000099")
    );
    assert!(!format!("{stdout}{stderr}").contains(TOKEN));
}

#[tokio::test]
async fn app_store_connect_response_names_the_review_and_is_found_after_a_timeout() {
    let server = MockServer::start().await;
    let review = "00000000-acme-0000-0000-000000000017";
    // Apple's gateway times out after taking the response.
    Mock::given(method("POST"))
        .and(path("/v1/customerReviewResponses"))
        .and(body_partial_json(json!({"data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": ANSWER},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": review}}},
        }})))
        .respond_with(ResponseTemplate::new(504))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/customerReviews/{review}/response")))
        .respond_with(json_body("appstoreconnect-response-created.json"))
        .mount(&server)
        .await;
    let key = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/test-ec-private.p8"),
    )
    .unwrap();
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"asc\"\nkind = \"appstoreconnect\"\nbase_url = \"{}\"\napp_id = \"900000000\"\n\
             issuer_id = \"57246542-96fe-1a63-e053-0824d011072a\"\nkey_id = \"2X9R4HXF34\"\nprivate_key = \"${{ASC_KEY}}\"\n\
             brand = \"Acme Air\"\nreply = true\n",
            server.uri()
        ),
        &[("ASC_KEY", &key)],
    );
    let mut line = mention(
        "appstoreconnect",
        review,
        "jo",
        "https://apps.apple.com/app/id900000000",
    );
    line["rating"] = json!(1);
    let id = desk.store(line).await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    assert_eq!(desk.sender().send_due().await.unwrap().retried, 1);
    desk.later(60);
    assert_eq!(desk.sender().send_due().await.unwrap().found, 1);
    let found = desk.reply(queued.id);
    assert_eq!(found.status, ReplyStatus::Posted);
    assert_eq!(posts_to(&server, "/v1/customerReviewResponses").await, 1);
    desk.finish().await;
}

#[tokio::test]
async fn google_business_reply_is_put_on_the_review() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.business", "expires_in": 3599, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    let text = "Sorry about the wait at the desk, Jo: we have added staff for the morning flights.";
    Mock::given(method("PUT"))
        .and(path(
            "/v4/accounts/112233445566778899/locations/9876543210123456789/reviews/AbFvOqk-review-0001/reply",
        ))
        .and(header("Authorization", "Bearer ya29.business"))
        .and(body_partial_json(json!({"comment": text})))
        .respond_with(json_body("google-business-reply.json"))
        .expect(1)
        .mount(&server)
        .await;
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"gbp\"\nkind = \"google_business\"\nbase_url = \"{uri}\"\nauth_url = \"{uri}/token\"\n\
             account_id = \"112233445566778899\"\nlocation_id = \"9876543210123456789\"\nclient_id = \"gbp-client\"\n\
             client_secret = \"gbp-secret\"\nrefresh_token = \"{TOKEN}\"\nbrand = \"Acme Air\"\nreply = true\n",
            uri = server.uri()
        ),
        &[],
    );
    let mut line = mention(
        "google_business",
        "AbFvOqk-review-0001",
        "Jo",
        "https://maps.google.com/?cid=1",
    );
    line["rating"] = json!(2);
    let id = desk.store(line).await;
    let queued = desk.queue(id, text).await.unwrap();
    assert_eq!(desk.sender().send_due().await.unwrap().posted, 1);
    assert_eq!(desk.reply(queued.id).status, ReplyStatus::Posted);
    desk.finish().await;
}

#[tokio::test]
async fn facebook_and_instagram_comments_are_answered_under_the_comment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v21.0/122100000000000042_998877/comments"))
        .and(header("Authorization", "Bearer page-token"))
        .and(body_string_contains("message=Sorry+about+your+bag"))
        .respond_with(json_body("facebook-comment-created.json"))
        .expect(1)
        .mount(&server)
        .await;
    // Instagram's answer is cut off; the replies edge shows it was posted.
    Mock::given(method("POST"))
        .and(path("/v21.0/17890000000000042/replies"))
        .and(header("Authorization", "Bearer page-token"))
        .respond_with(json_body("instagram-reply-created.json").set_delay(Duration::from_secs(30)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v21.0/17890000000000042/replies"))
        .and(query_param("fields", "id,username,timestamp"))
        .respond_with(json_body("instagram-replies.json"))
        .mount(&server)
        .await;
    let desk = Desk::new(
        &format!(
            "[[sources]]\nname = \"fb\"\nkind = \"facebook\"\nbase_url = \"{0}\"\npage_id = \"104523000000001\"\n\
             access_token = \"page-token\"\nbrand = \"Acme Air\"\nreply = true\n\
             [[sources]]\nname = \"ig\"\nkind = \"instagram\"\nbase_url = \"{0}\"\nig_user_id = \"17841400000000001\"\n\
             username = \"acmeair\"\naccess_token = \"page-token\"\nbrand = \"Acme Air\"\nreply = true\n",
            server.uri()
        ),
        &[],
    );
    let fb = desk
        .store(mention(
            "facebook",
            "122100000000000042_998877",
            "Alice",
            "https://www.facebook.com/1/posts/2",
        ))
        .await;
    let ig = desk
        .store(mention(
            "instagram",
            "17890000000000042",
            "alice",
            "https://www.instagram.com/p/C0acme/",
        ))
        .await;
    let fb_reply = desk.queue(fb, ANSWER).await.unwrap();
    let ig_reply = desk.queue(ig, ANSWER).await.unwrap();
    let cut = tokio::time::timeout(Duration::from_millis(1500), desk.sender().send_due()).await;
    assert!(cut.is_err());
    assert_eq!(desk.reply(fb_reply.id).status, ReplyStatus::Posted);
    assert_eq!(desk.reply(ig_reply.id).status, ReplyStatus::Sending);
    assert_eq!(desk.sender().send_due().await.unwrap().found, 1);
    let found = desk.reply(ig_reply.id);
    assert_eq!(found.status, ReplyStatus::Posted);
    assert_eq!(posts_to(&server, "/v21.0/17890000000000042/replies").await, 1);
    desk.finish().await;
}

/// The real thing: `run` is killed with SIGKILL while the network holds the
/// reply's request; the next `run` finds the reply in the thread and
/// records it, and the network is never sent it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_killed_mid_reply_never_posts_it_twice() {
    use std::process::{Command, Stdio};
    let server = MockServer::start().await;
    mount_mastodon_lookup(&server).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/acmeair"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(json_body("mastodon-status-created.json").set_delay(Duration::from_secs(120)))
        .mount(&server)
        .await;
    let desk = Desk::new(&mastodon_source(&server), &[("MASTODON_REPLY_TOKEN", TOKEN)]);
    let id = desk
        .store(mention(
            "mastodon",
            "109000000000000001",
            "alice@social.example",
            "https://social.example/@alice/109000000000000001",
        ))
        .await;
    let queued = desk.queue(id, ANSWER).await.unwrap();
    let db = desk.db.clone();
    let config = db.with_file_name("run.toml");
    std::fs::write(&config, format!("{}\n{}", demo_toml(), mastodon_source(&server))).unwrap();
    let _dir = desk.finish().await;
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_complaint-monitor"))
            .args(["run", "--no-web", "--config"])
            .arg(&config)
            .arg("--db")
            .arg(&db)
            .env("MASTODON_REPLY_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let status = |db: &std::path::Path| -> String {
        store::open_read_only(db)
            .unwrap()
            .query_row("SELECT status FROM replies WHERE id = ?1", [queued.id], |r| r.get(0))
            .unwrap()
    };
    let mut first = start();
    let waited = std::time::Instant::now();
    while posts_to(&server, "/api/v1/statuses").await == 0 {
        assert!(waited.elapsed() < Duration::from_secs(30), "run never sent the reply");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(status(&db), "sending", "the attempt was recorded before the request");

    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .respond_with(json_body("mastodon-verify-credentials.json"))
        .mount(&server)
        .await;
    // The brand's reply in the thread, posted by the killed run moments ago.
    let thread = recorded("replies/mastodon-context.json").replace(
        "2026-11-20T14:41:02.315Z",
        &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    );
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses/113500000000000042/context"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(thread, "application/json"))
        .mount(&server)
        .await;
    let mut second = start();
    let waited = std::time::Instant::now();
    while status(&db) != "posted" {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the restarted run never settled the reply"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(posts_to(&server, "/api/v1/statuses").await, 1, "posted once");
}

/// A 429 on a reply holds the source's polling too, and a source the
/// network told to wait holds its replies: one account, one limit.
#[tokio::test]
async fn the_networks_wait_is_shared_by_replies_and_polling() {
    let server = MockServer::start().await;
    mount_mastodon_lookup(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_json(json!({"error": "Too many requests"})),
        )
        .mount(&server)
        .await;
    let desk = Desk::new(&mastodon_source(&server), &[("MASTODON_REPLY_TOKEN", TOKEN)]);
    let a = desk
        .store(mention(
            "mastodon",
            "109000000000000001",
            "alice@social.example",
            "https://social.example/@alice/109000000000000001",
        ))
        .await;
    let b = desk
        .store(mention(
            "mastodon",
            "109000000000000002",
            "bob@social.example",
            "https://social.example/@bob/109000000000000002",
        ))
        .await;
    // The source has polled before (its state row exists).
    desk.handle
        .transact(|tx| {
            tx.execute(
                "INSERT INTO source_state (source, last_success) VALUES ('mastodon-acme', 0)",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let first = desk.queue(a, ANSWER).await.unwrap();
    assert_eq!(desk.sender().send_due().await.unwrap().retried, 1);
    let held: i64 = store::open_read_only(&desk.db)
        .unwrap()
        .query_row(
            "SELECT rate_limited_until FROM source_state WHERE source = 'mastodon-acme'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        held,
        (desk.clock.now() + chrono::Duration::seconds(120)).timestamp_millis()
    );
    // A second reply from the same account does not knock meanwhile.
    let second = desk.queue(b, ANSWER).await.unwrap();
    desk.later(30);
    let before = posts_to(&server, "/api/v1/statuses").await;
    assert_eq!(desk.sender().send_due().await.unwrap().retried, 1);
    assert_eq!(posts_to(&server, "/api/v1/statuses").await, before);
    let waiting = desk.reply(second.id);
    assert_eq!((waiting.status, waiting.attempts), (ReplyStatus::Queued, 0));
    assert_eq!(
        waiting.last_error.as_deref(),
        Some("mastodon asked mastodon-acme to wait until 2026-11-20T14:43:00Z")
    );
    assert_eq!(desk.reply(first.id).attempts, 1);
    desk.finish().await;
}
