//! Prometheus metrics: API requests, their latency, requests in flight, job runs and
//! workflow runs, rendered in the Prometheus text exposition format (version 0.0.4);
//! the edge serves them as `GET /metrics`.
//!
//! May depend on: nothing of Weir. Must not: know HTTP, a service or a store; every
//! label value it is handed is either a `&'static str` chosen by the caller or bounded
//! here.
//!
//! # Registry
//! One process-wide [`Metrics`] registry lives behind a `OnceLock` ([`Metrics::global`]);
//! the free functions ([`record_request`], [`job_run_finished`], …) record into it, so
//! call sites need no handle. A [`Metrics`] value is also cheap to clone (an `Arc`
//! inside) and can be created on its own, which is what the unit tests do.
//!
//! # Families
//! | name | type | labels |
//! |---|---|---|
//! | `weir_api_requests_total` | counter | `operation`, `error_code` (`none` on success) |
//! | `weir_api_request_duration_seconds` | histogram | `operation` |
//! | `weir_api_requests_in_flight` | gauge | |
//! | `weir_api_requests_admitted` | gauge | |
//! | `weir_http_connections_open` | gauge | |
//! | `weir_job_runs_started_total` | counter | |
//! | `weir_job_runs_finished_total` | counter | `state` |
//! | `weir_workflow_runs_started_total` | counter | |
//! | `weir_workflow_runs_finished_total` | counter | `status` |
//!
//! Label values are bounded: operations are static names chosen by the service that
//! served the request (`unknown` when it names none), and every family holds at most [`MAX_SERIES`] label sets (further new ones
//! are folded into the value `other`), so no client can grow the registry without bound.
//! Counters start at zero with the process; Prometheus handles the resets.
//!
//! `/metrics` is not authenticated (scrapers do not sign requests); it reveals counts
//! only, never names of resources.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Upper bounds (seconds) of the request latency histogram's buckets.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Most label sets one family keeps; new ones beyond are counted under `other`.
pub const MAX_SERIES: usize = 2048;
/// `error_code` label of a request that succeeded.
pub const NO_ERROR: &str = "none";

/// A metrics registry; cheap to clone (an `Arc` inside).
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    in_flight: AtomicI64,
    admitted: AtomicI64,
    connections: AtomicI64,
    job_runs_started: AtomicU64,
    workflow_runs_started: AtomicU64,
    schedules_armed: AtomicI64,
    series: Mutex<Series>,
}

/// The labelled families, under one lock (updates are a few map operations).
#[derive(Default)]
struct Series {
    /// (operation, error code) → requests.
    requests: BTreeMap<(&'static str, &'static str), u64>,
    /// operation → latency histogram.
    latency: BTreeMap<&'static str, Histogram>,
    /// final job-run state → job runs.
    job_runs_finished: BTreeMap<String, u64>,
    /// final workflow-run status → workflow runs.
    workflow_runs_finished: BTreeMap<String, u64>,
}

/// Non-cumulative bucket counts (one per [`LATENCY_BUCKETS`] bound, then +Inf).
#[derive(Clone)]
struct Histogram {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: vec![0; LATENCY_BUCKETS.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let seconds = if seconds.is_finite() {
            seconds.max(0.0)
        } else {
            0.0
        };
        let slot = LATENCY_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[slot] += 1;
        self.sum += seconds;
        self.count += 1;
    }
}

