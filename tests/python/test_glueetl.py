"""glueetl jobs on Apache Spark: the runtime a GlueVersion chooses, the job's arguments,
s3:// paths in the script's own Spark calls, failures and bad versions (boto3 against
the real server, real spark-submit)."""

from __future__ import annotations

import glob
import textwrap

import pytest

from runs_helpers import wait_for, wait_job_run
from spark_helpers import SPARK_ARGS, SPARK_DEADLINE, read_json_lines, s3_client


@pytest.fixture
def weir_args():
    return list(SPARK_ARGS)


# A plain PySpark script (no GlueContext): it reads a CSV through an s3:// path, and
# writes what it saw (its arguments, a --conf setting, the Spark version) back to S3.
PLAIN_SCRIPT = textwrap.dedent("""\
    import sys
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql import SparkSession

    args = getResolvedOptions(sys.argv, ["JOB_NAME", "JOB_RUN_ID", "INPUT", "OUTPUT"])
    sc = SparkContext.getOrCreate()
    spark = SparkSession(sc)
    df = spark.read.option("header", "true").csv(args["INPUT"])
    total = df.selectExpr("sum(cast(amount as int)) as total").collect()[0]["total"]
    print("rows", df.count(), "total", total)
    spark.createDataFrame(
        [(args["JOB_NAME"], args["JOB_RUN_ID"], df.count(), total,
          spark.conf.get("spark.sql.shuffle.partitions"), spark.version)],
        ["job", "run", "rows", "total", "partitions", "version"],
    ).coalesce(1).write.mode("overwrite").json(args["OUTPUT"])
""")


def put_inputs(s3, script: str) -> None:
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="scripts/job.py", Body=script.encode())
    s3.put_object(Bucket="lake", Key="in/sales.csv",
                  Body=b"region,amount\nnorth,10\nsouth,20\neast,12\n")


@pytest.mark.parametrize("glue_version,spark", [("5.0", "3.5."), ("6.0", "4.1.")])
def test_a_glueetl_job_runs_its_script_on_the_spark_of_its_glue_version(
        weir, glue, glue_version, spark):
    s3 = s3_client(weir)
    put_inputs(s3, PLAIN_SCRIPT)
    glue.create_job(
        Name="plain", Role="r", GlueVersion=glue_version,
        Command={"Name": "glueetl", "ScriptLocation": "s3://lake/scripts/job.py"},
        DefaultArguments={"--INPUT": "s3://lake/in/", "--OUTPUT": "s3a://lake/out/",
                          "--conf": "spark.sql.shuffle.partitions=3"},
    )
    run_id = glue.start_job_run(JobName="plain")["JobRunId"]
    job_run = wait_job_run(glue, "plain", run_id, deadline=SPARK_DEADLINE)
    assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
    assert job_run["GlueVersion"] == glue_version
    [seen] = read_json_lines(s3, "lake", "out/")
    assert seen["job"] == "plain" and seen["run"] == run_id
    assert (seen["rows"], seen["total"]) == (3, 42)
    assert seen["partitions"] == "3", "the job's --conf reaches the Spark session"
    assert seen["version"].startswith(spark)
    stdout = (weir.data_dir / "job-runs" / run_id / "stdout").read_text()
    assert "rows 3 total 42" in stdout


