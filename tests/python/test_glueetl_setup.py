"""What a glueetl run needs from the machine, as a new user meets it: the Spark runtime
prepared by Weir itself on first use, and a run without Java failing with an
ErrorMessage that says what to install (boto3 against the real server)."""

from __future__ import annotations

import os
import pathlib
import shutil
import sys

import pytest

import weirtest
from runs_helpers import SERVER_ARGS, wait_job_run
from spark_helpers import SPARK_DEADLINE, s3_client

SCRIPT = b"""from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
print("rows", spark.read.option("header", "true").csv("s3://setup/in/").count())
"""


def server(tmp_path, name: str, extra_args, env=None):
    data_dir = tmp_path / name
    data_dir.mkdir()
    weir = weirtest.WeirServer(data_dir, tmp_path / f"{name}.log", extra_args=extra_args, env=env)
    weir.start()
    return weir


def create_inputs(weir) -> None:
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="setup")
    s3.put_object(Bucket="setup", Key="job.py", Body=SCRIPT)
    s3.put_object(Bucket="setup", Key="in/rows.csv", Body=b"a\n1\n2\n3\n")
    weir.client().create_job(Name="count", Role="r", GlueVersion="5.0",
                             Command={"Name": "glueetl", "ScriptLocation": "s3://setup/job.py"})


def test_the_first_glueetl_run_prepares_its_runtime(tmp_path):
    """A fresh runtime directory: the run prepares Spark 3.5 itself (pip, from the
    package index or pip's cache) and succeeds; the runtime is then marked ready."""
    runtimes = tmp_path / "runtimes"
    weir = server(tmp_path, "fresh", [*SERVER_ARGS, "--runtime-dir", str(runtimes)])
    try:
        create_inputs(weir)
        glue = weir.client()
        run_id = glue.start_job_run(JobName="count")["JobRunId"]
        job_run = wait_job_run(glue, "count", run_id, deadline=900)
        assert job_run["JobRunState"] == "SUCCEEDED", job_run.get("ErrorMessage")
        assert (runtimes / "spark-3.5.9" / ".weir-ready").is_file()
        assert not (runtimes / "spark-4.1.4").exists(), "only the runtime the run needed"
        assert "preparing the Spark runtime" in weir.log_text()
        stdout = (weir.data_dir / "job-runs" / run_id / "stdout").read_text()
        assert "rows 3" in stdout
    finally:
        weir.stop()


def test_a_run_without_java_fails_saying_what_to_install(tmp_path):
    """The server's PATH holds what a job launch needs (sh, nice, python) but no java,
    and JAVA_HOME is unset."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "nice"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(bin_dir)
    from spark_helpers import RUNTIME_ARGS
    weir = server(tmp_path, "nojava", [*SERVER_ARGS, *RUNTIME_ARGS], env=env)
    try:
        create_inputs(weir)
        glue = weir.client()
        run_id = glue.start_job_run(JobName="count")["JobRunId"]
        job_run = wait_job_run(glue, "count", run_id, deadline=SPARK_DEADLINE)
        assert job_run["JobRunState"] == "FAILED"
        message = job_run["ErrorMessage"]
        assert "need Java 17" in message and "openjdk-17-jre-headless" in message, message
    finally:
        weir.stop()
