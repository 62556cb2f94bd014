"""Upgrade: a data directory written by the previous release opens with this binary with
everything intact.

The fixture tests/fixtures/release-1bf31de.tar.gz was made with that release's binary by
`.venv/bin/python tests/fixtures/make_release_fixture.py OLD_WEIR tests/fixtures --name
release-1bf31de`. Its manifest (release-1bf31de.json) lists what was created and every
read (operation, parameters, answer) as the old server answered it. Each test extracts
the fixture to a new temporary path (never the one it was made at, so the data directory
has moved too) and starts this binary on it.

The server runs on a manual clock standing at the fixture's making time, so the fixture
never ages: however old it gets, its run history is not purged by retention (at start)
and answers that depend on the time (GetCrawlerMetrics) are those of that time.
"""

import json
import pathlib
import sys
import tarfile

import pytest

import weirtest
from blueprint_helpers import run_blueprint
from runs_helpers import SERVER_ARGS, expect_stats, node_runs, wait_run
from weirtest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
NAME = "release-1bf31de"

sys.path.insert(0, str(FIXTURES))
from make_release_fixture import data_dir_spellings, plain  # noqa: E402


@pytest.fixture(scope="module")
def manifest():
    return json.loads((FIXTURES / f"{NAME}.json").read_text())


@pytest.fixture
def upgraded(tmp_path, manifest):
    """This binary on a fresh copy of the fixture's data directory."""
    root = tmp_path / "moved" / "here"
    root.mkdir(parents=True)
    with tarfile.open(FIXTURES / f"{NAME}.tar.gz") as tar:
        tar.extractall(root, filter="data")
    data = root / "data"
    args = [*SERVER_ARGS, "--manual-clock", str(manifest["made_at_ms"])]
    server = weirtest.WeirServer(data, tmp_path / "weir.log", extra_args=args)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        sys.stderr.write("---- weir log ----\n" + server.log_text()[-20000:])


# Answers that changed on purpose since the fixture's release: (member, then, now).
# Python shell job runs name AWS's log group of Python shell jobs, where their output is
# now served with CloudWatch Logs (the release answered the Spark jobs' group for all).
INTENDED_CHANGES = [(".LogGroupName", "/aws-glue/jobs", "/aws-glue/python-jobs")]


def differences(expected, got, path="") -> list[str]:
    """Where `got` differs from `expected` (dicts by key, lists by position), except
    the INTENDED_CHANGES."""
    for member, then, now in INTENDED_CHANGES:
        if path.endswith(member) and (expected, got) == (then, now):
            return []
    if isinstance(expected, dict) and isinstance(got, dict):
        out = []
        for key in sorted(set(expected) | set(got)):
            where = f"{path}.{key}"
            if key not in got:
                out.append(f"{where}: missing (expected {json.dumps(expected[key])[:200]})")
            elif key not in expected:
                out.append(f"{where}: unexpected {json.dumps(got[key])[:200]}")
            else:
                out += differences(expected[key], got[key], where)
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{path}: {len(got)} items instead of {len(expected)}"]
        out = []
        for i, (e, g) in enumerate(zip(expected, got)):
            out += differences(e, g, f"{path}[{i}]")
        return out
    if expected != got:
        return [f"{path}: expected {json.dumps(expected)[:300]}, got {json.dumps(got)[:300]}"]
    return []


def test_every_read_answers_as_the_previous_release_did(upgraded, manifest):
    glue = upgraded.client()
    spellings = data_dir_spellings(upgraded.data_dir)
    assert len(manifest["reads"]) > 100
    problems = []
    for read in manifest["reads"]:
        answer = plain(getattr(glue, read["operation"])(**read["parameters"]), spellings)
        for problem in differences(read["answer"], answer):
            problems.append(f"{read['operation']}({json.dumps(read['parameters'])}){problem}")
    assert not problems, "\n".join(problems)


