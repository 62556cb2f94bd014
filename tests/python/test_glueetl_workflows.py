"""glueetl jobs inside workflows (boto3 against the real server, real Spark): a crawler
feeds a Spark job whose run properties the next Python shell job reads; stopping the
workflow run, or the job's timeout (on the manual clock), ends every process of the
Spark job (driver JVM and Python workers)."""

from __future__ import annotations

import sys
import textwrap

import pytest

import weirtest
from runs_helpers import (
    MANUAL_CLOCK_ARGS,
    MINUTE_MS,
    create_job,
    wait_file,
    wait_for,
    wait_job_run,
    wait_run,
)
from spark_helpers import RUNTIME_ARGS, SPARK_ARGS, SPARK_DEADLINE, job_processes_of, s3_client


@pytest.fixture
def weir_args():
    return list(SPARK_ARGS)


# As AWS's developer guide writes a Glue job: GlueContext, a catalog source, a
# transform, Job.init/commit; plus the workflow's run properties through boto3.
SPARK_STEP = textwrap.dedent("""\
    import sys
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.transforms import Filter
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME", "WORKFLOW_NAME", "WORKFLOW_RUN_ID"])
    sc = SparkContext()
    glueContext = GlueContext(sc)
    job = Job(glueContext)
    job.init(args["JOB_NAME"], args)
    orders = glueContext.create_dynamic_frame.from_catalog(
        database="shop", table_name="orders", transformation_ctx="orders")
    large = Filter.apply(frame=orders, f=lambda row: row["total"] >= 10)
    glue = boto3.client("glue")
    glue.put_workflow_run_properties(
        Name=args["WORKFLOW_NAME"], RunId=args["WORKFLOW_RUN_ID"],
        RunProperties={"large_orders": str(large.count()), "all_orders": str(orders.count())})
    job.commit()
""")

REPORT_STEP = textwrap.dedent("""\
    import sys
    import boto3
    from awsglue.utils import getResolvedOptions
    args = getResolvedOptions(sys.argv, ["WORKFLOW_NAME", "WORKFLOW_RUN_ID", "OUT"])
    props = boto3.client("glue").get_workflow_run_properties(
        Name=args["WORKFLOW_NAME"], RunId=args["WORKFLOW_RUN_ID"])["RunProperties"]
    open(args["OUT"], "w").write(props["large_orders"] + "/" + props["all_orders"])
""")


def test_crawler_then_spark_job_then_python_shell_job(weir, glue, tmp_path):
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="shop")
    s3.put_object(Bucket="shop", Key="raw/orders/day1.csv",
                  Body=b"order_id,total\n1,5\n2,15\n3,30\n")
    s3.put_object(Bucket="shop", Key="scripts/spark_step.py", Body=SPARK_STEP.encode())
    report = tmp_path / "report.py"
    report.write_text(REPORT_STEP)
    out = tmp_path / "report.txt"
    glue.create_crawler(Name="orders", Role="r", DatabaseName="shop",
                        Targets={"S3Targets": [{"Path": "s3://shop/raw/"}]})
    glue.create_job(Name="spark-step", Role="r", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://shop/scripts/spark_step.py"})
    create_job(glue, "report", str(report), DefaultArguments={"--OUT": str(out)})
    glue.create_workflow(Name="etl")
    glue.create_trigger(Name="start", WorkflowName="etl", Type="ON_DEMAND",
                        Actions=[{"CrawlerName": "orders"}])
    glue.create_trigger(
        Name="crawled", WorkflowName="etl", Type="CONDITIONAL", StartOnCreation=True,
        Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "CrawlerName": "orders",
                                   "CrawlState": "SUCCEEDED"}]},
        Actions=[{"JobName": "spark-step"}])
    glue.create_trigger(
        Name="transformed", WorkflowName="etl", Type="CONDITIONAL", StartOnCreation=True,
        Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "JobName": "spark-step",
                                   "State": "SUCCEEDED"}]},
        Actions=[{"JobName": "report"}])
    run_id = glue.start_workflow_run(Name="etl")["RunId"]
    run = wait_run(glue, "etl", run_id, deadline=SPARK_DEADLINE)
    assert run["Status"] == "COMPLETED", run
    assert run["Statistics"]["SucceededActions"] == 3, run["Statistics"]
    assert out.read_text() == "2/3", "the Spark job's run properties reach the next job"


