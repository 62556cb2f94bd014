"""What clients check in job runs and job errors (issue 20; server: orchestrator
stored_run.rs/launch.rs, resources/job.rs, glue/blueprint/entities.rs): a JobRun echoes
what it ran with, from the StartJobRun call or else the job; Arguments are the caller's;
DPUSeconds as AWS documents it; a retry's PreviousRunId; AWS's capacity conflicts; a
Command.Name Weir cannot run is stored and its run fails naming it; a blueprint's number
and boolean job arguments are stored as strings."""

import json

from blueprint_helpers import layout_archive, put_s3, register, run_blueprint
from runs_helpers import (  # noqa: F401  (fixtures)
    create_job,
    scripts,
    wait_job_run,
    weir_args,
)
from weirtest import expect_error

NOTIFY = {"NotifyDelayAfter": 7}


def ok_script(scripts):
    return scripts.write("ok", "print('done')\n")


def test_a_job_run_echoes_the_jobs_settings_and_only_the_callers_arguments(glue, scripts):
    create_job(glue, "sized", ok_script(scripts), WorkerType="G.2X", NumberOfWorkers=3,
               Timeout=30, GlueVersion="3.0", SecurityConfiguration="job-sec",
               NotificationProperty=NOTIFY, ExecutionClass="STANDARD",
               DefaultArguments={"--from-job": "1"})
    run_id = glue.start_job_run(JobName="sized", Arguments={"--mine": "x"})["JobRunId"]
    run = wait_job_run(glue, "sized", run_id)
    assert run["JobRunState"] == "SUCCEEDED", run
    assert run["Arguments"] == {"--mine": "x"}
    assert run["WorkerType"] == "G.2X" and run["NumberOfWorkers"] == 3
    assert run["Timeout"] == 30 and run["GlueVersion"] == "3.0"
    assert run["SecurityConfiguration"] == "job-sec"
    assert run["NotificationProperty"] == NOTIFY
    assert run["ExecutionClass"] == "STANDARD"
    assert "MaxCapacity" not in run and "AllocatedCapacity" not in run
    assert isinstance(run["ExecutionTime"], int) and run["ExecutionTime"] >= 0
    assert "DPUSeconds" not in run, "only FLEX and Auto Scaling runs carry DPUSeconds"

    listed = glue.get_job_runs(JobName="sized")["JobRuns"]
    assert listed[0]["Arguments"] == {"--mine": "x"}


def test_the_call_overrides_the_job_and_flex_runs_carry_dpu_seconds(glue, scripts):
    create_job(glue, "flexible", ok_script(scripts), WorkerType="G.1X", NumberOfWorkers=2,
               SecurityConfiguration="job-sec")
    run_id = glue.start_job_run(JobName="flexible", MaxCapacity=2.0, Timeout=5,
                                SecurityConfiguration="call-sec", ExecutionClass="FLEX",
                                NotificationProperty=NOTIFY)["JobRunId"]
    run = wait_job_run(glue, "flexible", run_id)
    assert run["JobRunState"] == "SUCCEEDED", run
    assert run["MaxCapacity"] == 2.0
    assert "WorkerType" not in run and "NumberOfWorkers" not in run
    assert run["Timeout"] == 5
    assert run["SecurityConfiguration"] == "call-sec"
    assert run["ExecutionClass"] == "FLEX"
    assert run["NotificationProperty"] == NOTIFY
    assert run["Arguments"] == {}
    assert run["DPUSeconds"] == run["ExecutionTime"] * 2.0

    run_id = glue.start_job_run(JobName="flexible",
                                Arguments={"--enable-auto-scaling": "true"})["JobRunId"]
    run = wait_job_run(glue, "flexible", run_id)
    assert run["WorkerType"] == "G.1X" and run["NumberOfWorkers"] == 2
    assert run["DPUSeconds"] == run["ExecutionTime"] * 2 * 1.0


def test_a_retry_names_the_run_it_retries(glue, scripts):
    create_job(glue, "retried", ok_script(scripts))
    first = glue.start_job_run(JobName="retried")["JobRunId"]
    assert "PreviousRunId" not in wait_job_run(glue, "retried", first)
    second = glue.start_job_run(JobName="retried", JobRunId=first)["JobRunId"]
    assert second != first
    run = wait_job_run(glue, "retried", second)
    assert run["PreviousRunId"] == first
    assert run["Attempt"] == 0


