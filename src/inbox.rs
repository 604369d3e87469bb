//! The response inbox: negative mentions in priority order, and what care
//! staff did about each (responded, assigned, ignored, undone). The web UI,
//! the JSON API and the `mentions` command all go through this module.
//!
//! Priority is `reach × negativity × recency`:
//! * reach is the stored estimate of people reached (at least 1);
//! * negativity is the larger of `-compound` (VADER, 0 when positive) and
//!   the rating's `(5 - stars) / 4` (1★ = 1, 2★ = 0.75), never below 0.05 so
//!   that every mention still sorts by reach;
//! * recency halves every [`HALF_LIFE_HOURS`] hours of age.
//!
//! A post reaching 2,000 people half a day ago therefore ranks with one
//! reaching 1,000 people now: both are worth answering, the bigger first.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::mention::format_time;
use crate::mention::scored::Label;
use crate::sql_params;
use crate::store::StoreError;

pub use crate::store::priority::{priority, priority_key, HALF_LIFE_HOURS};
/// Most rows one inbox page returns.
pub const MAX_PAGE: u32 = 500;
/// Longest note, person's name or reply link accepted, in bytes.
const MAX_NOTE_BYTES: usize = 2000;
const MAX_NAME_BYTES: usize = 100;
const MAX_URL_BYTES: usize = 2048;

/// Where a mention stands in the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = InboxState)]
pub enum State {
    New,
    Assigned,
    Responded,
    Ignored,
}

impl State {
    pub const ALL: [State; 4] = [State::New, State::Assigned, State::Responded, State::Ignored];

    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Assigned => "assigned",
            State::Responded => "responded",
            State::Ignored => "ignored",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown state {s:?}: expected new, assigned, responded or ignored"))
    }
}

/// What a person did to a mention.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    /// Answered it: where the reply is, or a note of how.
    Respond {
        #[serde(default)]
        reply_url: Option<String>,
        #[serde(default)]
        note: Option<String>,
    },
    /// Someone will answer it.
    Assign { assignee: String },
    /// Not ours to answer (spam, not about us), with why.
    Ignore {
        #[serde(default)]
        note: Option<String>,
    },
    /// Takes back the latest action not yet undone.
    Undo,
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Respond { .. } => "respond",
            Action::Assign { .. } => "assign",
            Action::Ignore { .. } => "ignore",
            Action::Undo => "undo",
        }
    }

    /// Trims the action's fields and checks them.
    fn checked(&self) -> Result<Change, StoreError> {
        let text = |value: &Option<String>, what: &str, max: usize| -> Result<Option<String>, StoreError> {
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty());
            match value {
                Some(v) if v.len() > max => Err(StoreError::Invalid(format!("{what} is longer than {max} bytes"))),
                v => Ok(v.map(str::to_string)),
            }
        };
        Ok(match self {
            Action::Respond { reply_url, note } => {
                let reply_url = text(reply_url, "the reply link (reply_url)", MAX_URL_BYTES)?;
                if let Some(url) = &reply_url {
                    if !reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                        return Err(StoreError::Invalid(format!(
                            "the reply link (reply_url) {:?} is not an http(s) link",
                            crate::mention::truncate(url, 80)
                        )));
                    }
                }
                let note = text(note, "note", MAX_NOTE_BYTES)?;
                if reply_url.is_none() && note.is_none() {
                    return Err(StoreError::Invalid(
                        "give the reply's link (reply_url) or a note of how it was answered (note)".into(),
                    ));
                }
                Change {
                    state: State::Responded,
                    assignee: None,
                    reply_url,
                    note,
                }
            }
            Action::Assign { assignee } => Change {
                state: State::Assigned,
                assignee: Some(
                    text(
                        &Some(assignee.clone()),
                        "the name to assign to (assignee)",
                        MAX_NAME_BYTES,
                    )?
                    .ok_or_else(|| StoreError::Invalid("give the name to assign it to (assignee)".into()))?,
                ),
                reply_url: None,
                note: None,
            },
            Action::Ignore { note } => Change {
                state: State::Ignored,
                assignee: None,
                reply_url: None,
                note: text(note, "note", MAX_NOTE_BYTES)?,
            },
            Action::Undo => Change {
                state: State::New,
                assignee: None,
                reply_url: None,
                note: None,
            },
        })
    }
}

/// The state an action leads to, with its details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Change {
    state: State,
    assignee: Option<String>,
    reply_url: Option<String>,
    note: Option<String>,
}

/// A mention's inbox state as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MentionState {
    pub mention_id: i64,
    pub state: State,
    pub assignee: Option<String>,
    pub reply_url: Option<String>,
    pub note: Option<String>,
    /// Who made the last change, and when; `None` for a mention never touched.
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

