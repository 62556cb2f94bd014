"""Job run queuing (JobRunQueuingEnabled, on the job or the StartJobRun call): a run over
the job's MaxConcurrentRuns waits in WAITING instead of failing, counts as a workflow
run's WaitingActions, starts in order when a slot frees, can be stopped while it waits,
and fails once its timeout passes while waiting (on the manual clock). Without queuing
the ConcurrentRunsExceededException stays. boto3 against the real server, real jobs."""

import os

import pytest

import weirtest
from runs_helpers import (  # noqa: F401  (fixtures)
    MANUAL_CLOCK_ARGS,
    MINUTE_MS,
    SERVER_ARGS,
    create_job,
    scripts,
    start_trigger,
    wait_for,
    wait_job_run,
    wait_run,
)


@pytest.fixture
def weir_args():
    return list(SERVER_ARGS)


def gated(scripts, name: str) -> str:
    """A job that records it started (a line in `<name>.started`) and ends when the gate
    of its run exists (see `release`)."""
    started = scripts.path(f"{name}.started")
    gates = scripts.path("gates")
    return scripts.write(name, f"""
        append({started!r}, ARGS["--JOB_RUN_ID"])
        wait_for_file(os.path.join({gates!r}, ARGS["--JOB_RUN_ID"]))
    """)


def release(scripts, job_run_id: str) -> None:
    """Lets the run `job_run_id` of a gated job end."""
    os.makedirs(scripts.path("gates"), exist_ok=True)
    open(os.path.join(scripts.path("gates"), job_run_id), "w").close()


def state(glue, job: str, run_id: str) -> str:
    return glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["JobRunState"]


def job_run_of(glue, workflow: str, run_id: str, job: str) -> dict:
    run = glue.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
    [node] = [n for n in run["Graph"]["Nodes"] if n["Type"] == "JOB" and n["Name"] == job]
    return node["JobDetails"]["JobRuns"][-1]


def test_a_queued_workflow_run_waits_then_runs_when_the_slot_frees(weir, glue, scripts):
    create_job(glue, "etl", gated(scripts, "etl"), JobRunQueuingEnabled=True,
               ExecutionProperty={"MaxConcurrentRuns": 1})
    glue.create_workflow(Name="wf")
    start_trigger(glue, "go", "wf", ["etl"])
    first = glue.start_workflow_run(Name="wf", RunProperties={})["RunId"]
    running = wait_for(
        lambda: (jr := job_run_of(glue, "wf", first, "etl"))["JobRunState"] == "RUNNING" and jr,
        "the first run's job to run")
    second = glue.start_workflow_run(Name="wf")["RunId"]
    waiting = wait_for(
        lambda: (jr := job_run_of(glue, "wf", second, "etl"))["JobRunState"] == "WAITING" and jr,
        "the second run's job to wait")
    stats = glue.get_workflow_run(Name="wf", RunId=second)["Run"]["Statistics"]
    assert stats["WaitingActions"] == 1 and stats["RunningActions"] == 0, stats
    assert state(glue, "etl", waiting["Id"]) == "WAITING"

    release(scripts, running["Id"])
    wait_for(lambda: state(glue, "etl", waiting["Id"]) == "RUNNING", "the waiting run to start")
    assert wait_run(glue, "wf", first)["Status"] == "COMPLETED"
    stats = glue.get_workflow_run(Name="wf", RunId=second)["Run"]["Statistics"]
    assert stats["WaitingActions"] == 0 and stats["RunningActions"] == 1, stats
    release(scripts, waiting["Id"])
    assert wait_run(glue, "wf", second)["Status"] == "COMPLETED"
    assert wait_job_run(glue, "etl", waiting["Id"])["JobRunState"] == "SUCCEEDED"


def test_start_job_run_queues_when_asked_and_fails_fast_when_not(weir, glue, scripts):
    create_job(glue, "one", gated(scripts, "one"), ExecutionProperty={"MaxConcurrentRuns": 1})
    first = glue.start_job_run(JobName="one")["JobRunId"]
    wait_for(lambda: state(glue, "one", first) == "RUNNING", "the first run to run")
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName="one")
    queued = [glue.start_job_run(JobName="one", JobRunQueuingEnabled=True)["JobRunId"]
              for _ in range(2)]
    for run_id in queued:
        assert wait_for(lambda: state(glue, "one", run_id) == "WAITING", "a queued run")
    for run_id in [first, *queued]:
        release(scripts, run_id)
    for run_id in [first, *queued]:
        assert wait_job_run(glue, "one", run_id)["JobRunState"] == "SUCCEEDED"
    started = open(scripts.path("one.started")).read().split()
    assert started == [first, *queued], "queued runs start in the order they were queued"


