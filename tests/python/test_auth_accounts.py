"""Two accounts on one server (a credentials file with a key pair in each): every
resource lives in the account of the key that created it; the other account sees none
of it (List*, Get*, BatchGet*, tags on its ARNs, spec §10). Job scripts call back with
a key pair of the account that owns the run."""

import json
import textwrap

import pytest

from runs_helpers import SERVER_ARGS, create_job, wait_file, wait_job_run
from weirtest import REGION, expect_error

ALICE = {"access_key_id": "AKIAWEIRALICE", "secret_access_key": "alice-secret", "account_id": "111111111111"}
BOB = {
    "access_key_id": "ASIAWEIRBOB",
    "secret_access_key": "bob-secret",
    "account_id": "222222222222",
    "session_token": "bob-session-token",
}


@pytest.fixture
def weir_args(tmp_path):
    path = tmp_path / "credentials.toml"
    lines = []
    for entry in (ALICE, BOB):
        lines.append("[[credentials]]")
        lines += [f'{key} = "{value}"' for key, value in entry.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return ["--credentials", str(path), *SERVER_ARGS]


def client_for(weir, who):
    return weir.client_as(who["access_key_id"], who["secret_access_key"], who.get("session_token"))


@pytest.fixture
def alice(weir):
    return client_for(weir, ALICE)


@pytest.fixture
def bob(weir):
    return client_for(weir, BOB)


def arn(who, kind, name):
    return f"arn:aws:glue:{REGION}:{who['account_id']}:{kind}/{name}"


def test_workflows_and_tags_are_private(alice, bob):
    alice.create_workflow(Name="same-name", Tags={"owner": "alice"})
    alice.create_workflow(Name="alice-only")
    bob.create_workflow(Name="same-name", Description="bob's")

    assert sorted(alice.list_workflows()["Workflows"]) == ["alice-only", "same-name"]
    assert bob.list_workflows()["Workflows"] == ["same-name"]
    assert bob.get_workflow(Name="same-name")["Workflow"]["Description"] == "bob's"
    assert "Description" not in alice.get_workflow(Name="same-name")["Workflow"]
    expect_error("EntityNotFoundException", bob.get_workflow, Name="alice-only")
    expect_error("EntityNotFoundException", bob.update_workflow, Name="alice-only", Description="x")
    expect_error("EntityNotFoundException", bob.start_workflow_run, Name="alice-only")
    batch = bob.batch_get_workflows(Names=["alice-only", "same-name"])
    assert [w["Name"] for w in batch["Workflows"]] == ["same-name"]
    assert batch["MissingWorkflows"] == ["alice-only"]

    alices = arn(ALICE, "workflow", "same-name")
    expect_error("EntityNotFoundException", bob.get_tags, ResourceArn=alices)
    expect_error("EntityNotFoundException", bob.tag_resource, ResourceArn=alices, TagsToAdd={"k": "v"})
    expect_error("EntityNotFoundException", bob.untag_resource, ResourceArn=alices, TagsToRemove=["owner"])
    assert alice.get_tags(ResourceArn=alices)["Tags"] == {"owner": "alice"}
    bobs = arn(BOB, "workflow", "same-name")
    bob.tag_resource(ResourceArn=bobs, TagsToAdd={"owner": "bob"})
    expect_error("EntityNotFoundException", alice.get_tags, ResourceArn=bobs)
    assert bob.get_tags(ResourceArn=bobs)["Tags"] == {"owner": "bob"}


def test_jobs_and_triggers_are_private(alice, bob):
    command = {"Name": "pythonshell", "ScriptLocation": "s3://bucket/script.py"}
    alice.create_job(Name="etl", Role="role", Command=command, Tags={"owner": "alice"})
    alice.create_trigger(Name="go", Type="ON_DEMAND", Actions=[{"JobName": "etl"}])

    expect_error("EntityNotFoundException", bob.get_job, JobName="etl")
    assert bob.list_jobs()["JobNames"] == []
    assert bob.get_jobs()["Jobs"] == []
    batch = bob.batch_get_jobs(JobNames=["etl"])
    assert batch["Jobs"] == [] and batch["JobsNotFound"] == ["etl"]
    expect_error("EntityNotFoundException", bob.start_job_run, JobName="etl")

    expect_error("EntityNotFoundException", bob.get_trigger, Name="go")
    assert bob.list_triggers()["TriggerNames"] == []
    assert bob.get_triggers()["Triggers"] == []
    batch = bob.batch_get_triggers(TriggerNames=["go"])
    assert batch["Triggers"] == [] and batch["TriggersNotFound"] == ["go"]
    expect_error("EntityNotFoundException", bob.start_trigger, Name="go")

    for kind, name in (("job", "etl"), ("trigger", "go")):
        foreign = arn(ALICE, kind, name)
        expect_error("EntityNotFoundException", bob.get_tags, ResourceArn=foreign)
        expect_error("EntityNotFoundException", bob.tag_resource, ResourceArn=foreign, TagsToAdd={"k": "v"})
        alice.get_tags(ResourceArn=foreign)
    assert alice.list_jobs()["JobNames"] == ["etl"]
    assert alice.list_triggers()["TriggerNames"] == ["go"]


def test_job_scripts_act_in_the_account_that_owns_the_run(weir, alice, bob, tmp_path):
    alice.create_workflow(Name="alices")
    bob.create_workflow(Name="bobs")
    out = tmp_path / "seen.json"
    script = tmp_path / "whoami.py"
    script.write_text(textwrap.dedent(f"""\
        import json, os
        import boto3
        glue = boto3.client("glue")
        seen = {{
            "key": os.environ.get("AWS_ACCESS_KEY_ID"),
            "has_token": bool(os.environ.get("AWS_SESSION_TOKEN")),
            "workflows": glue.list_workflows()["Workflows"],
        }}
        with open({str(out)!r} + ".tmp", "w") as f:
            json.dump(seen, f)
        os.rename({str(out)!r} + ".tmp", {str(out)!r})
    """))
    create_job(bob, "whoami", str(script))
    run_id = bob.start_job_run(JobName="whoami")["JobRunId"]
    seen = json.loads(wait_file(str(out)))
    run = wait_job_run(bob, "whoami", run_id)
    assert run["JobRunState"] == "SUCCEEDED", run
    assert seen == {"key": BOB["access_key_id"], "has_token": True, "workflows": ["bobs"]}
    expect_error("EntityNotFoundException", alice.get_job_run, JobName="whoami", RunId=run_id)