/// Applies `action` to each of `ids` in the caller's transaction (all or
/// none: an unknown id or a refused action rolls the whole set back).
pub fn apply(
    tx: &Transaction,
    ids: &[i64],
    action: &Action,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Vec<MentionState>, StoreError> {
    let actor = actor.trim();
    if actor.is_empty() {
        return Err(StoreError::Invalid("say who does this (by)".into()));
    }
    if actor.len() > MAX_NAME_BYTES {
        return Err(StoreError::Invalid(format!("by is longer than {MAX_NAME_BYTES} bytes")));
    }
    if ids.is_empty() {
        return Err(StoreError::Invalid("no mention ids given".into()));
    }
    let change = action.checked()?;
    ids.iter()
        .map(|&id| apply_one(tx, id, action, &change, actor, at))
        .collect()
}

fn apply_one(
    tx: &Transaction,
    id: i64,
    action: &Action,
    change: &Change,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<MentionState, StoreError> {
    let exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM mentions WHERE id = ?1)", [id], |r| {
        r.get(0)
    })?;
    if !exists {
        return Err(StoreError::NotFound(format!("no mention {id}")));
    }
    let at_ms = at.timestamp_millis();
    let change = if *action == Action::Undo {
        let latest: Option<i64> = tx
            .query_row(
                "SELECT id FROM mention_actions WHERE mention_id = ?1 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let latest = latest.ok_or_else(|| StoreError::Invalid(format!("mention {id} has nothing to undo")))?;
        tx.execute(
            "UPDATE mention_actions SET undone_by = ?2, undone_at = ?3 WHERE id = ?1",
            params![latest, actor, at_ms],
        )?;
        // Back to where the action before it left the mention, or to new.
        tx.query_row(
            "SELECT state, assignee, reply_url, note FROM mention_actions \
             WHERE mention_id = ?1 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            },
        )
        .optional()?
        .map(|(state, assignee, reply_url, note)| -> Result<Change, StoreError> {
            Ok(Change {
                state: state.parse().map_err(StoreError::Corrupt)?,
                assignee,
                reply_url,
                note,
            })
        })
        .transpose()?
        .unwrap_or_else(|| change.clone())
    } else {
        tx.execute(
            "INSERT INTO mention_actions (mention_id, action, state, assignee, reply_url, note, actor, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                action.name(),
                change.state.as_str(),
                change.assignee,
                change.reply_url,
                change.note,
                actor,
                at_ms
            ],
        )?;
        change.clone()
    };
    tx.execute(
        "INSERT INTO mention_states (mention_id, state, assignee, reply_url, note, updated_by, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (mention_id) DO UPDATE SET state = excluded.state, assignee = excluded.assignee, \
         reply_url = excluded.reply_url, note = excluded.note, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
        params![
            id,
            change.state.as_str(),
            change.assignee,
            change.reply_url,
            change.note,
            actor,
            at_ms
        ],
    )?;
    record_change(tx, id)?;
    Ok(MentionState {
        mention_id: id,
        state: change.state,
        assignee: change.assignee,
        reply_url: change.reply_url,
        note: change.note,
        updated_by: Some(actor.to_string()),
        updated_at: Some(format_time(at)),
    })
}

/// Records a reply posted on the network (by the reply outbox) as the mention's
/// response: by whoever wrote it, when the network took it, with its link.
pub fn record_reply(
    tx: &Transaction,
    id: i64,
    reply_url: Option<String>,
    note: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<MentionState, StoreError> {
    let mut note = note.trim().to_string();
    if note.len() > MAX_NOTE_BYTES {
        note = format!("{}…", crate::mention::truncate(&note, MAX_NOTE_BYTES - 3));
    }
    let change = Change {
        state: State::Responded,
        assignee: None,
        reply_url,
        note: Some(note),
    };
    let action = Action::Respond {
        reply_url: None,
        note: None,
    };
    apply_one(tx, id, &action, &change, actor, at)
}

/// Notes that mention `id`'s row changed, for the pages showing it.
pub fn record_change(tx: &Transaction, id: i64) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT INTO inbox_changes (mention_id) VALUES (?1)")?
        .execute([id])?;
    Ok(())
}

/// One recorded action, for a mention's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ActionRecord {
    pub action: String,
    pub state: State,
    pub assignee: Option<String>,
    pub reply_url: Option<String>,
    pub note: Option<String>,
    pub by: String,
    pub at: String,
    pub undone_by: Option<String>,
    pub undone_at: Option<String>,
}

/// Every action on a mention, oldest first.
pub fn history(conn: &Connection, id: i64) -> Result<Vec<ActionRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT action, state, assignee, reply_url, note, actor, at, undone_by, undone_at \
         FROM mention_actions WHERE mention_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get::<_, i64>(6)?,
            r.get(7)?,
            r.get::<_, Option<i64>>(8)?,
        ))
    })?;
    let time = |ms: i64| DateTime::from_timestamp_millis(ms).map(format_time).unwrap_or_default();
    rows.map(|row| {
        let (action, state, assignee, reply_url, note, by, at, undone_by, undone_at) = row?;
        Ok(ActionRecord {
            action,
            state: state.parse().map_err(StoreError::Corrupt)?,
            assignee,
            reply_url,
            note,
            by,
            at: time(at),
            undone_by,
            undone_at: undone_at.map(time),
        })
    })
    .collect()
}

