//! The HTML pages (maud: every value is escaped unless marked otherwise, and
//! nothing written by a stranger ever is). Each page works as plain HTML
//! forms; the script at the bottom only adds live refresh, select-all, and
//! remembering the user's name.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::api::{self, Params, INBOX_PARAMS};
use super::auth::{Identity, Via};
use super::charts::{self, Window};
use super::{ApiError, AppState, CsrfToken};
use crate::accounts::Role;
use crate::alert::{self, Incident};
use crate::inbox::{self, Action};

/// The Content-Security-Policy of every answer: nothing from elsewhere,
/// and of inline code only our own stylesheet and script, by their hashes.
pub fn content_security_policy() -> &'static str {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let hash = |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src 'self' data:; \
             connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            hash(STYLE),
            hash(SCRIPT)
        )
    })
}

/// The pages' one stylesheet, inlined (no external assets).
const STYLE: &str = include_str!("assets/style.css");

/// Live refresh, select-all and the remembered name; the pages work without it.
const SCRIPT: &str = include_str!("assets/live.js");

/// The shared worker holding the browser's one event stream.
const EVENTS_WORKER: &str = include_str!("assets/events-worker.js");

/// `GET /assets/events-worker.js`.
pub async fn events_worker() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "no-cache"),
        ],
        EVENTS_WORKER,
    )
        .into_response()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Inbox,
    Alerts,
    Brands,
    Health,
    Users,
    None,
}

/// What every page's frame shows of the viewer: who they are (or that
/// access is open), and the sign-out form with its token.
pub struct Chrome {
    pub who: Option<Identity>,
    pub csrf: CsrfToken,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Chrome {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Chrome {
            who: parts.extensions.get::<Identity>().cloned(),
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .cloned()
                .unwrap_or(CsrfToken(String::new())),
        })
    }
}

impl Chrome {
    fn is_local(&self) -> bool {
        self.who.as_ref().is_some_and(Identity::is_local)
    }

    fn may(&self, role: Role) -> bool {
        self.who.as_ref().is_some_and(|w| w.role >= role)
    }

    /// The "your name" field of an action form: only the local user says
    /// who they are; a signed-in user is recorded as themselves.
    fn name_field(&self) -> Markup {
        html! {
            @if self.is_local() {
                label { "Your name" input name="by" placeholder="local" size="12"; }
            }
        }
    }
}

fn who_markup(chrome: &Chrome) -> Markup {
    html! {
        @match &chrome.who {
            Some(who) if who.via == Via::Local => {
                span.who title="No accounts exist yet: anyone who can reach this machine's loopback acts as you. Add one with `complaint-monitor users add NAME --role admin` to require sign-in." {
                    "open access (no accounts)"
                }
            }
            Some(who) => {
                span.who { (who.name) " · " (who.role.as_str()) }
                @if matches!(who.via, Via::Session { .. }) {
                    form.signout method="post" action="/logout" {
                        input type="hidden" name="csrf" value=(chrome.csrf.0);
                        button type="submit" { "Sign out" }
                    }
                }
            }
            None => {}
        }
    }
}

