//! The JSON API: every page's data, and the actions. Errors are JSON
//! (`{"error": ..., "status": ...}`) with the status that fits: 400 for a
//! bad parameter or a refused value, 401 when not signed in, 403 for a role
//! too low, 404, 409 for an action the current state does not allow, 413,
//! 415 and 422 for a body too large, not JSON, or of the wrong shape. The
//! OpenAPI document ([`super::openapi`]) describes every route.

use std::collections::HashMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Identity;
use super::{ApiError, AppState};
use crate::alert::{self, Incident};
use crate::inbox::{self, Action};
use crate::mention::scored::Label;
use crate::store::StoreError;

/// Query parameters, checked: an unknown name or a bad value is a 400.
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn new(raw: HashMap<String, String>, allowed: &[&str]) -> Result<Self, ApiError> {
        if let Some(unknown) = raw.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!(
                "unknown parameter {unknown:?}; this endpoint takes {}",
                allowed.join(", ")
            )));
        }
        Ok(Params(raw))
    }

    /// A value, with empty meaning absent (an unfilled form field).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A whole number in `range`, or `default` when absent.
    /// Unlike the text parameters, taken exactly as sent: an empty or padded
    /// number is a mistake, not the default.
    fn number(&self, name: &str, default: u32, range: std::ops::RangeInclusive<u32>) -> Result<u32, ApiError> {
        match self.0.get(name).map(String::as_str) {
            None => Ok(default),
            Some(v) => v.parse::<u32>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ))
            }),
        }
    }

    fn time(&self, name: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.get(name)
            .map(|v| crate::clock::parse_since(v, now).map_err(|e| ApiError::bad_request(format!("{name}: {e}"))))
            .transpose()
    }
}

pub const INBOX_PARAMS: &[&str] = &[
    "brand", "source", "label", "state", "since", "until", "q", "assignee", "overdue", "incident", "lang", "rating",
    "group", "sort", "after", "limit", "offset",
];

/// The inbox query the parameters describe (defaults: negative, open, last 7 days).
pub fn inbox_query(
    state: &AppState,
    params: &Params,
    who: &Identity,
    now: DateTime<Utc>,
) -> Result<inbox::Query, ApiError> {
    let assignee = match params.get("assignee") {
        None => None,
        Some("none") => Some(inbox::Assignee::Nobody),
        Some("me") => Some(inbox::Assignee::Named(who.name.clone())),
        Some(name) if name.chars().count() <= crate::accounts::MAX_NAME_CHARS => {
            Some(inbox::Assignee::Named(name.to_string()))
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "assignee is me, none or a name of at most {} characters",
                crate::accounts::MAX_NAME_CHARS
            )))
        }
    };
    let mut query = inbox::Query {
        assignee,
        ..inbox::Query::default()
    };
    if let Some(brand) = params.get("brand") {
        if !state.config.brands.iter().any(|b| b.name == brand) {
            return Err(ApiError::bad_request(format!("unknown brand {brand:?}")));
        }
        query.brand = Some(brand.to_string());
    }
    query.source = params.get("source").map(str::to_string);
    query.search = params.get("q").map(str::to_string);
    if query
        .search
        .as_ref()
        .is_some_and(|q| q.chars().count() > inbox::MAX_SEARCH_CHARS)
    {
        return Err(ApiError::bad_request(format!(
            "q is at most {} characters",
            inbox::MAX_SEARCH_CHARS
        )));
    }
    (query.label, query.not_scored) = match params.get("label") {
        None => (Some(Label::Negative), None),
        Some("all") => (None, None),
        // Neutral because the scorer does not read the language.
        Some("unscored") => (Some(Label::Neutral), Some(true)),
        Some(v) => {
            let label = v
                .parse::<Label>()
                .map_err(|e| ApiError::bad_request(format!("label: {e} (or unscored, all)")))?;
            (Some(label), (label == Label::Neutral).then_some(false))
        }
    };
    if let Some(states) = params.get("state") {
        query.states = inbox::parse_states(states).map_err(|e| ApiError::bad_request(format!("state: {e}")))?;
    }
    query.since = Some(params.time("since", now)?.unwrap_or(now - chrono::Duration::days(7)));
    query.until = params.time("until", now)?;
    query.overdue = match params.get("overdue") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::bad_request("overdue is true or false")),
    };
    query.response_target = state.config.inbox.response_target.0;
    query.incident = params
        .get("incident")
        .map(|v| parse_id(v).map_err(|_| ApiError::bad_request("incident is an incident's id")))
        .transpose()?;
    query.lang = match params.get("lang") {
        None => None,
        Some(lang) if (1..=16).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
            Some(lang.to_string())
        }
        Some(_) => return Err(ApiError::bad_request("lang is a language code such as en or pt-BR")),
    };
    query.rating = params.get("rating").map(parse_rating).transpose()?;
    query.group = params
        .get("group")
        .map(|v| parse_id(v).map_err(|_| ApiError::bad_request("group is a campaign's or burst's id")))
        .transpose()?;
    if let Some(sort) = params.get("sort") {
        query.sort = sort.parse().map_err(|e| ApiError::bad_request(format!("sort: {e}")))?;
    }
    query.after = params
        .get("after")
        .map(|v| v.parse().map_err(|e| ApiError::bad_request(format!("after: {e}"))))
        .transpose()?;
    query.limit = params.number("limit", 50, 1..=inbox::MAX_PAGE)?;
    query.offset = params.number("offset", 0, 0..=1_000_000)?;
    if let (Some(since), Some(until)) = (query.since, query.until) {
        if since > until {
            return Err(ApiError::bad_request(format!(
                "since ({}) is after until ({}): nothing can be in between",
                since.to_rfc3339(),
                until.to_rfc3339()
            )));
        }
    }
    Ok(query)
}

