//! What operators see at `/metrics`: one process-wide
//! registry of counters and gauges, in the Prometheus text format.
//!
//! Every thread counts here (the room, client readers, writers, the page
//! server); the page server reads it when scraped. Each metric is an atomic
//! (prometheus-client's `Counter` and `Gauge`), so counting takes no lock
//! and no thread waits on another. The broadcast path counts once per batch
//! (one `fetch_add` for its lines, one for its bytes), never per client, so
//! it costs the room nothing measurable. Labelled families (drops, refusals,
//! page requests) take a read lock on a small map, on paths that are already
//! a connection's end or an HTTP answer.
//!
//! Process-wide, not per [`Server`](crate::Server): Prometheus scrapes a
//! process, and one process runs one server. No async runtime: the crate is
//! plain data structures and a text encoder.

use std::fmt::Write;
use std::sync::LazyLock;
#[cfg(feature = "redis")]
use std::sync::OnceLock;
#[cfg(feature = "redis")]
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
#[cfg(feature = "redis")]
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// `Content-Type` of [`encode`]'s text: Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// A label set with one label, its value fixed at compile time.
type Reason = [(&'static str, &'static str); 1];
/// A label set with one label holding an HTTP status code.
type Status = [(&'static str, u16); 1];

/// Every `reason` a dropped client is counted under (`room::LeaveReason`'s
/// labels, and `too_slow`).
pub const DROP_REASONS: [&str; 6] = [
    "aborted",
    "protocol_error",
    "idle_timeout",
    "read_failed",
    "panicked",
    "too_slow",
];
/// Every status a WebSocket handshake is refused with (`http::upgrade`'s
/// `Refusal::new`).
pub const REFUSAL_STATUSES: [u16; 9] = [400, 403, 404, 405, 414, 426, 431, 503, 505];
/// Every status the page server answers with itself (`page`,
/// `health`).
pub const PAGE_STATUSES: [u16; 8] = [200, 304, 400, 404, 405, 412, 501, 503];

/// The metrics. Names follow Prometheus' conventions: `chat_` prefix,
/// `_total` on counters (added by the encoder), `_bytes` for a size.
struct Metrics {
    registry: Registry,
    clients: Gauge,
    rooms: Gauge,
    messages: Counter,
    bytes: Counter,
    dropped: Family<Reason, Counter>,
    refused: Family<Status, Counter>,
    writers: Gauge,
    page_requests: Family<Status, Counter>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::with_prefix("chat"),
            clients: Gauge::default(),
            rooms: Gauge::default(),
            messages: Counter::default(),
            bytes: Counter::default(),
            dropped: Family::default(),
            refused: Family::default(),
            writers: Gauge::default(),
            page_requests: Family::default(),
        };
        let mut registry = m.registry;
        registry.register(
            "clients_connected",
            "Connections admitted to a room or in one",
            m.clients.clone(),
        );
        registry.register(
            "rooms",
            "Rooms held (empty ones kept for their history included)",
            m.rooms.clone(),
        );
        registry.register(
            "messages_broadcast",
            "Lines sent to a room (chat and system lines), counted once per room, not per client",
            m.messages.clone(),
        );
        registry.register_with_unit(
            "broadcast",
            "Bytes of WebSocket frames sent to a room, counted once per room, not per client",
            Unit::Bytes,
            m.bytes.clone(),
        );
        registry.register(
            "clients_dropped",
            "Clients that left without a close handshake, by reason",
            m.dropped.clone(),
        );
        registry.register(
            "handshakes_refused",
            "WebSocket handshakes answered with an HTTP error, by status",
            m.refused.clone(),
        );
        registry.register(
            "writer_threads",
            "Writer threads running (one per client that is behind)",
            m.writers.clone(),
        );
        registry.register(
            "page_requests",
            "Requests to the page port, by HTTP status",
            m.page_requests.clone(),
        );
        // Every known label value exists from the start, at zero: a rate
        // over a series that appears with its first event misses that
        // event, and an absent series reads as "no data", not "none"
        // (Prometheus' instrumentation practice).
        for reason in DROP_REASONS {
            let _ = m.dropped.get_or_create(&[("reason", reason)]);
        }
        for status in REFUSAL_STATUSES {
            let _ = m.refused.get_or_create(&[("status", status)]);
        }
        for status in PAGE_STATUSES {
            let _ = m.page_requests.get_or_create(&[("status", status)]);
        }
        Metrics { registry, ..m }
    }
}

