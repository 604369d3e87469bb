//! Alerts: the incident lifecycle as staff see it (firing → acknowledged →
//! resolved), silences, and notifications written to an outbox in the same
//! transaction as the change they announce, then delivered by
//! [`delivery`] through the configured [`channels`].
//!
//! [`service::AlertService`] feeds the detector from the store and records
//! what it decides; the functions here are the operations staff run (from the
//! CLI now, the web UI later), each one transaction.

pub mod backtest;
pub mod channels;
pub mod delivery;
pub mod explain;
pub mod service;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::Span;
use crate::detect::incident::{IncidentFigures, Severity};
use crate::detect::Trigger;
use crate::mention::format_time;
use crate::sql_params;
use crate::store::sql::Sql;
use crate::store::{from_ms, Columns, StoreError};
use channels::ChannelConfig;

/// The `[alerts]` config table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Notify again at this interval while an incident fires unacknowledged.
    pub repeat_every: Span,
    /// Stop retrying a notification this long after its first attempt.
    pub give_up_after: Span,
    pub channels: Vec<ChannelConfig>,
}

impl AlertsConfig {
    /// Problems with the values, as `(key, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        use chrono::Duration;
        let mut problems = Vec::new();
        // A zero repeat would remind on every tick.
        if let Err(e) = self.repeat_every.check(Duration::minutes(1), Duration::days(30)) {
            problems.push(("repeat_every", e));
        }
        if let Err(e) = self.give_up_after.check(Duration::seconds(1), Duration::days(30)) {
            problems.push(("give_up_after", e));
        }
        problems
    }
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            repeat_every: Span(chrono::Duration::hours(1)),
            give_up_after: Span(chrono::Duration::hours(24)),
            channels: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = IncidentState)]
pub enum State {
    Firing,
    Acknowledged,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Firing => "firing",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
        }
    }
}

impl std::str::FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "firing" => Ok(State::Firing),
            "acknowledged" => Ok(State::Acknowledged),
            "resolved" => Ok(State::Resolved),
            _ => Err(format!(
                "unknown state {s:?}: expected firing, acknowledged or resolved"
            )),
        }
    }
}

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Opened,
    Escalated,
    Repeat,
    Resolved,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Opened => "opened",
            Event::Escalated => "escalated",
            Event::Repeat => "repeat",
            Event::Resolved => "resolved",
        }
    }
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: i64,
    pub brand: String,
    /// The source of a brand × source scope; `None` for the whole brand.
    pub source: Option<String>,
    pub state: State,
    pub silenced: bool,
    #[serde(flatten)]
    pub figures: IncidentFigures,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub ack_note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub notifications: u32,
    pub last_notified_at: Option<DateTime<Utc>>,
}

/// One of the negative mentions with the largest reach in an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopMention {
    pub source: String,
    pub author: Option<String>,
    pub audience: Option<u64>,
    pub text: String,
    pub url: Option<String>,
    pub reach: u64,
    pub created_at: String,
}

/// What every channel is given to say: everything staff need to respond.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub event: Event,
    pub incident_id: i64,
    pub brand: String,
    pub source: Option<String>,
    pub state: State,
    pub severity: Severity,
    pub trigger: Trigger,
    pub started_at: String,
    pub peak_at: String,
    pub last_anomalous_at: String,
    pub observed: u64,
    pub expected: f64,
    pub peak_observed: u64,
    pub peak_expected: f64,
    pub negative_share: Option<f64>,
    pub usual_share: f64,
    pub reach: u64,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<String>,
    pub top_mentions: Vec<TopMention>,
    /// When this notification was raised (virtual time in replay).
    #[serde(default)]
    pub notified_at: String,
    /// Seconds from the incident's first negative mention to this notice.
    #[serde(default)]
    pub delay_seconds: Option<i64>,
    /// What changed: terms, authors, sources, languages (beside the numbers).
    #[serde(flatten)]
    pub explanation: explain::Explanation,
}

