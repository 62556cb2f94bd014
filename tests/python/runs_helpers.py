"""Shared helpers for the tests that really run workflows and jobs (test_runs.py,
test_stop_resume.py, test_concurrency.py, test_crash_recovery.py, test_retention.py).

* ``weir_args``     fixture (import it into a test module): the server runs pythonshell
                    jobs with this interpreter (which has boto3) and a job-timeout minute
                    lasts one real second.
* ``Scripts``       writes job scripts into a temp dir; every script gets a small prelude
                    (``ARGS`` = the ``--KEY value`` pairs of sys.argv, ``append``,
                    ``write_pid``, ``wait_for_file``, ``glue()``).
* ``create_job`` / ``start_trigger`` / ``conditional_trigger``  thin CreateJob/CreateTrigger
                    wrappers.
* ``wait_run`` / ``wait_job_run`` / ``wait_for``  bounded polling (no timing assertions).
* ``job_node`` / ``node_runs`` / ``node_id``  reading a run graph.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import textwrap
import threading
import time

import botocore.exceptions
import pytest

# Bounds for polling; generous because a loaded CI machine may be slow to start Python.
RUN_DEADLINE = 90.0
POLL = 0.05

# Server options for every test module that runs jobs: scripts that import boto3 need
# an interpreter that has it (the test venv's).
SERVER_ARGS = ["--python", sys.executable]
# Options for tests of time-dependent behaviour (timeouts, schedules, retention): the
# server's clock moves only when the test advances it (`WeirServer.advance_clock`).
MANUAL_CLOCK_ARGS = [*SERVER_ARGS, "--manual-clock", "now"]
MINUTE_MS = 60_000

TERMINAL_RUN = ("COMPLETED", "STOPPED", "ERROR")
TERMINAL_JOB = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED")


@pytest.fixture
def weir_args():
    return list(SERVER_ARGS)


PRELUDE = '''\
import json, os, sys, time
ARGS = dict(zip(sys.argv[1::2], sys.argv[2::2]))

def append(path, line):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)

def write_pid(path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.rename(tmp, path)

def wait_for_file(path, limit=120):
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError("gave up waiting for " + path)
        time.sleep(0.05)

def glue():
    import boto3
    return boto3.client("glue")
'''


class Scripts:
    """Job scripts in a directory; ``path(name)`` for side files the scripts write."""

    def __init__(self, directory: pathlib.Path):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, body: str) -> str:
        path = self.dir / f"{name}.py"
        path.write_text(PRELUDE + "\n" + textwrap.dedent(body))
        return str(path)

    def path(self, name: str) -> str:
        return str(self.dir / name)


@pytest.fixture
def scripts(tmp_path):
    return Scripts(tmp_path / "scripts")


# -- resources ----------------------------------------------------------------------------
def create_job(glue, name: str, script: str, command: str = "pythonshell", **kwargs) -> None:
    glue.create_job(
        Name=name,
        Role="local",
        Command={"Name": command, "ScriptLocation": script, "PythonVersion": "3.9"},
        **kwargs,
    )


def action(job: str, arguments: dict | None = None) -> dict:
    out = {"JobName": job}
    if arguments:
        out["Arguments"] = arguments
    return out


def start_trigger(glue, name: str, workflow: str, jobs, arguments: dict | None = None) -> None:
    """The workflow's ON_DEMAND start trigger starting `jobs`."""
    glue.create_trigger(
        Name=name,
        WorkflowName=workflow,
        Type="ON_DEMAND",
        Actions=[action(j, arguments) for j in jobs],
    )


def conditional_trigger(
    glue, name: str, workflow: str, watch, jobs, logical: str = "AND", arguments=None
) -> None:
    """A CONDITIONAL trigger: `watch` is [(job, state)], `jobs` the actions."""
    glue.create_trigger(
        Name=name,
        WorkflowName=workflow,
        Type="CONDITIONAL",
        StartOnCreation=True,
        Predicate={
            "Logical": logical,
            "Conditions": [
                {"LogicalOperator": "EQUALS", "JobName": j, "State": s} for j, s in watch
            ],
        },
        Actions=[action(j, arguments) for j in jobs],
    )