/// Decrements the in-flight gauge when dropped; see [`Metrics::request_started`].
#[must_use = "the request counts as in flight until the guard is dropped"]
pub struct InFlight(Metrics);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Decrements the admitted gauge when dropped; see [`Metrics::request_admitted`].
#[must_use = "the request counts as admitted until the guard is dropped"]
pub struct Admitted(Metrics);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.inner.admitted.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Decrements the open-connections gauge when dropped; see [`Metrics::connection_opened`].
#[must_use = "the connection counts as open until the guard is dropped"]
pub struct OpenConnection(Metrics);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.inner.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// A new, empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide registry that the free functions record into and `/metrics`
    /// serves.
    pub fn global() -> &'static Metrics {
        static GLOBAL: OnceLock<Metrics> = OnceLock::new();
        GLOBAL.get_or_init(Metrics::new)
    }

    fn series(&self) -> std::sync::MutexGuard<'_, Series> {
        // A panic while holding the lock cannot leave the maps inconsistent (each
        // update is a single insert/increment), so a poisoned lock is still usable.
        self.inner
            .series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks a request as in flight until the returned guard is dropped.
    pub fn request_started(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// Marks a request as holding a slot of the in-flight bound until the returned
    /// guard is dropped.
    pub fn request_admitted(&self) -> Admitted {
        self.inner.admitted.fetch_add(1, Ordering::Relaxed);
        Admitted(self.clone())
    }

    /// Marks a connection as accepted and served until the returned guard is dropped.
    pub fn connection_opened(&self) -> OpenConnection {
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.clone())
    }

    /// Counts one finished API request of `operation` (`None` error code on success)
    /// and observes its duration in seconds.
    pub fn record_request(
        &self,
        operation: &'static str,
        error_code: Option<&'static str>,
        seconds: f64,
    ) {
        let code = error_code.map_or(NO_ERROR, sanitize_code);
        let mut series = self.series();
        let key = (operation, code);
        let key = if series.requests.contains_key(&key) || series.requests.len() < MAX_SERIES {
            key
        } else {
            (operation, "other")
        };
        *series.requests.entry(key).or_default() += 1;
        series
            .latency
            .entry(operation)
            .or_default()
            .observe(seconds);
    }

    /// Counts a job run whose process was started.
    pub fn job_run_started(&self) {
        self.inner.job_runs_started.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a job run that ended in `state` (`SUCCEEDED`, `FAILED`, `TIMEOUT`, …).
    pub fn job_run_finished(&self, state: &str) {
        bump(&mut self.series().job_runs_finished, state);
    }

    /// Counts a workflow run that started.
    pub fn workflow_run_started(&self) {
        self.inner
            .workflow_runs_started
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a workflow run that finished with `status` (`COMPLETED`, `STOPPED`, …).
    pub fn workflow_run_finished(&self, status: &str) {
        bump(&mut self.series().workflow_runs_finished, status);
    }

    /// Everything recorded so far, in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let series = self.series();
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed) as f64;
        let mut w = Exposition::default();
        w.family(
            REQUESTS,
            "counter",
            "API requests by operation and error code.",
        );
        for ((operation, code), n) in &series.requests {
            let labels = [("operation", *operation), ("error_code", *code)];
            w.sample(REQUESTS, "", &labels, *n as f64);
        }
        w.family(LATENCY, "histogram", "API request latency by operation.");
        for (operation, histogram) in &series.latency {
            let mut cumulative = 0u64;
            for (i, count) in histogram.buckets.iter().enumerate() {
                cumulative += count;
                let le = LATENCY_BUCKETS
                    .get(i)
                    .map_or("+Inf".into(), |b| format_float(*b));
                let labels = [("operation", *operation), ("le", &le)];
                w.sample(LATENCY, "_bucket", &labels, cumulative as f64);
            }
            let labels = [("operation", *operation)];
            w.sample(LATENCY, "_sum", &labels, histogram.sum);
            w.sample(LATENCY, "_count", &labels, histogram.count as f64);
        }
        let in_flight = self.inner.in_flight.load(Ordering::Relaxed) as f64;
        w.family(IN_FLIGHT, "gauge", "API requests being served.");
        w.sample(IN_FLIGHT, "", &[], in_flight);
        let admitted = self.inner.admitted.load(Ordering::Relaxed) as f64;
        w.family(
            ADMITTED,
            "gauge",
            "API requests holding a slot of the in-flight bound (--max-in-flight).",
        );
        w.sample(ADMITTED, "", &[], admitted);
        let connections = self.inner.connections.load(Ordering::Relaxed) as f64;
        w.family(
            CONNECTIONS,
            "gauge",
            "HTTP connections accepted and open (at most --max-connections).",
        );
        w.sample(CONNECTIONS, "", &[], connections);
        w.family(JOBS_STARTED, "counter", "Job run processes started.");
        w.sample(JOBS_STARTED, "", &[], load(&self.inner.job_runs_started));
        w.family(
            JOBS_FINISHED,
            "counter",
            "Job runs finished, by final state.",
        );
        for (state, n) in &series.job_runs_finished {
            w.sample(JOBS_FINISHED, "", &[("state", state)], *n as f64);
        }
        w.family(RUNS_STARTED, "counter", "Workflow runs started.");
        w.sample(
            RUNS_STARTED,
            "",
            &[],
            load(&self.inner.workflow_runs_started),
        );
        w.family(
            RUNS_FINISHED,
            "counter",
            "Workflow runs finished, by status.",
        );
        for (status, n) in &series.workflow_runs_finished {
            w.sample(RUNS_FINISHED, "", &[("status", status)], *n as f64);
        }
        let armed = self.inner.schedules_armed.load(Ordering::Relaxed) as f64;
        w.family(
            SCHEDULES_ARMED,
            "gauge",
            "Activated SCHEDULED triggers whose next firing this process keeps.",
        );
        w.sample(SCHEDULES_ARMED, "", &[], armed);
        w.0
    }

    /// Sets how many schedules this process keeps armed.
    pub fn set_schedules_armed(&self, count: usize) {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        self.inner.schedules_armed.store(count, Ordering::Relaxed);
    }
}