/// States from text: `open` (new and assigned), `all` (empty: no filter),
/// or a comma-separated list such as `new,assigned`.
pub fn parse_states(text: &str) -> Result<Vec<State>, String> {
    match text.trim() {
        "open" => Ok(vec![State::New, State::Assigned]),
        "all" => Ok(Vec::new()),
        list => list
            .split(',')
            .map(|s| s.trim().parse::<State>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{e} (or open, all)")),
    }
}

/// Which mentions the inbox shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub brand: Option<String>,
    pub source: Option<String>,
    /// `None`: every label.
    pub label: Option<Label>,
    /// `Some(true)`: only mentions the scorer could not read (labelled
    /// neutral); `Some(false)`: none of them.
    pub not_scored: Option<bool>,
    /// Empty: every state.
    pub states: Vec<State>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Words that must all appear in the text or the author's name (a
    /// word ending in `*` matches as a prefix); anything else is taken as
    /// plain words, never as search syntax.
    pub search: Option<String>,
    /// Whose mentions: assigned to a person, or to nobody.
    pub assignee: Option<Assignee>,
    /// Only mentions still open past the response target.
    pub overdue: bool,
    /// Only the negative mentions of this incident.
    pub incident: Option<i64>,
    /// Only mentions in this language (as the source or the detector gave it).
    pub lang: Option<String>,
    /// Only reviews with this many stars, from the first to the second.
    pub rating: Option<(u8, u8)>,
    pub sort: Sort,
    /// An open mention older than this is overdue (`[inbox] response_target`).
    pub response_target: chrono::Duration,
    /// Where the previous page ended ([`Page::next`]).
    pub after: Option<Cursor>,
    /// Only this mention, whatever the other filters say (the mention page).
    pub only: Option<i64>,
    /// Only the mentions of this campaign or burst. Without it a group is
    /// one row, its first mention (with the group's size), and blocked
    /// mentions are left out.
    pub group: Option<i64>,
    pub limit: u32,
    pub offset: u32,
}

/// The orders the inbox offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Highest priority first (reach × negativity × recency).
    #[default]
    Priority,
    /// Most people reached first.
    Reach,
    /// Longest waiting first.
    Oldest,
    /// Latest first.
    Newest,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Priority, Sort::Reach, Sort::Oldest, Sort::Newest];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Priority => "priority",
            Sort::Reach => "reach",
            Sort::Oldest => "oldest",
            Sort::Newest => "newest",
        }
    }

    /// The column sorted on, and whether the order is descending.
    fn column(self) -> (&'static str, bool) {
        match self {
            Sort::Priority => ("m.priority_key", true),
            Sort::Reach => ("m.reach", true),
            Sort::Oldest => ("m.created_at", false),
            Sort::Newest => ("m.created_at", true),
        }
    }
}

impl FromStr for Sort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sort::ALL
            .into_iter()
            .find(|sort| sort.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not an order (priority, reach, oldest or newest)"))
    }
}

/// A position in one order: the last row's sort value and id. Rows keep
/// their place in every order as others arrive or leave (priority is a
/// stored key, not a function of now), so paging by it never skips or
/// repeats a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub value: f64,
    pub id: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rust prints the shortest text that reads back as the same f64;
        // in exponent form, so that it stays short whatever the value.
        write!(f, "{:e}_{}", self.value, self.id)
    }
}

impl FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "{:?} is not a page position (use the `next` of the page before)",
                truncate_for_error(s)
            )
        };
        let (value, id) = s.rsplit_once('_').ok_or_else(bad)?;
        let value: f64 = value.parse().map_err(|_| bad())?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        if !value.is_finite() || id < 1 {
            return Err(bad());
        }
        Ok(Cursor { value, id })
    }
}

fn truncate_for_error(s: &str) -> String {
    crate::mention::truncate(s, 60).to_string()
}

/// Most rows counted for a page's total: beyond it the inbox says "more
/// than 10,000", so a huge backlog costs a bounded count.
pub const MAX_COUNTED: u64 = 10_000;

/// The assignee filter of the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// Assigned to nobody (whatever the state).
    Nobody,
    /// Assigned to this person (names compare without case).
    Named(String),
}

impl Default for Query {
    /// What care staff open first: negative mentions nobody has answered yet.
    fn default() -> Self {
        Query {
            brand: None,
            source: None,
            label: Some(Label::Negative),
            not_scored: None,
            states: vec![State::New, State::Assigned],
            since: None,
            until: None,
            limit: 50,
            offset: 0,
            search: None,
            assignee: None,
            overdue: false,
            incident: None,
            lang: None,
            rating: None,
            sort: Sort::Priority,
            response_target: InboxConfig::default().response_target.0,
            after: None,
            only: None,
            group: None,
        }
    }
}

