"""SCHEDULED triggers fire on their cron schedule while ACTIVATED (spec §5.1).

The finest AWS cron granularity is one minute, so each test waits for at most one
minute boundary (plus the run) — bounded polling, no timing assertions.
"""

from runs_helpers import (  # noqa: F401  (weir_args and scripts are fixtures)
    create_job,
    scripts,
    wait_for,
    wait_run,
    weir_args,
)

EVERY_MINUTE = "cron(* * * * ? *)"


def test_activated_schedule_starts_workflow_runs(glue, scripts):
    marker = scripts.path("ran.txt")
    job = scripts.write("tick", f"append({marker!r}, ARGS['--WORKFLOW_RUN_ID'])")
    create_job(glue, "tick", job)
    glue.create_workflow(Name="nightly")
    glue.create_trigger(
        Name="nightly-start",
        WorkflowName="nightly",
        Type="SCHEDULED",
        Schedule=EVERY_MINUTE,
        StartOnCreation=True,
        Actions=[{"JobName": "tick"}],
    )
    assert glue.get_trigger(Name="nightly-start")["Trigger"]["State"] == "ACTIVATED"

    runs = wait_for(
        lambda: glue.get_workflow_runs(Name="nightly")["Runs"],
        "a run started by the schedule",
        deadline=120,
    )
    run = wait_run(glue, "nightly", runs[0]["WorkflowRunId"])
    assert run["Status"] == "COMPLETED"
    assert run["Statistics"]["SucceededActions"] == 1
    with open(marker) as lines:
        assert lines.read().split() == [runs[0]["WorkflowRunId"]]


def test_deactivated_schedule_does_not_fire(glue, scripts, weir):
    job = scripts.write("idle", "pass")
    create_job(glue, "idle", job)
    glue.create_workflow(Name="paused")
    glue.create_trigger(
        Name="paused-start",
        WorkflowName="paused",
        Type="SCHEDULED",
        Schedule=EVERY_MINUTE,
        StartOnCreation=True,
        Actions=[{"JobName": "idle"}],
    )
    glue.stop_trigger(Name="paused-start")
    assert glue.get_trigger(Name="paused-start")["Trigger"]["State"] == "DEACTIVATED"
    # A second, activated schedule proves a minute boundary passed meanwhile.
    glue.create_workflow(Name="witness")
    glue.create_trigger(
        Name="witness-start",
        WorkflowName="witness",
        Type="SCHEDULED",
        Schedule=EVERY_MINUTE,
        StartOnCreation=True,
        Actions=[{"JobName": "idle"}],
    )
    wait_for(
        lambda: glue.get_workflow_runs(Name="witness")["Runs"],
        "the witness schedule to fire",
        deadline=120,
    )
    assert glue.get_workflow_runs(Name="paused")["Runs"] == []


def test_schedules_survive_a_restart(glue, scripts, weir):
    job = scripts.write("again", "pass")
    create_job(glue, "again", job)
    glue.create_workflow(Name="durable")
    glue.create_trigger(
        Name="durable-start",
        WorkflowName="durable",
        Type="SCHEDULED",
        Schedule=EVERY_MINUTE,
        StartOnCreation=True,
        Actions=[{"JobName": "again"}],
    )
    weir.kill9()
    weir.restart()
    glue = weir.client()
    wait_for(
        lambda: glue.get_workflow_runs(Name="durable")["Runs"],
        "the reloaded schedule to fire",
        deadline=120,
    )