/// `4` (four stars) or `1-2` (one or two).
fn parse_rating(text: &str) -> Result<(u8, u8), ApiError> {
    let stars = |v: &str| v.parse::<u8>().ok().filter(|n| (1..=5).contains(n));
    let range = match text.split_once('-') {
        Some((low, high)) => stars(low).zip(stars(high)).filter(|(l, h)| l <= h),
        None => stars(text).map(|n| (n, n)),
    };
    range.ok_or_else(|| ApiError::bad_request("rating is a number of stars from 1 to 5, or a range such as 1-2"))
}

/// The inbox: matching mentions, highest priority first.
#[utoipa::path(get, path = "/api/mentions", tag = "inbox", params(super::openapi::InboxParams),
    responses((status = 200, body = inbox::Page), super::openapi::CommonErrors))]
pub async fn mentions(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<inbox::Page>, ApiError> {
    let now = state.clock.now();
    let query = inbox_query(&state, &Params::new(raw, INBOX_PARAMS)?, &who, now)?;
    Ok(Json(inbox_page(&state, query, now).await?))
}

/// The inbox page for `query`, refusing a `source` that is no network we
/// read, no configured source and in no stored mention (a typo would
/// otherwise be an empty inbox).
pub async fn inbox_page(state: &AppState, query: inbox::Query, now: DateTime<Utc>) -> Result<inbox::Page, ApiError> {
    let known = query
        .source
        .as_deref()
        .is_none_or(|source| known_sources(&state.config).any(|k| k == source));
    state
        .read(move |conn| {
            if let Some(source) = &query.source {
                if !known && !crate::store::has_source(conn, source)? {
                    return Err(StoreError::Invalid(format!(
                        "no source {:?}: not a network we read, not configured, in no stored mention",
                        crate::mention::truncate(source, 60)
                    )));
                }
            }
            inbox::page(conn, &query, now)
        })
        .await
}

/// The sources a filter may name without any stored mention from them: every
/// network we read (mentions carry its name, `reddit`) and every configured
/// source's own name. The API's document offers the same list.
pub fn known_sources(config: &crate::config::Config) -> impl Iterator<Item = &str> {
    crate::sources::SourceKind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain(config.sources.iter().map(|s| s.name.as_str()))
}

/// One mention with everything done about it (`history`).
#[utoipa::path(get, path = "/api/mentions/{id}", tag = "inbox",
    params(("id" = i64, Path, minimum = 1, description = "the mention's id")),
    responses((status = 200, body = serde_json::Value), (status = 404, body = super::openapi::ErrorBody), super::openapi::CommonErrors))]
pub async fn mention(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let target = state.config.inbox.response_target.0;
    let config = state.config.clone();
    let detail = state
        .read(move |conn| {
            let mention = crate::store::mention_by_id(conn, id)?;
            let Some(case) = inbox::case(conn, id, target, now)? else {
                return Err(StoreError::NotFound(format!("no mention {id}")));
            };
            Ok(serde_json::json!({
                "id": mention.id,
                "mention": mention.scored.mention.to_feed_json(),
                "brands": mention.scored.brands.iter().map(|b| b.to_string()).collect::<Vec<_>>(),
                "label": mention.scored.label.as_str(),
                "compound": mention.scored.sentiment.compound,
                "reach": mention.scored.reach.people,
                "history": case.history,
                "corrected": crate::corrections::corrected_label(conn, id)?,
                "row": case.row,
                "revisions": case.revisions,
                "author_mentions": case.author_mentions,
                "replies": crate::reply::for_mention(conn, id)?,
                "closed_loop": crate::closed_loop::case_of(conn, id, config.inbox.follow_up.0, now)?,
                "reply_options": reply_options(&config, conn, &mention)?,
            }))
        })
        .await?;
    Ok(Json(detail).into_response())
}

