"""The AWS CLI (v1, from the virtualenv) against weir."""

import pytest

from weirtest import CliError, workflow_arn


def test_cli_workflow_round_trip(aws_cli):
    out = aws_cli(
        "glue", "create-workflow",
        "--name", "cli-wf",
        "--description", "made by the CLI",
        "--default-run-properties", "env=dev,owner=ops",
        "--max-concurrent-runs", "2",
        "--tags", "team=data",
    )
    assert out == {"Name": "cli-wf"}

    wf = aws_cli("glue", "get-workflow", "--name", "cli-wf")["Workflow"]
    assert wf["Name"] == "cli-wf"
    assert wf["Description"] == "made by the CLI"
    assert wf["DefaultRunProperties"] == {"env": "dev", "owner": "ops"}
    assert wf["MaxConcurrentRuns"] == 2
    assert "CreatedOn" in wf

    aws_cli("glue", "create-workflow", "--name", "cli-wf-2")
    # The CLI paginates by itself (--page-size sets MaxResults per request).
    listed = aws_cli("glue", "list-workflows", "--page-size", "1")
    assert sorted(listed["Workflows"]) == ["cli-wf", "cli-wf-2"]


def test_cli_tags(aws_cli):
    aws_cli("glue", "create-workflow", "--name", "cli-tagged", "--tags", "team=data")
    arn = workflow_arn("cli-tagged")
    assert aws_cli("glue", "tag-resource", "--resource-arn", arn, "--tags-to-add", "owner=alice") in (None, {})
    assert aws_cli("glue", "get-tags", "--resource-arn", arn)["Tags"] == {"team": "data", "owner": "alice"}


def test_cli_error_exits_non_zero_with_the_error_code(aws_cli):
    with pytest.raises(CliError) as info:
        aws_cli("glue", "get-workflow", "--name", "does-not-exist")
    assert info.value.returncode != 0
    assert "EntityNotFoundException" in info.value.stderr
