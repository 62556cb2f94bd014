"""Crash safety tested by crashing (ARCHITECTURE.md "Invariants and guarantees").

Runs of four workflows (a 6-way fan-out with an AND join, a 5-job chain, an ANY join and a
failure branch) are started continuously by two clients, which also stop runs (some at
once after their start, racing the launch of their first jobs) and resume them at random, while the server is SIGKILLed every 2-7 s and restarted. Every job script
appends its JOB_RUN_ID to an fsynced ledger as its first action. When the loop ends and
the server has settled, the invariants are checked from the outside:

* no acknowledged run is lost, and nothing is RUNNING, STOPPING or STARTING any more;
* no attempt is in the ledger twice (each attempt started at most once), and every
  ledger entry is a job run the API knows;
* no job process is left;
* COMPLETED runs are coherent: statistics add up to the job runs of the graph, an AND
  join ran exactly when all its inputs succeeded, a chain link ran exactly when its
  predecessor succeeded;
* no request was answered with a 5xx.

The loop lasts CRASH_LOOP_SECONDS (60 by default); `scripts/crash-loop.sh` runs it longer
and prints the report line this test prints.
"""

from __future__ import annotations

import collections
import os
import random
import threading
import time

import botocore.exceptions
import pytest

from runs_helpers import (  # noqa: F401  (fixtures)
    SERVER_ARGS,
    conditional_trigger,
    create_job,
    job_processes,
    lines,
    node_runs,
    scripts,
    start_trigger,
    wait_for,
    weir_args,
)

LOOP_SECONDS = float(os.environ.get("CRASH_LOOP_SECONDS", "60"))
SETTLE_DEADLINE = 300.0
FAN = [f"fan-{i}" for i in range(1, 7)]
CHAIN = [f"chain-{i}" for i in range(1, 6)]
WORKFLOWS = ["fan", "chain", "any", "fail"]
LIVE_RUN = ("RUNNING", "STOPPING")
LIVE_JOB = ("STARTING", "RUNNING", "STOPPING", "WAITING")


def build(glue, scripts, ledger: str) -> list[str]:
    """Creates the four workflows; returns every job name."""

    def job(name: str, fails: bool = False, **kwargs) -> str:
        body = f"""
        append({ledger!r}, ARGS["--JOB_RUN_ID"])
        import random
        time.sleep(random.uniform(0.0, 0.4))
        sys.exit({1 if fails else 0})
        """
        create_job(
            glue,
            name,
            scripts.write(name, body),
            ExecutionProperty={"MaxConcurrentRuns": 1000},
            **kwargs,
        )
        return name

    jobs = [job(n) for n in FAN + ["fan-join"]]
    glue.create_workflow(Name="fan")
    start_trigger(glue, "fan-start", "fan", FAN)
    conditional_trigger(glue, "fan-and", "fan", [(j, "SUCCEEDED") for j in FAN], ["fan-join"])

    jobs += [job(n) for n in CHAIN]
    glue.create_workflow(Name="chain")
    start_trigger(glue, "chain-start", "chain", CHAIN[:1])
    for before, after in zip(CHAIN, CHAIN[1:]):
        conditional_trigger(glue, f"{after}-after", "chain", [(before, "SUCCEEDED")], [after])

    jobs += [job(n) for n in ("any-1", "any-2", "any-join")]
    glue.create_workflow(Name="any")
    start_trigger(glue, "any-start", "any", ["any-1", "any-2"])
    conditional_trigger(
        glue, "any-or", "any", [("any-1", "SUCCEEDED"), ("any-2", "SUCCEEDED")], ["any-join"],
        logical="ANY",
    )

    jobs += [job("boom", fails=True, MaxRetries=1), job("cleanup")]
    glue.create_workflow(Name="fail")
    start_trigger(glue, "fail-start", "fail", ["boom"])
    conditional_trigger(glue, "fail-then", "fail", [("boom", "FAILED")], ["cleanup"])
    return jobs


