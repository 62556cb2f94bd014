"""The AWS CLI (v1, from the virtualenv) with jobs, crawlers, triggers and the workflow
graph: create-job, create-trigger, get-workflow --include-graph, and validation errors
(non-zero exit code, error code on stderr)."""

import json
import re

import pytest

from weirtest import ACCOUNT_ID, REGION, CliError

ROLE = "arn:aws:iam::123456789012:role/Glue"


def test_cli_create_job_and_read_it_back(aws_cli):
    out = aws_cli(
        "glue", "create-job",
        "--name", "cli-job",
        "--role", ROLE,
        "--command", "Name=pythonshell,ScriptLocation=s3://b/cli.py",
        "--default-arguments", json.dumps({"--env": "dev", "--day": "2024-01-01"}),
        "--max-retries", "2",
        "--description", "made by the CLI",
        "--tags", "team=data",
    )
    assert out == {"Name": "cli-job"}

    job = aws_cli("glue", "get-job", "--job-name", "cli-job")["Job"]
    assert job["Name"] == "cli-job"
    assert job["Role"] == ROLE
    assert job["Command"] == {"Name": "pythonshell", "ScriptLocation": "s3://b/cli.py", "PythonVersion": "3"}
    assert job["DefaultArguments"] == {"--env": "dev", "--day": "2024-01-01"}
    assert job["MaxRetries"] == 2
    assert job["Description"] == "made by the CLI"
    # Defaults the user left out.
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job["Timeout"] == 2880
    assert job["GlueVersion"] == "1.0"
    assert "CreatedOn" in job

    arn = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:job/cli-job"
    assert aws_cli("glue", "get-tags", "--resource-arn", arn)["Tags"] == {"team": "data"}

    aws_cli("glue", "create-job", "--name", "cli-job-2", "--role", ROLE,
            "--command", "Name=glueetl,ScriptLocation=s3://b/two.py")
    # The CLI follows NextToken by itself; --page-size sets MaxResults per request.
    assert aws_cli("glue", "list-jobs", "--page-size", "1")["JobNames"] == ["cli-job", "cli-job-2"]
    jobs = aws_cli("glue", "get-jobs", "--page-size", "1")["Jobs"]
    assert [j["Name"] for j in jobs] == ["cli-job", "cli-job-2"]
    assert aws_cli("glue", "delete-job", "--job-name", "cli-job-2") == {"JobName": "cli-job-2"}
    assert aws_cli("glue", "delete-job", "--job-name", "cli-job-2") == {"JobName": "cli-job-2"}


def setup_workflow(aws_cli):
    aws_cli("glue", "create-workflow", "--name", "cli-wf")
    for job in ("extract", "load"):
        aws_cli("glue", "create-job", "--name", job, "--role", ROLE,
                "--command", f"Name=pythonshell,ScriptLocation=s3://b/{job}.py")
    aws_cli("glue", "create-crawler", "--name", "cli-crawler", "--role", ROLE,
            "--targets", json.dumps({"S3Targets": [{"Path": "s3://b/raw/"}]}))