/// The body of `POST /api/mentions/actions`. (`deny_unknown_fields` does
/// not work with `flatten`: `check_action_fields` refuses unknown keys.)
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionRequest {
    #[serde(deserialize_with = "whole_numbers")]
    pub ids: Vec<i64>,
    /// Who acts: only the local user (loopback, no accounts) may say; a
    /// signed-in user is recorded as themselves.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(flatten)]
    pub action: Action,
}

/// Ids as JSON numbers: `7` and `7.0` are the same integer in JSON (and in
/// JSON Schema), so both are taken; `7.5` is not an id.
fn whole_numbers<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    let numbers = Vec::<serde_json::Number>::deserialize(deserializer)?;
    numbers
        .iter()
        .map(|n| {
            n.as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a mention id")))
        })
        .collect()
}

/// Most mentions one bulk action may change.
pub const MAX_BULK: usize = 500;

/// Applies an action through the writer (shared by the API and the form).
pub async fn apply_action(
    state: &AppState,
    ids: Vec<i64>,
    action: Action,
    by: String,
) -> Result<Vec<inbox::MentionState>, ApiError> {
    if by.trim().is_empty() {
        return Err(ApiError::bad_request("say who does this (by)"));
    }
    if ids.len() > MAX_BULK {
        return Err(ApiError::bad_request(format!("at most {MAX_BULK} mentions at once")));
    }
    let now = state.clock.now();
    Ok(state
        .writer
        .transact(move |tx| inbox::apply(tx, &ids, &action, &by, now))
        .await?)
}

/// A body the JSON extractor refused, with its own status: 415 without
/// `Content-Type: application/json` (which a cross-site form cannot send,
/// so no JSON change can be forged from another page), 413 over the limit,
/// 422 for the wrong shape, 400 for broken JSON.
fn rejected(e: JsonRejection) -> ApiError {
    let message = match e.status() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "send a JSON body with Content-Type: application/json".to_string(),
        _ => e.body_text(),
    };
    ApiError::new(e.status(), message)
}

/// A JSON body read as `T`, which must be an object (serde would also take
/// a struct written as an array, `[null, null]`).
fn object_body<T: serde::de::DeserializeOwned>(
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<T, ApiError> {
    let Json(body) = body.map_err(rejected)?;
    if !body.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the body is a JSON object",
        ));
    }
    serde_json::from_value(body).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
}

/// The keys an action body may have besides `ids`, `by` and `action`.
pub(super) fn action_fields(action: &str) -> &'static [&'static str] {
    match action {
        "respond" => &["reply_url", "note"],
        "assign" => &["assignee"],
        "ignore" => &["note"],
        _ => &[],
    }
}