class Clients:
    """Two client threads that start, stop and resume runs until told to stop. Records
    every acknowledged run and every 5xx answer."""

    def __init__(self, weir):
        self.weir = weir
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged: dict[str, str] = {}  # run id -> workflow
        self.server_errors: list[str] = []
        self.operations = collections.Counter()
        self.threads = [threading.Thread(target=self.loop, args=(i,), daemon=True) for i in range(2)]
        self.local = threading.local()

    def client(self):
        endpoint = self.weir.endpoint
        if getattr(self.local, "endpoint", None) != endpoint:
            self.local.glue = self.weir.client(connect_timeout=5, read_timeout=30)
            self.local.endpoint = endpoint
        return self.local.glue

    def loop(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            try:
                self.step(rng)
            except botocore.exceptions.ClientError as error:
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if status >= 500:
                    with self.lock:
                        self.server_errors.append(str(error))
            except (botocore.exceptions.BotoCoreError, OSError):
                pass  # the server is down (killed) or restarting: try again
            self.stop.wait(rng.uniform(0.2, 0.6))  # pacing, not synchronisation

    def step(self, rng: random.Random) -> None:
        glue = self.client()
        roll = rng.random()
        with self.lock:
            known = list(self.acknowledged.items())
        if roll < 0.7 or not known:
            workflow = rng.choice(WORKFLOWS)
            run_id = glue.start_workflow_run(Name=workflow)["RunId"]
            self.record(run_id, workflow, "start")
            if rng.random() < 0.2:  # a stop that races the launch of the first jobs
                glue.stop_workflow_run(Name=workflow, RunId=run_id)
                self.operations["stop at once"] += 1
        elif roll < 0.85:
            run_id, workflow = rng.choice(known[-20:])
            try:
                glue.stop_workflow_run(Name=workflow, RunId=run_id)
                self.operations["stop"] += 1
            except glue.exceptions.IllegalWorkflowStateException:
                pass
        else:
            failed = [(r, w) for r, w in known if w == "fail"]
            if not failed:
                return
            run_id, workflow = rng.choice(failed[-20:])
            run = glue.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
            boom = [n for n in run["Graph"]["Nodes"] if n["Name"] == "boom"]
            if run["Status"] != "COMPLETED" or not boom:
                return
            try:
                resumed = glue.resume_workflow_run(
                    Name=workflow, RunId=run_id, NodeIds=[boom[0]["UniqueId"]]
                )["RunId"]
            except (glue.exceptions.IllegalWorkflowStateException,
                    glue.exceptions.InvalidInputException,
                    glue.exceptions.ConcurrentRunsExceededException):
                return
            self.record(resumed, workflow, "resume")

    def record(self, run_id: str, workflow: str, operation: str) -> None:
        with self.lock:
            self.acknowledged[run_id] = workflow
            self.operations[operation] += 1


def all_job_runs(glue, job: str) -> list[dict]:
    runs, token = [], None
    while True:
        page = glue.get_job_runs(JobName=job, **({"NextToken": token} if token else {}))
        runs += page["JobRuns"]
        token = page.get("NextToken")
        if not token:
            return runs


def final_attempt_succeeded(run: dict, job: str) -> bool:
    attempts = node_runs(run, job)
    return bool(attempts) and max(attempts, key=lambda a: a.get("Attempt", 0))[
        "JobRunState"
    ] == "SUCCEEDED"


def check_coherent(run: dict) -> None:
    """Statistics count the JOB nodes (TotalActions) and bucket each started node once,
    by the state of its latest attempt (glue-api.md §4.4)."""
    stats = run["Statistics"]
    nodes = [n for n in run["Graph"]["Nodes"] if n["Type"] == "JOB"]
    assert stats["TotalActions"] == len(nodes), (stats, len(nodes))
    latest = collections.Counter()
    for node in nodes:
        attempts = (node.get("JobDetails") or {}).get("JobRuns") or []
        if attempts:
            latest[max(attempts, key=lambda a: a.get("Attempt", 0))["JobRunState"]] += 1
    buckets = {"SUCCEEDED": "SucceededActions", "FAILED": "FailedActions",
               "STOPPED": "StoppedActions", "TIMEOUT": "TimeoutActions",
               "ERROR": "ErroredActions"}
    assert set(latest) <= set(buckets), (run["WorkflowRunId"], latest)
    for state, bucket in buckets.items():
        assert stats.get(bucket, 0) == latest[state], (run["WorkflowRunId"], stats, latest)
    assert stats.get("RunningActions", 0) == 0 and stats.get("WaitingActions", 0) == 0, stats
    if run["Name"] == "fan":
        ran = bool(node_runs(run, "fan-join"))
        assert ran == all(final_attempt_succeeded(run, j) for j in FAN), run["WorkflowRunId"]
    if run["Name"] == "chain":
        for before, after in zip(CHAIN, CHAIN[1:]):
            assert bool(node_runs(run, after)) == final_attempt_succeeded(run, before), (
                run["WorkflowRunId"], after)
    for job in ("fan-join", "any-join", "cleanup", *CHAIN[1:]):
        if any(n["Name"] == job for n in run["Graph"]["Nodes"]):
            assert len(node_runs(run, job)) <= 1, (run["WorkflowRunId"], job)


def test_crash_loop_keeps_every_promise(weir, glue, scripts):
    ledger = scripts.path("ledger")
    jobs = build(glue, scripts, ledger)
    clients = Clients(weir)
    for thread in clients.threads:
        thread.start()
    rng = random.Random(18)
    kills = 0
    end = time.monotonic() + LOOP_SECONDS
    try:
        while time.monotonic() < end:
            time.sleep(rng.uniform(2.0, 7.0))  # load generation: a crash at a random moment
            weir.kill9()
            kills += 1
            weir.restart()
    finally:
        clients.stop.set()
        for thread in clients.threads:
            thread.join(60)

    glue = weir.client()
    acknowledged = dict(clients.acknowledged)
    assert acknowledged, "the clients started no run"

    def settled() -> bool:
        for run_id, workflow in acknowledged.items():
            if glue.get_workflow_run(Name=workflow, RunId=run_id)["Run"]["Status"] in LIVE_RUN:
                return False
        # Also the runs a kill kept from being acknowledged (committed, the answer
        # lost): their jobs are checked below like everyone's.
        for workflow in WORKFLOWS:
            pages = glue.get_paginator("get_workflow_runs").paginate(Name=workflow)
            if any(r["Status"] in LIVE_RUN for page in pages for r in page["Runs"]):
                return False
        return True

    wait_for(settled, "every acknowledged run to finish", deadline=SETTLE_DEADLINE)

    known_job_runs = {}
    for job in jobs:
        for job_run in all_job_runs(glue, job):
            known_job_runs[job_run["Id"]] = job_run
    live = [jr["Id"] for jr in known_job_runs.values() if jr["JobRunState"] in LIVE_JOB]
    assert live == [], f"job runs still live after the server settled: {live}"

    entries = lines(ledger)
    twice = [i for i, n in collections.Counter(entries).items() if n > 1]
    assert twice == [], f"attempts started more than once: {twice}"
    unknown = sorted(set(entries) - set(known_job_runs))
    assert unknown == [], f"ledger entries the API does not know: {unknown}"

    completed = 0
    for run_id, workflow in acknowledged.items():
        run = glue.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
        assert run["Status"] in ("COMPLETED", "STOPPED", "ERROR"), run["Status"]
        if run["Status"] == "COMPLETED":
            completed += 1
            check_coherent(run)

    wait_for(lambda: not job_processes(scripts.dir), "every job process to be gone", deadline=60)
    assert clients.server_errors == [], clients.server_errors
    print(
        f"\ncrash loop: {LOOP_SECONDS:.0f} s, {kills} kills survived, "
        f"{len(acknowledged)} acknowledged runs ({completed} COMPLETED), "
        f"{dict(clients.operations)}, {len(entries)} attempts in the ledger checked, "
        f"{len(known_job_runs)} job runs known to the API"
    )
