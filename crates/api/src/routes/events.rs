//! `GET /events`: the change feed.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use pbx_application::Visibility;
use pbx_domain::events::Event;
use serde::Serialize;

use crate::envelope::json_body;
use crate::query::QueryParams;
use crate::{ApiError, AppState, Caller, Scope};

/// The longest `wait`, in seconds.
const MAX_WAIT: u64 = 30;
/// The largest `limit`, and the one without it.
const MAX_LIMIT: u64 = 1000;
const DEFAULT_LIMIT: u64 = 100;

/// A page of the change feed.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EventPage)]
pub(crate) struct FeedPage {
    /// The events after the cursor, in commit order.
    data: Vec<Event>,
    /// The cursor to ask `after=` next: the last event's, or the one given when the page is empty.
    #[schema(example = "42")]
    next: String,
    #[schema(example = "success")]
    status: &'static str,
    #[schema(format = DateTime, example = "2026-11-27T10:00:00.1234567Z")]
    timestamp: String,
}

/// The feed's query: `after`, `limit` and `wait`, every problem listed.
fn feed_query(mut query: QueryParams) -> Result<(Option<String>, u64, Duration), ApiError> {
    let limit = query.number("limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    let wait = query.number("wait", 0, 0, MAX_WAIT);
    let after = query.get("after").map(str::to_owned);
    query.checked((after, limit, Duration::from_secs(wait)))
}

/// Follow the change feed
///
/// Every change of the caller's customers and profiles, in commit order, after the cursor `after`: a reader that
/// keeps each page's cursor never misses an event and never sees one out of order. With `wait`, the request waits up
/// to that many seconds for a first event (a long poll).
#[utoipa::path(
    operation_id = "listEvents",
    get,
    path = "/api/v1.0/events",
    tag = "Change feed",
    params(
        ("after" = Option<String>, Query, description = "The cursor of the last event read (`next` of the previous page); without it, from the oldest event kept", pattern = "^[0-9]{1,19}$", example = "42"),
        ("limit" = Option<u64>, Query, description = "Events a page, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("wait" = Option<u64>, Query, description = "Seconds to wait, 0 to 30 (default 0), for the next event when there is none yet (a long poll)", minimum = 0, maximum = 30),
    ),
    responses(
        (status = 200, description = "The events after the cursor, in commit order: a reader never receives, after a page ending at cursor C, an event sorting before C", body = FeedPage),
        (status = 400, description = "A parameter is invalid or sent twice, or the cursor is malformed or past every cursor handed out (every problem listed)", body = crate::envelope::Failure),
        crate::envelope::CommonFailures,
        (status = 410, description = "The cursor is older than the oldest event kept (7 days by default): resynchronise", body = crate::envelope::Failure),
    ),
    security(("bearer" = [])),
)]
pub(crate) async fn feed(
    caller: Caller,
    query: QueryParams,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let visibility = if caller.has(Scope::Collector) {
        Visibility::All
    } else {
        caller.require(Scope::EventsRead)?;
        Visibility::Reseller(caller.reseller)
    };
    let (after, limit, wait) = feed_query(query)?;
    let page = state.read_events.page(after.as_deref(), limit, wait, visibility).await?;
    let body =
        FeedPage { data: page.data, next: page.next, status: "success", timestamp: crate::timestamp(Utc::now()) };
    Ok(json_body(HttpResponse::Ok(), &body))
}