/// The Redis link's metrics (with `--redis`): a registry of their own,
/// made when an instance starts with `--redis`, so an instance without it
/// shows none of them.
#[cfg(feature = "redis")]
struct Redis {
    registry: Registry,
    published: Counter,
    received: Counter,
    round_trip: Histogram,
    in_step: Gauge,
    outages: Family<Reason, Counter>,
}

#[cfg(feature = "redis")]
static REDIS: OnceLock<Redis> = OnceLock::new();

#[cfg(feature = "redis")]
impl Redis {
    fn new() -> Redis {
        let published = Counter::default();
        let received = Counter::default();
        // 100 us to about 1.6 s: loopback and LAN round trips, and a
        // pipeline stuck behind a Redis that is restarting.
        let round_trip = Histogram::new(exponential_buckets(1e-4, 2.0, 15));
        let mut registry = Registry::with_prefix("chat");
        registry.register(
            "redis_published",
            "Room events this instance published to Redis (chat lines, joins, leaves, renames, private lines)",
            published.clone(),
        );
        registry.register(
            "redis_received",
            "Room events this instance received from its Redis subscription (its own included)",
            received.clone(),
        );
        registry.register_with_unit(
            "redis_round_trip",
            "Time from sending a pipeline of publishes to Redis to its replies",
            Unit::Seconds,
            round_trip.clone(),
        );
        let in_step = Gauge::default();
        registry.register(
            "redis_in_step",
            "1 while this instance is in step with its peers through Redis, 0 while it is cut off",
            in_step.clone(),
        );
        let outages = Family::<Reason, Counter>::default();
        registry.register(
            "redis_outages",
            "Times this instance was cut off from its peers, by kind: unanswered (a stall, a timeout), unreachable (no connection), refused (an error answer: OOM, NOPERM, READONLY...), closed (Redis closed a connection)",
            outages.clone(),
        );
        Redis {
            registry,
            published,
            received,
            round_trip,
            in_step,
            outages,
        }
    }
}

#[cfg(feature = "redis")]
fn redis() -> &'static Redis {
    REDIS.get_or_init(Redis::new)
}

/// This instance is joined to others over Redis (`--redis`): `/metrics`
/// shows the Redis metrics from now on, at zero until something moves.
/// Called once by the cluster as it starts.
#[cfg(feature = "redis")]
pub fn redis_enabled() {
    redis();
}

/// This instance is back in step with its peers (or is, at start).
#[cfg(feature = "redis")]
pub fn redis_in_step() {
    redis().in_step.set(1);
}

/// This instance is cut off from its peers; `kind`: `unanswered`,
/// `unreachable`, `refused` or `closed`.
#[cfg(feature = "redis")]
pub fn redis_cut_off(kind: &'static str) {
    let redis = redis();
    redis.in_step.set(0);
    redis.outages.get_or_create(&[("kind", kind)]).inc();
}

/// `n` room events were published to Redis. Fed from `cluster::Stats`.
#[cfg(feature = "redis")]
pub fn redis_published(n: u64) {
    redis().published.inc_by(n);
}

/// One room event was received from the Redis subscription. Fed from
/// `cluster::Stats`.
#[cfg(feature = "redis")]
pub fn redis_received() {
    redis().received.inc();
}

/// One publish pipeline's round trip to Redis took `took`. Fed from
/// `cluster::Stats`.
#[cfg(feature = "redis")]
pub fn redis_round_trip(took: Duration) {
    redis().round_trip.observe(took.as_secs_f64());
}

/// The room sent a batch of `lines` lines, `bytes` bytes of frames, to a
/// room. Called once per batch by the room thread.
pub fn broadcast(lines: usize, bytes: usize) {
    let m = &*METRICS;
    m.messages.inc_by(lines as u64);
    m.bytes.inc_by(bytes as u64);
}

/// How many rooms the room thread holds and how many connections are
/// admitted to or in one. Set by the room thread after each batch.
pub fn room_sizes(rooms: usize, clients: usize) {
    let m = &*METRICS;
    m.rooms.set(i64::try_from(rooms).unwrap_or(i64::MAX));
    m.clients.set(i64::try_from(clients).unwrap_or(i64::MAX));
}

/// The room dropped a client whose outbox was full (close 1008).
pub fn dropped_too_slow() {
    dropped("too_slow");
}

