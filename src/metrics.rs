//! Prometheus metrics, through the `metrics` facade: the pipeline counts
//! where things happen, and `/metrics` renders the recorder's state plus a
//! few gauges read at scrape time (writer queue depth, pending deliveries).
//! Without an installed recorder (replay, commands) every count is a no-op.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const MENTIONS_INGESTED: &str = "cm_mentions_ingested_total";
pub const POLL_REQUESTS: &str = "cm_poll_requests_total";
pub const POLL_ERRORS: &str = "cm_poll_errors_total";
pub const RATE_LIMIT_WAITS: &str = "cm_rate_limit_waits_total";
pub const ALERTS_OPENED: &str = "cm_alerts_opened_total";
pub const DELIVERIES: &str = "cm_deliveries_total";
pub const DELIVERIES_PENDING: &str = "cm_deliveries_pending";
pub const WRITER_QUEUE_DEPTH: &str = "cm_writer_queue_depth";
pub const SOURCES_FAILING: &str = "cm_sources_failing";
/// First-response time of the last 7 days' negative mentions, per brand and quantile.
pub const FIRST_RESPONSE_SECONDS: &str = "cm_first_response_seconds";
/// Share of the last 7 days' negative mentions answered within the response target.
pub const ANSWERED_WITHIN_TARGET: &str = "cm_answered_within_target_ratio";
pub const WRITER_RETRIES: &str = "cm_writer_retries_total";
/// Replies posted from the inbox, by network and outcome (posted, retried, failed).
pub const REPLIES: &str = "cm_replies_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use. If another
/// recorder was installed first (a test harness), a private one is kept so
/// `/metrics` still renders, just without the pipeline's counts.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_ok() {
            describe();
        }
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge};
    describe_counter!(MENTIONS_INGESTED, "Mentions stored, by source and label");
    describe_counter!(POLL_REQUESTS, "HTTP requests made to source APIs, by source");
    describe_counter!(POLL_ERRORS, "Polls that failed, by source");
    describe_counter!(
        RATE_LIMIT_WAITS,
        "Times a source was told to wait by its server, by source"
    );
    describe_counter!(ALERTS_OPENED, "Incidents opened");
    describe_counter!(
        DELIVERIES,
        "Notification deliveries, by channel and outcome (sent, failed, gave_up)"
    );
    describe_gauge!(DELIVERIES_PENDING, "Notifications waiting in the outbox");
    describe_gauge!(WRITER_QUEUE_DEPTH, "Batches waiting for the database writer");
    describe_gauge!(SOURCES_FAILING, "Sources whose last poll failed");
    describe_counter!(
        REPLIES,
        "Replies to mentions sent through the networks, by network and outcome (posted, retried, failed)"
    );
    describe_counter!(
        WRITER_RETRIES,
        "Database writes refused (locked, busy, full) and retried"
    );
}