# -- polling ------------------------------------------------------------------------------
def wait_for(predicate, what: str, deadline: float = RUN_DEADLINE):
    """Polls `predicate` until it returns a truthy value (returned), failing after
    `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {deadline}s waiting for {what}")
        time.sleep(POLL)


def wait_run(glue, workflow: str, run_id: str, statuses=TERMINAL_RUN, deadline=RUN_DEADLINE):
    """Polls GetWorkflowRun (with graph) until the run's Status is in `statuses`."""
    last = {}

    def done():
        run = glue.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
        last["run"] = run
        return run if run["Status"] in statuses else None

    end = time.monotonic() + deadline
    while True:
        run = done()
        if run:
            return run
        if time.monotonic() > end:
            pytest.fail(
                f"run {run_id} of {workflow} not in {statuses} after {deadline}s: "
                f"{json.dumps(last.get('run'), default=str)[:3000]}"
            )
        time.sleep(POLL)


def wait_job_run(glue, job: str, run_id: str, states=TERMINAL_JOB, deadline=RUN_DEADLINE):
    last = {}
    end = time.monotonic() + deadline
    while True:
        job_run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        last["run"] = job_run
        if job_run["JobRunState"] in states:
            return job_run
        if time.monotonic() > end:
            pytest.fail(
                f"job run {run_id} of {job} not in {states} after {deadline}s: "
                f"{json.dumps(job_run, default=str)[:3000]}"
            )
        time.sleep(POLL)


def wait_file(path: str, deadline=RUN_DEADLINE) -> str:
    def read():
        try:
            text = pathlib.Path(path).read_text()
        except FileNotFoundError:
            return None
        return text or None

    return wait_for(read, f"file {path}", deadline)


def lines(path: str) -> list[str]:
    try:
        return pathlib.Path(path).read_text().splitlines()
    except FileNotFoundError:
        return []


# -- processes ----------------------------------------------------------------------------
def process_gone(pid: int) -> bool:
    """True when `pid` no longer runs. A zombie (killed, not yet reaped by whichever
    init adopted it) counts as gone: it executes nothing and holds no resources."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state in ("Z", "X")


def wait_process_gone(pid: int, deadline: float = 20.0) -> None:
    wait_for(lambda: process_gone(pid), f"process {pid} to be gone", deadline)


def job_processes(directory: pathlib.Path) -> list[int]:
    """Processes whose command line names a script of `directory`."""
    found = []
    needle = str(directory).encode()
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


# -- graphs -------------------------------------------------------------------------------
def nodes_by_name(run: dict, node_type: str = "JOB") -> dict:
    return {n["Name"]: n for n in run["Graph"]["Nodes"] if n["Type"] == node_type}


def job_node(run: dict, job: str) -> dict:
    nodes = nodes_by_name(run, "JOB")
    assert job in nodes, f"no JOB node {job} in {sorted(nodes)}"
    return nodes[job]


def node_runs(run: dict, job: str) -> list[dict]:
    """JobDetails.JobRuns of the job's node ([] when the node never ran)."""
    details = job_node(run, job).get("JobDetails") or {}
    return details.get("JobRuns") or []


def node_id(run: dict, name: str, node_type: str = "JOB") -> str:
    return nodes_by_name(run, node_type)[name]["UniqueId"]


def edges(graph: dict) -> set:
    return {(e["SourceId"], e["DestinationId"]) for e in graph.get("Edges") or []}


def stats(run: dict) -> dict:
    return run["Statistics"]


def expect_stats(run: dict, **expected) -> None:
    """Asserts the run's Statistics: the given counters, every other one 0."""
    names = [
        "TotalActions",
        "TimeoutActions",
        "FailedActions",
        "StoppedActions",
        "SucceededActions",
        "RunningActions",
        "ErroredActions",
        "WaitingActions",
    ]
    want = {n: expected.get(n, 0) for n in names}
    got = {n: run["Statistics"].get(n) for n in names}
    assert got == want, f"Statistics {run['Statistics']}"


def start_at_once(clients, workflow: str) -> list:
    """StartWorkflowRun of `workflow` through each of `clients` at once (one thread each,
    released together); per call ("ok", run id), ("error", code, HTTP status) or
    ("exception", text). Fails if a call hangs."""
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def start(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            results[i] = ("ok", clients[i].start_workflow_run(Name=workflow)["RunId"])
        except botocore.exceptions.ClientError as e:
            results[i] = ("error", e.response["Error"]["Code"],
                          e.response["ResponseMetadata"]["HTTPStatusCode"])
        except Exception as e:  # noqa: BLE001 - reported by the caller's assertions
            results[i] = ("exception", repr(e))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a StartWorkflowRun call hung"
    return results