/// The keys an action body may have: a misspelt `notes` would otherwise be
/// dropped in silence, and the note lost.
fn check_action_fields(body: &serde_json::Value) -> Result<(), ApiError> {
    let Some(fields) = body.as_object() else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the body is a JSON object: ids, by, action and its fields",
        ));
    };
    let own = action_fields(fields.get("action").and_then(|a| a.as_str()).unwrap_or(""));
    for key in fields.keys() {
        if !["ids", "by", "action"].contains(&key.as_str()) && !own.contains(&key.as_str()) {
            let expected: Vec<&str> = ["ids", "by", "action"].iter().chain(own).copied().collect();
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "unknown field {:?}; expected {}",
                    crate::mention::truncate(key, 40),
                    expected.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Respond to, assign, ignore or undo mentions, all or none.
#[utoipa::path(post, path = "/api/mentions/actions", tag = "inbox", request_body = super::openapi::ActionBody,
    responses((status = 200, body = super::openapi::ActionsDone), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn mention_actions(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body.map_err(rejected)?;
    check_action_fields(&body)?;
    let request: ActionRequest =
        serde_json::from_value(body).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    super::auth::check_by(request.by.as_deref())?;
    let by = who.actor(request.by.as_deref());
    let changed = apply_action(&state, request.ids, request.action, by).await?;
    Ok(Json(serde_json::json!({ "changed": changed })))
}

/// Incidents, newest first.
#[utoipa::path(get, path = "/api/alerts", tag = "alerts", params(super::openapi::AlertListParams),
    responses((status = 200, body = Vec<Incident>), super::openapi::CommonErrors))]
pub async fn alerts(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Vec<Incident>>, ApiError> {
    let params = Params::new(raw, &["state", "limit"])?;
    let filter = params
        .get("state")
        .map(|s| s.parse::<alert::State>().map_err(ApiError::bad_request))
        .transpose()?;
    let limit = params.number("limit", 100, 1..=1000)?;
    Ok(Json(
        state
            .read(move |conn| alert::list_incidents(conn, filter, u64::from(limit)))
            .await?,
    ))
}

/// One incident, its top negative mentions and why it fired.
#[utoipa::path(get, path = "/api/alerts/{id}", tag = "alerts",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = serde_json::Value), (status = 404, body = super::openapi::ErrorBody), super::openapi::CommonErrors))]
pub async fn alert(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let bucket = state.config.detect.bucket.0;
    Ok(Json(
        state
            .read(move |conn| {
                let incident = alert::get_incident(conn, id)?;
                let (top, explanation) = alert::incident_context(conn, &incident, bucket, 20)?;
                Ok(serde_json::json!({"incident": incident, "top_mentions": top, "explanation": explanation}))
            })
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAction {
    /// As in [`ActionRequest::by`].
    #[serde(default)]
    #[schema(max_length = 25)]
    pub by: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// What staff do to an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChange {
    Acknowledge,
    Resolve,
}

impl std::str::FromStr for AlertChange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ack" => Ok(AlertChange::Acknowledge),
            "resolve" => Ok(AlertChange::Resolve),
            _ => Err(format!("no alert action {s:?}: use ack or resolve")),
        }
    }
}

/// Acknowledges or resolves an incident through the writer; a state that
/// does not allow it is a 409.
pub async fn alert_change(
    state: &AppState,
    id: i64,
    change: AlertChange,
    by: String,
    note: Option<String>,
) -> Result<Incident, ApiError> {
    if by.trim().is_empty() {
        return Err(ApiError::bad_request("say who does this (by)"));
    }
    let now = state.clock.now();
    let alerts = state.config.alerts.clone();
    let bucket = state.config.detect.bucket.0;
    state
        .writer
        .transact(move |tx| match change {
            AlertChange::Resolve => alert::resolve_by_hand(tx, &alerts, id, by.trim(), now, bucket),
            AlertChange::Acknowledge => {
                alert::acknowledge(tx, id, by.trim(), note.as_deref().filter(|n| !n.trim().is_empty()), now)
            }
        })
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => ApiError::new(StatusCode::CONFLICT, m),
            other => other.into(),
        })
}

/// `POST /api/alerts/{id}/ack` and `/resolve`.
/// Acknowledge (`ack`) or resolve an incident (manager).
#[utoipa::path(post, path = "/api/alerts/{id}/{change}", tag = "alerts", request_body = AlertAction,
    params(("id" = i64, Path, minimum = 1), ("change" = String, Path, pattern = "^(ack|resolve)$")),
    responses((status = 200, body = Incident), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn change_alert(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    Path((id, change)): Path<(String, String)>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<Incident>, ApiError> {
    let change: AlertChange = change
        .parse()
        .map_err(|e: String| ApiError::new(StatusCode::NOT_FOUND, e))?;
    let id = parse_id(&id)?;
    let body: AlertAction = object_body(body)?;
    super::auth::check_by(body.by.as_deref())?;
    let by = who.actor(body.by.as_deref());
    Ok(Json(alert_change(&state, id, change, by, body.note).await?))
}

/// One brand's figures for the overview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BrandSummary {
    pub name: String,
    pub last_24h: super::charts::Totals,
    pub last_7d: super::charts::Totals,
    pub open_incident: Option<Incident>,
}

pub async fn brand_summaries(state: &AppState) -> Result<Vec<BrandSummary>, ApiError> {
    let now = state.clock.now();
    let names: Vec<String> = state.config.brands.iter().map(|b| b.name.clone()).collect();
    state
        .read(move |conn| {
            let recent = alert::list_incidents(conn, None, 200)?;
            names
                .into_iter()
                .map(|name| {
                    let day = super::charts::series(conn, &name, now, super::charts::Window::Day)?;
                    let week = super::charts::series(conn, &name, now, super::charts::Window::Week)?;
                    let open = recent
                        .iter()
                        .find(|i| i.brand == name && i.state != alert::State::Resolved)
                        .cloned();
                    Ok(BrandSummary {
                        last_24h: super::charts::Totals::of(&day),
                        last_7d: super::charts::Totals::of(&week),
                        open_incident: open,
                        name,
                    })
                })
                .collect()
        })
        .await
}

/// Each brand's last 24 hours and 7 days, and its open incident.
#[utoipa::path(get, path = "/api/brands", tag = "brands",
    responses((status = 200, body = Vec<BrandSummary>), super::openapi::CommonErrors))]
pub async fn brands(State(state): State<AppState>) -> Result<Json<Vec<BrandSummary>>, ApiError> {
    Ok(Json(brand_summaries(&state).await?))
}

/// A brand's mention counts by label over time.
#[utoipa::path(get, path = "/api/brands/{brand}/series", tag = "brands",
    params(("brand" = String, Path, description = "a configured brand"), super::openapi::SeriesParams),
    responses((status = 200, body = Vec<super::charts::Bucket>), (status = 404, body = super::openapi::ErrorBody), super::openapi::CommonErrors))]