def test_the_summary_agrees_with_the_reads(upgraded, manifest):
    """The manifest's readable summary, checked directly: names, states, properties,
    tags and partition values."""
    glue = upgraded.client()
    created = manifest["created"]

    def tags(kind, name):
        resource = f"arn:aws:glue:{manifest['region']}:{manifest['account']}:{kind}/{name}"
        return glue.get_tags(ResourceArn=resource).get("Tags", {})

    assert sorted(glue.list_workflows()["Workflows"]) == sorted(created["workflows"])
    for name, workflow in created["workflows"].items():
        got = glue.get_workflow(Name=name)["Workflow"]
        assert got.get("DefaultRunProperties", {}) == workflow["DefaultRunProperties"]
        assert tags("workflow", name) == workflow["Tags"]
        runs = glue.get_workflow_runs(Name=name)["Runs"]
        assert {r["WorkflowRunId"]: r["Status"] for r in runs} == {
            run_id: run["Status"] for run_id, run in workflow["Runs"].items()}
        for run_id, run in workflow["Runs"].items():
            properties = glue.get_workflow_run_properties(Name=name, RunId=run_id)
            assert properties["RunProperties"] == run["RunProperties"]
    assert sorted(glue.list_jobs()["JobNames"]) == sorted(created["jobs"])
    for name, job in created["jobs"].items():
        runs = glue.get_job_runs(JobName=name)["JobRuns"]
        assert {r["Id"]: r["JobRunState"] for r in runs} == job["Runs"]
        assert tags("job", name) == job["Tags"]
    assert sorted(glue.list_triggers()["TriggerNames"]) == sorted(created["triggers"])
    for name, trigger in created["triggers"].items():
        got = glue.get_trigger(Name=name)["Trigger"]
        assert (got["Type"], got["State"], got.get("WorkflowName")) == (
            trigger["Type"], trigger["State"], trigger["WorkflowName"])
        assert tags("trigger", name) == trigger["Tags"]
    assert sorted(glue.list_crawlers()["CrawlerNames"]) == sorted(created["crawlers"])
    for name, crawler in created["crawlers"].items():
        crawls = glue.list_crawls(CrawlerName=name)["Crawls"]
        assert [c["State"] for c in crawls] == crawler["Crawls"]
        assert tags("crawler", name) == crawler["Tags"]
    databases = glue.get_databases()["DatabaseList"]
    assert sorted(d["Name"] for d in databases) == sorted(created["databases"])
    for name, database in created["databases"].items():
        tables = glue.get_tables(DatabaseName=name)["TableList"]
        assert sorted(t["Name"] for t in tables) == sorted(database["TablePartitions"])
        for table, values in database["TablePartitions"].items():
            partitions = glue.get_partitions(DatabaseName=name, TableName=table)["Partitions"]
            assert [p["Values"] for p in partitions] == values
        assert tags("database", name) == database["Tags"]
    for name, blueprint in created["blueprints"].items():
        runs = glue.get_blueprint_runs(BlueprintName=name)["BlueprintRuns"]
        assert {r["RunId"]: r["State"] for r in runs} == blueprint["Runs"]
        assert tags("blueprint", name) == blueprint["Tags"]


def test_the_failed_run_resumes_and_completes(upgraded, manifest):
    glue = upgraded.client()
    resume = manifest["resume"]
    workflow, run_id = resume["workflow"], resume["run_id"]
    before = glue.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
    assert [r["JobRunState"] for r in node_runs(before, resume["job"])] == ["FAILED"]
    assert node_runs(before, resume["downstream_job"]) == []

    # Fix the script's cause of failure: the flag file it looks for next to itself.
    (upgraded.data_dir / resume["flag_file"]).write_text("fixed\n")
    out = glue.resume_workflow_run(Name=workflow, RunId=run_id, NodeIds=[resume["node_id"]])
    assert out["NodeIds"] == [resume["node_id"]]
    resumed = wait_run(glue, workflow, out["RunId"])
    assert resumed["Status"] == "COMPLETED", resumed
    assert resumed["PreviousRunId"] == run_id
    expect_stats(resumed, TotalActions=3, SucceededActions=3)
    assert [r["JobRunState"] for r in node_runs(resumed, resume["job"])] == ["SUCCEEDED"]
    assert [r["JobRunState"] for r in node_runs(resumed, resume["downstream_job"])] == [
        "SUCCEEDED"]
    # The old run is unchanged.
    after = glue.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
    assert [r["JobRunState"] for r in node_runs(after, resume["job"])] == ["FAILED"]


def test_a_blueprint_registered_before_the_upgrade_runs(upgraded, manifest):
    glue = upgraded.client()
    blueprint = manifest["blueprint"]
    parameters = {"WorkflowName": "after-upgrade", **blueprint["new_workflow_parameters"]}
    run = run_blueprint(glue, blueprint["name"], parameters)
    assert run["State"] == "SUCCEEDED", run
    assert run["WorkflowName"] == "after-upgrade"
    run_id = glue.start_workflow_run(Name="after-upgrade")["RunId"]
    finished = wait_run(glue, "after-upgrade", run_id)
    assert finished["Status"] == "COMPLETED", finished
    expect_stats(finished, TotalActions=1, SucceededActions=1)
    # Its location reads back under the data directory the server now runs on.
    got = glue.get_blueprint(Name=blueprint["name"], IncludeBlueprint=True)["Blueprint"]
    location = pathlib.Path(got["BlueprintServiceLocation"])
    assert location.is_file()
    assert location.is_relative_to(upgraded.data_dir.resolve())