fn layout(title: &str, tab: Tab, banner: Option<Markup>, chrome: Option<&Chrome>, body: Markup) -> Markup {
    let link = |href: &str, name: &str, this: Tab| {
        html! { a href=(href) class=[(tab == this).then_some("on")] { (name) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · complaint-monitor" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    span.brand { "complaint-monitor" }
                    (link("/", "Inbox", Tab::Inbox))
                    (link("/alerts", "Alerts", Tab::Alerts))
                    (link("/brands", "Brands", Tab::Brands))
                    (link("/health", "Health", Tab::Health))
                    @if chrome.is_some_and(|c| c.may(Role::Admin) && !c.is_local()) {
                        (link("/users", "Users", Tab::Users))
                    }
                    span #live {}
                    @if let Some(chrome) = chrome { (who_markup(chrome)) }
                }
                @if chrome.is_some_and(Chrome::is_local) {
                    p.notice {
                        "Open access: no accounts exist, so anyone who can reach this machine's loopback can use this page and acts as you. "
                        "Add an account with " code { "complaint-monitor users add NAME --role admin" } " to require sign-in."
                    }
                }
                main {
                    div #banner { @if let Some(b) = banner { (b) } }
                    (body)
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// Only http(s) links become links: a `javascript:` URL from a stranger
/// must never be clickable.
fn safe_href(url: &Option<String>) -> Option<&str> {
    url.as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

fn when(time: &str) -> String {
    time.get(..16).unwrap_or(time).replace('T', " ")
}

/// A time as staff read it: `2026-11-23 14:05 UTC`.
fn at(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The open incidents, above every page.
async fn firing_banner(state: &AppState) -> Result<Markup, ApiError> {
    let open: Vec<Incident> = state
        .read(|conn| {
            let mut open = alert::list_incidents(conn, Some(alert::State::Firing), 20)?;
            open.extend(alert::list_incidents(conn, Some(alert::State::Acknowledged), 20)?);
            Ok(open)
        })
        .await?;
    Ok(html! {
        @for i in &open {
            div.banner {
                span class={"pill " (i.state.as_str())} { (i.state.as_str()) }
                " "
                strong { (i.brand) }
                @if let Some(source) = &i.source { " on " (source) }
                ": " (i.figures.observed) " negative mentions against " (format!("{:.1}", i.figures.expected))
                " usual, since " (at(i.figures.started_at))
                " · " a href="/alerts" { "see the alert" }
            }
        }
    })
}

pub async fn banner(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(page(StatusCode::OK, firing_banner(&state).await?))
}

/// A campaign or burst, linking to its mentions.
fn group_pill(g: &crate::inbox::GroupSize) -> Markup {
    let what = match g.kind {
        crate::spam::Kind::Campaign => format!("campaign: {} copies from {} accounts", g.mentions, g.accounts),
        crate::spam::Kind::Burst => format!("burst: {} posts by one account", g.mentions),
    };
    html! {
        a.pill href={"/?label=all&state=all&group=" (g.id)}
            title="counted once in detection; every one of them is stored" { (what) }
    }
}

/// A row's state cell: the state, who has it, the reply and note, who
/// acted last (also pushed to open pages by `events`).
pub(super) fn state_pill(s: &inbox::MentionState) -> Markup {
    html! {
        span class={"pill " (s.state.as_str())} { (s.state.as_str()) }
        @if let Some(who) = &s.assignee { br; span.muted { "→ " (who) } }
        @if let Some(href) = safe_href(&s.reply_url) { br; a href=(href) rel="noopener noreferrer" target="_blank" { "reply" } }
        @if let Some(note) = &s.note { br; span.muted title=(note) { (crate::mention::snippet(note, 60)) } }
        @if let (Some(by), Some(at)) = (&s.updated_by, &s.updated_at) { br; span.muted { (by) ", " (when(at)) } }
    }
}

/// Priority in words, the number on hover (tiers: `inbox::priority_tier`).
fn tier_word(tier: &str) -> &'static str {
    match tier {
        "high" => "High",
        "medium" => "Medium",
        _ => "Low",
    }
}

/// How long ago, in the largest whole unit: "45 min", "3 h", "2 d".
fn age(seconds: i64) -> String {
    match seconds {
        s if s < 60 => "now".to_string(),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

fn rows_markup(page: &inbox::Page) -> Markup {
    html! {
        tbody #rows {
            @if page.rows.is_empty() {
                tr { td colspan="9" .muted { "Nothing here: no mention matches these filters." } }
            }
            @for row in &page.rows {
                tr class=[row.incident.map(|_| "incident")] data-id=(row.id) {
                    td {
                        input type="checkbox" name="id" value=(row.id) form="actions" aria-label={"select mention " (row.id)};
                        @if row.state.assignee.is_none() && matches!(row.state.state, inbox::State::New) {
                            br; button.quick type="submit" form="actions" name="take" value=(row.id) title="Assign it to me" { "Take" }
                        }
                    }
                    td.num {
                        span class={"tier " (row.priority_tier)} title={"priority " (format!("{:.0}", row.priority)) ": reach × negativity × recency"} { (tier_word(row.priority_tier)) }
                    }
                    td {
                        span.age title=(row.created_at) { (age(row.age_seconds)) }
                        @if row.overdue { " " span.pill.overdue title="still open past the response target" { "overdue" } }
                        br;
                        span.muted { (when(&row.created_at)) }
                        @if row.time_estimated { " " span.muted title="The source gave no time: this is when it was first seen" { "(first seen)" } }
                        br;
                        span.muted { (row.source) }
                        @if let Some(incident) = row.incident { br; span class="pill firing" title={"part of incident " (incident)} { "incident" } }
                    }
                    td {
                        a href={"/mentions/" (row.id)} title="the whole mention, its author and its history" { (row.author.as_deref().unwrap_or("(unknown)")) }
                        @if let Some(n) = row.audience { br; span.muted { (n) " followers" } }
                        @if let Some(k) = row.karma { br; span.muted title="the author's Reddit karma" { (k) " karma" } }
                    }
                    td.text {
                        @if let Some(stars) = row.rating { span title={(stars) " of 5 stars"} { (("★").repeat(stars as usize)) } " " }
                        (crate::mention::snippet(&row.text, 400))
                        @if let Some(g) = &row.group { br; (group_pill(g)) }
                        @if let Some(why) = &row.blocked { br; span.pill title="kept out of the counts" { "blocked: " (why) } }
                        @if let Some(reply) = &row.reply {
                            br; span.muted title={"answered on the network " (crate::mention::format_time(reply.at))} { "Answered: " (crate::mention::snippet(&reply.text, 200)) }
                        }
                        @if let Some(href) = safe_href(&row.url) {
                            " " a href=(href) rel="noopener noreferrer nofollow" target="_blank" { "open" }
                        }
                    }
                    @if row.not_scored {
                        td.num.muted title={"the scorer does not read " (row.lang.as_deref().unwrap_or("this language")) ": correct the label by hand"} { "not scored" }
                    } @else {
                        td class=(if row.compound < 0.0 { "num neg" } else { "num pos" }) { (format!("{:+.2}", row.compound)) }
                    }
                    td.num { (row.reach) }
                    td { (row.brands.join(", ")) }
                    td.state { (state_pill(&row.state)) }
                }
            }
        }
    }
}

fn select(name: &str, label: &str, current: Option<&str>, options: &[(&str, &str)]) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[current == Some(*value) || (current.is_none() && value.is_empty())] { (text) }
                }
            }
        }
    }
}

async fn inbox_page(
    state: &AppState,
    who: &Identity,
    raw: HashMap<String, String>,
) -> Result<(inbox::Page, Params), ApiError> {
    let now = state.clock.now();
    let params = Params::new(raw, INBOX_PARAMS)?;
    let query = api::inbox_query(state, &params, who, now)?;
    let page = api::inbox_page(state, query, now).await?;
    Ok((page, params))
}

pub async fn inbox(
    State(state): State<AppState>,
    chrome: Chrome,
    Query(raw): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let who = chrome
            .who
            .clone()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "sign in"))?;
        let (page, params) = inbox_page(&state, &who, raw.clone()).await?;
        let banner = firing_banner(&state).await?;
        let owner = who.name.clone();
        let views = state.read(move |conn| inbox::views(conn, &owner)).await?;
        Ok::<_, ApiError>((page, params, banner, views))
    }
    .await;
    let (found, params, banner, views) = match result {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let brands: Vec<(String, String)> = std::iter::once((String::new(), "every brand".to_string()))
        .chain(state.config.brands.iter().map(|b| (b.name.clone(), b.name.clone())))
        .collect();
    let brand_options: Vec<(&str, &str)> = brands.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let back = serde_urlencoded::to_string(&raw).unwrap_or_default();
    let shown = found.rows.len();
    // Paging links keep every filter and move only the position.
    let link_with = |after: Option<&str>| {
        let mut params: Vec<(&str, &str)> = raw
            .iter()
            .filter(|(k, _)| k.as_str() != "after" && k.as_str() != "offset")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        params.sort();
        params.extend(after.map(|a| ("after", a)));
        format!("/?{}", serde_urlencoded::to_string(&params).unwrap_or_default())
    };
    let order = params
        .get("sort")
        .and_then(|s| s.parse::<inbox::Sort>().ok())
        .unwrap_or_default();
    let order_words = match order {
        inbox::Sort::Priority => "highest priority first",
        inbox::Sort::Reach => "most reach first",
        inbox::Sort::Oldest => "longest waiting first",
        inbox::Sort::Newest => "latest first",
    };
    let body = html! {
        h2 { "Inbox" span.muted #count {
            " · " (shown) " of " @if found.total_capped { "more than " } (found.total) ", " (order_words)
        } }
        nav.views aria-label="saved views" {
            span.muted { "Views:" }
            a href="/" { "Open negatives" }
            a href="/?assignee=me" { "Mine" }
            a href="/?overdue=true&sort=oldest" { "Overdue" }
            @for view in &views {
                span.view {
                    a href={"/?" (view.query)} { (view.name) }
                    form.inline method="post" action={"/inbox/views/" (view.id) "/delete"} {
                        input type="hidden" name="csrf" value=(chrome.csrf.0);
                        button.quick type="submit" title={"delete the view " (view.name)} aria-label={"delete the view " (view.name)} { "×" }
                    }
                }
            }
            form.inline #save-view method="post" action="/inbox/views" {
                input type="hidden" name="csrf" value=(chrome.csrf.0);
                input type="hidden" name="query" value=(back);
                input name="name" placeholder="name this view" size="14" maxlength="40" aria-label="name of the view to save";
                button.quick type="submit" { "Save view" }
            }
        }
        form.filters method="get" action="/" {
            label { "Search" input name="q" type="search" value=[params.get("q")] placeholder="words, author" size="16" maxlength="200"; }
            (select("brand", "Brand", params.get("brand"), &brand_options))
            label { "Source" input name="source" value=[params.get("source")] placeholder="any" size="10"; }
            (select("label", "Sentiment", params.get("label"), &[("", "negative"), ("neutral", "neutral"), ("positive", "positive"), ("unscored", "not scored"), ("all", "all")]))
            (select("state", "State", params.get("state"), &[("", "open (new, assigned)"), ("new", "new"), ("assigned", "assigned"), ("responded", "responded"), ("ignored", "ignored"), ("all", "all")]))
            (select("since", "Since", params.get("since"), &[("", "7 days"), ("24h", "24 hours"), ("3d", "3 days"), ("30d", "30 days"), ("365d", "a year")]))
            (select("assignee", "Assigned", params.get("assignee"), &[("", "to anyone"), ("me", "to me"), ("none", "to nobody")]))
            (select("overdue", "Overdue", params.get("overdue"), &[("", "any age"), ("true", "overdue only")]))
            (select("rating", "Rating", params.get("rating"), &[("", "any"), ("1-2", "1–2 ★"), ("3", "3 ★"), ("4-5", "4–5 ★")]))
            label { "Language" input name="lang" value=[params.get("lang")] placeholder="any" size="4" maxlength="16"; }
            @if let Some(incident) = params.get("incident") { input type="hidden" name="incident" value=(incident); }
            (select("sort", "Order", params.get("sort"), &[("", "priority"), ("reach", "reach"), ("oldest", "longest waiting"), ("newest", "latest")]))
            button type="submit" { "Filter" }
        }
        form #actions .actions method="post" action="/inbox/actions" {
            input type="hidden" name="csrf" value=(chrome.csrf.0);
            input type="hidden" name="return" value=(back);
            (chrome.name_field())
            label { "Reply link" input name="reply_url" type="url" placeholder="https://…" size="28"; }
            label { "Note" input name="note" placeholder="how it was handled" size="22"; }
            button.primary type="submit" name="action" value="respond" { "Mark responded" }
            label { "Assign to" input name="assignee" placeholder="name" size="10"; }
            button type="submit" name="action" value="assign" { "Assign" }
            button type="submit" name="action" value="ignore" { "Ignore" }
            button type="submit" name="action" value="undo" { "Undo last" }
            label title="When the scorer got it wrong: detection, the digest and exports then count this label" {
                "Label as"
                select name="label" {
                    option value="" { "…" }
                    option value="negative" { "negative" }
                    option value="neutral" { "neutral" }
                    option value="positive" { "positive" }
                    option value="not_about_us" { "not about us" }
                }
            }
            button type="submit" name="action" value="label" { "Correct label" }
        }
        table {
            thead { tr {
                th { input #select-all type="checkbox" aria-label="select all"; }
                th.num title="reach × negativity × recency" { "Priority" }
                th { "When" } th { "Author" } th { "Mention" } th.num { "Score" } th.num { "Reach" } th { "Brand" } th { "State" }
            } }
            (rows_markup(&found))
        }
        nav.paging aria-label="pages" {
            @if params.get("after").is_some() { a #first-page href=(link_with(None)) { "← First page" } " " }
            @if let Some(next) = &found.next { a #next-page rel="next" href=(link_with(Some(next))) { "Next " (shown) " →" } }
        }
        p.muted { "Priority = reach × negativity × recency (halving every " (inbox::HALF_LIFE_HOURS) " hours): High from 10,000, Medium from 1,000; the number is on hover; see docs/api.md." }
    };
    page(
        StatusCode::OK,
        layout("Inbox", Tab::Inbox, Some(banner), Some(&chrome), body),
    )
}

pub async fn inbox_rows(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    Query(raw): Query<HashMap<String, String>>,
) -> Response {
    match inbox_page(&state, &who, raw).await {
        Ok((rows, _)) => page(StatusCode::OK, rows_markup(&rows)),
        Err(e) => e.into_response(),
    }
}

/// Reads a urlencoded form, keeping repeated names (`id=1&id=2`).
pub(super) fn form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(super) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub(super) fn check_csrf(fields: &[(String, String)], csrf: &CsrfToken) -> Result<(), ApiError> {
    match field(fields, "csrf") {
        Some(token) if token == csrf.0 => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the form's security token did not match; reload the page and try again",
        )),
    }
}

