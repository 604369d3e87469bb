//! The UI end to end in a real browser: Debian's headless Chromium driven
//! through ChromeDriver (WebDriver, via fantoccini). It loads the inbox from
//! a replayed feed, checks hostile text stays inert, marks a mention
//! responded, sees a new mention arrive live without a reload, acknowledges
//! an alert, and checks the database.
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them). Without
//! them the test says so and passes, unless `REQUIRE_BROWSER_TESTS=1`
//! (set by `.ci/run`), when it fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use complaint_monitor::store;
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::support::web::{fixture_db, TestServer};

fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join(program))
        .find(|p| p.is_file())
}

/// Kills ChromeDriver (and the browser it started) when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver(chromedriver: &PathBuf) -> (Driver, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Driver(child), port)
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A headless Chromium session through ChromeDriver, or `None` (the test
/// then passes) when they are not installed and not required.
async fn start_browser(dir: &std::path::Path) -> Option<(Driver, fantoccini::Client)> {
    let (Some(chromedriver), Some(chromium)) = (find("chromedriver"), find("chromium")) else {
        assert!(
            std::env::var("REQUIRE_BROWSER_TESTS").as_deref() != Ok("1"),
            "chromium and chromedriver are required (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: chromium or chromedriver not installed");
        return None;
    };
    let (driver, port) = start_driver(&chromedriver);
    let profile = dir.join("chromium-profile");
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1400,1000", format!("--user-data-dir={}", profile.display())]
        }),
    );
    // ChromeDriver speaks plain HTTP on loopback: no TLS stack needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    Some((driver, browser))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn care_staff_answer_a_mention_and_acknowledge_an_alert_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_driver, browser)) = start_browser(dir.path()).await else {
        return;
    };
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;

    // The inbox, highest priority first; the hostile post is shown as text.
    browser.goto(&server.url("/")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Css("#rows input[name=id]"))
        .await
        .unwrap();
    let pwned = browser
        .execute("return window.__pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, json!(true), "a script in a mention ran");
    let page = browser.source().await.unwrap();
    assert!(
        page.contains("&lt;script&gt;window.__pwned"),
        "the hostile text is shown as text"
    );

    // Wait for the live connection and the refresh it brings, so no row
    // is replaced under the clicks below.
    eventually("the live connection's first refresh", || async {
        let refreshed = browser
            .execute("return Number(document.body.dataset.refreshed || 0)", vec![])
            .await
            .unwrap();
        refreshed.as_i64().unwrap_or(0) >= 1
    })
    .await;

    // Tick the top mention, give the reply link and our name, mark responded.
    let first = browser.find(Locator::Css("#rows input[name=id]")).await.unwrap();
    let id: i64 = first.attr("value").await.unwrap().unwrap().parse().unwrap();
    first.click().await.unwrap();
    browser
        .find(Locator::Css("#actions input[name=by]"))
        .await
        .unwrap()
        .send_keys("ana")
        .await
        .unwrap();
    browser
        .find(Locator::Css("#actions input[name=reply_url]"))
        .await
        .unwrap()
        .send_keys("https://x.com/acmeairhelp/status/42")
        .await
        .unwrap();
    browser
        .find(Locator::Css("button[value=respond]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Read in one go: live refreshes replace the rows at any moment.
    let row_ids = "return [...document.querySelectorAll('#rows input[name=id]')].map(b => b.value)";
    eventually("the answered mention to leave the open inbox", || async {
        let ids = browser.execute(row_ids, vec![]).await.unwrap();
        let ids: Vec<String> = serde_json::from_value(ids).unwrap_or_default();
        !ids.is_empty() && !ids.contains(&id.to_string())
    })
    .await;
    // The name is remembered for the next action.
    let remembered = browser
        .execute("return localStorage.getItem('cm_by')", vec![])
        .await
        .unwrap();
    assert_eq!(remembered, json!("ana"));

    // A new complaint arrives while the page is open: it appears without a reload.
    browser.execute("window.__same_page = true", vec![]).await.unwrap();
    eventually("the live connection after the reload", || async {
        let refreshed = browser
            .execute("return Number(document.body.dataset.refreshed || 0)", vec![])
            .await
            .unwrap();
        refreshed.as_i64().unwrap_or(0) >= 1
    })
    .await;
    let line = json!({"source": "x", "id": "browser-live-1", "created_at": "2026-11-20T14:39:30Z",
        "author": {"handle": "livewire", "followers": 9_000_000},
        "text": "Acme Air stranded 200 of us in Lisbon overnight. Awful, disgusting service."});
    server.store_line(line).await;
    eventually("the live mention in the open page", || async {
        browser.source().await.unwrap().contains("stranded 200 of us in Lisbon")
    })
    .await;
    let same = browser
        .execute("return window.__same_page === true", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!(true), "the page was reloaded instead of updated");

    // Acknowledge the firing incident from the alerts page.
    browser.goto(&server.url("/alerts")).await.unwrap();
    let form = browser
        .wait()
        .for_element(Locator::Css("form[action^='/alerts/']"))
        .await
        .unwrap();
    let by = form.find(Locator::Css("input[name=by]")).await.unwrap();
    let filled = by.prop("value").await.unwrap().unwrap_or_default();
    if filled.is_empty() {
        by.send_keys("ana").await.unwrap();
    }
    form.find(Locator::Css("input[name=note]"))
        .await
        .unwrap()
        .send_keys("calling the Lisbon station")
        .await
        .unwrap();
    form.find(Locator::Css("button[value=ack]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the acknowledged incident", || async {
        browser.source().await.unwrap().contains("Acknowledged by ana")
    })
    .await;

    // Once an account exists everyone signs in: a manager does, through the
    // form under the same CSP, resolves the incident as herself, signs out.
    crate::support::web::add_user(&db, "mo", complaint_monitor::accounts::Role::Manager);
    browser.goto(&server.url("/alerts")).await.unwrap();
    let login = browser
        .wait()
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .unwrap();
    login
        .find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("mo")
        .await
        .unwrap();
    login
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(crate::support::web::PASSWORD)
        .await
        .unwrap();
    login
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the signed-in inbox", || async {
        browser.source().await.unwrap().contains("mo · manager")
    })
    .await;
    browser.goto(&server.url("/alerts")).await.unwrap();
    let form = browser
        .wait()
        .for_element(Locator::Css("form[action^='/alerts/']"))
        .await
        .unwrap();
    assert!(
        form.find(Locator::Css("input[name=by]")).await.is_err(),
        "a signed-in manager does not type her name"
    );
    form.find(Locator::Css("button[value=resolve]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the incident resolved by mo", || async {
        browser.source().await.unwrap().contains(" by mo")
    })
    .await;
    browser
        .find(Locator::Css("form.signout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .unwrap();
    browser.goto(&server.url("/")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Css("form[action='/login']"))
        .await
        .expect("signed out, the inbox asks to sign in again");
    browser.close().await.unwrap();
    server.stop().await;

    // Both are stored, with who and when.
    let conn = store::open_read_only(&db).unwrap();
    let (state, by, reply): (String, String, String) = conn
        .query_row(
            "SELECT state, updated_by, reply_url FROM mention_states WHERE mention_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (state.as_str(), by.as_str(), reply.as_str()),
        ("responded", "ana", "https://x.com/acmeairhelp/status/42")
    );
    let (incident_state, acked_by, note, resolved_by): (String, String, String, String) = conn
        .query_row(
            "SELECT state, acknowledged_by, ack_note, resolved_by FROM incidents WHERE acknowledged_by IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (
            incident_state.as_str(),
            acked_by.as_str(),
            note.as_str(),
            resolved_by.as_str()
        ),
        ("resolved", "ana", "calling the Lisbon station", "mo")
    );
}

/// Presses each key of `keys` in the focused page (`\u{E007}` is Enter).
async fn press(browser: &fantoccini::Client, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    browser.perform_actions(actions).await.unwrap();
}

async fn script(browser: &fantoccini::Client, code: &str) -> serde_json::Value {
    browser.execute(code, vec![]).await.unwrap()
}

const ROW_IDS: &str = "return [...document.querySelectorAll('#rows tr[data-id]')].map(r => Number(r.dataset.id))";

async fn row_ids(browser: &fantoccini::Client) -> Vec<i64> {
    serde_json::from_value(script(browser, ROW_IDS).await).unwrap_or_default()
}

/// Opens `url` and waits until its live connection has brought the first refresh.
async fn open_live(browser: &fantoccini::Client, url: &str) {
    browser.goto(url).await.unwrap();
    eventually("the page's live connection", || async {
        script(browser, "return Number(document.body.dataset.refreshed || 0)")
            .await
            .as_i64()
            .unwrap_or(0)
            >= 1
    })
    .await;
}

/// Saves a screenshot under `docs/images/` with `UPDATE_SCREENSHOTS=1`,
/// else into the test's own folder.
async fn screenshot(browser: &fantoccini::Client, dir: &std::path::Path, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = if std::env::var("UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/images").join(name)
    } else {
        dir.join(name)
    };
    std::fs::write(path, png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_pages_searches_corrects_works_from_the_keyboard_and_holds_ten_tabs_and_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_driver, browser)) = start_browser(dir.path()).await else {
        return;
    };
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start(&db).await;

    // Paging: the next page holds other rows; "First page" comes back.
    open_live(&browser, &server.url("/")).await;
    screenshot(&browser, dir.path(), "inbox.png").await;
    let first = row_ids(&browser).await;
    assert_eq!(first.len(), 50, "a full first page");
    browser
        .find(Locator::Css("#next-page"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the second page", || async {
        browser.current_url().await.unwrap().as_str().contains("after=")
    })
    .await;
    let second = row_ids(&browser).await;
    assert!(
        !second.is_empty() && second.iter().all(|id| !first.contains(id)),
        "{second:?}"
    );
    browser
        .find(Locator::Css("#first-page"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the first page again", || async { row_ids(&browser).await == first }).await;

    // Search: every row found has the word; the field keeps it.
    let q = browser.find(Locator::Css("form.filters input[name=q]")).await.unwrap();
    q.send_keys("refund").await.unwrap();
    browser
        .find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the search results", || async {
        browser.current_url().await.unwrap().as_str().contains("q=refund")
    })
    .await;
    let texts = script(
        &browser,
        "return [...document.querySelectorAll('#rows td.text')].map(t => t.textContent.toLowerCase())",
    )
    .await;
    let texts: Vec<String> = serde_json::from_value(texts).unwrap();
    assert!(
        !texts.is_empty() && texts.iter().all(|t| t.contains("refund")),
        "{texts:?}"
    );

    // Keyboard only: j to the first row, x to select it, r to the note,
    // type it, Enter. The toast says so; u undoes it.
    open_live(&browser, &server.url("/")).await;
    let top = row_ids(&browser).await[0];
    press(&browser, "jx").await;
    let checked = script(
        &browser,
        "return document.querySelector('#rows tr.current input[name=id]').checked",
    )
    .await;
    assert_eq!(checked, json!(true));
    press(&browser, "r").await;
    let focused = script(&browser, "return document.activeElement.name").await;
    assert_eq!(focused, json!("note"), "r goes to the note");
    press(&browser, "called back, refund on its way\u{E007}").await;
    eventually("the toast and the answered row gone", || async {
        let toast = script(&browser, "return document.getElementById('toast').textContent").await;
        toast.as_str().unwrap_or("").contains("Marked responded: 1 mention") && !row_ids(&browser).await.contains(&top)
    })
    .await;
    press(&browser, "u").await;
    eventually("the undone row back", || async {
        let toast = script(&browser, "return document.getElementById('toast').textContent").await;
        toast.as_str().unwrap_or("").contains("Undone: 1") && row_ids(&browser).await.contains(&top)
    })
    .await;
    let conn = store::open_read_only(&db).unwrap();
    let (note, undone): (String, bool) = conn
        .query_row(
            "SELECT note, undone_at IS NOT NULL FROM mention_actions WHERE mention_id = ?1 ORDER BY id DESC LIMIT 1",
            [top],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((note.as_str(), undone), ("called back, refund on its way", true));

    // A row's Take button assigns that row to whoever pressed it.
    let take = browser.find(Locator::Css("#rows button[name=take]")).await.unwrap();
    let taken: i64 = take.attr("value").await.unwrap().unwrap().parse().unwrap();
    take.click().await.unwrap();
    eventually("the taken row assigned", || async {
        conn.query_row(
            "SELECT assignee FROM mention_states WHERE mention_id = ?1",
            [taken],
            |r| r.get::<_, Option<String>>(0),
        )
        .ok()
        .flatten()
        .as_deref()
            == Some("local")
    })
    .await;

    // A correction from the inbox changes the brand's negative count.
    let counts = || async {
        let day = crate::support::web::last_24h(&server, "Acme Air").await;
        (day["negative"].as_u64().unwrap(), day["positive"].as_u64().unwrap())
    };
    let before = counts().await;
    open_live(&browser, &server.url("/?brand=Acme%20Air&since=24h")).await;
    press(&browser, "jx").await;
    script(
        &browser,
        "document.querySelector('#actions select[name=label]').value = 'positive'; return true",
    )
    .await;
    browser
        .find(Locator::Css("button[value=label]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the corrected count", || async {
        counts().await == (before.0 - 1, before.1 + 1)
    })
    .await;

    // Ten tabs at once: every one loads and hears of a new complaint (one
    // event stream per browser; six per host would leave the seventh waiting).
    let mut tabs = vec![browser.window().await.unwrap()];
    for _ in 1..10 {
        let tab = browser.new_window(true).await.unwrap().handle;
        browser.switch_to_window(tab.clone()).await.unwrap();
        open_live(&browser, &server.url("/")).await;
        tabs.push(tab);
    }
    let line = json!({"source": "x", "id": "browser-tabs-1", "created_at": "2026-11-20T14:39:40Z",
        "author": {"handle": "tenth_tab", "followers": 8_000_000},
        "text": "Acme Air lost every bag on flight 88. Horrible, useless service."});
    server.store_line(line).await;
    for (n, tab) in tabs.iter().enumerate() {
        browser.switch_to_window(tab.clone()).await.unwrap();
        eventually(&format!("the new complaint in tab {}", n + 1), || async {
            browser.source().await.unwrap().contains("lost every bag on flight 88")
        })
        .await;
    }
    for tab in tabs.into_iter().skip(1) {
        browser.switch_to_window(tab).await.unwrap();
        browser.close_window().await.unwrap();
    }
    let remaining = browser.windows().await.unwrap();
    browser.switch_to_window(remaining[0].clone()).await.unwrap();

    // A mention's own page.
    browser.goto(&server.url(&format!("/mentions/{top}"))).await.unwrap();
    browser.wait().for_element(Locator::Css("#mention")).await.unwrap();

    // A phone, 390 px wide: rows are cards, nothing scrolls sideways.
    browser.set_window_size(390, 844).await.unwrap();
    open_live(&browser, &server.url("/")).await;
    let fits = script(
        &browser,
        "return [window.innerWidth, document.documentElement.scrollWidth]",
    )
    .await;
    let [width, scroll]: [u64; 2] = serde_json::from_value(fits).unwrap();
    assert!(width <= 400, "the window is a phone's: {width}");
    assert!(scroll <= width, "the page scrolls sideways: {scroll} > {width}");
    screenshot(&browser, dir.path(), "inbox-phone.png").await;

    browser.close().await.unwrap();
    server.stop().await;
}

/// A reply written in the mention's page, from a saved reply, lands on the
/// (local) network as a threaded answer, and the page shows it posted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_written_in_the_browser_lands_on_the_network() {
    use wiremock::matchers::{body_partial_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let dir = tempfile::tempdir().unwrap();
    let Some((_driver, browser)) = start_browser(dir.path()).await else {
        return;
    };
    let network = MockServer::start().await;
    let recorded = |file: &str| {
        std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/recorded/replies")
                .join(file),
        )
        .unwrap()
    };
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(recorded("mastodon-search.json"), "application/json"))
        .mount(&network)
        .await;
    let answer = "@alice@social.example Hi alice, Acme Air here: sorry about your bag. Send us a DM.";
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("Authorization", "Bearer browser-reply-token"))
        .and(body_partial_json(
            json!({"status": answer, "in_reply_to_id": "113500000000000042"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(recorded("mastodon-status-created.json"), "application/json"),
        )
        .expect(1)
        .mount(&network)
        .await;

    let mut config = crate::support::web::config();
    let table: toml::Value = toml::from_str(&format!(
        "name = \"mastodon-acme\"\nkind = \"mastodon\"\nbase_url = \"{}\"\nhashtag = \"acmeair\"\n\
         brand = \"Acme Air\"\nreply = {{ token = \"browser-reply-token\" }}\n",
        network.uri()
    ))
    .unwrap();
    config.sources = vec![complaint_monitor::sources::SourceConfig::from_toml(table).unwrap()];
    let db = fixture_db(dir.path()).await;
    let server = TestServer::start_with(&db, config.clone()).await;
    let clock: std::sync::Arc<dyn complaint_monitor::clock::Clock> = std::sync::Arc::new(
        complaint_monitor::clock::VirtualClock::starting_at(crate::support::web::cutoff()),
    );
    let sender = complaint_monitor::reply::Sender::new(
        &config.sources,
        &complaint_monitor::sources::poll::Limiters::new(&config.sources),
        &db,
        server.writer.clone(),
        clock,
    )
    .unwrap();
    let sending = tokio::spawn(async move { sender.run().await });

    server
        .store_line(
            json!({"source": "mastodon", "id": "109000000000000001", "created_at": "2026-11-20T14:38:00Z",
            "author": {"handle": "alice@social.example", "followers": 420},
            "text": "Acme Air lost my bag again. Awful service.",
            "url": "https://social.example/@alice/109000000000000001"}),
        )
        .await;
    let id: i64 = store::open_read_only(&db)
        .unwrap()
        .query_row(
            "SELECT id FROM mentions WHERE source_id = '109000000000000001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (status, _) = crate::support::web::post_json(
        &server,
        "/api/reply-templates",
        json!({"brand": "Acme Air", "name": "lost bag", "body": "Hi {author}, {brand} here: sorry about your bag. Send us a DM."}),
    )
    .await;
    assert_eq!(status, 200);

    browser.goto(&server.url(&format!("/mentions/{id}"))).await.unwrap();
    let template = browser.find(Locator::Css("#reply-template")).await.unwrap();
    template.select_by_label("Acme Air · lost bag").await.unwrap();
    let text = browser.find(Locator::Css("#reply-text")).await.unwrap();
    assert_eq!(
        text.prop("value").await.unwrap().as_deref(),
        Some("Hi alice@social.example, Acme Air here: sorry about your bag. Send us a DM.")
    );
    // Edited to a first name before sending; the count follows as you type.
    browser
        .execute(
            "const t = document.getElementById('reply-text'); t.value = ''; t.dispatchEvent(new Event('input'))",
            vec![],
        )
        .await
        .unwrap();
    text.send_keys("Hi alice, Acme Air here: sorry about your bag. Send us a DM.")
        .await
        .unwrap();
    let count = browser
        .find(Locator::Css("#reply-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Mastodon counts the author's handle that leads the reply: 500 - 22.
    assert_eq!(count, "60 / 478");
    browser
        .find(Locator::Css("form.reply input[name=by]"))
        .await
        .unwrap()
        .send_keys("ana")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form.reply button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The page follows the reply until it is up, then links to it.
    eventually("the reply posted on the page", || async {
        browser.source().await.unwrap().contains("see it on mastodon")
    })
    .await;
    let posts = network
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/v1/statuses")
        .count();
    assert_eq!(posts, 1, "posted once");
    let (state, by): (String, String) = store::open_read_only(&db)
        .unwrap()
        .query_row(
            "SELECT state, updated_by FROM mention_states WHERE mention_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((state.as_str(), by.as_str()), ("responded", "ana"));
    sending.abort();
    let _ = sending.await;
    server.stop().await;
}
