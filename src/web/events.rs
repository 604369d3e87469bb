//! Live updates: a watcher notices every commit to the database (SQLite's
//! `data_version` changes when another connection commits), whoever made it
//! (pollers, the detector, an action from the CLI), and tells the browsers
//! over Server-Sent Events: each new negative mention, a change in the
//! incidents, a change in the inbox states.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{KeepAlive, Sse};
use futures::Stream;
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::AppState;
use crate::store::{self, StoreError};

/// How often the watcher looks for commits.
const WATCH_EVERY: Duration = Duration::from_millis(300);
/// New negative mentions announced one by one per look; more are summed up.
const ANNOUNCED: usize = 50;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A new negative mention.
    Mention {
        id: i64,
        source: String,
        author: Option<String>,
        reach: u64,
        text: String,
    },
    /// More new negative mentions than were announced one by one.
    Mentions { count: u64 },
    /// An incident opened, changed state or resolved.
    Alerts,
    /// Someone changed mentions' inbox state or label: each changed row as
    /// it is now, so that a page updates the rows it shows without asking
    /// again. `None`: too many changed at once, fetch the page again.
    States { rows: Option<Vec<RowChange>> },
}

/// A mention's row as it is after a change.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowChange {
    pub id: i64,
    pub state: String,
    pub label: String,
    pub assignee: Option<String>,
    /// The row's state cell, rendered (and escaped) as the page renders it.
    pub html: String,
}

/// Changed rows pushed one by one per look; more make pages fetch again.
const PUSHED_ROWS: usize = 200;

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Mention { .. } | Event::Mentions { .. } => "mention",
            Event::Alerts => "alert",
            Event::States { .. } => "state",
        }
    }
}

/// `GET /api/events`: the event stream.
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<axum::response::sse::Event, Infallible>>> {
    let receiver = state.events.subscribe();
    let stopping = state.stopping.subscribe();
    let events = futures::stream::unfold((receiver, stopping), |(mut receiver, mut stopping)| async move {
        if *stopping.borrow_and_update() {
            return None;
        }
        let sse = tokio::select! {
            received = receiver.recv() => match received {
                Ok(event) => {
                    let data = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
                    axum::response::sse::Event::default().event(event.name()).data(data)
                }
                // A slow browser missed some: tell it to refresh everything.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    axum::response::sse::Event::default().event("state").data("{\"type\":\"states\",\"rows\":null}")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            _ = stopping.changed() => return None,
        };
        Some((Ok(sse), (receiver, stopping)))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// What the watcher last saw.
#[derive(Default, PartialEq)]
struct Seen {
    max_mention: i64,
    incidents: String,
    /// The last `inbox_changes.seq` seen.
    changes: i64,
}

/// Starts the watcher; it stops when `stop` turns true or its sender is
/// gone (the server was dropped without a shutdown).
pub fn spawn_watcher(
    db: std::path::PathBuf,
    events: broadcast::Sender<Event>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    // What counts as already seen is fixed before this returns, so before
    // the server answers anyone: a watcher thread started late under load
    // would otherwise take a mention committed meanwhile for old news, and
    // no browser would hear of it.
    let baseline = store::open_read_only(&db).and_then(|conn| {
        let seen = look(&conn)?;
        let version = data_version(&conn).unwrap_or(0);
        Ok((conn, seen, version))
    });
    tokio::task::spawn_blocking(move || {
        let (conn, mut seen, mut version) = match baseline {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("live updates are off: {e}");
                return;
            }
        };
        while stop.has_changed().is_ok() && !*stop.borrow_and_update() {
            std::thread::sleep(WATCH_EVERY);
            let now_version = match data_version(&conn) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!("live updates: {e}");
                    continue;
                }
            };
            if now_version == version {
                continue;
            }
            version = now_version;
            match changes(&conn, &mut seen) {
                Ok(found) => {
                    for event in found {
                        // No browser listening is fine.
                        let _ = events.send(event);
                    }
                }
                Err(e) => tracing::warn!("live updates: {e}"),
            }
        }
    })
}

fn data_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

fn look(conn: &Connection) -> Result<Seen, StoreError> {
    Ok(Seen {
        max_mention: conn.query_row("SELECT coalesce(max(id), 0) FROM mentions", [], |r| r.get(0))?,
        incidents: conn.query_row(
            "SELECT coalesce(group_concat(id || ':' || state || ':' || severity || ':' || notifications), '') \
             FROM (SELECT * FROM incidents ORDER BY id DESC LIMIT 50)",
            [],
            |r| r.get(0),
        )?,
        changes: conn.query_row("SELECT coalesce(max(seq), 0) FROM inbox_changes", [], |r| r.get(0))?,
    })
}

/// The rows changed after change `since`, each once, as they are now.
fn changed_rows(conn: &Connection, since: i64) -> Result<Event, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.label, coalesce(s.state, 'new'), s.assignee, s.reply_url, s.note, s.updated_by, s.updated_at \
         FROM (SELECT DISTINCT mention_id FROM inbox_changes WHERE seq > ?1 LIMIT ?2) c \
         JOIN mentions m ON m.id = c.mention_id LEFT JOIN mention_states s ON s.mention_id = m.id",
    )?;
    let rows = stmt.query_map(rusqlite::params![since, PUSHED_ROWS as i64 + 1], |r| {
        let state: String = r.get(2)?;
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            state,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<i64>>(7)?,
        ))
    })?;
    let mut changed = Vec::new();
    for row in rows {
        let (id, label, state, assignee, reply_url, note, updated_by, updated_at) = row?;
        if changed.len() == PUSHED_ROWS {
            return Ok(Event::States { rows: None });
        }
        let mention_state = crate::inbox::MentionState {
            mention_id: id,
            state: state.parse().map_err(StoreError::Corrupt)?,
            assignee: assignee.clone(),
            reply_url,
            note,
            updated_by,
            updated_at: updated_at.map(|ms| crate::mention::format_time(store::from_ms(ms))),
        };
        changed.push(RowChange {
            id,
            state,
            label,
            assignee,
            html: super::pages::state_pill(&mention_state).into_string(),
        });
    }
    Ok(Event::States { rows: Some(changed) })
}

fn changes(conn: &Connection, seen: &mut Seen) -> Result<Vec<Event>, StoreError> {
    let now = look(conn)?;
    let mut events = Vec::new();
    if now.max_mention > seen.max_mention {
        let mut stmt = conn.prepare_cached(
            "SELECT id, source, author, reach, text FROM mentions WHERE id > ?1 AND label = 'negative' \
             ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![seen.max_mention, ANNOUNCED as i64 + 1], |r| {
            let text: String = r.get(4)?;
            Ok(Event::Mention {
                id: r.get(0)?,
                source: r.get(1)?,
                author: r.get(2)?,
                reach: r.get::<_, i64>(3)?.max(0) as u64,
                text: crate::mention::snippet(&text, 200),
            })
        })?;
        let mut found: Vec<Event> = rows.collect::<Result<_, _>>()?;
        if found.len() > ANNOUNCED {
            let count: i64 = conn.query_row(
                "SELECT count(*) FROM mentions WHERE id > ?1 AND label = 'negative'",
                [seen.max_mention],
                |r| r.get(0),
            )?;
            found = vec![Event::Mentions {
                count: count.max(0) as u64,
            }];
        }
        events.extend(found);
    }
    if now.incidents != seen.incidents {
        events.push(Event::Alerts);
    }
    if now.changes != seen.changes {
        events.push(changed_rows(conn, seen.changes)?);
    }
    *seen = now;
    Ok(events)
}
