"""glueetl jobs sent to an existing Spark cluster (`--spark-master`): a standalone Spark
master and one worker started on 127.0.0.1 from the runtime's own Spark; a job's
executors run in the worker, their Python workers import Weir's Glue ETL library, and
s3:// paths resolve on the executors (same machine, same S3 directory)."""

from __future__ import annotations

import os
import re
import subprocess
import textwrap

import pytest

import weirtest
from runs_helpers import SERVER_ARGS, wait_for, wait_job_run
from spark_helpers import RUNTIME_ARGS, RUNTIME_DIR, SPARK_DEADLINE, read_json_lines, s3_client

RUNTIME = RUNTIME_DIR / "spark-3.5.9"


def spark_class(log, *args):
    spark_home = next((RUNTIME / "lib").glob("python3*/site-packages/pyspark"))
    env = {**os.environ, "SPARK_HOME": str(spark_home), "SPARK_LOCAL_IP": "127.0.0.1",
           "PYSPARK_PYTHON": str(RUNTIME / "bin" / "python")}
    return subprocess.Popen([str(spark_home / "bin" / "spark-class"), *args],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            env=env)


@pytest.fixture
def cluster(tmp_path):
    """A standalone master and one worker (1 core); yields the master URL."""
    master_log = tmp_path / "master.log"
    worker_log = tmp_path / "worker.log"
    with open(master_log, "wb") as log:
        master = spark_class(log, "org.apache.spark.deploy.master.Master", "--host",
                             "127.0.0.1", "--port", "0", "--webui-port", "0")
    processes = [master]
    try:
        url = wait_for(lambda: (m := re.search(r"Starting Spark master at (spark://\S+)",
                                                master_log.read_text())) and m.group(1),
                       "the Spark master", SPARK_DEADLINE)
        with open(worker_log, "wb") as log:
            processes.append(spark_class(
                log, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                "--webui-port", "0", "--cores", "1", "--memory", "1g",
                "--work-dir", str(tmp_path / "work"), url))
        wait_for(lambda: "Successfully registered with master" in worker_log.read_text(),
                 "the Spark worker to register", SPARK_DEADLINE)
        yield url
    finally:
        for process in processes:
            process.kill()
            process.wait()


SCRIPT = textwrap.dedent("""\
    import sys
    from awsglue.context import GlueContext
    from awsglue.dynamicframe import DynamicFrame
    from awsglue.transforms import Filter
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(sys.argv, ["JOB_NAME"])
    glueContext = GlueContext(SparkContext.getOrCreate())
    spark = glueContext.spark_session
    frame = glueContext.create_dynamic_frame.from_options(
        connection_type="s3", connection_options={"paths": ["s3://cluster/in/"]},
        format="csv", format_options={"withHeader": True})
    # The filter runs in the executors' Python workers (DynamicFrame records).
    kept = Filter.apply(frame=frame, f=lambda row: int(row["n"]) % 2 == 0)
    kept.toDF().write.mode("overwrite").json("s3://cluster/out/")
    print("master", spark.sparkContext.master)
""")


def test_a_glueetl_job_runs_on_a_standalone_cluster(tmp_path, cluster):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    weir = weirtest.WeirServer(data_dir, tmp_path / "weir.log",
                               extra_args=[*SERVER_ARGS, *RUNTIME_ARGS, "--spark-master", cluster,
                                           "--spark-conf", "spark.executor.memory=512m"])
    weir.start()
    try:
        glue = weir.client()
        s3 = s3_client(weir)
        s3.create_bucket(Bucket="cluster")
        s3.put_object(Bucket="cluster", Key="job.py", Body=SCRIPT.encode())
        s3.put_object(Bucket="cluster", Key="in/numbers.csv",
                      Body=("n\n" + "".join(f"{i}\n" for i in range(10))).encode())
        glue.create_job(Name="clustered", Role="r", GlueVersion="5.0",
                        Command={"Name": "glueetl", "ScriptLocation": "s3://cluster/job.py"})
        run_id = glue.start_job_run(JobName="clustered")["JobRunId"]
        ended = wait_job_run(glue, "clustered", run_id, deadline=SPARK_DEADLINE)
        stdout = (data_dir / "job-runs" / run_id / "stdout").read_text()
        assert ended["JobRunState"] == "SUCCEEDED", (ended.get("ErrorMessage"), stdout[-2000:])
        assert f"master {cluster}" in stdout
        rows = sorted(int(r["n"]) for r in read_json_lines(s3, "cluster", "out/"))
        assert rows == [0, 2, 4, 6, 8]
        assert list((tmp_path / "work").glob("app-*")), "the executors ran in the worker"
    finally:
        weir.stop()