/// What a mention's page shows to answer it on its network.
struct Replying {
    accounts: Vec<crate::reply::Account>,
    templates: Vec<(String, String)>,
    replies: Vec<crate::reply::Reply>,
    url: Option<String>,
}

impl Replying {
    fn read(
        config: &crate::config::Config,
        conn: &rusqlite::Connection,
        id: i64,
    ) -> Result<Replying, crate::store::StoreError> {
        let mention = crate::store::mention_by_id(conn, id)?;
        let brands: Vec<String> = mention.scored.brands.iter().map(|b| b.to_string()).collect();
        let author = mention.scored.mention.author.handle.as_deref();
        let network = &mention.scored.mention.source;
        // The box counts what the network will count (a Mastodon reply's
        // leading handle too).
        let lead = crate::reply::posted_chars(network, "", author);
        let mut accounts = crate::reply::accounts_for(&config.sources, network, &brands);
        for a in &mut accounts {
            a.max_chars = a.max_chars.saturating_sub(lead);
        }
        Ok(Replying {
            accounts,
            templates: crate::reply::templates(conn, &brands)?
                .into_iter()
                .map(|t| {
                    (
                        format!("{} · {}", t.brand, t.name),
                        crate::reply::fill(&t.body, author, &t.brand),
                    )
                })
                .collect(),
            replies: crate::reply::for_mention(conn, id)?,
            url: mention.scored.mention.url,
        })
    }