/// One inbox row.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub id: i64,
    pub source: String,
    pub source_id: String,
    pub created_at: String,
    /// The source gave no time: `created_at` is when it was first seen.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub time_estimated: bool,
    pub author: Option<String>,
    pub audience: Option<u64>,
    /// The author's standing where the network keeps one (Reddit karma).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub karma: Option<u64>,
    /// The brand's public answer already on the network (owned channels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<crate::mention::OwnerReply>,
    pub text: String,
    pub url: Option<String>,
    pub rating: Option<u8>,
    pub compound: f64,
    pub label: String,
    pub reach: u64,
    pub priority: f64,
    /// `high` (10,000 and up), `medium` (1,000 and up) or `low`.
    pub priority_tier: &'static str,
    /// Seconds since the mention was posted.
    pub age_seconds: i64,
    /// Still open (new or assigned) past the response target.
    pub overdue: bool,
    /// In a language the scorer does not read (`lang`): its neutral label is no answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_scored: bool,
    pub lang: Option<String>,
    pub brands: Vec<String>,
    /// The firing or acknowledged incident this mention is part of.
    pub incident: Option<i64>,
    /// The campaign or burst it leads or is part of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupSize>,
    /// Why a blocklist or learning keeps it out of the counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    #[serde(flatten)]
    pub state: MentionState,
}

/// A campaign or burst as the inbox shows it: one row and its size.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GroupSize {
    /// Pass as `group` for its mentions.
    pub id: i64,
    pub kind: crate::spam::Kind,
    pub mentions: u64,
    pub accounts: u64,
}

/// The size of group `id`.
pub fn group_size(db: &dyn crate::store::sql::Sql, id: i64) -> Result<Option<GroupSize>, StoreError> {
    let separator = db.dialect().char(31);
    let row = db.row(
        &format!(
            "SELECT g.kind, count(b.mention_id), \
             count(DISTINCT m.source || {separator} || coalesce(lower(m.author), 'id:' || m.id)) \
             FROM spam_groups g JOIN mention_brands b ON b.group_id = g.id JOIN mentions m ON m.id = b.mention_id \
             WHERE g.id = ?1 GROUP BY g.id"
        ),
        &sql_params![id],
        |r| Ok((r.required_text(0)?, r.required_int(1)?, r.required_int(2)?)),
    )?;
    let Some((kind, mentions, accounts)) = row else {
        return Ok(None);
    };
    let kind = crate::spam::Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("group kind {kind:?}")))?;
    Ok(Some(GroupSize {
        id,
        kind,
        mentions: mentions.max(0) as u64,
        accounts: accounts.max(0) as u64,
    }))
}

/// A page of the inbox, and how many rows match in all.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page {
    /// Rows matching the filters, counted up to [`MAX_COUNTED`].
    pub total: u64,
    /// More rows match than `total` says (counting stopped).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_capped: bool,
    pub rows: Vec<Row>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The inbox's `[inbox]` config table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboxConfig {
    /// How soon a mention should be answered: an open one older than this
    /// is overdue.
    pub response_target: crate::clock::Span,
    /// How long after an answer the author's next mentions are linked to
    /// the case (won back or lost: the `closed_loop` module).
    pub follow_up: crate::clock::Span,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            response_target: crate::clock::Span(chrono::Duration::hours(1)),
            follow_up: crate::clock::Span(chrono::Duration::days(14)),
        }
    }
}

/// The tier a priority is shown as.
pub fn priority_tier(priority: f64) -> &'static str {
    if priority >= 10_000.0 {
        "high"
    } else if priority >= 1_000.0 {
        "medium"
    } else {
        "low"
    }
}

/// Everything about one mention: its inbox row, what was done, the
/// versions an edit replaced, and the author's other mentions of the same
/// brands on the same network.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Case {
    pub row: Row,
    pub history: Vec<ActionRecord>,
    pub revisions: Vec<Revision>,
    pub author_mentions: Vec<AuthorMention>,
}

/// A version of a mention that its author's edit replaced.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revision {
    pub replaced_at: String,
    pub text: String,
    pub rating: Option<u8>,
    pub compound: f64,
    pub label: String,
}

/// Another mention by the same author.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthorMention {
    pub id: i64,
    pub created_at: String,
    pub text: String,
    pub label: String,
    pub compound: f64,
    pub rating: Option<u8>,
    pub state: State,
}

/// Most of an author's other mentions shown with one of theirs.
pub const AUTHOR_MENTIONS: u32 = 20;

