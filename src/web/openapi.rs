//! The OpenAPI document of the JSON API, generated from the handlers'
//! annotations and the types they answer with (`utoipa`), served at
//! `/api/openapi.json`. `schemathesis` checks the running service against it
//! in CI (`.ci/schemathesis.sh`).

use axum::extract::State;
use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use super::AppState;

/// Every error answer.
#[derive(ToSchema)]
#[allow(dead_code)] // a shape for the document; errors are written by `ApiError`
pub struct ErrorBody {
    /// What went wrong, for a person.
    error: String,
    /// The HTTP status, repeated.
    status: u16,
}

/// What any route may answer besides its own results.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum CommonErrors {
    /// A parameter or body that does not read.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Not signed in (no session, no token).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// A role too low for the route, or a cross-origin browser request.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The route does not take this method.
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
    /// `Host` names a site that is not ours.
    #[response(status = 421)]
    Misdirected(ErrorBody),
    /// The service is stopping.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// What a change (POST) may answer besides [`CommonErrors`].
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ChangeErrors {
    /// No such mention or incident.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The state does not allow it (resolving a resolved incident).
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// A body over 2 MB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// A body that is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// A JSON body of the wrong shape.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
}

/// The inbox's query parameters (`GET /api/mentions`). Parsed by
/// `api::inbox_query`; a test holds this list equal to `INBOX_PARAMS`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct InboxParams {
    /// A configured brand.
    brand: Option<String>,
    /// A source kind (`x`, `reddit`, …) that is configured or stored.
    source: Option<String>,
    /// `negative` (default), `neutral`, `positive`, `unscored` (in a
    /// language the scorer does not read) or `all`.
    #[param(pattern = r"^\s*(negative|neutral|positive|unscored|all)?\s*$")]
    label: Option<String>,
    /// `open` (default: new and assigned), `all`, or a comma-separated list
    /// of `new`, `assigned`, `responded`, `ignored`.
    #[param(pattern = r"^\s*(open|all|(new|assigned|responded|ignored)(,(new|assigned|responded|ignored))*)?\s*$")]
    state: Option<String>,
    /// A duration back (`24h`, `7d`), a date or an RFC 3339 time; default 7 days back.
    #[param(
        pattern = r"^\s*([0-9]{1,4}(ms|s|m|h|d)|[0-9]{1,3}w|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)?\s*$"
    )]
    since: Option<String>,
    /// As `since`; default now. Not before `since`.
    #[param(
        pattern = r"^\s*([0-9]{1,4}(ms|s|m|h|d)|[0-9]{1,3}w|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)?\s*$"
    )]
    until: Option<String>,
    /// Words that must all appear in the text or the author (at most 200 characters).
    #[param(max_length = 200)]
    q: Option<String>,
    /// `me` (the signed-in user), `none` (assigned to nobody) or a person's name.
    #[param(max_length = 25)]
    assignee: Option<String>,
    /// `true`: only mentions still open past `[inbox] response_target`.
    /// (Every parameter left empty counts as not given, as from a form.)
    #[param(pattern = r"^(true|false)?$")]
    overdue: Option<String>,
    /// Only the negative mentions of this incident.
    #[param(minimum = 1)]
    incident: Option<i64>,
    /// A language code (`en`, `pt-BR`).
    #[param(pattern = r"^[A-Za-z0-9-]{0,16}$")]
    lang: Option<String>,
    /// Stars: `4`, or a range such as `1-2`.
    #[param(pattern = r"^([1-5](-[1-5])?)?$")]
    rating: Option<String>,
    /// Only the mentions of this campaign or burst (a row's `group.id`);
    /// without it each group is one row and blocked mentions are left out.
    #[param(minimum = 1)]
    group: Option<i64>,
    /// `priority` (default), `reach`, `oldest` or `newest`.
    #[param(pattern = r"^(priority|reach|oldest|newest)?$")]
    sort: Option<String>,
    /// The `next` of the page before, with the same filters and sort: pages
    /// never skip or repeat a row as mentions arrive or are handled.
    #[param(max_length = 60)]
    after: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    #[param(minimum = 0, maximum = 1_000_000)]
    offset: Option<u32>,
}

/// `GET /api/response-times`'s query parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ResponseTimesParams {
    /// A duration back (`24h`, `7d`), a date or an RFC 3339 time; default 7 days back.
    #[param(
        pattern = r"^\s*([0-9]{1,4}(ms|s|m|h|d)|[0-9]{1,3}w|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)?\s*$"
    )]
    since: Option<String>,
    /// As `since`; default now. Not before `since`.
    #[param(
        pattern = r"^\s*([0-9]{1,4}(ms|s|m|h|d)|[0-9]{1,3}w|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)?\s*$"
    )]
    until: Option<String>,
}

/// `GET /api/alerts`'s query parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AlertListParams {
    /// `firing`, `acknowledged` or `resolved` (empty: every state).
    #[param(pattern = r"^\s*(firing|acknowledged|resolved)?\s*$")]
    state: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// `GET /api/brands/{brand}/series`'s query parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SeriesParams {
    /// `24h` (default, 5-minute buckets) or `7d` (hourly).
    #[param(pattern = r"^\s*(24h|7d)?\s*$")]
    window: Option<String>,
}

/// The body of `POST /api/mentions/actions`, one shape per action, each
/// closed to other keys (`api::ACTION_FIELDS` is what the handler allows; a
/// test holds the two equal).
#[derive(ToSchema, serde::Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ActionBody {
    Respond(RespondBody),
    Assign(AssignBody),
    Ignore(IgnoreBody),
    Undo(UndoBody),
}