pub async fn series(
    State(state): State<AppState>,
    Path(brand): Path<String>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Vec<super::charts::Bucket>>, ApiError> {
    let params = Params::new(raw, &["window"])?;
    let window = match params.get("window") {
        None | Some("24h") => super::charts::Window::Day,
        Some("7d") => super::charts::Window::Week,
        Some(other) => return Err(ApiError::bad_request(format!("window {other:?}: use 24h or 7d"))),
    };
    if !state.config.brands.iter().any(|b| b.name == brand) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, format!("unknown brand {brand:?}")));
    }
    let now = state.clock.now();
    Ok(Json(
        state
            .read(move |conn| super::charts::series(conn, &brand, now, window))
            .await?,
    ))
}

/// Each source's health, as `/healthz` and the health page show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceHealth {
    pub name: String,
    pub kind: serde_json::Value,
    /// ok, rate_limited (waiting for the window's reset after a good
    /// answer), throttled (the server refused: 429, 503 with Retry-After),
    /// failing, stale (no success for three intervals) or pending.
    pub status: &'static str,
    pub healthy: bool,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub consecutive_failures: i64,
    pub rate_limited_until: Option<String>,
    /// The process polling it, when several share the sources (PostgreSQL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<SourceHolder>,
}

/// A process polling a source, and until when its lease runs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceHolder {
    pub host: String,
    pub pid: i64,
    pub until: String,
}

pub async fn source_health(state: &AppState) -> Result<Vec<SourceHealth>, ApiError> {
    let config = state.config.clone();
    let now = state.clock.now();
    state
        .read(move |conn| {
            let statuses = crate::sources::poll::status(conn, &config.sources)?;
            Ok(health_of(statuses, &config.sources, now))
        })
        .await
}

/// Each source's health at `now` from its stored status, in config order.
pub fn health_of(
    statuses: Vec<crate::sources::state::SourceStatus>,
    sources: &[crate::sources::SourceConfig],
    now: DateTime<Utc>,
) -> Vec<SourceHealth> {
    statuses
        .into_iter()
        .zip(sources.iter())
        .map(|(s, source)| {
            let limited = s.rate_limited_until.filter(|&u| u > now);
            let stale_after = source.every.0 * 3 + chrono::Duration::minutes(1);
            let status = if s.consecutive_failures > 0 && limited.is_some() {
                "throttled"
            } else if s.consecutive_failures > 0 {
                "failing"
            } else if limited.is_some() {
                "rate_limited"
            } else {
                match s.last_success {
                    None => "pending",
                    Some(t) if now - t > stale_after => "stale",
                    Some(_) => "ok",
                }
            };
            let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
            SourceHealth {
                kind: serde_json::to_value(s.kind).unwrap_or_default(),
                status,
                healthy: matches!(status, "ok" | "rate_limited"),
                last_success: time(s.last_success),
                last_error: s.last_error,
                last_error_at: time(s.last_error_at),
                consecutive_failures: s.consecutive_failures,
                rate_limited_until: time(limited),
                held_by: s.held_by.map(|h| SourceHolder {
                    host: h.host,
                    pid: h.pid,
                    until: h.until.to_rfc3339(),
                }),
                name: s.name,
            }
        })
        .collect()
}

/// Each configured source's health.
#[utoipa::path(get, path = "/api/sources", tag = "sources",
    responses((status = 200, body = Vec<SourceHealth>), super::openapi::CommonErrors))]
pub async fn sources(State(state): State<AppState>) -> Result<Json<Vec<SourceHealth>>, ApiError> {
    Ok(Json(source_health(&state).await?))
}