/// The case of mention `id` at `now`; `None` when there is no such mention.
pub fn case(
    conn: &Connection,
    id: i64,
    response_target: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Option<Case>, StoreError> {
    let query = Query {
        label: None,
        states: Vec::new(),
        since: None,
        only: Some(id),
        response_target,
        limit: 1,
        ..Query::default()
    };
    let Some(row) = page(conn, &query, now)?.rows.into_iter().next() else {
        return Ok(None);
    };
    let revisions = {
        let mut stmt = conn.prepare_cached(
            "SELECT replaced_at, text, rating, compound, label FROM mention_revisions WHERE mention_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(Revision {
                replaced_at: format_time(crate::store::from_ms(r.get(0)?)),
                text: r.get(1)?,
                rating: r.get::<_, Option<i64>>(2)?.and_then(|v| u8::try_from(v).ok()),
                compound: r.get(3)?,
                label: r.get(4)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let author_mentions = match &row.author {
        None => Vec::new(),
        Some(author) => {
            let mut stmt = conn.prepare_cached(
                "SELECT m.id, m.created_at, m.text, m.label, m.compound, m.rating, coalesce(s.state, 'new') \
                 FROM mentions m LEFT JOIN mention_states s ON s.mention_id = m.id \
                 WHERE m.source = ?1 AND m.author = ?2 AND m.id != ?3 \
                 AND EXISTS (SELECT 1 FROM mention_brands a JOIN mention_brands b ON b.brand = a.brand \
                             WHERE a.mention_id = ?3 AND b.mention_id = m.id) \
                 ORDER BY m.created_at DESC LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![row.source, author, id, AUTHOR_MENTIONS], |r| {
                Ok((
                    AuthorMention {
                        id: r.get(0)?,
                        created_at: format_time(crate::store::from_ms(r.get(1)?)),
                        text: r.get(2)?,
                        label: r.get(3)?,
                        compound: r.get(4)?,
                        rating: r.get::<_, Option<i64>>(5)?.and_then(|v| u8::try_from(v).ok()),
                        state: State::New,
                    },
                    r.get::<_, String>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for found in rows {
                let (mut mention, state) = found?;
                mention.state = state.parse().map_err(StoreError::Corrupt)?;
                out.push(mention);
            }
            out
        }
    };
    Ok(Some(Case {
        history: history(conn, id)?,
        row,
        revisions,
        author_mentions,
    }))
}

/// How fast a brand's or a person's negative mentions were first answered.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResponseTimes {
    /// The brand, or the person who answered first.
    pub name: String,
    /// Negative mentions in the window (per person: those they answered first).
    pub negatives: u64,
    /// Of them, answered (a response not undone).
    pub responded: u64,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
    /// Answered within the response target, as a share of the negatives old
    /// enough to have been (younger open ones may still make it).
    pub within_target_share: Option<f64>,
}

/// First-response times of negative mentions created in `[since, until)`,
/// per brand and per person who answered first: time to the first response
/// not undone.
pub fn response_times(
    db: &dyn crate::store::sql::Sql,
    brands_wanted: &[String],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    target: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<(Vec<ResponseTimes>, Vec<ResponseTimes>), StoreError> {
    let target_ms = target.num_milliseconds();
    let now_ms = now.timestamp_millis();
    // name -> (negatives, delays in minutes, within target, old enough)
    type Tally = (u64, Vec<f64>, u64, u64);
    let mut brands: std::collections::BTreeMap<String, Tally> = Default::default();
    let mut people: std::collections::BTreeMap<String, Tally> = Default::default();
    let mut answered_once = std::collections::HashSet::new();
    // One brand at a time: each read is a range of the brand's label index.
    for wanted in brands_wanted {
        let rows = db.rows(
            "SELECT f.brand, f.created_at, a.actor, a.at, f.mention_id FROM mention_brands f \
             LEFT JOIN mention_actions a ON a.id = (SELECT min(x.id) FROM mention_actions x \
                 WHERE x.mention_id = f.mention_id AND x.action = 'respond' AND x.undone_at IS NULL) \
             WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3",
            &sql_params![wanted, since.timestamp_millis(), until.timestamp_millis()],
            |r| {
                Ok((
                    r.required_text(0)?,
                    r.required_int(1)?,
                    r.text(2)?,
                    r.int(3)?,
                    r.required_int(4)?,
                ))
            },
        )?;
        for (brand, created, actor, answered, mention) in rows {
            let delay = answered.map(|at| (at - created).max(0));
            let within = delay.is_some_and(|d| d <= target_ms);
            let counted = within || now_ms - created > target_ms;
            let add = |tally: &mut Tally| {
                tally.0 += 1;
                tally.1.extend(delay.map(|d| d as f64 / 60_000.0));
                tally.2 += u64::from(within);
                tally.3 += u64::from(counted);
            };
            add(brands.entry(brand).or_default());
            // A mention about two brands is one answer of its person.
            if let Some(actor) = actor.filter(|_| answered_once.insert(mention)) {
                add(people.entry(actor).or_default());
            }
        }
    }
    let summarise = |groups: std::collections::BTreeMap<String, Tally>| -> Vec<ResponseTimes> {
        groups
            .into_iter()
            .map(|(name, (negatives, mut delays, within, counted))| {
                delays.sort_by(f64::total_cmp);
                // Nearest rank: the smallest delay with at least q of them at or below it.
                let quantile = |q: f64| {
                    (!delays.is_empty())
                        .then(|| delays[((q * delays.len() as f64).ceil() as usize).clamp(1, delays.len()) - 1])
                };
                ResponseTimes {
                    name,
                    negatives,
                    responded: delays.len() as u64,
                    median_minutes: quantile(0.5),
                    p90_minutes: quantile(0.9),
                    within_target_share: (counted > 0).then(|| within as f64 / counted as f64),
                }
            })
            .collect()
    };
    Ok((summarise(brands), summarise(people)))
}

/// A person's saved inbox view: a name for a set of filters and an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The inbox's query string (`state=open&assignee=me&sort=oldest`).
    pub query: String,
}

/// Most views one person keeps.
pub const MAX_VIEWS: usize = 50;
/// Longest view name, in characters, and query string, in bytes.
pub const MAX_VIEW_NAME_CHARS: usize = 40;
pub const MAX_VIEW_QUERY_BYTES: usize = 1000;

/// Saves (or, under the same name, replaces) `owner`'s view `name`. The
/// query must already be checked as inbox parameters by the caller.
pub fn save_view(
    tx: &Transaction,
    owner: &str,
    name: &str,
    query: &str,
    at: DateTime<Utc>,
) -> Result<SavedView, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_VIEW_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "a view's name is 1 to {MAX_VIEW_NAME_CHARS} characters"
        )));
    }
    if query.len() > MAX_VIEW_QUERY_BYTES {
        return Err(StoreError::Invalid(format!(
            "a view's query is at most {MAX_VIEW_QUERY_BYTES} bytes"
        )));
    }
    let existing = views(tx, owner)?;
    if existing.len() >= MAX_VIEWS && !existing.iter().any(|v| v.name == name) {
        return Err(StoreError::Invalid(format!(
            "at most {MAX_VIEWS} views each; delete one first"
        )));
    }
    tx.execute(
        "INSERT INTO saved_views (owner, name, query, created_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (owner, name) DO UPDATE SET query = excluded.query",
        params![owner, name, query, at.timestamp_millis()],
    )?;
    let id = tx.query_row(
        "SELECT id FROM saved_views WHERE owner = ?1 AND name = ?2",
        params![owner, name],
        |r| r.get(0),
    )?;
    Ok(SavedView {
        id,
        name: name.to_string(),
        query: query.to_string(),
    })
}