SLOW_SPARK = textwrap.dedent("""\
    import sys, time
    from awsglue.utils import getResolvedOptions
    from pyspark.sql import SparkSession
    args = getResolvedOptions(sys.argv, ["READY"])
    spark = SparkSession.builder.getOrCreate()
    def slow(i):
        if i == 0:
            open(args["READY"], "w").write("running")
        time.sleep(600)
        return i
    # Python workers run the lambda: the job now has a JVM and Python workers alive.
    spark.sparkContext.parallelize(range(2), 2).map(slow).collect()
""")


def test_stopping_the_run_during_a_spark_job_leaves_no_jvm_or_python_worker(
        weir, glue, tmp_path):
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="slow")
    s3.put_object(Bucket="slow", Key="job.py", Body=SLOW_SPARK.encode())
    ready = tmp_path / "ready"
    glue.create_job(Name="slow", Role="r", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://slow/job.py"},
                    DefaultArguments={"--READY": str(ready)})
    glue.create_workflow(Name="w")
    glue.create_trigger(Name="go", WorkflowName="w", Type="ON_DEMAND",
                        Actions=[{"JobName": "slow"}])
    run_id = glue.start_workflow_run(Name="w")["RunId"]
    wait_file(str(ready), deadline=SPARK_DEADLINE)
    job_run = glue.get_job_runs(JobName="slow")["JobRuns"][0]
    processes = job_processes_of(job_run["Id"])
    commands = [open(f"/proc/{pid}/cmdline", "rb").read() for pid in processes]
    assert any(b"java" in c for c in commands), "the driver JVM runs"
    assert sum(b"pyspark" in c or b"python" in c for c in commands) >= 2, \
        "the driver and at least one Python worker run"

    glue.stop_workflow_run(Name="w", RunId=run_id)
    run = wait_run(glue, "w", run_id, deadline=SPARK_DEADLINE)
    assert run["Status"] == "STOPPED"
    ended = wait_job_run(glue, "slow", job_run["Id"], deadline=SPARK_DEADLINE)
    assert ended["JobRunState"] == "STOPPED"
    wait_for(lambda: not job_processes_of(job_run["Id"]),
             "every process of the stopped Spark job to be gone", SPARK_DEADLINE)


@pytest.fixture
def manual_clock_weir(tmp_path):
    """A second server, on the manual clock, for the timeout test."""
    data_dir = tmp_path / "clock-data"
    data_dir.mkdir()
    server = weirtest.WeirServer(data_dir, tmp_path / "clock.log",
                                 extra_args=[*MANUAL_CLOCK_ARGS, *RUNTIME_ARGS])
    server.start()
    try:
        yield server
    finally:
        server.stop()
        sys.stderr.write("---- weir (manual clock) log ----\n" + server.log_text()[-20000:])


def test_a_spark_job_past_its_one_minute_timeout_ends_timeout(manual_clock_weir, tmp_path):
    weir = manual_clock_weir
    glue = weir.client()
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="slow")
    s3.put_object(Bucket="slow", Key="job.py", Body=SLOW_SPARK.encode())
    ready = tmp_path / "ready"
    glue.create_job(Name="slow", Role="r", GlueVersion="5.0", Timeout=1,
                    Command={"Name": "glueetl", "ScriptLocation": "s3://slow/job.py"},
                    DefaultArguments={"--READY": str(ready)})
    run_id = glue.start_job_run(JobName="slow")["JobRunId"]
    wait_file(str(ready), deadline=SPARK_DEADLINE)
    assert job_processes_of(run_id), "the Spark job runs"
    weir.advance_clock(MINUTE_MS)
    ended = wait_job_run(glue, "slow", run_id, deadline=SPARK_DEADLINE)
    assert ended["JobRunState"] == "TIMEOUT", ended
    wait_for(lambda: not job_processes_of(run_id),
             "every process of the timed-out Spark job to be gone", SPARK_DEADLINE)