    fn render(&self, id: i64, network: &str, chrome: &Chrome) -> Markup {
        let busy = self.replies.iter().any(|r| {
            matches!(
                r.status,
                crate::reply::ReplyStatus::Queued | crate::reply::ReplyStatus::Sending
            )
        });
        let max = self.accounts.iter().map(|a| a.max_chars).min().unwrap_or(0);
        html! {
            section #reply {
                h3 { "Reply on " (network) }
                @for r in &self.replies {
                    div class={"reply " (format!("{:?}", r.status).to_lowercase())} {
                        span class={"pill " (format!("{:?}", r.status).to_lowercase())} { (reply_status_word(r)) }
                        " " (r.requested_by) " via " (r.account) ", " (when(&r.requested_at))
                        @if let Some(href) = safe_href(&r.url) { " · " a href=(href) rel="noopener noreferrer" target="_blank" { "see it on " (r.network) } }
                        p.text { (r.text) }
                        @if let Some(e) = &r.last_error { @if r.status != crate::reply::ReplyStatus::Posted { p.error { (e) } } }
                        @if r.status == crate::reply::ReplyStatus::Failed {
                            form method="post" action={"/replies/" (r.id) "/retry"} {
                                input type="hidden" name="csrf" value=(chrome.csrf.0);
                                button type="submit" { @if r.in_doubt { "Check and try again" } @else { "Try again" } }
                            }
                        }
                    }
                }
                @if self.accounts.is_empty() {
                    p.muted {
                        "No account is configured to reply on " (network) " (see docs/replies.md)."
                        @if let Some(href) = safe_href(&self.url) { " " a href=(href) rel="noopener noreferrer nofollow" target="_blank" { "Reply there" } ", then record it below." }
                    }
                } @else if busy {
                    p.muted { "A reply is being posted; this page shows when it is up." }
                } @else {
                    form.reply method="post" action={"/mentions/" (id) "/reply"} {
                        input type="hidden" name="csrf" value=(chrome.csrf.0);
                        (chrome.name_field())
                        @if self.accounts.len() > 1 {
                            label { "From "
                                select name="account" {
                                    @for a in &self.accounts { option value=(a.name) data-max=(a.max_chars) { (a.name) } }
                                }
                            }
                        } @else {
                            @for a in &self.accounts { input type="hidden" name="account" value=(a.name); }
                        }
                        @if !self.templates.is_empty() {
                            label { "Saved reply "
                                select #reply-template {
                                    option value="" { "…" }
                                    @for (name, text) in &self.templates { option value=(text) { (name) } }
                                }
                            }
                        }
                        textarea #reply-text name="text" rows="4" maxlength=(max) data-max=(max) required placeholder={"Your answer, posted on " (network) " as the brand" } {}
                        span #reply-count .muted { "0 / " (max) }
                        button.primary type="submit" { "Post reply" }
                    }
                }
            }
        }
    }
}

fn reply_status_word(r: &crate::reply::Reply) -> &'static str {
    match r.status {
        crate::reply::ReplyStatus::Queued => "queued",
        crate::reply::ReplyStatus::Sending => "posting",
        crate::reply::ReplyStatus::Posted => "posted",
        crate::reply::ReplyStatus::Failed if r.in_doubt => "failed (may be posted)",
        crate::reply::ReplyStatus::Failed => "failed",
    }
}

/// A form's common path: its CSRF token checked, then `act`, then to the
/// page `act` names (or the error page).
async fn submit<F, Fut>(body: &Bytes, csrf: &CsrfToken, act: F) -> Response
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Result<String, ApiError>>,
{
    let fields = form(body);
    if let Err(e) = check_csrf(&fields, csrf) {
        return error_page(e);
    }
    match act(fields).await {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => error_page(e),
    }
}

/// `POST /mentions/{id}/reply`: the reply form.
pub async fn reply(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    submit(&body, &csrf, |fields| async move {
        let id = api::parse_id(&id)?;
        let text = field(&fields, "text").unwrap_or_default().to_string();
        let account = field(&fields, "account").map(str::to_string);
        api::queue_reply(&state, id, account, text, who.actor(field(&fields, "by"))).await?;
        Ok(format!("/mentions/{id}#reply"))
    })
    .await
}

/// `POST /reply-templates`: the brand page's "Save reply".
pub async fn save_reply_template(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(who): Extension<Identity>,
    body: Bytes,
) -> Response {
    submit(&body, &csrf, |fields| async move {
        let known: Vec<String> = state.config.brands.iter().map(|b| b.name.clone()).collect();
        let text = |name| field(&fields, name).unwrap_or("").to_string();
        let (brand, name, body) = (text("brand"), text("name"), text("body"));
        let (by, now) = (who.actor(None), state.clock.now());
        let saved = state
            .writer
            .transact(move |tx| crate::reply::save_template(tx, &known, &brand, &name, &body, &by, now))
            .await?;
        Ok(format!("/brands/{}#saved-replies", urlencode(&saved.brand)))
    })
    .await
}

/// `POST /reply-templates/{id}/delete`: a saved reply's "Delete".
pub async fn delete_reply_template(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    submit(&body, &csrf, |_| async move {
        let id = api::parse_id(&id)?;
        state
            .writer
            .transact(move |tx| crate::reply::delete_template(tx, id))
            .await?;
        Ok("/brands".to_string())
    })
    .await
}

/// `POST /replies/{id}/retry`: a failed reply's "Try again".
pub async fn retry_reply(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    submit(&body, &csrf, |_| async move {
        let id = api::parse_id(&id)?;
        let now = state.clock.now();
        let reply = state
            .writer
            .transact(move |tx| crate::reply::retry(tx, id, now))
            .await?;
        Ok(format!("/mentions/{}#reply", reply.mention_id))
    })
    .await
}

