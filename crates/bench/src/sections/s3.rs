//! S3: PutObject and GetObject of small and large objects against Weir (durable puts)
//! and moto_server's S3 (in memory), beside the disk's own sequential write (with
//! fsync) and read throughput and its fsync latency, measured with `dd` in the same
//! run, and the generator's own ceiling for 64 MiB bodies (a trivial endpoint sending
//! and receiving them from memory).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::Method;

use super::Ctx;
use crate::client::{S3Signer, Signed};
use crate::load::{self, LoadResult, Plan, Source};
use crate::report::{Report, Table, ms, rate};
use crate::servers::Server;

/// Object sizes measured: 4 KiB and 64 MiB.
const SIZES: [(usize, &str); 2] = [(SMALL, "4 KiB"), (LARGE, "64 MiB")];
/// The small object size.
const SMALL: usize = 4 * 1024;
/// The large object size.
const LARGE: usize = 64 * 1024 * 1024;
/// Connection counts.
const CONNECTIONS: [usize; 2] = [1, 16];
/// Requests per measurement of the 64 MiB objects (a timed run would be a handful).
const LARGE_REQUESTS: u64 = 32;
/// Distinct keys each measurement cycles over.
const KEYS: usize = 64;
/// Size of the file `dd` writes and reads for the disk ceiling.
const DD_MIB: usize = 256;
/// Synchronous 4 KiB writes `dd` times for the fsync latency.
const DD_SYNC_WRITES: usize = 500;

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("S3: PutObject and GetObject");
    report.note(
        "Path-style requests signed with SigV4 and `UNSIGNED-PAYLOAD` (so a pool of \
         requests signed before the run can be cycled), over keep-alive HTTP/1.1; answers \
         are drained frame by frame, never gathered. Weir acknowledges a PutObject after \
         the object's file (data and metadata) is fsynced, renamed into place and its \
         directory fsynced; moto_server keeps objects in memory. 4 KiB runs last the \
         run's duration; 64 MiB runs send 32 requests. GetObject reads objects the same \
         run put. MB/s is object bytes moved per second. The disk ceiling is `dd` of a \
         256 MiB file: written with `conv=fsync`, then read back (from the page cache \
         unless caches could be dropped, as the note says); the fsync latency is `dd` of \
         4 KiB writes with `oflag=dsync`. The `echo` rows are the generator against a \
         trivial endpoint answering (or swallowing) 64 MiB from memory: the most this \
         generator can move.",
    );
    let ceiling = disk_ceiling(ctx)?;
    report.note(&ceiling.describe());
    let data_dir = ctx.data_dir("s3");
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    let moto = match &ctx.moto {
        Some(bin) => Some(Server::moto(bin, &ctx.work.join("moto-s3.log"))?),
        None => None,
    };
    let mut table = Table::new(&[
        "server", "op", "size", "conns", "req/s", "MB/s", "p50", "p99", "vs disk",
    ]);
    let mut rates = HashMap::new();
    let mut row = |table: &mut Table,
                   server: &'static str,
                   op: &Method,
                   label: &str,
                   size: usize,
                   connections: usize,
                   result: &LoadResult| {
        let mb_s = result.rate() * size as f64 / 1e6;
        let disk = if *op == Method::PUT {
            ceiling.write_mb_s
        } else {
            ceiling.read_mb_s
        };
        rates.insert((server, op.clone(), size, connections), result.rate());
        table.row(vec![
            server.to_string(),
            if *op == Method::PUT {
                "PutObject"
            } else {
                "GetObject"
            }
            .into(),
            label.into(),
            connections.to_string(),
            rate(result.rate()),
            format!("{mb_s:.1}"),
            ms(result.quantile_ms(0.50)),
            ms(result.quantile_ms(0.99)),
            format!("{:.0}%", 100.0 * mb_s / disk.max(f64::MIN_POSITIVE)),
        ]);
    };
    for server in std::iter::once(&weir).chain(moto.as_ref()) {
        create_bucket(server.addr).await?;
        for (size, label) in SIZES {
            for connections in CONNECTIONS {
                for op in [Method::PUT, Method::GET] {
                    let result = measure(ctx, server, op.clone(), size, connections).await?;
                    result.ensure_clean(&format!("{} {op} {label}", server.name))?;
                    row(
                        &mut table,
                        server.name,
                        &op,
                        label,
                        size,
                        connections,
                        &result,
                    );
                }
            }
        }
    }
    let echo = Server::echo(Some(LARGE))?;
    for connections in CONNECTIONS {
        for op in [Method::PUT, Method::GET] {
            let result = measure(ctx, &echo, op.clone(), LARGE, connections).await?;
            result.ensure_clean(&format!("echo {op} 64 MiB"))?;
            row(
                &mut table,
                "echo",
                &op,
                "64 MiB",
                LARGE,
                connections,
                &result,
            );
        }
    }
    echo.stop()?;
    report.table(&table);
    weir.stop()?;
    if let Some(moto) = moto {
        moto.stop()?;
    } else {
        report.note("moto_server is not installed: its rows are missing.");
    }
    let of = |server: &'static str, op: Method, size: usize, connections: usize| {
        rates
            .get(&(server, op, size, connections))
            .copied()
            .unwrap_or(0.0)
    };
    for connections in CONNECTIONS {
        let weir_get = of("weir", Method::GET, LARGE, connections) * LARGE as f64 / 1e6;
        let echo_get = of("echo", Method::GET, LARGE, connections) * LARGE as f64 / 1e6;
        let share = weir_get / ceiling.read_mb_s.max(f64::MIN_POSITIVE);
        report.check(
            &format!("64 MiB GetObject, {connections} conn, share of the disk's read"),
            format!(
                "{:.0}% (generator's own ceiling: {:.0}%)",
                100.0 * share,
                100.0 * echo_get / ceiling.read_mb_s.max(f64::MIN_POSITIVE)
            ),
            "≥ 50%",
            share >= 0.5,
        );
    }
    if ctx.moto.is_some() {
        for connections in CONNECTIONS {
            let ratio = of("weir", Method::PUT, SMALL, connections)
                / of("moto", Method::PUT, SMALL, connections).max(f64::MIN_POSITIVE);
            report.check(
                &format!("4 KiB durable PutObject, {connections} conn, Weir ÷ moto"),
                format!("{ratio:.1}×"),
                "≥ 10×",
                ratio >= 10.0,
            );
        }
    }
    report.note(&format!(
        "One connection's durable puts are bounded by the disk: each waits for its \
         file's fsync and then its directory's, about 2 × {:.2} ms, so at most about \
         {} puts/s on one connection ({:.1}× moto's 1-connection rate of this run).",
        ceiling.sync_write_ms,
        rate(1000.0 / (2.0 * ceiling.sync_write_ms).max(f64::MIN_POSITIVE)),
        1000.0
            / (2.0 * ceiling.sync_write_ms).max(f64::MIN_POSITIVE)
            / of("moto", Method::PUT, SMALL, 1).max(f64::MIN_POSITIVE)
    ));
    Ok(())
}