def test_capacity_conflicts_are_rejected_as_aws_rejects_them(glue, scripts):
    create_job(glue, "plain", ok_script(scripts))
    error = expect_error("InvalidInputException", glue.start_job_run, JobName="plain",
                         AllocatedCapacity=2, MaxCapacity=2.0)
    assert error.response["Error"]["Message"] == \
        "Please set only Allocated Capacity or Max Capacity."
    for workers in ({"WorkerType": "G.1X", "NumberOfWorkers": 2}, {"NumberOfWorkers": 2}):
        error = expect_error("InvalidInputException", glue.start_job_run, JobName="plain",
                             MaxCapacity=2.0, **workers)
        assert error.response["Error"]["Message"] == \
            "Please do not set Max Capacity if using Worker Type and Number of Workers."
    error = expect_error("InvalidInputException", create_job, glue, "both", "s3://b/x.py",
                         AllocatedCapacity=2, MaxCapacity=2.0)
    assert error.response["Error"]["Message"] == \
        "Please set only Allocated Capacity or Max Capacity."
    assert glue.get_job_runs(JobName="plain")["JobRuns"] == []


def test_a_command_weir_cannot_run_is_stored_and_its_run_fails_naming_it(glue, scripts):
    create_job(glue, "exotic", ok_script(scripts), command="gluefuture")
    assert glue.get_job(JobName="exotic")["Job"]["Command"]["Name"] == "gluefuture"
    run_id = glue.start_job_run(JobName="exotic")["JobRunId"]
    run = wait_job_run(glue, "exotic", run_id)
    assert run["JobRunState"] == "FAILED"
    assert "gluefuture" in run["ErrorMessage"]


TYPED_ARGUMENTS_LAYOUT = """\
from awsglue.blueprint.job import Job
from awsglue.blueprint.workflow import Entities, Workflow


def generate_layout(user_params, system_params):
    typed = Job(Name="typed", Role="r",
                Command={"Name": "pythonshell", "ScriptLocation": "s3://b/x.py"},
                DefaultArguments={"--count": 5, "--ratio": 1.5, "--on": True, "--s": "x"})
    return Workflow(Name=user_params["WorkflowName"], Entities=Entities(Jobs=[typed]))
"""


def test_a_blueprints_number_and_boolean_job_arguments_are_stored_as_strings(weir, glue):
    archive = layout_archive("typed", {"WorkflowName": {"type": "String"}}, TYPED_ARGUMENTS_LAYOUT)
    blueprint = register(glue, "typed-bp", put_s3(weir, "bp", "typed.zip", archive))
    assert blueprint["Status"] == "ACTIVE", blueprint
    run = run_blueprint(glue, "typed-bp", {"WorkflowName": "typed-wf"})
    assert run["State"] == "SUCCEEDED", json.dumps(run, default=str)
    [name] = [n for n in glue.list_jobs()["JobNames"] if n.startswith("typed_")]
    arguments = glue.get_job(JobName=name)["Job"]["DefaultArguments"]
    assert arguments == {"--count": "5", "--ratio": "1.5", "--on": "true", "--s": "x"}


def raw_json(weir, operation: str, body: dict) -> dict:
    """The answer's JSON as sent: boto3's model (botocore 1.44.8) drops CreationStatus."""
    response = weir.raw(f"AWSGlue.{operation}", json.dumps(body).encode())
    assert response.status == 200, response.body
    return response.json()


def test_workflows_carry_their_creation_status(weir, glue):
    glue.create_workflow(Name="plain")
    assert raw_json(weir, "GetWorkflow", {"Name": "plain"})["Workflow"]["CreationStatus"] == \
        "CREATED"
    archive = layout_archive("typed", {"WorkflowName": {"type": "String"}}, TYPED_ARGUMENTS_LAYOUT)
    register(glue, "made-bp", put_s3(weir, "bp", "made.zip", archive))
    assert run_blueprint(glue, "made-bp", {"WorkflowName": "made"})["State"] == "SUCCEEDED"
    batch = raw_json(weir, "BatchGetWorkflows", {"Names": ["plain", "made"]})["Workflows"]
    assert [(w["Name"], w["CreationStatus"]) for w in batch] == \
        [("plain", "CREATED"), ("made", "CREATED")]
    assert "BlueprintDetails" in batch[1]
