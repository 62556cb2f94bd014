"""Shared set-up of the tests that run glueetl jobs on Apache Spark.

* ``RUNTIME_DIR``   the Spark runtimes the servers use: ``$WEIR_RUNTIME_DIR``, else
                    ``target/weir-runtimes`` (``scripts/test.sh`` prepares both there with
                    ``weir runtime install`` before the tests start).
* ``SPARK_ARGS``    server options of these tests: boto3's interpreter for pythonshell
                    jobs and (``RUNTIME_ARGS``) the shared runtime directory.
* ``SPARK_DEADLINE`` how long a Spark job run may take to end: generous, since a loaded
                    machine starts a JVM slowly.
* ``s3_client``     boto3's S3 client for a server; ``read_json_lines`` reads a Spark JSON
                    output directory back through the S3 API.
"""

from __future__ import annotations

import json
import os
import pathlib

import boto3

from runs_helpers import SERVER_ARGS
from weirtest import ACCESS_KEY, REGION, ROOT, SECRET_KEY, client_config

RUNTIME_DIR = pathlib.Path(os.environ.get("WEIR_RUNTIME_DIR", ROOT / "target" / "weir-runtimes"))
RUNTIME_ARGS = ["--runtime-dir", str(RUNTIME_DIR)]
SPARK_ARGS = [*SERVER_ARGS, *RUNTIME_ARGS]
SPARK_DEADLINE = 300.0


def s3_client(weir):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=weir.endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=client_config(s3={"addressing_style": "path"}),
    )


def read_json_lines(s3, bucket: str, prefix: str) -> list[dict]:
    """Every record of the JSON part files under `prefix`, read with GetObject."""
    records = []
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    for item in listing.get("Contents", []):
        name = item["Key"].rsplit("/", 1)[-1]
        if not name.startswith("part-"):
            continue
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        records.extend(json.loads(line) for line in body.splitlines() if line.strip())
    return records


def job_processes_of(job_run_id: str) -> list[int]:
    """Live processes started for `job_run_id` (they carry WEIR_JOB_RUN_ID in their
    environment, inherited by the JVM and every Python worker)."""
    needle = f"WEIR_JOB_RUN_ID={job_run_id}".encode()
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found