/// PutObject (or GetObject of what the puts wrote) of `size`-byte objects.
async fn measure(
    ctx: &Ctx,
    server: &Server,
    op: Method,
    size: usize,
    connections: usize,
) -> Result<LoadResult> {
    let pool = signed_pool(server.addr, &op, size)?;
    let plan = if size > 1024 * 1024 {
        Plan::counted(connections, LARGE_REQUESTS, Duration::from_secs(600))
    } else {
        Plan::timed(connections, ctx.duration)
    };
    if size <= 1024 * 1024 {
        load::run(
            server.addr,
            Source::Cycle(pool.clone()),
            Plan::timed(connections, ctx.warmup),
            None,
        )
        .await?;
    }
    load::run(server.addr, Source::Cycle(pool), plan, Some(server.pid())).await
}

/// PutObjects of `size`-byte objects (or GetObjects of them) to `addr`, cycled over
/// [`KEYS`] keys of the bucket [`create_bucket`] makes.
pub fn signed_pool(addr: SocketAddr, op: &Method, size: usize) -> Result<Vec<Signed>> {
    let signer = S3Signer::new(addr);
    let body = Bytes::from(vec![b'w'; size]);
    (0..KEYS)
        .map(|i| {
            let path = format!("/bench/{size}/{i}");
            if *op == Method::PUT {
                signer.sign(Method::PUT, &path, body.clone())
            } else {
                signer.sign(Method::GET, &path, Bytes::new())
            }
        })
        .collect()
}