def test_a_script_that_raises_fails_the_run_with_the_exception_line(weir, glue):
    s3 = s3_client(weir)
    put_inputs(s3, textwrap.dedent("""\
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        rows = spark.read.option("header", "true").csv("s3://lake/in/").count()
        raise ValueError(f"bad batch: {rows} rows")
    """))
    glue.create_job(Name="broken", Role="r", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://lake/scripts/job.py"})
    run_id = glue.start_job_run(JobName="broken")["JobRunId"]
    job_run = wait_job_run(glue, "broken", run_id, deadline=SPARK_DEADLINE)
    assert job_run["JobRunState"] == "FAILED"
    assert "ValueError: bad batch: 3 rows" in job_run["ErrorMessage"], job_run["ErrorMessage"]
    stderr = (weir.data_dir / "job-runs" / run_id / "stderr").read_text()
    assert "Traceback (most recent call last)" in stderr


def test_a_path_in_a_bucket_that_does_not_exist_names_nothing_outside_s3(weir, glue):
    s3 = s3_client(weir)
    put_inputs(s3, textwrap.dedent("""\
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        spark.read.text("s3://etc/passwd").count()
    """))
    glue.create_job(Name="escape", Role="r", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://lake/scripts/job.py"})
    run_id = glue.start_job_run(JobName="escape")["JobRunId"]
    job_run = wait_job_run(glue, "escape", run_id, deadline=SPARK_DEADLINE)
    assert job_run["JobRunState"] == "FAILED"
    assert "s3://etc/" in job_run["ErrorMessage"], job_run["ErrorMessage"]


def test_an_unsupported_glue_version_fails_the_run_naming_it(weir, glue):
    s3 = s3_client(weir)
    put_inputs(s3, PLAIN_SCRIPT)
    glue.create_job(Name="old", Role="r", GlueVersion="2.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://lake/scripts/job.py"})
    run_id = glue.start_job_run(JobName="old")["JobRunId"]
    job_run = wait_job_run(glue, "old", run_id, deadline=SPARK_DEADLINE)
    assert job_run["JobRunState"] == "FAILED"
    assert "GlueVersion 2.0 is not supported" in job_run["ErrorMessage"]
    assert "5.0, 5.1 (Spark 3.5.9)" in job_run["ErrorMessage"]


STANDBY_SCRIPT = textwrap.dedent("""\
    import os, sys
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext
    from pyspark.sql import SparkSession

    args = getResolvedOptions(sys.argv, ["JOB_NAME", "INPUT"])
    sc = SparkContext()
    spark = SparkSession(sc)
    assert spark.conf.get("weir.test.left.by.earlier.run", "absent") == "absent"
    spark.conf.set("weir.test.left.by.earlier.run", "yes")
    rows = spark.read.option("header", "true").csv(args["INPUT"]).count()
    print("pid", os.getpid(), "rows", rows, "job", args["JOB_NAME"],
          "run", os.environ["WEIR_JOB_RUN_ID"])
""")


def standby_ready(weir, spark: str):
    return glob.glob(str(weir.data_dir / "job-runs" / f".standby-{spark}-*" / "ready"))


@pytest.mark.parametrize("weir_args", [[*SPARK_ARGS, "--spark-standby"]])
def test_a_standby_driver_runs_each_job_in_its_own_started_process(weir, glue):
    """With --spark-standby, a run is handed to a driver started before it (the
    standby's `ready` file, naming its pid, moves into the run's directory), the
    script's own SparkContext() is that driver's, buckets created after the driver
    started are readable, and the next run gets a new driver."""
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="late")
    s3.put_object(Bucket="late", Key="job.py", Body=STANDBY_SCRIPT.encode())
    s3.put_object(Bucket="late", Key="in/rows.csv", Body=b"a\n1\n2\n")
    glue.create_job(Name="warm", Role="r", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://late/job.py"},
                    DefaultArguments={"--INPUT": "s3://late/in/"})
    pids = []
    for _ in range(2):
        wait_for(lambda: standby_ready(weir, "3.5.9"), "a warm standby driver", SPARK_DEADLINE)
        run_id = glue.start_job_run(JobName="warm")["JobRunId"]
        job_run = wait_job_run(glue, "warm", run_id, deadline=SPARK_DEADLINE)
        assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
        run_dir = weir.data_dir / "job-runs" / run_id
        standby_pid = (run_dir / "ready").read_text()
        assert f"pid {standby_pid} rows 2 job warm run {run_id}" in (run_dir / "stdout").read_text()
        pids.append(standby_pid)
    assert pids[0] != pids[1], "each run has a driver of its own"
