//! Spark: glueetl job runs through Weir beside the same PySpark script through a bare
//! `spark-submit` of the same runtime (the floor) on the same machine, for a trivial
//! job (read 10 rows, count) and a CSV → Parquet conversion.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use super::Ctx;
use crate::client::Conn;
use crate::glue::quantile;
use crate::report::{Report, Table, pct};
use crate::servers::Server;

/// Runs of the trivial job on each side.
const TRIVIAL_RUNS: usize = 5;
/// Runs of the conversion on each side.
const CONVERT_RUNS: usize = 2;
/// How often a job run is polled.
const POLL: Duration = Duration::from_millis(20);
/// Bound on one job run.
const RUN_LIMIT: Duration = Duration::from_secs(1800);
/// The Spark runtime measured (GlueVersion 5.0).
const GLUE_VERSION: &str = "5.0";
/// Its directory under the runtime directory.
const RUNTIME: &str = "spark-3.5.9";

/// The trivial job: count the rows of a CSV.
const TRIVIAL_SCRIPT: &str = r#"import sys
from pyspark.sql import SparkSession
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
spark = SparkSession.builder.getOrCreate()
print("rows", spark.read.option("header", "true").csv(args["--INPUT"]).count())
"#;

/// The conversion: CSV (explicit schema) to Snappy Parquet.
const CONVERT_SCRIPT: &str = r#"import sys
from pyspark.sql import SparkSession
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
spark = SparkSession.builder.getOrCreate()
schema = "id BIGINT, day STRING, region STRING, amount DOUBLE, note STRING"
df = spark.read.schema(schema).option("header", "true").csv(args["--INPUT"])
df.write.mode("overwrite").parquet(args["--OUTPUT"])
"#;

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("Spark: glueetl job runs against bare spark-submit");
    let runtime = ctx.weir.runtime_dir.join(RUNTIME);
    let spark_submit = runtime.join("bin").join("spark-submit");
    if !spark_submit.is_file() {
        bail!(
            "no Spark runtime at {}: run `weir runtime install --runtime-dir {}` first",
            runtime.display(),
            ctx.weir.runtime_dir.display()
        );
    }
    let csv_bytes = ctx.sizes.spark_csv_bytes;
    report.note(&format!(
        "GlueVersion {GLUE_VERSION} (PySpark {}), `local[*]` on this machine. **Weir**: wall \
         time from the StartJobRun call to GetJobRun answering SUCCEEDED (polled every 20 ms), \
         scripts and data in Weir's S3 directory, read through `s3://` paths. **bare \
         spark-submit**: the same script run by `{}/bin/spark-submit --master 'local[*]'` on \
         the same files by local path, wall time of the process. Trivial job: read a 10-row \
         CSV and count it, {TRIVIAL_RUNS} runs each, alternating; then {TRIVIAL_RUNS} runs on a \
         server with `--spark-standby` (a driver started ahead of time takes each run; each \
         run starts once the next standby is warm). Conversion: a {} MB CSV (8 files, 5 \
         columns, explicit schema) written as Snappy Parquet, alternating, {CONVERT_RUNS} runs \
         each, the best of each side (a new driver per run on both sides).",
        &RUNTIME["spark-".len()..],
        runtime.display(),
        csv_bytes / 1_000_000
    ));
    let data_dir = ctx.data_dir("spark");
    let bucket = data_dir.join("s3").join("bench");
    let scripts = bucket.join("scripts");
    std::fs::create_dir_all(&scripts)?;
    std::fs::write(scripts.join("trivial.py"), TRIVIAL_SCRIPT)?;
    std::fs::write(scripts.join("convert.py"), CONVERT_SCRIPT)?;
    let ten = bucket.join("ten");
    std::fs::create_dir_all(&ten)?;
    std::fs::write(ten.join("rows.csv"), rows(0, 10))?;
    let big = bucket.join("big");
    write_csv(&big, csv_bytes)?;

    let weir = Server::weir(&ctx.weir, &data_dir)?;
    let mut conn = Conn::new(weir.addr);
    create_job(
        &mut conn,
        "trivial",
        "s3://bench/scripts/trivial.py",
        json!({
            "--INPUT": "s3://bench/ten/"
        }),
    )
    .await?;
    create_job(
        &mut conn,
        "convert",
        "s3://bench/scripts/convert.py",
        json!({
            "--INPUT": "s3://bench/big/", "--OUTPUT": "s3://bench/out-weir/"
        }),
    )
    .await?;

    let mut weir_trivial = Vec::new();
    let mut bare_trivial = Vec::new();
    for _ in 0..TRIVIAL_RUNS {
        weir_trivial.push(job_wall(&mut conn, "trivial").await?);
        bare_trivial.push(bare_wall(
            &spark_submit,
            &scripts.join("trivial.py"),
            &[("--INPUT", ten.display().to_string())],
        )?);
    }
    // Alternating, twice each, best of two: the first read of the CSV also pays for
    // the disk, whichever side comes first.
    let mut bare_converts = Vec::new();
    let mut weir_converts = Vec::new();
    for _ in 0..CONVERT_RUNS {
        bare_converts.push(bare_wall(
            &spark_submit,
            &scripts.join("convert.py"),
            &[
                ("--INPUT", big.display().to_string()),
                ("--OUTPUT", bucket.join("out-bare").display().to_string()),
            ],
        )?);
        weir_converts.push(job_wall(&mut conn, "convert").await?);
    }
    weir.stop()?;

    // The same trivial job on a kept-warm driver (`--spark-standby`): each run is
    // started once the next standby has finished warming up.
    let warm_dir = ctx.data_dir("spark-standby");
    std::fs::create_dir_all(warm_dir.join("s3"))?;
    std::fs::rename(&bucket, warm_dir.join("s3").join("bench"))?;
    let warm = Server::weir_with(&ctx.weir, &warm_dir, &["--spark-standby"])?;
    let mut conn = Conn::new(warm.addr);
    create_job(
        &mut conn,
        "trivial",
        "s3://bench/scripts/trivial.py",
        json!({
            "--INPUT": "s3://bench/ten/"
        }),
    )
    .await?;
    let mut warm_trivial = Vec::new();
    for _ in 0..TRIVIAL_RUNS {
        wait_for_standby(&warm_dir).await?;
        warm_trivial.push(job_wall(&mut conn, "trivial").await?);
    }

    warm.stop()?;
    let bare_convert = min(&bare_converts);
    let weir_convert = min(&weir_converts);

    let warm_p50 = quantile(&warm_trivial, 0.5);
    let mut table = Table::new(&["job", "bare spark-submit", "Weir", "Weir overhead"]);
    let bare_p50 = quantile(&bare_trivial, 0.5);
    let weir_p50 = quantile(&weir_trivial, 0.5);
    table.row(vec![
        format!("trivial (p50 of {TRIVIAL_RUNS})"),
        seconds(bare_p50),
        seconds(weir_p50),
        overhead(weir_p50, bare_p50),
    ]);
    table.row(vec![
        format!("trivial (min of {TRIVIAL_RUNS})"),
        seconds(min(&bare_trivial)),
        seconds(min(&weir_trivial)),
        overhead(min(&weir_trivial), min(&bare_trivial)),
    ]);
    table.row(vec![
        format!("trivial, standby driver (p50 of {TRIVIAL_RUNS})"),
        seconds(bare_p50),
        seconds(warm_p50),
        overhead(warm_p50, bare_p50),
    ]);
    table.row(vec![
        format!(
            "CSV → Parquet, {} MB (best of {CONVERT_RUNS})",
            csv_bytes / 1_000_000
        ),
        seconds(bare_convert),
        seconds(weir_convert),
        overhead(weir_convert, bare_convert),
    ]);
    report.table(&table);
    let trivial_overhead = weir_p50 / bare_p50 - 1.0;
    report.check(
        "Weir's overhead over bare spark-submit, trivial job (p50)",
        pct(100.0 * trivial_overhead),
        "≤ 10%",
        trivial_overhead <= 0.10,
    );
    let convert_overhead = weir_convert / bare_convert - 1.0;
    report.check(
        "Weir's overhead over bare spark-submit, CSV → Parquet",
        pct(100.0 * convert_overhead),
        "≤ 10%",
        convert_overhead <= 0.10,
    );
    report.check(
        "trivial job, StartJobRun → SUCCEEDED (p50, standby driver)",
        seconds(warm_p50),
        "≤ 3 s",
        warm_p50 <= 3.0,
    );
    Ok(())
}