pub async fn inbox_action(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(who): Extension<Identity>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let result = async {
        check_csrf(&fields, &csrf)?;
        // A row's own "Take" button: that row, assigned to whoever pressed it.
        if let Some(take) = field(&fields, "take") {
            let id = api::parse_id(take)?;
            let me = who.actor(field(&fields, "by"));
            let action = Action::Assign { assignee: me.clone() };
            return api::apply_action(&state, vec![id], action, me).await;
        }
        let ids = fields
            .iter()
            .filter(|(k, _)| k == "id")
            .map(|(_, v)| api::parse_id(v))
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Err(ApiError::bad_request("select at least one mention first"));
        }
        if field(&fields, "action") == Some("label") {
            return correct_labels(&state, &who, &fields, ids).await;
        }
        let text = |name| field(&fields, name).map(str::to_string);
        let action = match field(&fields, "action") {
            Some("respond") => Action::Respond {
                reply_url: text("reply_url"),
                note: text("note"),
            },
            Some("assign") => Action::Assign {
                assignee: text("assignee").unwrap_or_default(),
            },
            Some("ignore") => Action::Ignore { note: text("note") },
            Some("undo") => Action::Undo,
            _ => return Err(ApiError::bad_request("unknown action")),
        };
        api::apply_action(&state, ids, action, who.actor(field(&fields, "by"))).await
    }
    .await;
    match result {
        Ok(_) => {
            // From a mention's own page, back to it.
            if let Some(id) = field(&fields, "return_mention").and_then(|v| api::parse_id(v).ok()) {
                return Redirect::to(&format!("/mentions/{id}")).into_response();
            }
            let back = field(&fields, "return").unwrap_or("");
            // Only our own query string goes back into the address.
            let query: HashMap<String, String> = serde_urlencoded::from_str(back).unwrap_or_default();
            let query = serde_urlencoded::to_string(query).unwrap_or_default();
            Redirect::to(&if query.is_empty() {
                "/".to_string()
            } else {
                format!("/?{query}")
            })
            .into_response()
        }
        Err(e) => error_page(e),
    }
}

/// The inbox's "Save view" form: the current filters under a name, then
/// back to the view.
pub async fn save_view(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(who): Extension<Identity>,
    body: Bytes,
) -> Response {
    submit(&body, &csrf, |fields| async move {
        let name = field(&fields, "name").unwrap_or("");
        let query = field(&fields, "query").unwrap_or("");
        let view = api::store_view(&state, &who, name, query).await?;
        Ok(format!("/?{}", view.query))
    })
    .await
}

/// A view's delete button.
pub async fn delete_view(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    submit(&body, &csrf, |_| async move {
        let id = api::parse_id(&id)?;
        let owner = who.name.clone();
        state
            .writer
            .transact(move |tx| inbox::delete_view(tx, &owner, id))
            .await?;
        Ok("/".to_string())
    })
    .await
}

/// One mention, whole: the text and link, the author with their other
/// mentions of the brand, the incident, every action and edit, and the
/// actions themselves.
pub async fn mention(State(state): State<AppState>, chrome: Chrome, Path(id): Path<String>) -> Response {
    let id = match api::parse_id(&id) {
        Ok(id) => id,
        Err(e) => return error_page(e),
    };
    let now = state.clock.now();
    let target = state.config.inbox.response_target.0;
    let config = state.config.clone();
    let result = state
        .read(move |conn| {
            let case = inbox::case(conn, id, target, now)?;
            let corrected = crate::corrections::corrected_label(conn, id)?;
            let off = crate::corrections::not_about_us_of(conn, id)?;
            let replying = match &case {
                Some(_) => Some(Replying::read(&config, conn, id)?),
                None => None,
            };
            let outcome = crate::closed_loop::case_of(conn, id, config.inbox.follow_up.0, now)?;
            Ok((case, corrected, off, replying, outcome))
        })
        .await;
    let (case, corrected, off, replying, outcome) = match result {
        Ok((Some(case), corrected, off, Some(replying), outcome)) => (case, corrected, off, replying, outcome),
        Ok(_) => return error_page(ApiError::new(StatusCode::NOT_FOUND, format!("no mention {id}"))),
        Err(e) => return error_page(e),
    };
    let row = &case.row;
    let body = html! {
        p { a href="/" { "← Inbox" } }
        div.card.mention #mention {
            h2 {
                (row.author.as_deref().unwrap_or("(unknown author)"))
                span.muted { " on " (row.source) " · " (age(row.age_seconds)) " ago" }
                " " span class={"tier " (row.priority_tier)} title={"priority " (format!("{:.0}", row.priority))} { (tier_word(row.priority_tier)) }
                @if row.overdue { " " span.pill.overdue { "overdue" } }
            }
            p.text {
                @if let Some(stars) = row.rating { span title={(stars) " of 5 stars"} { (("★").repeat(stars as usize)) } " " }
                (row.text)
            }
            p.muted {
                (when(&row.created_at)) " UTC"
                @if let Some(n) = row.audience { " · " (n) " followers" }
                " · reach " (row.reach)
                @if let Some(lang) = &row.lang { " · language " (lang) }
                " · " (row.brands.join(", "))
                @if let Some(href) = safe_href(&row.url) { " · " a href=(href) rel="noopener noreferrer nofollow" target="_blank" { "open on " (row.source) } }
            }
            p {
                "Scored " strong class=(if row.compound < 0.0 { "neg" } else { "pos" }) { (format!("{:+.2}", row.compound)) }
                " (" (row.label) ")"
                @if let Some(c) = &corrected {
                    " · label set by " (c.by) ", " (at(c.at)) " (the scorer said " (c.computed) ")"
                }
                @if let Some(incident) = row.incident { " · " a.pill.firing href={"/alerts#incident-" (incident)} { "incident #" (incident) } }
                @if let Some(g) = &row.group { " · " (group_pill(g)) }
                @if let Some(why) = &row.blocked { " · " span.pill title="kept out of the counts" { "blocked: " (why) } }
            }
            @if let Some(off) = &off {
                p.notice { "Not about us: taken off " (off.brands.join(", ")) " by " (off.by) ", " (at(off.at)) "; no longer counted for them." }
            }
            p { (state_pill(&row.state)) }
            @if let Some(reply) = &row.reply {
                p.muted { "Answered on the network " (crate::mention::format_time(reply.at)) ": " (reply.text) }
            }
            @if let Some(o) = &outcome {
                p #outcome {
                    "After the answer: " span class={"pill " (o.outcome.as_str().replace(' ', "-"))} { (o.outcome.as_str()) }
                    @if let Some(by) = o.decided_by { " · " a href={"/mentions/" (by)} { "their later mention" } }
                    @if let (Some(then), Some(now)) = (o.rating_when_answered, o.rating_now) { @if then != now { " · re-rated " (then) "★ → " (now) "★" } }
                    span.muted { " (" (o.follow_ups.len()) " later mentions of the brand here)" }
                }
            }
        }
        (replying.render(row.id, &row.source, &chrome))
        form.actions method="post" action="/inbox/actions" {
            input type="hidden" name="csrf" value=(chrome.csrf.0);
            input type="hidden" name="id" value=(row.id);
            input type="hidden" name="return_mention" value=(row.id);
            (chrome.name_field())
            label { "Reply link" input name="reply_url" type="url" placeholder="https://…" size="28"; }
            label { "Note" input name="note" placeholder="how it was handled" size="22"; }
            button.primary type="submit" name="action" value="respond" { "Mark responded" }
            label { "Assign to" input name="assignee" placeholder="name" size="10"; }
            button type="submit" name="action" value="assign" { "Assign" }
            button type="submit" name="action" value="ignore" { "Ignore" }
            button type="submit" name="action" value="undo" { "Undo last" }
            label { "Label as"
                select name="label" {
                    option value="" { "…" }
                    option value="negative" { "negative" }
                    option value="neutral" { "neutral" }
                    option value="positive" { "positive" }
                    option value="not_about_us" { "not about us" }
                }
            }
            button type="submit" name="action" value="label" { "Correct label" }
        }
        h3 { "What was done" }
        @if case.history.is_empty() { p.muted { "Nothing yet." } }
        ol.history {
            @for a in &case.history {
                li {
                    strong { (a.action) } " → " (a.state.as_str()) " by " (a.by) ", " (when(&a.at))
                    @if let Some(who) = &a.assignee { " · to " (who) }
                    @if let Some(href) = safe_href(&a.reply_url) { " · " a href=(href) rel="noopener noreferrer" target="_blank" { "reply" } }
                    @if let Some(note) = &a.note { " · " span.muted { (note) } }
                    @if let (Some(by), Some(at)) = (&a.undone_by, &a.undone_at) { " · " em { "undone by " (by) ", " (when(at)) } }
                }
            }
        }
        @if !case.revisions.is_empty() {
            h3 { "Earlier versions" }
            ol.revisions {
                @for r in &case.revisions {
                    li {
                        @if let Some(stars) = r.rating { (("★").repeat(stars as usize)) " " }
                        (r.text) span.muted { " · " (r.label) ", replaced " (when(&r.replaced_at)) }
                    }
                }
            }
        }
        h3 { "Their other mentions" }
        @if case.author_mentions.is_empty() { p.muted { "None of the same brands on " (row.source) "." } }
        table {
            @for m in &case.author_mentions {
                tr {
                    td { a href={"/mentions/" (m.id)} { (when(&m.created_at)) } }
                    td class=(if m.compound < 0.0 { "num neg" } else { "num pos" }) { (m.label) }
                    td.text { (crate::mention::snippet(&m.text, 200)) }
                    td { span class={"pill " (m.state.as_str())} { (m.state.as_str()) } }
                }
            }
        }
    };
    page(
        StatusCode::OK,
        layout(&format!("Mention {id}"), Tab::Inbox, None, Some(&chrome), body),
    )
}

