"""SCHEDULED triggers fire on their cron schedule while ACTIVATED (spec §5.1).

The server runs on its manual clock: a test moves virtual time past a minute boundary
instead of waiting for one, then polls (bounded) for the run the firing started.
"""

import pytest

from runs_helpers import (  # noqa: F401  (scripts is a fixture)
    MANUAL_CLOCK_ARGS,
    MINUTE_MS,
    create_job,
    scripts,
    wait_for,
    wait_run,
)


@pytest.fixture
def weir_args():
    return list(MANUAL_CLOCK_ARGS)

EVERY_MINUTE = "cron(* * * * ? *)"


def test_activated_schedule_starts_workflow_runs(weir, glue, scripts):
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
    assert glue.get_workflow_runs(Name="nightly")["Runs"] == [], "fired before its time"

    weir.advance_clock(MINUTE_MS)
    runs = wait_for(
        lambda: glue.get_workflow_runs(Name="nightly")["Runs"],
        "a run started by the schedule",
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
    weir.advance_clock(MINUTE_MS)
    wait_for(
        lambda: glue.get_workflow_runs(Name="witness")["Runs"],
        "the witness schedule to fire",
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
    weir.advance_clock(MINUTE_MS)
    wait_for(
        lambda: glue.get_workflow_runs(Name="durable")["Runs"],
        "the reloaded schedule to fire",
    )