impl Notification {
    /// A one-line summary, for logs and message titles.
    pub fn headline(&self) -> String {
        let scope = match &self.source {
            Some(source) => format!("{} on {source}", self.brand),
            None => self.brand.clone(),
        };
        let what = match self.event {
            Event::Opened => "negative mentions spiking",
            Event::Escalated => "spike escalated",
            Event::Repeat => "still spiking, unacknowledged",
            Event::Resolved => "spike resolved",
        };
        format!(
            "[{}] {scope}: {what}: {} negative vs {:.1} expected, reach {}",
            self.severity.as_str().to_uppercase(),
            self.peak_observed,
            self.peak_expected,
            self.reach
        )
    }
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub const INCIDENT_COLUMNS: &str =
    "id, brand, source, state, severity, trigger, started_at, peak_at, last_anomalous_at, \
     observed, expected, peak_observed, peak_expected, negative_share, usual_share, reach, silenced, \
     acknowledged_by, acknowledged_at, ack_note, resolved_at, resolved_by, notifications, last_notified_at";

/// An incident from the columns of [`INCIDENT_COLUMNS`], in that order,
/// from either database.
pub fn incident_from_columns(row: &(impl Columns + ?Sized)) -> Result<Incident, StoreError> {
    let int = |i| row.required_int(i);
    let real = |i| row.required_real(i);
    let text = |i| row.required_text(i);
    let count = |i| int(i).map(|n: i64| n.max(0) as u64);
    let source = text(2)?;
    let trigger = text(5)?;
    Ok(Incident {
        id: int(0)?,
        brand: text(1)?,
        source: (!source.is_empty()).then_some(source),
        state: text(3)?.parse().map_err(StoreError::Corrupt)?,
        silenced: int(16)? != 0,
        figures: IncidentFigures {
            started_at: from_ms(int(6)?),
            peak_at: from_ms(int(7)?),
            last_anomalous_at: from_ms(int(8)?),
            observed: count(9)?,
            expected: real(10)?,
            peak_observed: count(11)?,
            peak_expected: real(12)?,
            negative_share: row.real(13)?,
            usual_share: real(14)?,
            reach: count(15)?,
            severity: text(4)?.parse().map_err(StoreError::Corrupt)?,
            trigger: if trigger == "share" {
                Trigger::Share
            } else {
                Trigger::Count
            },
        },
        acknowledged_by: row.text(17)?,
        acknowledged_at: row.int(18)?.map(from_ms),
        ack_note: row.text(19)?,
        resolved_at: row.int(20)?.map(from_ms),
        resolved_by: row.text(21)?,
        notifications: u32::try_from(int(22)?.max(0)).unwrap_or(u32::MAX),
        last_notified_at: row.int(23)?.map(from_ms),
    })
}

pub fn get_incident(db: &dyn Sql, id: i64) -> Result<Incident, StoreError> {
    db.row(
        &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"),
        &sql_params![id],
        |row| incident_from_columns(row),
    )?
    .ok_or_else(|| StoreError::NotFound(format!("no incident {id}")))
}

/// Incidents, newest first, optionally in one state.
pub fn list_incidents(db: &dyn Sql, state: Option<State>, limit: u64) -> Result<Vec<Incident>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    db.rows(
        &format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1) \
             ORDER BY started_at DESC, id DESC LIMIT ?2"
        ),
        &sql_params![state.map(State::as_str), limit],
        |row| incident_from_columns(row),
    )
}

/// The open (not resolved) incident of a scope, if any.
pub fn open_incident(db: &dyn Sql, brand: &str, source: &str) -> Result<Option<Incident>, StoreError> {
    db.row(
        &format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE brand = ?1 AND source = ?2 \
             AND state != 'resolved' ORDER BY started_at DESC LIMIT 1"
        ),
        &sql_params![brand, source],
        |row| incident_from_columns(row),
    )
}

/// The negative mentions with the largest reach in an incident's window.
pub fn top_mentions(
    db: &dyn Sql,
    brand: &str,
    source: Option<&str>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<TopMention>, StoreError> {
    db.rows(
        "SELECT m.source, m.author, m.followers, m.text, m.url, f.reach, m.created_at \
         FROM mention_brands f JOIN mentions m ON m.id = f.mention_id \
         WHERE f.brand = ?1 AND f.label = 'negative' AND f.created_at >= ?2 AND f.created_at < ?3 \
           AND (CAST(?4 AS TEXT) IS NULL OR m.source = ?4) \
         ORDER BY f.reach DESC, f.created_at, f.mention_id LIMIT ?5",
        &sql_params![brand, ms(from), ms(until), source, limit],
        |row| {
            Ok(TopMention {
                source: row.required_text(0)?,
                author: row.text(1)?,
                audience: row.int(2)?.map(|v| v.max(0) as u64),
                text: crate::mention::snippet(&row.required_text(3)?, 280),
                url: row.text(4)?,
                reach: row.required_int(5)?.max(0) as u64,
                created_at: format_time(from_ms(row.required_int(6)?)),
            })
        },
    )
}

/// An incident's negative mentions with the largest reach (`limit` of
/// them) and what they say, from its first to the end of its last anomalous
/// bucket: what every notification and every view of an incident shows.
pub fn incident_context(
    db: &dyn Sql,
    incident: &Incident,
    bucket: chrono::Duration,
    limit: u32,
) -> Result<(Vec<TopMention>, explain::Explanation), StoreError> {
    let f = &incident.figures;
    let (from, until) = (f.started_at, f.last_anomalous_at + bucket);
    let source = incident.source.as_deref();
    let top = top_mentions(db, &incident.brand, source, from, until, limit)?;
    let explanation = explain::explain(db, &incident.brand, source, from, until)?;
    Ok((top, explanation))
}

/// Whether a silence covers the scope at `at`.
pub fn is_silenced(db: &dyn Sql, brand: &str, source: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = db.int(
        "SELECT count(*) FROM silences WHERE brand = ?1 AND (source = '' OR source = ?2) \
         AND starts_at <= ?3 AND ends_at > ?3",
        &sql_params![brand, source, ms(at)],
    )?;
    Ok(n.unwrap_or(0) > 0)
}

/// Records a silence; returns its id.
pub fn add_silence(
    db: &dyn Sql,
    brand: &str,
    source: Option<&str>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    reason: &str,
    by: Option<&str>,
) -> Result<i64, StoreError> {
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid("a silence needs a reason".into()));
    }
    let id = db.int(
        "INSERT INTO silences (brand, source, starts_at, ends_at, reason, created_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3) RETURNING id",
        &sql_params![brand, source.unwrap_or(""), ms(from), ms(until), reason, by],
    )?;
    id.ok_or_else(|| StoreError::Corrupt("a silence was stored without an id".into()))
}