const REQUESTS: &str = "weir_api_requests_total";
const LATENCY: &str = "weir_api_request_duration_seconds";
const IN_FLIGHT: &str = "weir_api_requests_in_flight";
const ADMITTED: &str = "weir_api_requests_admitted";
const CONNECTIONS: &str = "weir_http_connections_open";
const JOBS_STARTED: &str = "weir_job_runs_started_total";
const JOBS_FINISHED: &str = "weir_job_runs_finished_total";
const RUNS_STARTED: &str = "weir_workflow_runs_started_total";
const RUNS_FINISHED: &str = "weir_workflow_runs_finished_total";
const SCHEDULES_ARMED: &str = "weir_schedules_armed";

/// The text being exposed.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    /// One sample line: `name{suffix}{labels} value`.
    fn sample(&mut self, name: &str, suffix: &str, labels: &[(&str, &str)], value: f64) {
        let out = &mut self.0;
        out.push_str(name);
        out.push_str(suffix);
        if !labels.is_empty() {
            out.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{key}=\"{}\"", escape_label(value));
            }
            out.push('}');
        }
        let _ = writeln!(out, " {}", format_float(value));
    }
}

fn bump(map: &mut BTreeMap<String, u64>, label: &str) {
    let label = sanitize_code(label);
    let key = if map.contains_key(label) || map.len() < MAX_SERIES {
        label
    } else {
        "other"
    };
    *map.entry(key.to_string()).or_default() += 1;
}

/// Error codes and states are identifiers; anything else (which the server never
/// produces) is recorded as `other` rather than trusted as a label value.
fn sanitize_code(code: &str) -> &str {
    let plain = !code.is_empty()
        && code.len() <= 128
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if plain { code } else { "other" }
}

/// A sample value as Prometheus reads it (Go `ParseFloat` syntax).
fn format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

/// Escapes a label value: backslash, double quote and line feed.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Counts one finished API request in the global registry (see
/// [`Metrics::record_request`]).
pub fn record_request(operation: &'static str, error_code: Option<&'static str>, seconds: f64) {
    Metrics::global().record_request(operation, error_code, seconds);
}

/// Marks a request in flight in the global registry until the guard is dropped.
pub fn request_started() -> InFlight {
    Metrics::global().request_started()
}

/// Marks a request admitted in the global registry until the guard is dropped.
pub fn request_admitted() -> Admitted {
    Metrics::global().request_admitted()
}

/// Marks a connection open in the global registry until the guard is dropped.
pub fn connection_opened() -> OpenConnection {
    Metrics::global().connection_opened()
}

/// Counts a started job-run process in the global registry.
pub fn job_run_started() {
    Metrics::global().job_run_started();
}

/// Counts a job run that ended in `state` in the global registry.
pub fn job_run_finished(state: &str) {
    Metrics::global().job_run_finished(state);
}

/// Counts a started workflow run in the global registry.
pub fn workflow_run_started() {
    Metrics::global().workflow_run_started();
}

/// Counts a workflow run that finished with `status` in the global registry.
pub fn workflow_run_finished(status: &str) {
    Metrics::global().workflow_run_finished(status);
}

