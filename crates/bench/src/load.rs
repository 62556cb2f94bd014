//! The load generator: N keep-alive connections, each driven by its own task, sending
//! signed requests back to back (closed loop: a connection sends its next request when
//! the previous answer has been read completely).
//!
//! Latency is measured per request from just before the send to the last body byte,
//! recorded in microseconds in an HDR histogram (3 significant digits). The generator
//! also reports its own CPU time (`getrusage(RUSAGE_SELF)`) and the server's
//! (`/proc/<pid>/stat`, summed over the server processes) over the measured interval,
//! so a reader can see which side was busy.
//!
//! A run may spread its connections over several servers (the replicas of one cluster):
//! connection `i` goes to target `i mod n`, each target with requests signed for its
//! own address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http::Request;
use http_body_util::{BodyExt, Full};

use crate::client::{Signed, Signer, connect};
use crate::procfs;

/// Where the requests of a load run come from.
pub enum Source {
    /// A pool of requests signed before the run (one `X-Amz-Date`), sent in turn.
    Cycle(Vec<Signed>),
    /// Requests made and signed when they are sent (request `i` gets body `body(i)`),
    /// as a client that sends unique requests does; the signing is the generator's CPU.
    Generate {
        /// Signs for the target server.
        signer: Signer,
        /// Glue operation name.
        operation: &'static str,
        /// Body of request number `i`.
        body: Box<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
    },
}

impl Source {
    /// A pool of `copies` pre-signed requests cycling over `bodies`.
    pub fn presigned(
        signer: &Signer,
        operation: &str,
        bodies: &[Vec<u8>],
        copies: usize,
    ) -> Result<Self> {
        let now = SystemTime::now();
        let pool = (0..copies.max(bodies.len()))
            .map(|i| signer.sign(operation, bodies[i % bodies.len()].clone(), now))
            .collect::<Result<Vec<_>>>()?;
        Ok(Source::Cycle(pool))
    }

    /// Request number `index` of the run.
    fn request(&self, index: u64) -> Result<Request<Full<Bytes>>> {
        match self {
            Source::Cycle(pool) => Ok(pool[(index % pool.len() as u64) as usize].to_request()),
            Source::Generate {
                signer,
                operation,
                body,
            } => Ok(signer
                .sign(operation, body(index), SystemTime::now())?
                .to_request()),
        }
    }
}

/// How much load to send.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Stop sending after this long (`None`: no time limit).
    pub duration: Option<Duration>,
    /// Stop after this many requests in total (`None`: no count limit).
    pub count: Option<u64>,
}

impl Plan {
    /// Send for `duration` on `connections` connections.
    pub fn timed(connections: usize, duration: Duration) -> Self {
        Self {
            connections,
            duration: Some(duration),
            count: None,
        }
    }

    /// Send exactly `count` requests on `connections` connections (bounded by `limit`).
    pub fn counted(connections: usize, count: u64, limit: Duration) -> Self {
        Self {
            connections,
            duration: Some(limit),
            count: Some(count),
        }
    }
}

/// What a load run measured.
pub struct LoadResult {
    /// Requests answered 2xx.
    pub ok: u64,
    /// Requests answered otherwise, or failed on the connection.
    pub errors: u64,
    /// First error seen, for the report.
    pub first_error: Option<String>,
    /// Wall time from the first send to the last answer.
    pub elapsed: Duration,
    /// Latency of every answered request, microseconds.
    pub histogram: Histogram<u64>,
    /// CPU time (user + system) of this generator process during the run.
    pub client_cpu: Duration,
    /// CPU time of the server processes during the run (summed), when their pids are
    /// known.
    pub server_cpu: Option<Duration>,
}

impl LoadResult {
    /// Answered requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency quantile `q` (0..=1) in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.histogram.value_at_quantile(q) as f64 / 1000.0
    }

    /// Generator CPU as a percentage of one core.
    pub fn client_cpu_pct(&self) -> f64 {
        100.0 * self.client_cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Server CPU as a percentage of one core.
    pub fn server_cpu_pct(&self) -> Option<f64> {
        self.server_cpu
            .map(|cpu| 100.0 * cpu.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-9))
    }

    /// Fails when any request failed: figures over failed requests mean nothing.
    pub fn ensure_clean(&self, what: &str) -> Result<()> {
        if self.errors > 0 {
            bail!(
                "{what}: {} of {} requests failed; first: {}",
                self.errors,
                self.errors + self.ok,
                self.first_error.as_deref().unwrap_or("?")
            );
        }
        Ok(())
    }
}

/// What the connection tasks of one run share.
struct Shared {
    /// The requests of each target, in target order.
    sources: Vec<Source>,
    /// Index of the next request to send (over all targets).
    next: AtomicU64,
    /// Stop after this many requests.
    count: Option<u64>,
    /// Stop sending at this instant.
    deadline: Option<Instant>,
}

