"""Process supervision (ARCHITECTURE.md "Invariants and guarantees"): a stop can never be
lost between the launch of an attempt and its process, and recovery never adopts or
signals a process it did not start."""

import os
import signal
import subprocess

import pytest

from runs_helpers import (  # noqa: F401  (fixtures)
    create_job,
    job_processes,
    lines,
    node_runs,
    process_gone,
    scripts,
    start_trigger,
    wait_file,
    wait_for,
    wait_job_run,
    wait_process_gone,
    wait_run,
    weir_args,
)

ROUNDS = 15


def test_a_stop_right_after_the_start_always_ends_the_job_run(glue, scripts):
    """StartJobRun then BatchStopJobRun at once, many times: every run ends STOPPED (it
    used to stay STOPPING forever, its script running, its job slot never freed), a
    script that was stopped before it started never runs, and the job stays usable."""
    ledger = scripts.path("ledger")
    create_job(
        glue,
        "quick-stop",
        scripts.write("quick-stop", f'append({ledger!r}, ARGS["--JOB_RUN_ID"])\ntime.sleep(600)'),
    )
    for _ in range(ROUNDS):
        run_id = glue.start_job_run(JobName="quick-stop")["JobRunId"]
        answer = glue.batch_stop_job_run(JobName="quick-stop", JobRunIds=[run_id])
        assert answer["Errors"] == [], answer
        run = wait_job_run(glue, "quick-stop", run_id)
        assert run["JobRunState"] == "STOPPED", run.get("ErrorMessage")
    wait_for(lambda: not job_processes(scripts.dir), "every stopped script to be gone", 60)
    final = glue.start_job_run(JobName="quick-stop")["JobRunId"]
    wait_for(lambda: final in lines(ledger), "the job to run again")
    glue.batch_stop_job_run(JobName="quick-stop", JobRunIds=[final])
    assert wait_job_run(glue, "quick-stop", final)["JobRunState"] == "STOPPED"


def test_a_stop_right_after_a_workflow_start_always_finishes_the_run(glue, scripts):
    create_job(glue, "wf-stop", scripts.write("wf-stop", "time.sleep(600)"))
    glue.create_workflow(Name="quick")
    start_trigger(glue, "quick-start", "quick", ["wf-stop"])
    for _ in range(ROUNDS):
        run_id = glue.start_workflow_run(Name="quick")["RunId"]
        glue.stop_workflow_run(Name="quick", RunId=run_id)
        run = wait_run(glue, "quick", run_id)
        assert run["Status"] == "STOPPED", run
        for attempt in node_runs(run, "wf-stop"):
            assert attempt["JobRunState"] == "STOPPED", attempt


@pytest.mark.parametrize("pid_format", ["bare pid of an older release", "identity"])
def test_recovery_never_adopts_a_process_it_did_not_start(weir, glue, scripts, pid_format):
    """After a crash the job's process is gone and its pid now names another process (as
    after a reboot): the attempt ends FAILED, and the stranger is neither re-attached nor
    killed, whether the pid file has today's format or an older release's bare pid."""
    release = scripts.path("release")
    pid_file = scripts.path("victim.pid")
    create_job(
        glue,
        "victim",
        scripts.write("victim", f"write_pid({pid_file!r})\nwait_for_file({release!r})"),
    )
    first = glue.start_job_run(JobName="victim")["JobRunId"]
    pid = int(wait_file(pid_file))
    weir.kill9()
    # The job's whole process group dies with the "machine".
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    wait_process_gone(pid)
    stranger = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        run_dir = weir.data_dir / "job-runs" / first
        if pid_format == "identity":
            boot_id = open("/proc/sys/kernel/random/boot_id").read().strip()
            # The recorded process started at tick 1 after boot: not this stranger.
            (run_dir / "pid").write_text(f"{stranger.pid} 1 {boot_id}\n")
        else:
            (run_dir / "pid").write_text(f"{stranger.pid}\n")
        weir.restart()
        glue = weir.client()
        ended = wait_job_run(glue, "victim", first)
        assert ended["JobRunState"] == "FAILED", ended
        assert stranger.poll() is None, "the stranger was killed"
        assert not process_gone(stranger.pid)
    finally:
        stranger.kill()
        stranger.wait()