/// Sets the global registry's count of armed schedules.
pub fn set_schedules_armed(count: usize) {
    Metrics::global().set_schedules_armed(count);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
    }

    #[test]
    fn requests_are_counted_by_operation_and_code() {
        let m = Metrics::new();
        m.record_request("GetWorkflow", None, 0.002);
        m.record_request("GetWorkflow", None, 0.2);
        m.record_request("GetWorkflow", Some("EntityNotFoundException"), 0.003);
        m.record_request("unknown", Some("UnknownOperationException"), 0.0);
        let text = m.render();
        let ok = "weir_api_requests_total{operation=\"GetWorkflow\",error_code=\"none\"}";
        assert_eq!(line(&text, ok), Some("2"), "{text}");
        let enf = "weir_api_requests_total{operation=\"GetWorkflow\",\
                   error_code=\"EntityNotFoundException\"}";
        assert_eq!(line(&text, enf), Some("1"));
        let unknown = "weir_api_requests_total{operation=\"unknown\",\
                       error_code=\"UnknownOperationException\"}";
        assert_eq!(line(&text, unknown), Some("1"));
        assert!(text.contains("# TYPE weir_api_requests_total counter\n"));
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let m = Metrics::new();
        for seconds in [0.0005, 0.003, 0.003, 0.7, 42.0, f64::NAN] {
            m.record_request("ListJobs", None, seconds);
        }
        let text = m.render();
        let bucket = |le: &str| {
            line(
                &text,
                &format!(
                    "weir_api_request_duration_seconds_bucket{{operation=\"ListJobs\",le=\"{le}\"}}"
                ),
            )
        };
        // NaN is observed as 0.
        assert_eq!(bucket("0.001"), Some("2"));
        assert_eq!(bucket("0.005"), Some("4"));
        assert_eq!(bucket("0.5"), Some("4"));
        assert_eq!(bucket("1"), Some("5"));
        assert_eq!(bucket("10"), Some("5"));
        assert_eq!(bucket("+Inf"), Some("6"));
        let count = "weir_api_request_duration_seconds_count{operation=\"ListJobs\"}";
        assert_eq!(line(&text, count), Some("6"));
        let sum = "weir_api_request_duration_seconds_sum{operation=\"ListJobs\"}";
        let sum: f64 = line(&text, sum).and_then(|v| v.parse().ok()).expect("sum");
        assert!((sum - 42.7065).abs() < 1e-9, "{sum}");
        assert!(text.contains("# TYPE weir_api_request_duration_seconds histogram\n"));
    }

    #[test]
    fn runs_and_in_flight() {
        let m = Metrics::new();
        let a = m.request_started();
        let b = m.request_started();
        assert_eq!(line(&m.render(), "weir_api_requests_in_flight "), Some("2"));
        drop(a);
        drop(b);
        assert_eq!(line(&m.render(), "weir_api_requests_in_flight "), Some("0"));
        let admitted = m.request_admitted();
        let connection = m.connection_opened();
        assert_eq!(line(&m.render(), "weir_api_requests_admitted "), Some("1"));
        assert_eq!(line(&m.render(), "weir_http_connections_open "), Some("1"));
        drop(admitted);
        drop(connection);
        assert_eq!(line(&m.render(), "weir_api_requests_admitted "), Some("0"));
        assert_eq!(line(&m.render(), "weir_http_connections_open "), Some("0"));
        m.job_run_started();
        m.job_run_finished("SUCCEEDED");
        m.job_run_finished("FAILED");
        m.job_run_finished("SUCCEEDED");
        m.workflow_run_started();
        m.workflow_run_finished("COMPLETED");
        let text = m.render();
        assert_eq!(line(&text, "weir_job_runs_started_total "), Some("1"));
        let finished = "weir_job_runs_finished_total{state=\"SUCCEEDED\"}";
        assert_eq!(line(&text, finished), Some("2"));
        let failed = "weir_job_runs_finished_total{state=\"FAILED\"}";
        assert_eq!(line(&text, failed), Some("1"));
        assert_eq!(line(&text, "weir_workflow_runs_started_total "), Some("1"));
        let completed = "weir_workflow_runs_finished_total{status=\"COMPLETED\"}";
        assert_eq!(line(&text, completed), Some("1"));
    }

    #[test]
    fn text_format_is_well_formed() {
        let m = Metrics::new();
        m.record_request("GetJob", Some("bad \"code\"\n"), 0.01);
        m.job_run_finished("");
        let text = m.render();
        assert!(text.ends_with('\n'));
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut parts = rest.split(' ');
                families.push(parts.next().unwrap_or_default().to_string());
                let kind = parts.next().unwrap_or_default();
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            } else if line.starts_with("# HELP ") {
                continue;
            } else {
                // name{labels} value, the name belonging to the family declared last.
                let family = families.last().expect("a sample after its TYPE");
                assert!(line.starts_with(family.as_str()), "{line}");
                let value = line.rsplit(' ').next().unwrap_or_default();
                assert!(value == "+Inf" || value.parse::<f64>().is_ok(), "{line}");
                assert_eq!(line.matches('{').count(), line.matches('}').count());
            }
        }
        // Untrusted label values never reach the output raw.
        assert!(text.contains("error_code=\"other\""), "{text}");
        assert!(text.contains("state=\"other\""), "{text}");
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn series_are_bounded() {
        let m = Metrics::new();
        for i in 0..(MAX_SERIES + 10) {
            m.job_run_finished(&format!("STATE{i}"));
        }
        let series = m.series();
        assert_eq!(series.job_runs_finished.len(), MAX_SERIES + 1);
        assert_eq!(series.job_runs_finished.get("other"), Some(&10));
    }
}