/// `owner`'s views, by name.
pub fn views(conn: &Connection, owner: &str) -> Result<Vec<SavedView>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, name, query FROM saved_views WHERE owner = ?1 ORDER BY name, id")?;
    let rows = stmt.query_map([owner], |r| {
        Ok(SavedView {
            id: r.get(0)?,
            name: r.get(1)?,
            query: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes `owner`'s view `id`; another person's view is not found.
pub fn delete_view(tx: &Transaction, owner: &str, id: i64) -> Result<(), StoreError> {
    let deleted = tx.execute(
        "DELETE FROM saved_views WHERE id = ?1 AND owner = ?2",
        params![id, owner],
    )?;
    if deleted == 0 {
        return Err(StoreError::NotFound(format!("no view {id} of yours")));
    }
    Ok(())
}

/// Longest search text read, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A search as an FTS5 expression that means only "all these words": each
/// word quoted (so `"`, `NEAR(`, `OR`, `:` and `-` are just text), a
/// trailing `*` kept as a prefix match. `None` when there is no word.
fn fts_expression(search: &str) -> Option<String> {
    let terms: Vec<String> = search
        .chars()
        .take(MAX_SEARCH_CHARS)
        .collect::<String>()
        .split_whitespace()
        .take(16)
        .filter_map(|word| {
            let (word, prefix) = match word.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (word, false),
            };
            let word: String = word.chars().filter(|c| !c.is_control()).collect();
            if word.trim_matches('"').is_empty() {
                return None;
            }
            let quoted = format!("\"{}\"", word.replace('"', "\"\""));
            Some(if prefix { format!("{quoted}*") } else { quoted })
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// The inbox page `query` asks for, at `now`, in the query's order.
pub fn page(db: &dyn crate::store::sql::Sql, query: &Query, now: DateTime<Utc>) -> Result<Page, StoreError> {
    use crate::store::sql::{Dialect, Param};
    let dialect = db.dialect();
    let now_ms = now.timestamp_millis();
    let mut from = String::from("mentions m LEFT JOIN mention_states s ON s.mention_id = m.id");
    let mut filters = Vec::new();
    let mut values: Vec<Param> = Vec::new();
    if let Some(brand) = &query.brand {
        // `created_at` too: the brand index's key is (brand, created_at, id).
        from.push_str(" JOIN mention_brands f ON f.mention_id = m.id AND f.brand = ? AND f.created_at = m.created_at");
        values.push(brand.as_str().into());
    }
    if let Some(source) = &query.source {
        filters.push("m.source = ?".to_string());
        values.push(source.as_str().into());
    }
    if let Some(label) = query.label {
        // Written out, not bound: one of three fixed words, and only a
        // literal lets SQLite use the index that holds negatives alone.
        filters.push(format!("m.label = '{}'", label.as_str()));
    }
    if let Some(not_scored) = query.not_scored {
        filters.push(format!("m.not_scored = {}", i32::from(not_scored)));
    }
    if !query.states.is_empty() && query.states.len() < State::ALL.len() {
        let marks = vec!["?"; query.states.len()].join(", ");
        filters.push(format!("coalesce(s.state, 'new') IN ({marks})"));
        values.extend(query.states.iter().map(|s| Param::from(s.as_str())));
    }
    if let Some(since) = query.since {
        filters.push("m.created_at >= ?".to_string());
        values.push(since.timestamp_millis().into());
    }
    if let Some(until) = query.until {
        filters.push("m.created_at < ?".to_string());
        values.push(until.timestamp_millis().into());
    }
    match &query.assignee {
        None => {}
        Some(Assignee::Nobody) => filters.push("s.assignee IS NULL".to_string()),
        Some(Assignee::Named(name)) => {
            // ASCII case folding, as SQLite's NOCASE, in either database.
            filters.push("lower(s.assignee) = lower(?)".to_string());
            values.push(name.trim().into());
        }
    }
    let overdue_before = (now - query.response_target).timestamp_millis();
    if query.overdue {
        filters.push("coalesce(s.state, 'new') IN ('new', 'assigned') AND m.created_at < ?".to_string());
        values.push(overdue_before.into());
    }
    if let Some(incident) = query.incident {
        filters.push(
            "m.label = 'negative' AND EXISTS (SELECT 1 FROM incidents i JOIN mention_brands b \
             ON b.brand = i.brand AND b.mention_id = m.id AND b.created_at = m.created_at \
             WHERE i.id = ? AND m.created_at >= i.started_at \
             AND (i.resolved_at IS NULL OR m.created_at < i.resolved_at) \
             AND (i.source = '' OR i.source = m.source))"
                .to_string(),
        );
        values.push(incident.into());
    }
    if let Some(lang) = &query.lang {
        filters.push("lower(m.lang) = lower(?)".to_string());
        values.push(lang.as_str().into());
    }
    if let Some((low, high)) = query.rating {
        filters.push("m.rating BETWEEN ? AND ?".to_string());
        values.push(i64::from(low).into());
        values.push(i64::from(high).into());
    }
    if let Some(expression) = query.search.as_deref().and_then(fts_expression) {
        if dialect == Dialect::Postgres {
            return Err(StoreError::Invalid(
                "searching the inbox needs SQLite's full-text index; it does not search PostgreSQL yet".into(),
            ));
        }
        filters.push("m.id IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)".to_string());
        values.push(expression.into());
    }
    if let Some(id) = query.only {
        filters.push("m.id = ?".to_string());
        values.push(id.into());
    }
    match query.group {
        Some(group) => {
            filters.push("m.id IN (SELECT g.mention_id FROM mention_brands g WHERE g.group_id = ?)".to_string());
            values.push(group.into());
        }
        None if query.only.is_none() => filters.push("m.folded = 0".to_string()),
        None => {}
    }
    let where_ = |filters: &[String]| {
        if filters.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", filters.join(" AND "))
        }
    };
    let counted = db
        .int(
            &format!(
                "SELECT count(*) FROM (SELECT 1 FROM {from}{} LIMIT {}) counted",
                where_(&filters),
                MAX_COUNTED + 1
            ),
            &values,
        )?
        .unwrap_or(0);
    let (column, descending) = query.sort.column();
    // The bare column, so that the order is read from its index.
    let key = column;
    // Negatives in priority order come from the index that holds them alone,
    // the time window checked row by row until the page is full: without
    // statistics SQLite would read every row of the window by time and sort
    // them (100,000 open complaints: the whole backlog per request).
    let from = if dialect == Dialect::Sqlite && query.sort == Sort::Priority && query.label == Some(Label::Negative) {
        from.replacen("mentions m", "mentions m INDEXED BY mentions_negative_by_priority", 1)
    } else {
        from
    };
    if let Some(after) = query.after {
        filters.push(format!("({key}, m.id) {} (?, ?)", if descending { "<" } else { ">" }));
        values.push(after.value.into());
        values.push(after.id.into());
    }
    let direction = if descending { "DESC" } else { "ASC" };
    let limit = query.limit.clamp(1, MAX_PAGE);
    let sql = format!(
        "SELECT m.id, m.source, m.source_id, m.created_at, m.author, m.followers, m.text, m.url, m.rating, \
         m.compound, m.label, m.reach, CAST({key} AS DOUBLE PRECISION), \
         (SELECT {brands} FROM mention_brands b WHERE b.mention_id = m.id), \
         (SELECT i.id FROM incidents i JOIN mention_brands b ON b.brand = i.brand AND b.mention_id = m.id \
          WHERE i.state != 'resolved' AND m.label = 'negative' AND m.created_at >= i.started_at \
          AND (i.source = '' OR i.source = m.source) ORDER BY i.started_at DESC LIMIT 1), \
         coalesce(s.state, 'new'), s.assignee, s.reply_url, s.note, s.updated_by, s.updated_at, m.author_karma, \
         m.time_estimated, m.reply_text, m.reply_at, m.lang, m.not_scored, \
         (SELECT b.group_id FROM mention_brands b WHERE b.mention_id = m.id AND b.group_id IS NOT NULL LIMIT 1), \
         (SELECT b.blocked FROM mention_brands b WHERE b.mention_id = m.id AND b.blocked IS NOT NULL LIMIT 1) \
         FROM {from}{} ORDER BY {key} {direction}, m.id {direction} LIMIT {} OFFSET {}",
        where_(&filters),
        // One more than asked: whether there is a next page.
        limit + 1,
        if query.after.is_some() { 0 } else { query.offset },
        brands = dialect.string_agg("brand", &dialect.char(31)),
    );
    let rows = db.rows(&sql, &values, |r| {
        let created_at = r.required_int(3)?;
        let brands = r.text(13)?;
        let state = r.required_text(15)?;
        let updated_at = r.int(20)?;
        let id = r.required_int(0)?;
        let reach = r.required_int(11)?;
        let compound = r.required_real(9)?;
        let rating = r.int(8)?;
        let priority = priority(reach, compound, rating, created_at, now_ms);
        // Only a row written by hand lacks a priority key: it sorts last.
        let sort_value = r.real(12)?.unwrap_or(-f64::MAX);
        Ok((
            Row {
                id,
                source: r.required_text(1)?,
                source_id: r.required_text(2)?,
                created_at: DateTime::from_timestamp_millis(created_at)
                    .map(format_time)
                    .unwrap_or_default(),
                time_estimated: r.required_int(22)? != 0,
                author: r.text(4)?,
                audience: r.int(5)?.map(|v| v.max(0) as u64),
                karma: r.int(21)?.map(|v| v.max(0) as u64),
                reply: match (r.text(23)?, r.int(24)?) {
                    (Some(text), Some(at)) => {
                        DateTime::from_timestamp_millis(at).map(|at| crate::mention::OwnerReply { text, at })
                    }
                    _ => None,
                },
                text: r.required_text(6)?,
                url: r.text(7)?,
                rating: rating.and_then(|v| u8::try_from(v).ok()),
                compound,
                label: r.required_text(10)?,
                reach: reach.max(0) as u64,
                priority,
                priority_tier: priority_tier(priority),
                age_seconds: (now_ms - created_at).max(0) / 1000,
                overdue: matches!(state.as_str(), "new" | "assigned") && created_at < overdue_before,
                lang: r.text(25)?,
                not_scored: r.required_int(26)? != 0,
                brands: brands
                    .map(|b| b.split('\u{1f}').map(str::to_string).collect())
                    .unwrap_or_default(),
                incident: r.int(14)?,
                group: None,
                blocked: r.text(28)?,
                state: MentionState {
                    mention_id: id,
                    state: State::New,
                    assignee: r.text(16)?,
                    reply_url: r.text(17)?,
                    note: r.text(18)?,
                    updated_by: r.text(19)?,
                    updated_at: updated_at.and_then(DateTime::from_timestamp_millis).map(format_time),
                },
            },
            state,
            sort_value,
            r.int(27)?,
        ))
    })?;
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (mut row, state, sort_value, group) in rows {
        if out.len() == limit as usize {
            more = true;
            break;
        }
        row.state.state = state.parse().map_err(StoreError::Corrupt)?;
        row.brands.sort();
        if let Some(group) = group {
            row.group = group_size(db, group)?;
        }
        last = Some(Cursor {
            value: sort_value,
            id: row.id,
        });
        out.push(row);
    }
    let counted = counted.max(0) as u64;
    Ok(Page {
        total: counted.min(MAX_COUNTED),
        total_capped: counted > MAX_COUNTED,
        rows: out,
        next: last.filter(|_| more).map(|c| c.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_and_actions_are_checked() {
        assert_eq!("responded".parse::<State>(), Ok(State::Responded));
        assert!("done".parse::<State>().is_err());
        let empty = Action::Respond {
            reply_url: None,
            note: Some("  ".into()),
        };
        assert!(empty.checked().is_err(), "a response needs a link or a note");
        let script = Action::Respond {
            reply_url: Some("javascript:alert(1)".into()),
            note: None,
        };
        assert!(script.checked().is_err(), "only http(s) links");
        assert!(Action::Assign { assignee: " ".into() }.checked().is_err());
    }
}
