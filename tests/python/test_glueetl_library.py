"""Weir's Glue ETL library (`awsglue` on PySpark), exercised by the check scripts in
tests/spark as real glueetl job runs through the server, on both Spark runtimes: every
transform and GlueContext path with exact rows and schemas, and the catalog paths
(from_catalog, write_dynamic_frame.from_catalog, getSink with enableUpdateCatalog)
against this Weir's Glue API."""

from __future__ import annotations

import json

import pytest

from runs_helpers import wait_job_run
from spark_helpers import SPARK_ARGS, SPARK_DEADLINE, s3_client
from weirtest import ROOT

CHECKS = ROOT / "tests" / "spark"
GLUE_VERSIONS = ["5.0", "6.0"]


@pytest.fixture
def weir_args():
    return list(SPARK_ARGS)


def run_checks(weir, script: str, glue_version: str, arguments: dict) -> str:
    glue = weir.client()
    s3 = s3_client(weir)
    for bucket in ("checks", "tmp"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="checks", Key=f"scripts/{script}",
                  Body=(CHECKS / script).read_bytes())
    glue.create_job(Name="checks", Role="r", GlueVersion=glue_version,
                    Command={"Name": "glueetl",
                             "ScriptLocation": f"s3://checks/scripts/{script}"},
                    DefaultArguments={"--job-bookmark-option": "job-bookmark-enable",
                                      "--TempDir": "s3://tmp/checks/", **arguments})
    run_id = glue.start_job_run(JobName="checks")["JobRunId"]
    job_run = wait_job_run(glue, "checks", run_id, deadline=SPARK_DEADLINE)
    stdout = (weir.data_dir / "job-runs" / run_id / "stdout").read_text()
    assert job_run["JobRunState"] == "SUCCEEDED", (job_run.get("ErrorMessage"), stdout[-3000:])
    return stdout


@pytest.mark.parametrize("glue_version", GLUE_VERSIONS)
def test_the_library_checks_pass(weir, glue_version):
    stdout = run_checks(weir, "library_checks.py", glue_version, {
        "--BASE": "s3://checks/lib",
        "--JSON_ARG": json.dumps({"a": [1, 2], "b": "x y"}),
        "--EQ_ARG": "k=v=w",
    })
    assert stdout.count(" ok") >= 29, stdout[-3000:]
    assert "ALL 29 CHECKS PASSED" in stdout


@pytest.mark.parametrize("glue_version", GLUE_VERSIONS)
def test_the_catalog_checks_pass(weir, glue_version):
    stdout = run_checks(weir, "catalog_checks.py", glue_version, {
        "--DATABASE": "libchecks",
        "--BASE": "s3://checks/cat",
    })
    assert "ALL 12 CHECKS PASSED" in stdout, stdout[-3000:]
    assert "NOTE" not in stdout, "getSink registered its partitions itself"