/// What one connection task measured.
struct WorkerResult {
    /// Requests answered 2xx.
    ok: u64,
    /// Requests that failed.
    errors: u64,
    /// The first failure.
    first_error: Option<String>,
    /// Latencies, microseconds.
    histogram: Histogram<u64>,
}

/// A new latency histogram: 1 µs to 10 minutes, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Runs `source` against `addr` as `plan` says and measures it. `server_pid` is the
/// server process whose CPU time is reported.
pub async fn run(
    addr: SocketAddr,
    source: Source,
    plan: Plan,
    server_pid: Option<u32>,
) -> Result<LoadResult> {
    run_spread(vec![(addr, source)], plan, server_pid.as_slice()).await
}

/// Runs `plan` over several servers: connection `i` sends the requests of
/// `targets[i mod n]` to its address. `server_pids` are the processes whose CPU time is
/// reported (summed; none: not reported).
pub async fn run_spread(
    targets: Vec<(SocketAddr, Source)>,
    plan: Plan,
    server_pids: &[u32],
) -> Result<LoadResult> {
    if targets.is_empty() {
        bail!("a load run needs at least one target");
    }
    // Connect first so the measured interval holds requests only.
    let mut senders = Vec::with_capacity(plan.connections);
    for i in 0..plan.connections {
        let target = i % targets.len();
        senders.push((target, connect(targets[target].0).await?));
    }
    let client_before = procfs::self_cpu();
    let server_before = servers_cpu(server_pids)?;
    let started = Instant::now();
    let (addrs, sources): (Vec<SocketAddr>, Vec<Source>) = targets.into_iter().unzip();
    let shared = Arc::new(Shared {
        sources,
        next: AtomicU64::new(0),
        count: plan.count,
        deadline: plan.duration.map(|d| started + d),
    });
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|(target, sender)| tokio::spawn(worker(addrs[target], target, sender, shared.clone())))
        .collect();
    let mut histogram = histogram();
    let (mut ok, mut errors, mut first_error) = (0, 0, None);
    for task in tasks {
        let result = task.await.context("load worker panicked")??;
        ok += result.ok;
        errors += result.errors;
        first_error = first_error.or(result.first_error);
        histogram.add(&result.histogram)?;
    }
    let elapsed = started.elapsed();
    let client_cpu = procfs::self_cpu().saturating_sub(client_before);
    let server_cpu = match server_before {
        Some(before) => servers_cpu(server_pids)?.map(|after| after.saturating_sub(before)),
        None => None,
    };
    Ok(LoadResult {
        ok,
        errors,
        first_error,
        elapsed,
        histogram,
        client_cpu,
        server_cpu,
    })
}

/// The CPU time of the processes `pids` together (`None` for no pids).
fn servers_cpu(pids: &[u32]) -> Result<Option<Duration>> {
    if pids.is_empty() {
        return Ok(None);
    }
    let mut total = Duration::ZERO;
    for pid in pids {
        total += procfs::cpu_time(*pid)?;
    }
    Ok(Some(total))
}

/// One connection to `addr`, sending the requests of target `target`: sends them back
/// to back until the plan says stop.
async fn worker(
    addr: SocketAddr,
    target: usize,
    mut sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    shared: Arc<Shared>,
) -> Result<WorkerResult> {
    let mut result = WorkerResult {
        ok: 0,
        errors: 0,
        first_error: None,
        histogram: histogram(),
    };
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if shared.count.is_some_and(|count| index >= count)
            || shared.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let request = shared.sources[target].request(index)?;
        if sender.ready().await.is_err() {
            // The server closed the kept-alive connection: open another.
            sender = connect(addr).await?;
        }
        let sent = Instant::now();
        let outcome = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            let mut body = response.into_body();
            if status.is_success() {
                // Drained frame by frame: a large body is never gathered in one buffer.
                while let Some(frame) = body.frame().await {
                    frame?;
                }
                anyhow::Ok((status, Bytes::new()))
            } else {
                anyhow::Ok((status, body.collect().await?.to_bytes()))
            }
        }
        .await;
        let micros = sent.elapsed().as_micros().max(1) as u64;
        match outcome {
            Ok((status, _)) if status.is_success() => {
                result.ok += 1;
                result.histogram.saturating_record(micros);
            }
            Ok((status, body)) => {
                result.errors += 1;
                result.first_error.get_or_insert_with(|| {
                    format!("HTTP {status}: {}", String::from_utf8_lossy(&body))
                });
            }
            Err(error) => {
                result.errors += 1;
                result
                    .first_error
                    .get_or_insert_with(|| format!("{error:#}"));
                sender = connect(addr).await?;
            }
        }
    }
    Ok(result)
}
