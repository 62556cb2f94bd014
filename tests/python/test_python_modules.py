"""Python libraries for jobs: --additional-python-modules (a wheel put in S3, installed
once per requirement set and reused), a bad module failing the run with pip's message,
and --extra-py-files, for pythonshell and glueetl jobs (boto3 against the real server;
pip runs with --no-index, so nothing is fetched from the network)."""

from __future__ import annotations

import base64
import hashlib
import io
import textwrap
import zipfile

import pytest

from runs_helpers import wait_job_run
from spark_helpers import SPARK_ARGS, SPARK_DEADLINE, s3_client

WHEEL = "weirdemo-1.0-py3-none-any.whl"
OFFLINE = "--no-index"


@pytest.fixture
def weir_args():
    return list(SPARK_ARGS)


def wheel() -> bytes:
    """A pure-Python wheel of the package `weirdemo`, built here."""
    files = {
        "weirdemo/__init__.py": "VALUE = 'from the wheel'\n",
        "weirdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: weirdemo\nVersion: 1.0\n",
        "weirdemo-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: weir-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append("weirdemo-1.0.dist-info/RECORD,,")
    files["weirdemo-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return out.getvalue()


def put_libraries(weir, script: str) -> None:
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="libs")
    s3.put_object(Bucket="libs", Key=WHEEL, Body=wheel())
    s3.put_object(Bucket="libs", Key="helpers.py", Body=b"GREETING = 'from helpers'\n")
    s3.put_object(Bucket="libs", Key="job.py", Body=script.encode())


def run(glue, job: str) -> dict:
    run_id = glue.start_job_run(JobName=job)["JobRunId"]
    return wait_job_run(glue, job, run_id, deadline=SPARK_DEADLINE)


def stdout(weir, job_run: dict) -> str:
    return (weir.data_dir / "job-runs" / job_run["Id"] / "stdout").read_text()


SHELL_SCRIPT = textwrap.dedent("""\
    import helpers
    import weirdemo
    print(weirdemo.VALUE, "/", helpers.GREETING)
""")


def test_a_wheel_from_s3_is_installed_once_and_reused(weir, glue):
    put_libraries(weir, SHELL_SCRIPT)
    glue.create_job(
        Name="shell", Role="r",
        Command={"Name": "pythonshell", "ScriptLocation": "s3://libs/job.py",
                 "PythonVersion": "3.9"},
        DefaultArguments={"--additional-python-modules": f"s3://libs/{WHEEL}",
                          "--python-modules-installer-option": OFFLINE,
                          "--extra-py-files": "s3://libs/helpers.py"})
    first = run(glue, "shell")
    assert first["JobRunState"] == "SUCCEEDED", first.get("ErrorMessage")
    assert "from the wheel / from helpers" in stdout(weir, first)
    [installed] = list((weir.data_dir / "python-modules").glob("*/.weir-ready"))
    made = installed.stat().st_mtime_ns

    second = run(glue, "shell")
    assert second["JobRunState"] == "SUCCEEDED", second.get("ErrorMessage")
    assert "from the wheel / from helpers" in stdout(weir, second)
    assert list((weir.data_dir / "python-modules").glob("*/.weir-ready")) == [installed]
    assert installed.stat().st_mtime_ns == made, "the second run reused the installation"


def test_a_module_pip_cannot_find_fails_the_run_with_pips_message(weir, glue):
    put_libraries(weir, SHELL_SCRIPT)
    glue.create_job(
        Name="bad", Role="r",
        Command={"Name": "pythonshell", "ScriptLocation": "s3://libs/job.py",
                 "PythonVersion": "3.9"},
        DefaultArguments={"--additional-python-modules": "weir-no-such-module==9.9",
                          "--python-modules-installer-option": OFFLINE})
    ended = run(glue, "bad")
    assert ended["JobRunState"] == "FAILED"
    message = ended["ErrorMessage"]
    assert "Installing --additional-python-modules failed" in message, message
    assert "No matching distribution found for weir-no-such-module==9.9" in message, message
    assert not list((weir.data_dir / "python-modules").glob("*/.weir-ready"))


SPARK_SCRIPT = textwrap.dedent("""\
    from pyspark.sql import SparkSession
    import weirdemo
    spark = SparkSession.builder.getOrCreate()

    def value(_):
        import weirdemo
        return weirdemo.VALUE

    # The Python workers import the module too.
    [seen] = spark.sparkContext.parallelize([1], 1).map(value).collect()
    print("driver:", weirdemo.VALUE, "worker:", seen)
""")


def test_a_glueetl_job_imports_the_module_in_the_driver_and_the_workers(weir, glue):
    put_libraries(weir, SPARK_SCRIPT)
    glue.create_job(
        Name="spark", Role="r", GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://libs/job.py"},
        DefaultArguments={"--additional-python-modules": f"s3://libs/{WHEEL}",
                          "--python-modules-installer-option": OFFLINE})
    ended = run(glue, "spark")
    assert ended["JobRunState"] == "SUCCEEDED", ended.get("ErrorMessage")
    assert "driver: from the wheel worker: from the wheel" in stdout(weir, ended)