/// Always 200 while the service and its database answer; `status` says
/// `degraded` when a source is failing or stale.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = serde_json::Value), super::openapi::CommonErrors))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let sources = source_health(&state).await?;
    let degraded = sources.iter().any(|s| !s.healthy && s.status != "pending");
    Ok(Json(serde_json::json!({
        "status": if degraded { "degraded" } else { "ok" },
        "writer_queue_depth": state.writer.queue_depth(),
        "sources": sources,
    })))
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let handle = crate::metrics::handle();
    let pending: i64 = state
        .read(|conn| Ok(conn.query_row("SELECT count(*) FROM outbox WHERE status = 'pending'", [], |r| r.get(0))?))
        .await?;
    let failing = source_health(&state)
        .await?
        .iter()
        .filter(|s| s.status == "failing")
        .count();
    metrics::gauge!(crate::metrics::DELIVERIES_PENDING).set(pending as f64);
    metrics::gauge!(crate::metrics::WRITER_QUEUE_DEPTH).set(state.writer.queue_depth() as f64);
    metrics::gauge!(crate::metrics::SOURCES_FAILING).set(failing as f64);
    let now = state.clock.now();
    let target = state.config.inbox.response_target.0;
    let brands: Vec<String> = state.config.brands.iter().map(|b| b.name.clone()).collect();
    let (per_brand, _) = state
        .read(move |conn| inbox::response_times(conn, &brands, now - chrono::Duration::days(7), now, target, now))
        .await?;
    for brand in per_brand {
        for (quantile, minutes) in [("0.5", brand.median_minutes), ("0.9", brand.p90_minutes)] {
            if let Some(minutes) = minutes {
                metrics::gauge!(crate::metrics::FIRST_RESPONSE_SECONDS, "brand" => brand.name.clone(), "quantile" => quantile)
                    .set(minutes * 60.0);
            }
        }
        if let Some(share) = brand.within_target_share {
            metrics::gauge!(crate::metrics::ANSWERED_WITHIN_TARGET, "brand" => brand.name.clone()).set(share);
        }
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response())
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint; docs/api.md lists them")
}

pub fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad_request(format!("{:?} is not an id", crate::mention::truncate(text, 40))))
}

/// `GET /api/users` (admin): who may sign in, with their role and state.
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, body = super::openapi::UserList), super::openapi::CommonErrors))]
pub async fn users(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let users = state.read(crate::accounts::list).await?;
    Ok(Json(serde_json::json!({ "users": users })))
}

/// The body of `POST /api/mentions/{id}/label`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelCorrection {
    /// `negative`, `neutral` or `positive`.
    #[schema(value_type = String, pattern = "^(negative|neutral|positive)$")]
    pub label: String,
    /// As in [`ActionRequest::by`].
    #[serde(default)]
    #[schema(max_length = 25)]
    pub by: Option<String>,
}

/// Corrects the scorer: the mention's label becomes the one given, for
/// detection, the digest and exports; the scorer's is kept.
#[utoipa::path(post, path = "/api/mentions/{id}/label", tag = "inbox", request_body = LabelCorrection,
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = crate::corrections::Correction), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn correct_label(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<crate::corrections::Correction>, ApiError> {
    let id = parse_id(&id)?;
    let body: LabelCorrection = object_body(body)?;
    super::auth::check_by(body.by.as_deref())?;
    let label = [Label::Negative, Label::Neutral, Label::Positive]
        .into_iter()
        .find(|l| l.as_str() == body.label)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "label is negative, neutral or positive",
            )
        })?;
    let by = who.actor(body.by.as_deref());
    let now = state.clock.now();
    Ok(Json(
        state
            .writer
            .transact(move |tx| crate::corrections::correct(tx, id, label, &by, now))
            .await?,
    ))
}

/// The body of `POST /api/mentions/{id}/not-about-us`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotAboutUsRequest {
    /// As in [`ActionRequest::by`].
    #[serde(default)]
    #[schema(max_length = 25)]
    pub by: Option<String>,
}

/// Takes the mention off every brand it matched: no longer counted for
/// them, ignored in the inbox as "not about us", recorded.
#[utoipa::path(post, path = "/api/mentions/{id}/not-about-us", tag = "inbox", request_body = NotAboutUsRequest,
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = crate::corrections::NotAboutUs), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn not_about_us(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<crate::corrections::NotAboutUs>, ApiError> {
    let id = parse_id(&id)?;
    let body: NotAboutUsRequest = object_body(body)?;
    super::auth::check_by(body.by.as_deref())?;
    let by = who.actor(body.by.as_deref());
    let now = state.clock.now();
    Ok(Json(
        state
            .writer
            .transact(move |tx| crate::corrections::not_about_us(tx, id, &by, now))
            .await?,
    ))
}

/// The body of `POST /api/mentions/{id}/reply`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The answer, as posted (at most the network's length).
    #[schema(min_length = 1, max_length = 10000)]
    pub text: String,
    /// The source whose account answers; needed only when several can.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub account: Option<String>,
    /// As in [`ActionRequest::by`].
    #[serde(default)]
    #[schema(max_length = 25)]
    pub by: Option<String>,
}