def test_a_waiting_run_can_be_stopped(weir, glue, scripts):
    create_job(glue, "busy", gated(scripts, "busy"), JobRunQueuingEnabled=True)
    glue.create_workflow(Name="w")
    start_trigger(glue, "go", "w", ["busy"])
    first = glue.start_job_run(JobName="busy")["JobRunId"]
    wait_for(lambda: state(glue, "busy", first) == "RUNNING", "the first run to run")
    run_id = glue.start_workflow_run(Name="w")["RunId"]
    wait_for(lambda: job_run_of(glue, "w", run_id, "busy")["JobRunState"] == "WAITING",
             "the workflow's job to wait")
    glue.stop_workflow_run(Name="w", RunId=run_id)
    assert wait_run(glue, "w", run_id)["Status"] == "STOPPED"
    assert job_run_of(glue, "w", run_id, "busy")["JobRunState"] == "STOPPED"
    release(scripts, first)
    assert wait_job_run(glue, "busy", first)["JobRunState"] == "SUCCEEDED"


@pytest.fixture
def clock_weir(tmp_path):
    data_dir = tmp_path / "clock-data"
    data_dir.mkdir()
    server = weirtest.WeirServer(data_dir, tmp_path / "clock.log",
                                 extra_args=MANUAL_CLOCK_ARGS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_run_still_waiting_when_its_timeout_passes_fails(clock_weir, scripts):
    glue = clock_weir.client()
    create_job(glue, "slow", gated(scripts, "slow"), JobRunQueuingEnabled=True, Timeout=5)
    first = glue.start_job_run(JobName="slow", Timeout=60)["JobRunId"]
    wait_for(lambda: state(glue, "slow", first) == "RUNNING", "the first run to run")
    queued = glue.start_job_run(JobName="slow")["JobRunId"]
    wait_for(lambda: state(glue, "slow", queued) == "WAITING", "the second run to wait")
    clock_weir.advance_clock(5 * MINUTE_MS - 1)
    assert state(glue, "slow", queued) == "WAITING", "nothing fails before its limit"
    clock_weir.advance_clock(1)
    ended = wait_job_run(glue, "slow", queued)
    assert ended["JobRunState"] == "FAILED"
    assert "until its timeout of 5 minutes passed" in ended["ErrorMessage"], ended
    release(scripts, first)
    assert wait_job_run(glue, "slow", first)["JobRunState"] == "SUCCEEDED"


@pytest.fixture
def small_account_weir(tmp_path):
    data_dir = tmp_path / "small-data"
    data_dir.mkdir()
    server = weirtest.WeirServer(data_dir, tmp_path / "small.log",
                                 extra_args=[*SERVER_ARGS, "--max-concurrent-job-runs", "1"])
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_account_limit_queues_or_refuses_runs_of_other_jobs(small_account_weir, scripts):
    glue = small_account_weir.client()
    create_job(glue, "first", gated(scripts, "first"))
    create_job(glue, "queued", gated(scripts, "queued"), JobRunQueuingEnabled=True)
    create_job(glue, "refused", gated(scripts, "refused"))
    first = glue.start_job_run(JobName="first")["JobRunId"]
    wait_for(lambda: state(glue, "first", first) == "RUNNING", "the first run to run")
    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException) as refused:
        glue.start_job_run(JobName="refused")
    assert "account" in str(refused.value)
    queued = glue.start_job_run(JobName="queued")["JobRunId"]
    wait_for(lambda: state(glue, "queued", queued) == "WAITING", "the account-limited run to wait")
    release(scripts, first)
    wait_for(lambda: state(glue, "queued", queued) == "RUNNING",
             "the waiting run of another job to take the freed slot")
    release(scripts, queued)
    assert wait_job_run(glue, "queued", queued)["JobRunState"] == "SUCCEEDED"