/// Answered: where the reply is (`reply_url`, http or https) or how (`note`);
/// at least one of the two.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RespondBody {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<i64>,
    /// Who acts: counts only for the local user on an open loopback.
    #[schema(max_length = 25)]
    by: Option<String>,
    #[schema(inline)]
    action: RespondTag,
    #[schema(max_length = 512)]
    reply_url: Option<String>,
    #[schema(max_length = 500)]
    note: Option<String>,
}

#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AssignBody {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<i64>,
    #[schema(max_length = 25)]
    by: Option<String>,
    #[schema(inline)]
    action: AssignTag,
    #[schema(max_length = 25, pattern = r"\S")]
    assignee: String,
}

#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct IgnoreBody {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<i64>,
    #[schema(max_length = 25)]
    by: Option<String>,
    #[schema(inline)]
    action: IgnoreTag,
    #[schema(max_length = 500)]
    note: Option<String>,
}

#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UndoBody {
    #[schema(min_items = 1, max_items = 500)]
    ids: Vec<i64>,
    #[schema(max_length = 25)]
    by: Option<String>,
    #[schema(inline)]
    action: UndoTag,
}

#[derive(ToSchema, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RespondTag {
    Respond,
}
#[derive(ToSchema, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssignTag {
    Assign,
}
#[derive(ToSchema, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IgnoreTag {
    Ignore,
}
#[derive(ToSchema, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UndoTag {
    Undo,
}

/// The answer of `POST /api/mentions/actions`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ActionsDone {
    changed: Vec<crate::inbox::MentionState>,
}

/// The answer of `GET /api/users`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UserList {
    users: Vec<crate::accounts::User>,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `complaint-monitor users token NAME`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(super::auth::SESSION_COOKIE))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "complaint-monitor",
        description = "The inbox, alerts, brands and sources of a running complaint-monitor. \
                       On loopback with no accounts every request is open; otherwise each needs a \
                       session or an API token, and the role its route names (docs/security.md)."
    ),
    paths(
        super::api::mentions,
        super::api::mention,
        super::api::mention_actions,
        super::api::correct_label,
        super::api::not_about_us,
        super::api::reply,
        super::api::retry_reply,
        super::api::reply_templates,
        super::api::save_reply_template,
        super::api::delete_reply_template,
        super::api::views,
        super::api::response_times,
        super::api::save_view,
        super::api::delete_view,
        super::api::corrections,
        super::api::alerts,
        super::api::alert,
        super::api::change_alert,
        super::api::brands,
        super::api::series,
        super::api::sources,
        super::api::users,
        super::api::healthz,
        openapi_json,
    ),
    components(schemas(ErrorBody, ActionBody)),
    modifiers(&Security),
    security(("token" = []), ("session" = [])),
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    let brands: Vec<String> = state.config.brands.iter().map(|b| b.name.clone()).collect();
    let sources: Vec<String> = super::api::known_sources(&state.config).map(str::to_string).collect();
    Json(with_choices(ApiDoc::openapi(), &brands, &sources))
}

/// The document with this service's brands and sources as the only values
/// of every `brand` and `source` parameter: they come from its config. In a
/// query an empty value is also taken (it means every one, as a form's
/// unchosen filter sends it).
fn with_choices(mut doc: utoipa::openapi::OpenApi, brands: &[String], sources: &[String]) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;
    let choice = |values: &[String]| {
        let mut values = values.to_vec();
        values.sort();
        values.dedup();
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(values))
                .build(),
        ))
    };
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                let in_query = matches!(parameter.parameter_in, utoipa::openapi::path::ParameterIn::Query);
                let with_empty = |values: &[String]| {
                    let mut values = values.to_vec();
                    if in_query {
                        values.push(String::new());
                    }
                    choice(&values)
                };
                match parameter.name.as_str() {
                    "brand" => parameter.schema = Some(with_empty(brands)),
                    "source" => parameter.schema = Some(with_empty(sources)),
                    _ => {}
                }
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_inbox_parameters_are_the_parsed_ones() {
        let documented: Vec<String> = InboxParams::into_params(|| None).into_iter().map(|p| p.name).collect();
        assert_eq!(documented, super::super::api::INBOX_PARAMS);
    }

    #[test]
    fn the_documented_action_bodies_are_the_accepted_ones() {
        let doc = ApiDoc::openapi();
        let schemas = &doc.components.as_ref().unwrap().schemas;
        for (action, schema) in [
            ("respond", "RespondBody"),
            ("assign", "AssignBody"),
            ("ignore", "IgnoreBody"),
            ("undo", "UndoBody"),
        ] {
            let json = serde_json::to_value(&schemas[schema]).unwrap();
            let mut documented: Vec<&str> = json["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            documented.sort();
            let mut accepted: Vec<&str> = ["ids", "by", "action"]
                .into_iter()
                .chain(super::super::api::action_fields(action).iter().copied())
                .collect();
            accepted.sort();
            assert_eq!(documented, accepted, "{action}");
            assert_eq!(json["additionalProperties"], false, "{action}");
        }
    }

    #[test]
    fn every_api_route_is_documented() {
        let doc = ApiDoc::openapi();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        for route in [
            "/api/mentions",
            "/api/mentions/{id}",
            "/api/mentions/actions",
            "/api/mentions/{id}/label",
            "/api/corrections",
            "/api/alerts",
            "/api/alerts/{id}",
            "/api/alerts/{id}/{change}",
            "/api/brands",
            "/api/brands/{brand}/series",
            "/api/sources",
            "/api/users",
            "/healthz",
            "/api/openapi.json",
        ] {
            assert!(paths.iter().any(|p| *p == route), "{route} is not in {paths:?}");
        }
    }
}
