"""Workflow MaxConcurrentRuns under parallel load (spec §4.7)."""

import os
import threading

from runs_helpers import (  # noqa: F401  (fixtures)
    create_job,
    lines,
    scripts,
    start_at_once,
    start_trigger,
    wait_for,
    wait_run,
    weir_args,
)
from weirtest import expect_error

PARALLEL = 50


def slow_workflow(glue, scripts, name: str, limit) -> str:
    """A workflow whose only job blocks until the returned release file exists."""
    release = scripts.path(f"{name}-release")
    create_job(
        glue,
        f"{name}-job",
        scripts.write(
            f"{name}-job",
            f"""
            append({scripts.path(name + '-started.log')!r}, ARGS["--WORKFLOW_RUN_ID"])
            wait_for_file({release!r})
            """,
        ),
        ExecutionProperty={"MaxConcurrentRuns": 10},
    )
    if limit is None:
        glue.create_workflow(Name=name)  # unlimited
    else:
        glue.create_workflow(Name=name, MaxConcurrentRuns=limit)
    start_trigger(glue, f"{name}-start", name, [f"{name}-job"])
    return release


def test_parallel_starts_respect_max_concurrent_runs(weir, glue, scripts):
    release = slow_workflow(glue, scripts, "limited", limit=2)
    clients = [weir.client(max_pool_connections=1) for _ in range(PARALLEL)]
    results = start_at_once(clients, "limited")

    ok = [r[1] for r in results if r and r[0] == "ok"]
    rejected = [r for r in results if r and r[0] == "error"]
    assert len(ok) == 2, results
    assert len(rejected) == PARALLEL - 2, results
    assert set(rejected) == {("error", "ConcurrentRunsExceededException", 400)}, results

    runs = glue.get_workflow_runs(Name="limited")["Runs"]
    assert sorted(r["WorkflowRunId"] for r in runs) == sorted(ok)  # no run recorded for rejects
    assert all(r["Status"] == "RUNNING" for r in runs)

    # Still full: the API refuses, a trigger-initiated start records an ERROR run.
    expect_error("ConcurrentRunsExceededException", glue.start_workflow_run, Name="limited")
    assert glue.start_trigger(Name="limited-start")["Name"] == "limited-start"
    runs = glue.get_workflow_runs(Name="limited")["Runs"]
    errored = [r for r in runs if r["Status"] == "ERROR"]
    assert len(runs) == 3 and len(errored) == 1, runs
    assert errored[0]["ErrorMessage"] == "Concurrent runs exceeded for workflow: limited."
    assert errored[0]["WorkflowRunId"] not in ok
    for run_id in ok:
        assert glue.get_workflow_run(Name="limited", RunId=run_id)["Run"]["Status"] == "RUNNING"

    with open(release, "w"):
        pass
    for run_id in ok:
        run = wait_run(glue, "limited", run_id)
        assert run["Status"] == "COMPLETED"
        assert run["Statistics"]["SucceededActions"] == 1, run

    # Slots are free again.
    wait_run(glue, "limited", glue.start_workflow_run(Name="limited")["RunId"])


def test_unlimited_workflow_accepts_parallel_starts(weir, glue, scripts):
    release = slow_workflow(glue, scripts, "unlimited", limit=None)
    count = 8
    clients = [weir.client() for _ in range(count)]
    barrier = threading.Barrier(count)
    ids: list = []
    lock = threading.Lock()

    def start(client) -> None:
        barrier.wait(timeout=60)
        run_id = client.start_workflow_run(Name="unlimited")["RunId"]
        with lock:
            ids.append(run_id)

    threads = [threading.Thread(target=start, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(set(ids)) == count, ids
    started = scripts.path("unlimited-started.log")
    wait_for(lambda: set(lines(started)) == set(ids), "every run to start its job")
    with open(release, "w"):
        pass
    for run_id in ids:
        assert wait_run(glue, "unlimited", run_id)["Status"] == "COMPLETED"


def test_resume_counts_against_max_concurrent_runs(glue, scripts):
    """A resume is refused with ConcurrentRunsExceededException while the workflow is full."""
    marker = scripts.path("ok")
    create_job(
        glue,
        "picky",
        scripts.write(
            "picky",
            f"""
            if not os.path.exists({marker!r}):
                raise RuntimeError("no marker")
            """,
        ),
    )
    release = slow_workflow(glue, scripts, "full", limit=1)
    glue.create_trigger(
        Name="full-next",
        WorkflowName="full",
        Type="CONDITIONAL",
        StartOnCreation=True,
        Predicate={"Conditions": [{"LogicalOperator": "EQUALS", "JobName": "full-job", "State": "SUCCEEDED"}]},
        Actions=[{"JobName": "picky"}],
    )
    with open(release, "w"):
        pass
    first = wait_run(glue, "full", glue.start_workflow_run(Name="full")["RunId"])
    picky = [n for n in first["Graph"]["Nodes"] if n["Name"] == "picky"][0]
    assert picky["JobDetails"]["JobRuns"][0]["JobRunState"] == "FAILED"

    os.remove(release)
    blocking = glue.start_workflow_run(Name="full")["RunId"]
    expect_error(
        "ConcurrentRunsExceededException",
        glue.resume_workflow_run,
        Name="full",
        RunId=first["WorkflowRunId"],
        NodeIds=[picky["UniqueId"]],
    )
    with open(release, "w"):
        pass
    with open(marker, "w"):
        pass
    wait_run(glue, "full", blocking)
    out = glue.resume_workflow_run(Name="full", RunId=first["WorkflowRunId"], NodeIds=[picky["UniqueId"]])
    assert wait_run(glue, "full", out["RunId"])["Status"] == "COMPLETED"


def test_job_concurrency_limit_inside_workflows_fails_the_job_run(glue, scripts):
    """Two runs of a workflow whose job allows one concurrent run: the second run's job run
    ends FAILED (spec §4.7) and that run still COMPLETES."""
    release = scripts.path("single-release")
    create_job(
        glue,
        "single",
        scripts.write(
            "single",
            f"""
            append({scripts.path('single.log')!r}, ARGS["--WORKFLOW_RUN_ID"])
            wait_for_file({release!r})
            """,
        ),
    )  # ExecutionProperty.MaxConcurrentRuns defaults to 1
    glue.create_workflow(Name="one-job-slot")
    glue.create_trigger(
        Name="ojs-start", WorkflowName="one-job-slot", Type="ON_DEMAND", Actions=[{"JobName": "single"}]
    )
    first = glue.start_workflow_run(Name="one-job-slot")["RunId"]
    wait_for(lambda: lines(scripts.path("single.log")), "the first run's job to start")
    second = glue.start_workflow_run(Name="one-job-slot")["RunId"]
    run = wait_run(glue, "one-job-slot", second)
    assert run["Status"] == "COMPLETED"
    assert run["Statistics"]["FailedActions"] == 1, run
    (jr,) = [n for n in run["Graph"]["Nodes"] if n["Name"] == "single"][0]["JobDetails"]["JobRuns"]
    assert jr["JobRunState"] == "FAILED", jr
    assert "oncurrent" in jr["ErrorMessage"], jr
    with open(release, "w"):
        pass
    run = wait_run(glue, "one-job-slot", first)
    assert run["Status"] == "COMPLETED" and run["Statistics"]["SucceededActions"] == 1
    assert lines(scripts.path("single.log")) == [first]