/// The inbox form's "Correct label": every ticked mention, or none.
async fn correct_labels(
    state: &AppState,
    who: &Identity,
    fields: &[(String, String)],
    ids: Vec<i64>,
) -> Result<Vec<inbox::MentionState>, ApiError> {
    use crate::mention::scored::Label;
    let label = match field(fields, "label") {
        Some("negative") => Some(Label::Negative),
        Some("neutral") => Some(Label::Neutral),
        Some("positive") => Some(Label::Positive),
        Some("not_about_us") => None,
        _ => return Err(ApiError::bad_request("choose the label to give them first")),
    };
    super::auth::check_by(field(fields, "by"))?;
    let by = who.actor(field(fields, "by"));
    let now = state.clock.now();
    let Some(label) = label else {
        state
            .writer
            .transact(move |tx| {
                for id in &ids {
                    crate::corrections::not_about_us(tx, *id, &by, now)?;
                }
                Ok(())
            })
            .await?;
        return Ok(Vec::new());
    };
    state
        .writer
        .transact(move |tx| {
            for id in &ids {
                crate::corrections::correct(tx, *id, label, &by, now)?;
            }
            Ok(())
        })
        .await?;
    Ok(Vec::new())
}

pub async fn alerts(State(state): State<AppState>, chrome: Chrome) -> Response {
    let bucket = state.config.detect.bucket.0;
    let now = state.clock.now();
    let target = state.config.inbox.response_target.0;
    let brands: Vec<String> = state.config.brands.iter().map(|b| b.name.clone()).collect();
    let times = state
        .read(move |conn| inbox::response_times(conn, &brands, now - chrono::Duration::days(7), now, target, now))
        .await;
    let times = match times {
        Ok((by_brand, _)) => by_brand,
        Err(e) => return error_page(e),
    };
    let result = state
        .read(move |conn| {
            let incidents = alert::list_incidents(conn, None, 100)?;
            incidents
                .into_iter()
                .map(|i| {
                    let (top, why) = if i.state == alert::State::Resolved {
                        (Vec::new(), None)
                    } else {
                        let (top, why) = alert::incident_context(conn, &i, bucket, 5)?;
                        (top, Some(why))
                    };
                    Ok((i, top, why))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    let incidents = match result {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    let minutes = |m: Option<f64>| m.map_or("–".to_string(), |m| format!("{m:.0} min"));
    let body = html! {
        h2 { "Alerts" }
        div.card #response-times {
            h3 { "First response, last 7 days" }
            table {
                tr { th { "Brand" } th { "Negative" } th { "Answered" } th { "Median" } th { "90th percentile" } th { "Within " (crate::clock::describe(target)) } }
                @for t in &times {
                    tr { td { (t.name) } td.num { (t.negatives) } td.num { (t.responded) } td.num { (minutes(t.median_minutes)) }
                         td.num { (minutes(t.p90_minutes)) } td.num { (t.within_target_share.map_or("–".to_string(), |s| format!("{:.0}%", s * 100.0))) } }
                }
            }
        }
        @if incidents.is_empty() { p.muted { "No incidents yet." } }
        @for (i, top, why) in &incidents {
            div.card #{"incident-" (i.id)} {
                span class={"pill " (i.state.as_str())} { (i.state.as_str()) } " "
                strong { "#" (i.id) " " (i.brand) } @if let Some(s) = &i.source { " on " (s) }
                " · " (format!("{:?}", i.figures.severity).to_lowercase())
                " · started " (at(i.figures.started_at))
                p {
                    (i.figures.observed) " negative mentions against " (format!("{:.1}", i.figures.expected)) " usual; peak "
                    (i.figures.peak_observed) " against " (format!("{:.1}", i.figures.peak_expected)) "; reach " (i.figures.reach)
                }
                @if let Some(why) = why {
                    p.why { strong { "Why: " } (why.summary()) }
                }
                @if let (Some(by), Some(at)) = (&i.acknowledged_by, i.acknowledged_at) {
                    p.muted { "Acknowledged by " (by) " at " (self::at(at)) @if let Some(n) = &i.ack_note { ": " (n) } }
                }
                @if let Some(at) = i.resolved_at {
                    p.muted { "Resolved at " (self::at(at)) @if let Some(by) = &i.resolved_by { " by " (by) } }
                }
                @if !top.is_empty() {
                    table { tbody {
                        @for m in top { tr {
                            td { (when(&m.created_at)) br; span.muted { (m.source) } }
                            td { (m.author.as_deref().unwrap_or("(unknown)")) }
                            td.text { (m.text) @if let Some(href) = safe_href(&m.url) { " " a href=(href) rel="noopener noreferrer nofollow" target="_blank" { "open" } } }
                            td.num { (m.reach) }
                        } }
                    } }
                }
                @if i.state != alert::State::Resolved && !chrome.may(Role::Manager) {
                    p.muted { "A manager acknowledges and resolves alerts." }
                }
                @if i.state != alert::State::Resolved && chrome.may(Role::Manager) {
                    form.actions method="post" action={"/alerts/" (i.id)} {
                        input type="hidden" name="csrf" value=(chrome.csrf.0);
                        (chrome.name_field())
                        @if i.state == alert::State::Firing {
                            label { "Note" input name="note" size="24" placeholder="what is being done"; }
                            button.primary type="submit" name="action" value="ack" { "Acknowledge" }
                        }
                        button type="submit" name="action" value="resolve" { "Resolve" }
                    }
                }
            }
        }
    };
    let banner = firing_banner(&state).await.ok();
    page(
        StatusCode::OK,
        layout("Alerts", Tab::Alerts, banner, Some(&chrome), body),
    )
}

pub async fn alert_action(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let result = async {
        check_csrf(&fields, &csrf)?;
        let id = api::parse_id(&id)?;
        let by = who.actor(field(&fields, "by"));
        let note = field(&fields, "note").map(str::to_string);
        let change: api::AlertChange = field(&fields, "action")
            .unwrap_or_default()
            .parse()
            .map_err(ApiError::bad_request)?;
        api::alert_change(&state, id, change, by, note).await
    }
    .await;
    match result {
        Ok(i) => Redirect::to(&format!("/alerts#incident-{}", i.id)).into_response(),
        Err(e) => error_page(e),
    }
}

pub async fn brands(State(state): State<AppState>, chrome: Chrome) -> Response {
    let summaries = match api::brand_summaries(&state).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let body = html! {
        h2 { "Brands" }
        table {
            thead { tr { th { "Brand" } th.num { "24 h" } th.num { "negative" } th.num { "net" } th.num { "7 days" } th.num { "negative" } th.num { "net" } th { "Incident" } } }
            tbody {
                @for b in &summaries { tr {
                    td { a href={"/brands/" (urlencode(&b.name))} { (b.name) } }
                    td.num { (b.last_24h.mentions) } td.num.neg { (b.last_24h.negative) } td.num { (net(b.last_24h.net_sentiment)) }
                    td.num { (b.last_7d.mentions) } td.num.neg { (b.last_7d.negative) } td.num { (net(b.last_7d.net_sentiment)) }
                    td { @if let Some(i) = &b.open_incident { span class={"pill " (i.state.as_str())} { (i.state.as_str()) } } }
                } }
            }
        }
    };
    let banner = firing_banner(&state).await.ok();
    page(
        StatusCode::OK,
        layout("Brands", Tab::Brands, banner, Some(&chrome), body),
    )
}

fn net(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:+.2}"))
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub async fn brand(State(state): State<AppState>, chrome: Chrome, Path(name): Path<String>) -> Response {
    if !state.config.brands.iter().any(|b| b.name == name) {
        return error_page(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no brand {name:?} in the config"),
        ));
    }
    let now = state.clock.now();
    let brand = name.clone();
    let follow_up = state.config.inbox.follow_up.0;
    let result = state
        .read(move |conn| {
            let day = charts::series(conn, &brand, now, Window::Day)?;
            let week = charts::series(conn, &brand, now, Window::Week)?;
            let open = alert::list_incidents(conn, None, 200)?
                .into_iter()
                .filter(|i| i.brand == brand)
                .take(5)
                .collect::<Vec<_>>();
            let period = crate::closed_loop::Period {
                since: now - follow_up,
                // Answers up to this very moment (the range ends before `until`).
                until: now + chrono::Duration::milliseconds(1),
                follow_up,
                now,
            };
            let closed = crate::closed_loop::summary(conn, &brand, period)?;
            let templates = crate::reply::templates(conn, std::slice::from_ref(&brand))?;
            Ok((day, week, open, closed, templates))
        })
        .await;
    let (day, week, incidents, closed, templates) = match result {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let health = api::source_health(&state).await.unwrap_or_default();
    let sources: Vec<_> = health
        .iter()
        .filter(|h| {
            state
                .config
                .sources
                .iter()
                .any(|s| s.name == h.name && s.brand.as_deref().is_none_or(|b| b == name))
        })
        .collect();
    let body = html! {
        h2 { (name) }
        @for (window, buckets) in [(Window::Day, &day), (Window::Week, &week)] {
            @let totals = charts::Totals::of(buckets);
            div.card {
                h3 { (window.title()) }
                p { (totals.mentions) " mentions: " span.neg { (totals.negative) " negative" } ", " (totals.neutral) " neutral, "
                    span.pos { (totals.positive) " positive" } "; net sentiment " (net(totals.net_sentiment)) }
                (charts::svg(buckets, window))
            }
        }
        div.card {
            h3 { "Incidents" }
            @if incidents.is_empty() { p.muted { "None." } }
            @for i in &incidents {
                p { span class={"pill " (i.state.as_str())} { (i.state.as_str()) } " #" (i.id) " since "
                    (at(i.figures.started_at)) ": " (i.figures.observed) " negative against "
                    (format!("{:.1}", i.figures.expected)) " usual" }
            }
        }
        div.card #won-back {
            h3 { "Won back" }
            @let t = &closed.total;
            @if t.responded == 0 { p.muted { "No detractor answered in the last " (format!("{}", closed.follow_up_days)) " days." } } @else {
                p { (t.responded) " detractors answered in the last " (format!("{}", closed.follow_up_days)) " days: "
                    span.pos { (t.recovered) " recovered" } ", " span.neg { (t.lost) " lost" } ", "
                    (t.no_word) " no word, " (t.waiting) " waiting"
                    @if let Some(rate) = t.recovery_rate { "; recovery rate " strong { (format!("{:.0}%", rate * 100.0)) } } }
                @if let (Some(then), Some(now)) = (closed.nps_when_answered, closed.nps_now) {
                    p { "NPS of the " (closed.answered_reviews) " answered reviews: " (format!("{then:.0}")) " when answered, " (format!("{now:.0}")) " now." }
                }
                table {
                    tr { th { "Source" } th { "Answered" } th { "Recovered" } th { "Lost" } th { "No word" } th { "Waiting" } }
                    @for (source, s) in &closed.by_source {
                        tr { td { (source) } td.num { (s.responded) } td.num { (s.recovered) } td.num { (s.lost) } td.num { (s.no_word) } td.num { (s.waiting) } }
                    }
                }
            }
        }
        div.card #saved-replies {
            h3 { "Saved replies" }
            p.muted { "Offered in every reply box of this brand's mentions; " code { "{author}" } " and " code { "{brand}" } " are filled in. Managers keep them." }
            @if templates.is_empty() { p.muted { "None yet." } }
            @for t in &templates {
                form.template method="post" action={"/reply-templates/" (t.id) "/delete"} {
                    input type="hidden" name="csrf" value=(chrome.csrf.0);
                    strong { (t.name) } " " span.text { (t.body) } " " span.muted { "by " (t.created_by) } " "
                    button type="submit" { "Delete" }
                }
            }
            form.template method="post" action="/reply-templates" {
                input type="hidden" name="csrf" value=(chrome.csrf.0);
                input type="hidden" name="brand" value=(name);
                label { "Name " input name="name" required maxlength="100" size="16"; }
                label { "Text " textarea name="body" required rows="2" cols="60" maxlength="10000" placeholder="Hi {author}, {brand} here: …" {} }
                button type="submit" { "Save reply" }
            }
        }
        div.card { h3 { "Sources" } (health_table(&sources)) }
    };
    let banner = firing_banner(&state).await.ok();
    page(StatusCode::OK, layout(&name, Tab::Brands, banner, Some(&chrome), body))
}

fn health_table(sources: &[&api::SourceHealth]) -> Markup {
    html! {
        table {
            thead { tr { th { "Source" } th { "Status" } th { "Last success" } th { "Last error" } th { "Rate-limited until" } } }
            tbody {
                @if sources.is_empty() { tr { td colspan="5" .muted { "No live sources configured." } } }
                @for s in sources { tr {
                    td { (s.name) br; span.muted { (s.kind.as_str().unwrap_or("")) } }
                    td { span class=(if s.healthy { "pill responded" } else { "pill firing" }) { (s.status) }
                         @if s.consecutive_failures > 0 { " ×" (s.consecutive_failures) } }
                    td { (s.last_success.as_deref().map(when).unwrap_or_default()) }
                    td.text { @if let Some(e) = &s.last_error { (e) br; span.muted { (s.last_error_at.as_deref().map(when).unwrap_or_default()) } } }
                    td { (s.rate_limited_until.as_deref().map(when).unwrap_or_default()) }
                } }
            }
        }
    }
}

pub async fn health(State(state): State<AppState>, chrome: Chrome) -> Response {
    let health = match api::source_health(&state).await {
        Ok(h) => h,
        Err(e) => return error_page(e),
    };
    let all: Vec<&api::SourceHealth> = health.iter().collect();
    let body = html! {
        h2 { "Health" }
        p { "Writer queue: " (state.writer.queue_depth()) " batches waiting. Machine-readable: "
            a href="/healthz" { "/healthz" } ", " a href="/metrics" { "/metrics" } "." }
        (health_table(&all))
    };
    let banner = firing_banner(&state).await.ok();
    page(
        StatusCode::OK,
        layout("Health", Tab::Health, banner, Some(&chrome), body),
    )
}

pub fn login_page(message: Option<&str>, csrf: &CsrfToken) -> Markup {
    layout(
        "Sign in",
        Tab::None,
        None,
        None,
        html! {
            h2 { "Sign in" }
            @if let Some(m) = message { p.error { (m) } }
            form.actions method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf.0);
                label { "Name" input name="name" required autocomplete="username" maxlength="64"; }
                label { "Password" input name="password" type="password" required autocomplete="current-password" maxlength="1024"; }
                button.primary type="submit" { "Sign in" }
            }
            p.muted { "No account? An admin adds one with " code { "complaint-monitor users add" } "." }
        },
    )
}