/// Acknowledges a firing incident: staff are on it, repeats stop. Run it in
/// a transaction (the writer's, in the service).
pub fn acknowledge(
    tx: &dyn Sql,
    id: i64,
    by: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Incident, StoreError> {
    if by.trim().is_empty() {
        return Err(StoreError::Invalid("say who acknowledges (--by NAME)".into()));
    }
    let incident = get_incident(tx, id)?;
    if incident.state != State::Firing {
        return Err(StoreError::Invalid(format!(
            "incident {id} is {}, not firing",
            incident.state.as_str()
        )));
    }
    tx.execute(
        "UPDATE incidents SET state = 'acknowledged', acknowledged_by = ?2, acknowledged_at = ?3, ack_note = ?4 \
         WHERE id = ?1",
        &sql_params![id, by, ms(at), note],
    )?;
    get_incident(tx, id)
}

/// Resolves an incident by hand and queues its resolution notices, in the
/// caller's transaction.
pub fn resolve_by_hand(
    tx: &dyn Sql,
    config: &AlertsConfig,
    id: i64,
    by: &str,
    at: DateTime<Utc>,
    bucket: chrono::Duration,
) -> Result<Incident, StoreError> {
    let incident = get_incident(tx, id)?;
    if incident.state == State::Resolved {
        return Err(StoreError::Invalid(format!("incident {id} is already resolved")));
    }
    tx.execute(
        "UPDATE incidents SET state = 'resolved', resolved_at = ?2, resolved_by = ?3 WHERE id = ?1",
        &sql_params![id, ms(at), by],
    )?;
    let resolved = get_incident(tx, id)?;
    notify(tx, config, &resolved, Event::Resolved, at, bucket)?;
    Ok(resolved)
}

/// Queues `event` for every channel whose filters take the incident, unless
/// it is silenced, and counts it on the incident.
/// `bucket` is the detection bucket: the incident's mentions are those of
/// its first to its last anomalous bucket.
pub fn notify(
    tx: &dyn Sql,
    config: &AlertsConfig,
    incident: &Incident,
    event: Event,
    at: DateTime<Utc>,
    bucket: chrono::Duration,
) -> Result<usize, StoreError> {
    if incident.silenced {
        return Ok(0);
    }
    let f = &incident.figures;
    let (top, explanation) = incident_context(tx, incident, bucket, 5)?;
    let notification = Notification {
        event,
        incident_id: incident.id,
        brand: incident.brand.clone(),
        source: incident.source.clone(),
        state: incident.state,
        severity: f.severity,
        trigger: f.trigger,
        started_at: format_time(f.started_at),
        peak_at: format_time(f.peak_at),
        last_anomalous_at: format_time(f.last_anomalous_at),
        observed: f.observed,
        expected: (f.expected * 100.0).round() / 100.0,
        peak_observed: f.peak_observed,
        peak_expected: (f.peak_expected * 100.0).round() / 100.0,
        negative_share: f.negative_share.map(|s| (s * 1000.0).round() / 1000.0),
        usual_share: (f.usual_share * 1000.0).round() / 1000.0,
        reach: f.reach,
        acknowledged_by: incident.acknowledged_by.clone(),
        resolved_at: incident.resolved_at.map(format_time),
        top_mentions: top,
        notified_at: format_time(at),
        delay_seconds: explanation
            .first_mention_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|first| (at - first.with_timezone(&Utc)).num_seconds()),
        explanation,
    };
    let payload = serde_json::to_string(&notification).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sequence = incident.notifications + 1;
    let mut queued = 0;
    for channel in config
        .channels
        .iter()
        .filter(|c| c.accepts(&incident.brand, f.severity))
    {
        let key = format!("cm-{}-{}-{}-{}", incident.id, sequence, event.as_str(), channel.name);
        tx.execute(
            "INSERT INTO outbox (incident_id, channel, event, idempotency_key, payload, next_attempt_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT DO NOTHING",
            &sql_params![
                incident.id,
                &channel.name,
                event.as_str(),
                key,
                payload.as_str(),
                ms(at)
            ],
        )?;
        queued += 1;
    }
    tx.execute(
        "UPDATE incidents SET notifications = notifications + 1, last_notified_at = ?2 WHERE id = ?1",
        &sql_params![incident.id, ms(at)],
    )?;
    Ok(queued)
}