/// Answers the mention on its network through the brand's account: the
/// reply is queued at once (202) and posted exactly once; its status,
/// link or the network's refusal show in `GET /api/mentions/{id}`. A
/// network with no account configured answers 409 with the link to reply
/// there.
#[utoipa::path(post, path = "/api/mentions/{id}/reply", tag = "inbox", request_body = ReplyRequest,
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 202, body = crate::reply::Reply), (status = 409, body = super::openapi::ErrorBody),
        super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn reply(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<(StatusCode, Json<crate::reply::Reply>), ApiError> {
    let id = parse_id(&id)?;
    let body: ReplyRequest = object_body(body)?;
    super::auth::check_by(body.by.as_deref())?;
    let by = who.actor(body.by.as_deref());
    Ok((
        StatusCode::ACCEPTED,
        Json(queue_reply(&state, id, body.account, body.text, by).await?),
    ))
}

/// Queues a reply through the writer (shared by the API and the form).
pub async fn queue_reply(
    state: &AppState,
    id: i64,
    account: Option<String>,
    text: String,
    by: String,
) -> Result<crate::reply::Reply, ApiError> {
    let now = state.clock.now();
    let config = state.config.clone();
    Ok(state
        .writer
        .transact(move |tx| crate::reply::queue(tx, &config.sources, id, account.as_deref(), &text, &by, now))
        .await?)
}

/// Sends a failed reply again (one that may have been posted is looked for
/// on the network first).
#[utoipa::path(post, path = "/api/replies/{id}/retry", tag = "inbox",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = crate::reply::Reply), (status = 409, body = super::openapi::ErrorBody),
        super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn retry_reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<crate::reply::Reply>, ApiError> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    Ok(Json(
        state
            .writer
            .transact(move |tx| crate::reply::retry(tx, id, now))
            .await?,
    ))
}

/// Saved replies, all brands' or one's (`brand`).
#[utoipa::path(get, path = "/api/reply-templates", tag = "inbox",
    params(("brand" = Option<String>, Query, description = "only this brand's")),
    responses((status = 200, body = Vec<crate::reply::Template>), super::openapi::CommonErrors))]
pub async fn reply_templates(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Vec<crate::reply::Template>>, ApiError> {
    let params = Params::new(raw, &["brand"])?;
    let brands: Vec<String> = params.get("brand").map(|b| vec![b.to_string()]).unwrap_or_default();
    if let Some(brand) = brands.first() {
        if !state.config.brands.iter().any(|b| &b.name == brand) {
            return Err(ApiError::bad_request(format!("unknown brand {brand:?}")));
        }
    }
    Ok(Json(
        state.read(move |conn| crate::reply::templates(conn, &brands)).await?,
    ))
}

/// The body of `POST /api/reply-templates`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    pub brand: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The text, with `{author}` and `{brand}` filled in when picked.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
}