/// Creates the bucket the measurements use (an existing one of the same owner is fine).
pub async fn create_bucket(addr: SocketAddr) -> Result<()> {
    let signed = S3Signer::new(addr).sign(Method::PUT, "/bench", Bytes::new())?;
    let mut sender = crate::client::connect(addr).await?;
    let response = sender.send_request(signed.to_request()).await?;
    let status = response.status();
    if !status.is_success() && status != http::StatusCode::CONFLICT {
        bail!("creating the bucket at {addr} answered {status}");
    }
    Ok(())
}

/// The disk's sequential throughput and fsync latency, as `dd` measures them.
struct DiskCeiling {
    write_mb_s: f64,
    read_mb_s: f64,
    cold_read: bool,
    /// Milliseconds per synchronous 4 KiB write (`oflag=dsync`).
    sync_write_ms: f64,
}

impl DiskCeiling {
    fn describe(&self) -> String {
        format!(
            "Disk ceiling (dd, {DD_MIB} MiB): write with fsync {:.1} MB/s; read {:.1} MB/s ({}); \
             a synchronous 4 KiB write (fsync latency) {:.2} ms.",
            self.write_mb_s,
            self.read_mb_s,
            if self.cold_read {
                "caches dropped first"
            } else {
                "caches could not be dropped: a page-cache read"
            },
            self.sync_write_ms
        )
    }
}

fn disk_ceiling(ctx: &Ctx) -> Result<DiskCeiling> {
    std::fs::create_dir_all(&ctx.work)?;
    let file = ctx.work.join("dd-ceiling");
    let of = format!("of={}", file.display());
    let count = format!("count={DD_MIB}");
    let write = dd(&["if=/dev/zero", &of, "bs=1M", &count, "conv=fsync"])?;
    let cold_read = std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok();
    let read = dd(&[&format!("if={}", file.display()), "of=/dev/null", "bs=1M"])?;
    let sync_writes = format!("count={DD_SYNC_WRITES}");
    let sync_mb_s = dd(&["if=/dev/zero", &of, "bs=4k", &sync_writes, "oflag=dsync"])?;
    let _ = std::fs::remove_file(&file);
    let sync_seconds = (DD_SYNC_WRITES * 4096) as f64 / 1e6 / sync_mb_s.max(f64::MIN_POSITIVE);
    Ok(DiskCeiling {
        write_mb_s: write,
        read_mb_s: read,
        cold_read,
        sync_write_ms: 1000.0 * sync_seconds / DD_SYNC_WRITES as f64,
    })
}

/// Runs `dd` and returns the MB/s it reports (bytes over seconds from its last line).
fn dd(args: &[&str]) -> Result<f64> {
    let output = Command::new("dd")
        .args(args)
        .output()
        .context("running dd")?;
    if !output.status.success() {
        bail!(
            "dd {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // "268435456 bytes (268 MB, 256 MiB) copied, 1.23 s, 218 MB/s"
    let text = String::from_utf8_lossy(&output.stderr);
    let line = text.lines().last().unwrap_or_default();
    let bytes: f64 = line
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("dd's summary: {line}"))?;
    let seconds: f64 = line
        .split(", ")
        .find_map(|part| part.strip_suffix(" s"))
        .and_then(|s| s.trim().parse().ok())
        .with_context(|| format!("dd's summary: {line}"))?;
    Ok(bytes / seconds.max(f64::MIN_POSITIVE) / 1e6)
}