def test_cli_create_trigger_and_get_workflow_with_graph(aws_cli):
    setup_workflow(aws_cli)
    out = aws_cli(
        "glue", "create-trigger",
        "--name", "cli-start",
        "--workflow-name", "cli-wf",
        "--type", "ON_DEMAND",
        "--actions", json.dumps([{"JobName": "extract", "Arguments": {"--full": "yes"}}, {"CrawlerName": "cli-crawler"}]),
        "--tags", "team=data",
    )
    assert out == {"Name": "cli-start"}
    predicate = {
        "Logical": "AND",
        "Conditions": [
            {"LogicalOperator": "EQUALS", "JobName": "extract", "State": "SUCCEEDED"},
            {"LogicalOperator": "EQUALS", "CrawlerName": "cli-crawler", "CrawlState": "SUCCEEDED"},
        ],
    }
    out = aws_cli(
        "glue", "create-trigger",
        "--name", "cli-then",
        "--workflow-name", "cli-wf",
        "--type", "CONDITIONAL",
        "--predicate", json.dumps(predicate),
        "--actions", "JobName=load",
        "--start-on-creation",
    )
    assert out == {"Name": "cli-then"}

    then = aws_cli("glue", "get-trigger", "--name", "cli-then")["Trigger"]
    assert then["State"] == "ACTIVATED"
    assert then["Predicate"] == predicate
    assert then["Actions"] == [{"JobName": "load"}]
    assert aws_cli("glue", "get-trigger", "--name", "cli-start")["Trigger"]["State"] == "CREATED"

    wf = aws_cli("glue", "get-workflow", "--name", "cli-wf", "--include-graph")["Workflow"]
    graph = wf["Graph"]
    by_id = {n["UniqueId"]: (n["Type"], n["Name"]) for n in graph["Nodes"]}
    assert all(re.fullmatch(r"wnode_[0-9a-f]{64}", uid) for uid in by_id)
    assert sorted(by_id.values()) == [
        ("CRAWLER", "cli-crawler"),
        ("JOB", "extract"),
        ("JOB", "load"),
        ("TRIGGER", "cli-start"),
        ("TRIGGER", "cli-then"),
    ]
    edges = {(by_id[e["SourceId"]], by_id[e["DestinationId"]]) for e in graph["Edges"]}
    assert edges == {
        (("TRIGGER", "cli-start"), ("JOB", "extract")),
        (("TRIGGER", "cli-start"), ("CRAWLER", "cli-crawler")),
        (("JOB", "extract"), ("TRIGGER", "cli-then")),
        (("CRAWLER", "cli-crawler"), ("TRIGGER", "cli-then")),
        (("TRIGGER", "cli-then"), ("JOB", "load")),
    }
    nodes = {(n["Type"], n["Name"]): n for n in graph["Nodes"]}
    assert nodes[("TRIGGER", "cli-then")]["TriggerDetails"]["Trigger"] == then

    assert "Graph" not in aws_cli("glue", "get-workflow", "--name", "cli-wf", "--no-include-graph")["Workflow"]
    batch = aws_cli("glue", "batch-get-workflows", "--names", "cli-wf", "--include-graph")
    assert batch["Workflows"][0]["Graph"] == graph

    # list-triggers with the CLI's own pagination and a DependentJobName filter.
    assert aws_cli("glue", "list-triggers", "--page-size", "1")["TriggerNames"] == ["cli-start", "cli-then"]
    assert aws_cli("glue", "list-triggers", "--dependent-job-name", "load")["TriggerNames"] == ["cli-then"]


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (
            ["--type", "CONDITIONAL", "--actions", "JobName=load",
             "--predicate", json.dumps({"Conditions": [{"JobName": "extract", "State": "SUCCEEDED"}]})],
            "InvalidInputException",
            "Logical operator cannot be null or empty",
        ),
        (
            ["--type", "SCHEDULED", "--schedule", "cron(0 12 * * * *)", "--actions", "JobName=load"],
            "InvalidInputException",
            "Invalid schedule expression",
        ),
        (
            ["--type", "ON_DEMAND", "--actions", "JobName=no-such-job"],
            "EntityNotFoundException",
            "no-such-job",
        ),
    ],
)
def test_cli_trigger_validation_error(aws_cli, args, code, fragment):
    setup_workflow(aws_cli)
    with pytest.raises(CliError) as info:
        aws_cli("glue", "create-trigger", "--name", "bad", "--workflow-name", "cli-wf", *args)
    assert info.value.returncode != 0
    assert code in info.value.stderr
    assert "CreateTrigger" in info.value.stderr
    assert fragment in info.value.stderr
    with pytest.raises(CliError) as info:
        aws_cli("glue", "get-trigger", "--name", "bad")
    assert "EntityNotFoundException" in info.value.stderr


def test_cli_create_job_with_a_command_weir_cannot_run(aws_cli):
    aws_cli("glue", "create-job", "--name", "odd", "--role", ROLE,
            "--command", "Name=spark,ScriptLocation=s3://b/x.py")
    assert aws_cli("glue", "get-job", "--job-name", "odd")["Job"]["Command"]["Name"] == "spark"
    with pytest.raises(CliError) as info:
        aws_cli("glue", "create-job", "--name", "bad", "--role", ROLE,
                "--command", "Name=glueetl,ScriptLocation=s3://b/x.py",
                "--allocated-capacity", "2", "--max-capacity", "2")
    assert "InvalidInputException" in info.value.stderr
    assert "Please set only Allocated Capacity or Max Capacity." in info.value.stderr


def test_cli_crawler_round_trip(aws_cli):
    out = aws_cli("glue", "create-crawler", "--name", "cli-c", "--role", ROLE,
                  "--targets", json.dumps({"S3Targets": [{"Path": "s3://b/raw/"}]}),
                  "--schedule", "cron(0 1 * * ? *)")
    assert out in (None, {})
    crawler = aws_cli("glue", "get-crawler", "--name", "cli-c")["Crawler"]
    assert crawler["State"] == "READY"
    assert crawler["Version"] == 1
    assert crawler["Schedule"] == {"ScheduleExpression": "cron(0 1 * * ? *)", "State": "SCHEDULED"}
    aws_cli("glue", "update-crawler", "--name", "cli-c", "--description", "updated")
    crawler = aws_cli("glue", "get-crawler", "--name", "cli-c")["Crawler"]
    assert crawler["Version"] == 2
    assert crawler["Description"] == "updated"
    with pytest.raises(CliError) as info:
        aws_cli("glue", "create-crawler", "--name", "no-targets", "--role", ROLE, "--targets", "{}")
    assert "InvalidInputException" in info.value.stderr