/// Saves a brand's template (replacing one of the same name).
#[utoipa::path(post, path = "/api/reply-templates", tag = "inbox", request_body = TemplateRequest,
    responses((status = 200, body = crate::reply::Template), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn save_reply_template(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<crate::reply::Template>, ApiError> {
    let body: TemplateRequest = object_body(body)?;
    let known: Vec<String> = state.config.brands.iter().map(|b| b.name.clone()).collect();
    let (by, now) = (who.actor(None), state.clock.now());
    Ok(Json(
        state
            .writer
            .transact(move |tx| crate::reply::save_template(tx, &known, &body.brand, &body.name, &body.body, &by, now))
            .await?,
    ))
}

/// Deletes a template.
#[utoipa::path(post, path = "/api/reply-templates/{id}/delete", tag = "inbox",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 204), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn delete_reply_template(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state
        .writer
        .transact(move |tx| crate::reply::delete_template(tx, id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the mention's page needs to answer it: the accounts that can, the
/// brands' templates filled in for its author, and where to reply by hand
/// when no account can.
pub fn reply_options(
    config: &crate::config::Config,
    conn: &rusqlite::Connection,
    mention: &crate::store::StoredMention,
) -> Result<serde_json::Value, StoreError> {
    let brands: Vec<String> = mention.scored.brands.iter().map(|b| b.to_string()).collect();
    let accounts = crate::reply::accounts_for(&config.sources, &mention.scored.mention.source, &brands);
    let author = mention.scored.mention.author.handle.as_deref();
    let templates: Vec<serde_json::Value> = crate::reply::templates(conn, &brands)?
        .into_iter()
        .map(|t| {
            serde_json::json!({
                "id": t.id, "brand": t.brand, "name": t.name,
                "text": crate::reply::fill(&t.body, author, &t.brand),
            })
        })
        .collect();
    Ok(serde_json::json!({
        "accounts": accounts,
        "templates": templates,
        "reply_there": accounts.is_empty().then(|| mention.scored.mention.url.clone()).flatten(),
    }))
}

/// The body of `POST /api/views`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewRequest {
    #[schema(min_length = 1, max_length = 40)]
    pub name: String,
    /// The inbox's query string, as in the page's address (`assignee=me&sort=oldest`).
    #[schema(max_length = 1000)]
    pub query: String,
}

/// A view's query checked as inbox parameters and written the one way
/// (sorted, without a page position).
pub fn view_query(state: &AppState, who: &Identity, query: &str) -> Result<String, ApiError> {
    if query.len() > inbox::MAX_VIEW_QUERY_BYTES {
        return Err(ApiError::bad_request(format!(
            "a view's query is at most {} bytes",
            inbox::MAX_VIEW_QUERY_BYTES
        )));
    }
    let mut raw: HashMap<String, String> = serde_urlencoded::from_str(query.trim_start_matches('?'))
        .map_err(|e| ApiError::bad_request(format!("query: {e}")))?;
    raw.remove("after");
    raw.remove("offset");
    raw.retain(|_, v| !v.is_empty());
    inbox_query(state, &Params::new(raw.clone(), INBOX_PARAMS)?, who, state.clock.now())?;
    let mut pairs: Vec<(String, String)> = raw.into_iter().collect();
    pairs.sort();
    serde_urlencoded::to_string(pairs).map_err(|e| ApiError::bad_request(format!("query: {e}")))
}

/// `GET /api/views`: the signed-in person's saved inbox views.
#[utoipa::path(get, path = "/api/views", tag = "inbox",
    responses((status = 200, body = Vec<inbox::SavedView>), super::openapi::CommonErrors))]
pub async fn views(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
) -> Result<Json<Vec<inbox::SavedView>>, ApiError> {
    let owner = who.name.clone();
    Ok(Json(state.read(move |conn| inbox::views(conn, &owner)).await?))
}

/// `POST /api/views`: saves a view under a name (the same name replaces it).
#[utoipa::path(post, path = "/api/views", tag = "inbox", request_body = ViewRequest,
    responses((status = 200, body = inbox::SavedView), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn save_view(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<inbox::SavedView>, ApiError> {
    let body: ViewRequest = object_body(body)?;
    Ok(Json(store_view(&state, &who, &body.name, &body.query).await?))
}

/// Saves `who`'s view, for the API and the page's form.
pub async fn store_view(
    state: &AppState,
    who: &Identity,
    name: &str,
    query: &str,
) -> Result<inbox::SavedView, ApiError> {
    let query = view_query(state, who, query)?;
    let (owner, name, now) = (who.name.clone(), name.to_string(), state.clock.now());
    Ok(state
        .writer
        .transact(move |tx| inbox::save_view(tx, &owner, &name, &query, now))
        .await?)
}

/// `POST /api/views/{id}/delete`: deletes one of the signed-in person's views.
#[utoipa::path(post, path = "/api/views/{id}/delete", tag = "inbox",
    params(("id" = i64, Path, minimum = 1)),
    responses((status = 200, body = serde_json::Value), super::openapi::CommonErrors, super::openapi::ChangeErrors))]
pub async fn delete_view(
    State(state): State<AppState>,
    Extension(who): Extension<Identity>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let owner = who.name.clone();
    state
        .writer
        .transact(move |tx| inbox::delete_view(tx, &owner, id))
        .await?;
    Ok(Json(serde_json::json!({"deleted": id})))
}

/// `GET /api/response-times`: how fast negative mentions were first answered,
/// per brand and per person, over `since` (default 7 days) to `until`.
#[utoipa::path(get, path = "/api/response-times", tag = "inbox",
    params(super::openapi::ResponseTimesParams),
    responses((status = 200, body = serde_json::Value), super::openapi::CommonErrors))]
pub async fn response_times(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params = Params::new(raw, &["since", "until"])?;
    let now = state.clock.now();
    let since = params.time("since", now)?.unwrap_or(now - chrono::Duration::days(7));
    let until = params.time("until", now)?.unwrap_or(now);
    if since > until {
        return Err(ApiError::bad_request("since is after until: nothing can be in between"));
    }
    let target = state.config.inbox.response_target.0;
    let brands: Vec<String> = state.config.brands.iter().map(|b| b.name.clone()).collect();
    let (per_brand, per_person) = state
        .read(move |conn| inbox::response_times(conn, &brands, since, until, target, now))
        .await?;
    Ok(Json(serde_json::json!({
        "since": crate::mention::format_time(since),
        "until": crate::mention::format_time(until),
        "response_target_minutes": target.num_minutes(),
        "brands": per_brand,
        "people": per_person,
    })))
}

/// Every staff correction of the scorer, newest first: where it fails.
#[utoipa::path(get, path = "/api/corrections", tag = "inbox",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 1000)),
    responses((status = 200, body = Vec<crate::corrections::Correction>), super::openapi::CommonErrors))]
pub async fn corrections(
    State(state): State<AppState>,
    Query(raw): Query<HashMap<String, String>>,
) -> Result<Json<Vec<crate::corrections::Correction>>, ApiError> {
    let params = Params::new(raw, &["limit"])?;
    let limit = params.number("limit", 200, 1..=1000)?;
    Ok(Json(
        state.read(move |conn| crate::corrections::list(conn, limit)).await?,
    ))
}