pub(super) fn login_response(status: StatusCode, message: Option<&str>, csrf: &CsrfToken) -> Response {
    page(status, login_page(message, csrf))
}

pub async fn login_form(Extension(csrf): Extension<CsrfToken>) -> Response {
    login_response(StatusCode::OK, None, &csrf)
}

/// The users (admin).
pub async fn users(State(state): State<AppState>, chrome: Chrome) -> Response {
    let users = match state.read(crate::accounts::list).await {
        Ok(users) => users,
        Err(e) => return error_page(e),
    };
    let body = html! {
        h2 { "Users" }
        p.muted { "Added, disabled and reset with " code { "complaint-monitor users" } " on the server." }
        table {
            thead { tr { th { "Name" } th { "Role" } th { "State" } th { "Last sign-in" } } }
            tbody {
                @for u in &users { tr {
                    td { (u.name) }
                    td { (u.role.as_str()) }
                    td { @if u.disabled { "disabled" } @else { "active" } }
                    td { @if let Some(t) = u.last_login_at { (at(t)) } @else { "never" } }
                } }
            }
        }
    };
    page(StatusCode::OK, layout("Users", Tab::Users, None, Some(&chrome), body))
}

pub async fn not_found() -> Response {
    error_page(ApiError::new(StatusCode::NOT_FOUND, "no such page"))
}

/// An HTML answer.
pub fn page(status: StatusCode, markup: Markup) -> Response {
    (status, axum::response::Html(markup.into_string())).into_response()
}

fn error_page(error: ApiError) -> Response {
    let status = error.status;
    let body = html! {
        h2 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
        p.error { (error.message) }
        p { a href="/" { "Back to the inbox" } }
    };
    page(status, layout("Error", Tab::None, None, None, body))
}