/// A client was dropped for `reason` (the `reason` label: one of
/// [`DROP_REASONS`]).
pub fn dropped(reason: &'static str) {
    METRICS.dropped.get_or_create(&[("reason", reason)]).inc();
}

/// A WebSocket handshake was refused with HTTP `status`.
pub fn handshake_refused(status: u16) {
    METRICS.refused.get_or_create(&[("status", status)]).inc();
}

/// The page server answered a request with HTTP `status`.
pub fn page_request(status: u16) {
    METRICS
        .page_requests
        .get_or_create(&[("status", status)])
        .inc();
}

/// Counts a writer thread while it lives: made at the top of the thread's
/// body, dropped (even while unwinding) as it ends.
pub struct WriterRunning(());

impl WriterRunning {
    pub fn start() -> WriterRunning {
        METRICS.writers.inc();
        WriterRunning(())
    }
}

impl Drop for WriterRunning {
    fn drop(&mut self) {
        METRICS.writers.dec();
    }
}

/// Every metric in the Prometheus text format (version 0.0.4), for
/// `/metrics`.
pub fn encode() -> String {
    let mut text = String::new();
    if let Err(e) = prometheus_text::encode(&mut text, &METRICS.registry) {
        // Writing to a String cannot fail; say so rather than panic.
        let _ = writeln!(text, "# encoding failed: {e}");
    }
    #[cfg(feature = "redis")]
    if let Some(redis) = REDIS.get() {
        if let Err(e) = prometheus_text::encode(&mut text, &redis.registry) {
            let _ = writeln!(text, "# encoding failed: {e}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample line named exactly `name` (labels included).
    fn sample(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counts_show_in_the_text_format() {
        let before = encode();
        let messages = sample(&before, "chat_messages_broadcast_total").unwrap();
        let bytes = sample(&before, "chat_broadcast_bytes_total").unwrap();
        broadcast(3, 120);
        handshake_refused(403);
        dropped("idle_timeout");
        let writer = WriterRunning::start();
        let text = encode();
        // Other tests in this process may count too: at least ours.
        assert!(sample(&text, "chat_messages_broadcast_total").unwrap() >= messages + 3.0);
        assert!(sample(&text, "chat_broadcast_bytes_total").unwrap() >= bytes + 120.0);
        assert!(sample(&text, "chat_handshakes_refused_total{status=\"403\"}").unwrap() >= 1.0);
        assert!(
            sample(&text, "chat_clients_dropped_total{reason=\"idle_timeout\"}").unwrap() >= 1.0
        );
        assert!(!text.contains("reason=\"closed\""), "a close is not a drop");
        assert!(sample(&text, "chat_writer_threads").unwrap() >= 1.0);
        drop(writer);
        assert!(
            text.contains("# TYPE chat_clients_connected gauge"),
            "{text}"
        );
    }

    #[test]
    fn every_known_label_value_starts_at_zero() {
        let text = encode();
        for reason in DROP_REASONS {
            let name = format!("chat_clients_dropped_total{{reason=\"{reason}\"}}");
            assert!(sample(&text, &name).is_some(), "{name}:\n{text}");
        }
        for status in REFUSAL_STATUSES {
            let name = format!("chat_handshakes_refused_total{{status=\"{status}\"}}");
            assert!(sample(&text, &name).is_some(), "{name}:\n{text}");
        }
        for status in PAGE_STATUSES {
            let name = format!("chat_page_requests_total{{status=\"{status}\"}}");
            assert!(sample(&text, &name).is_some(), "{name}:\n{text}");
        }
    }

    /// The lists name every value the code counts under (a test, so the
    /// room's types stay out of this module).
    #[test]
    fn the_lists_are_complete() {
        use crate::http::upgrade::Refusal;
        use crate::room::LeaveReason;
        for status in 100..600 {
            let named = Refusal::new(status, "").reason != "Error";
            assert_eq!(named, REFUSAL_STATUSES.contains(&status), "{status}");
        }
        let reasons = [
            LeaveReason::Aborted,
            LeaveReason::ProtocolError(1002),
            LeaveReason::TimedOut,
            LeaveReason::ReadFailed(String::new()),
            LeaveReason::Panicked,
        ];
        for reason in reasons {
            let label = reason.label().unwrap();
            assert!(DROP_REASONS.contains(&label), "{label}");
        }
    }
}