/// Waits until a standby driver of the measured runtime is warm in `data_dir`.
async fn wait_for_standby(data_dir: &Path) -> Result<()> {
    let started = Instant::now();
    loop {
        let runs = std::fs::read_dir(data_dir.join("job-runs"))?;
        let ready = runs.filter_map(Result::ok).any(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(&format!(".standby-{}-", &RUNTIME["spark-".len()..]))
                && entry.path().join("ready").exists()
        });
        if ready {
            return Ok(());
        }
        if started.elapsed() > RUN_LIMIT {
            bail!("no standby driver became ready in {RUN_LIMIT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `n` CSV rows numbered from `first`, with a header.
fn rows(first: u64, n: u64) -> String {
    let mut text = String::from("id,day,region,amount,note\n");
    for id in first..first + n {
        text.push_str(&row(id));
    }
    text
}

fn row(id: u64) -> String {
    let regions = ["north", "south", "east", "west"];
    format!(
        "{id},2026-12-{:02},{},{}.{:02},order {id} of the benchmark\n",
        1 + id % 28,
        regions[(id % 4) as usize],
        id % 1000,
        id % 100
    )
}

/// Writes about `bytes` of CSV as 8 files under `dir` (kept when already there).
fn write_csv(dir: &Path, bytes: u64) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let per_file = bytes / 8;
    let mut id = 0u64;
    for part in 0..8 {
        let path = dir.join(format!("part-{part}.csv"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        out.write_all(b"id,day,region,amount,note\n")?;
        let mut written = 0u64;
        while written < per_file {
            let line = row(id);
            out.write_all(line.as_bytes())?;
            written += line.len() as u64;
            id += 1;
        }
        out.flush()?;
    }
    Ok(())
}

async fn create_job(
    conn: &mut Conn,
    name: &str,
    script: &str,
    arguments: serde_json::Value,
) -> Result<()> {
    conn.call(
        "CreateJob",
        json!({
            "Name": name, "Role": "bench", "GlueVersion": GLUE_VERSION,
            "Command": {"Name": "glueetl", "ScriptLocation": script},
            "DefaultArguments": arguments,
        }),
    )
    .await?;
    Ok(())
}

/// Seconds from StartJobRun to GetJobRun answering SUCCEEDED.
async fn job_wall(conn: &mut Conn, job: &str) -> Result<f64> {
    let started = Instant::now();
    let answer = conn.call("StartJobRun", json!({"JobName": job})).await?;
    let run_id = answer["JobRunId"]
        .as_str()
        .context("StartJobRun without JobRunId")?
        .to_string();
    loop {
        let run = conn
            .call("GetJobRun", json!({"JobName": job, "RunId": run_id}))
            .await?;
        match run["JobRun"]["JobRunState"].as_str() {
            Some("SUCCEEDED") => return Ok(started.elapsed().as_secs_f64()),
            Some("STARTING" | "RUNNING" | "WAITING") => {}
            other => bail!(
                "job {job} run {run_id} ended {other:?}: {}",
                run["JobRun"]["ErrorMessage"]
            ),
        }
        if started.elapsed() > RUN_LIMIT {
            bail!("job {job} run {run_id} did not finish in {RUN_LIMIT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Seconds a bare `spark-submit` of `script` takes.
fn bare_wall(spark_submit: &Path, script: &Path, arguments: &[(&str, String)]) -> Result<f64> {
    let started = Instant::now();
    let mut command = Command::new(spark_submit);
    // spark-submit finds its Spark home, and runs Python workers, with this Python.
    let python = spark_submit.with_file_name("python");
    command
        .env("PYSPARK_PYTHON", &python)
        .args(["--master", "local[*]", "--conf", "spark.ui.enabled=false"])
        .arg(script)
        .current_dir(script.parent().unwrap_or(Path::new("/")));
    for (key, value) in arguments {
        command.arg(key).arg(value);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", spark_submit.display()))?;
    if !output.status.success() {
        bail!(
            "bare spark-submit of {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        );
    }
    Ok(started.elapsed().as_secs_f64())
}

/// How much longer `weir` took than `bare`, as a percentage.
fn overhead(weir: f64, bare: f64) -> String {
    pct(100.0 * (weir / bare - 1.0))
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn seconds(value: f64) -> String {
    format!("{value:.2} s")
}
