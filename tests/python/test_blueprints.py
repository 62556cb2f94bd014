"""Blueprints through boto3 (spec §9, Appendix A.2): registration, parameter checks,
layout generation in Python, entity creation with rollback, and running the result.

Archives are built here with zipfile and "uploaded" by writing into the server's S3
directory (<data-dir>/s3/<bucket>/<key>).
"""

import io
import json
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile

from blueprint_helpers import (
    layout_archive,
    put_s3,
    register,
    run_blueprint,
    wait_blueprint,
    zip_bytes,
)
from runs_helpers import expect_stats, wait_run, weir_args  # noqa: F401  (fixture)
from weirtest import ROOT, WeirServer, expect_error, weir_bin, workflow_arn

# The shipped library itself, for the tests of its behaviour (no server needed).
sys.path.insert(0, str(ROOT / "crates" / "runner" / "python"))
from awsglue.blueprint.crawler import Crawler  # noqa: E402
from awsglue.blueprint.job import Job  # noqa: E402
from awsglue.blueprint.workflow import Entities, Workflow  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/glue"

CHAIN_SPEC = {
    "WorkflowName": {"type": "String", "collection": False, "description": "Name of the workflow"},
    "ScriptBucket": {"type": "S3Bucket"},
    "Role": {"type": "IAMRoleArn"},
    "Retries": {"type": "Integer", "defaultValue": 2},
    "Ratio": {"type": "Double", "defaultValue": 0.5},
    "Enabled": {"type": "Boolean", "defaultValue": True},
    "Mode": {"type": "String", "defaultValue": "fast", "allowedValues": ["fast", "slow"]},
    "Tables": {"type": "String", "collection": True, "defaultValue": ["a"]},
    "Output": {"type": "S3Uri", "defaultValue": "s3://out/data/"},
}

CHAIN_LAYOUT = """\
import json

import boto3
from awsglue.blueprint.crawler import Crawler
from awsglue.blueprint.job import Job
from awsglue.blueprint.workflow import Entities, Workflow


def generate_layout(user_params, system_params):
    seen = boto3.client("glue", region_name=system_params["region"]).list_blueprints()
    with open("chain/notes.txt") as notes:  # the archive root is the working directory
        note = notes.read().strip()
    role = user_params["Role"]

    def command(name):
        location = "s3://{}/scripts/{}.py".format(user_params["ScriptBucket"], name)
        return {"Name": "pythonshell", "ScriptLocation": location, "PythonVersion": "3"}

    extract = Job(Name="extract", Role=role, Command=command("ok"),
                  description="lower-case description", Description="ignored",
                  MaxRetries=user_params["Retries"], Bogus="dropped",
                  DefaultArguments={"--ratio": str(user_params["Ratio"])})
    transform = Job(Name="transform", Role=role, Command=command("ok"),
                    DependsOn={extract: "SUCCEEDED"})
    catalog = Crawler(Name="catalog", Role=role,
                      Targets={"S3Targets": [{"Path": user_params["Output"]}],
                               "JDBCTargets": [{"ConnectionName": "db", "Path": "db/%"}]},
                      Grouping={"TableGroupingPolicy": "CombineCompatibleSchemas"},
                      DependsOn={extract: "SUCCEEDED"})
    load = Job(Name="load", Role=role, Command=command("ok"),
               DependsOn={transform: "SUCCEEDED", catalog: "FAILED"}, WaitForDependencies="AND")
    types = {k: type(v).__name__ for k, v in user_params.items()}
    return Workflow(
        Name=user_params["WorkflowName"], Description="made by a blueprint",
        DefaultRunProperties={"types": json.dumps(types, sort_keys=True),
                              "system": json.dumps(system_params, sort_keys=True),
                              "seen": ",".join(seen["Blueprints"]), "note": note,
                              "tables": ",".join(user_params["Tables"])},
        Tags={"team": "data"},
        Entities=Entities(Jobs=[extract, transform, load], Crawlers=[catalog]))
"""

SIMPLE_SPEC = {
    "WorkflowName": {"type": "String"},
    "Retries": {"type": "Integer", "defaultValue": 0},
    "Mode": {"type": "String", "defaultValue": "fast", "allowedValues": ["fast", "slow"]},
}


def simple_layout(description="simple", extra_jobs="", raise_with=None):
    """One job `only` (started by the starting trigger) plus `extra_jobs` source."""
    raising = f"    raise ValueError({raise_with!r} + user_params['WorkflowName'])\n" if raise_with else ""
    return f"""\
from awsglue.blueprint.crawler import Crawler
from awsglue.blueprint.job import Job
from awsglue.blueprint.workflow import Entities, Workflow


def generate_layout(user_params, system_params):
{raising}    only = Job(Name="only", Role="r", Command={{"Name": "pythonshell", "ScriptLocation": "s3://b/x.py"}})
    jobs, crawlers = [only], []
{extra_jobs}    return Workflow(Name=user_params["WorkflowName"], Description={description!r},
                    Entities=Entities(Jobs=jobs, Crawlers=crawlers))
"""


def simple_blueprint(glue, weir, name, **layout_kwargs):
    archive = layout_archive("simple", SIMPLE_SPEC, simple_layout(**layout_kwargs))
    blueprint = register(glue, name, put_s3(weir, "bp", f"{name}.zip", archive))
    assert blueprint["Status"] == "ACTIVE", blueprint
    return blueprint


# -- the whole path -------------------------------------------------------------------------
def test_a_blueprint_creates_the_expected_workflow_which_then_runs(weir, glue):
    archive = layout_archive("chain", CHAIN_SPEC, CHAIN_LAYOUT, {"chain/notes.txt": "bundled"})
    location = put_s3(weir, "blueprints", "chain/chain.zip", archive)
    glue.create_blueprint(Name="chain-bp", BlueprintLocation=location, Description="a chain")
    blueprint = wait_blueprint(glue, "chain-bp")
    assert blueprint["Status"] == "ACTIVE", blueprint
    assert blueprint["BlueprintLocation"] == location
    assert blueprint["BlueprintServiceLocation"] != location
    spec = json.loads(blueprint["ParameterSpec"], object_pairs_hook=lambda pairs: pairs)
    for _name, entry in spec:
        assert [k for k, _ in entry] == ["type", "collection", "description", "defaultValue", "allowedValues"]
    spec = json.loads(blueprint["ParameterSpec"])
    assert spec["WorkflowName"] == {"type": "String", "collection": False, "description": "Name of the workflow",
                                    "defaultValue": None, "allowedValues": None}
    assert spec["Tables"]["collection"] is True and spec["Mode"]["allowedValues"] == ["fast", "slow"]

    run = run_blueprint(glue, "chain-bp", {"WorkflowName": "etl", "ScriptBucket": "scripts-bucket",
                                           "Role": ROLE, "Ratio": 2, "Tables": ["x", "y"]})
    assert run["State"] == "SUCCEEDED", run
    assert run["WorkflowName"] == "etl" and run["CompletedOn"] >= run["StartedOn"]
    assert run["RoleArn"] == "arn:aws:iam::123456789012:role/blueprints"
    assert "ErrorMessage" not in run

    workflow = glue.get_workflow(Name="etl", IncludeGraph=True)["Workflow"]
    assert workflow["BlueprintDetails"] == {"BlueprintName": "chain-bp", "RunId": run["RunId"]}
    assert workflow["Description"] == "made by a blueprint"
    props = workflow["DefaultRunProperties"]
    assert json.loads(props["types"]) == {
        "WorkflowName": "str", "ScriptBucket": "str", "Role": "str", "Retries": "int", "Ratio": "float",
        "Enabled": "bool", "Mode": "str", "Tables": "list", "Output": "str"}
    assert json.loads(props["system"]) == {"accountId": "123456789012", "region": "us-east-1"}
    assert props["seen"] == "chain-bp" and props["note"] == "bundled" and props["tables"] == "x,y"
    assert glue.get_tags(ResourceArn=workflow_arn("etl"))["Tags"] == {"team": "data"}

    jobs = glue.list_jobs()["JobNames"]
    suffixes = {re.fullmatch(r"(extract|transform|load)_([0-9a-f]{8})", j).group(2) for j in jobs}
    assert len(jobs) == 3 and len(suffixes) == 1, jobs
    sfx = suffixes.pop()
    extract, transform, load, catalog = (f"{n}_{sfx}" for n in ("extract", "transform", "load", "catalog"))
    assert glue.list_crawlers()["CrawlerNames"] == [catalog]
    job = glue.get_job(JobName=extract)["Job"]
    assert job["Description"] == "lower-case description"
    assert job["MaxRetries"] == 2 and job["DefaultArguments"] == {"--ratio": "2.0"}
    assert job["Command"]["ScriptLocation"] == "s3://scripts-bucket/scripts/ok.py"
    targets = glue.get_crawler(Name=catalog)["Crawler"]["Targets"]
    assert targets["JdbcTargets"][0]["ConnectionName"] == "db"
    assert targets["S3Targets"][0]["Path"] == "s3://out/data/"

    starting = glue.get_trigger(Name="etl_starting_trigger")["Trigger"]
    assert (starting["Type"], starting["WorkflowName"]) == ("ON_DEMAND", "etl")
    assert [a["JobName"] for a in starting["Actions"]] == [extract]
    on_load = glue.get_trigger(Name=f"etl_{load}_trigger")["Trigger"]
    assert (on_load["Type"], on_load["State"]) == ("CONDITIONAL", "ACTIVATED")
    assert on_load["Predicate"]["Logical"] == "AND"
    conditions = {(c.get("JobName") or c.get("CrawlerName"), c.get("State") or c.get("CrawlState"))
                  for c in on_load["Predicate"]["Conditions"]}
    assert conditions == {(transform, "SUCCEEDED"), (catalog, "FAILED")}
    on_catalog = glue.get_trigger(Name=f"etl_{catalog}_trigger")["Trigger"]
    assert on_catalog["Actions"][0]["CrawlerName"] == catalog

    names = {n["UniqueId"]: n["Name"] for n in workflow["Graph"]["Nodes"]}
    kinds = sorted(n["Type"] for n in workflow["Graph"]["Nodes"])
    assert kinds == ["CRAWLER", "JOB", "JOB", "JOB", "TRIGGER", "TRIGGER", "TRIGGER", "TRIGGER"]
    edges = {(names[e["SourceId"]], names[e["DestinationId"]]) for e in workflow["Graph"]["Edges"]}
    assert edges == {
        ("etl_starting_trigger", extract),
        (extract, f"etl_{transform}_trigger"), (f"etl_{transform}_trigger", transform),
        (extract, f"etl_{catalog}_trigger"), (f"etl_{catalog}_trigger", catalog),
        (transform, f"etl_{load}_trigger"), (catalog, f"etl_{load}_trigger"), (f"etl_{load}_trigger", load),
    }

    put_s3(weir, "scripts-bucket", "scripts/ok.py", "print('ok')\n")
    run_id = glue.start_workflow_run(Name="etl")["RunId"]
    finished = wait_run(glue, "etl", run_id)
    assert finished["Status"] == "COMPLETED", finished
    # The crawler has a JDBC target, which Weir cannot crawl, so the crawl FAILS;
    # `load` waits for exactly that.
    expect_stats(finished, TotalActions=4, SucceededActions=3, FailedActions=1)


# -- parameters -----------------------------------------------------------------------------
def test_parameter_errors_are_invalid_input(weir, glue):
    simple_blueprint(glue, weir, "params-bp")
    cases = [
        ({"WorkflowName": "w", "Retries": "three"}, "Retries"),
        ({"WorkflowName": 5}, "WorkflowName"),
        ({"Retries": 1}, "WorkflowName"),
        ({"WorkflowName": "w", "Mode": "medium"}, "Mode"),
        ({"WorkflowName": "w", "Unknown": 1}, "Unknown"),
    ]
    for parameters, named in cases:
        err = expect_error("InvalidInputException", glue.start_blueprint_run, BlueprintName="params-bp",
                           Parameters=json.dumps(parameters), RoleArn=ROLE)
        assert named in err.response["Error"]["Message"], (parameters, err.response)
    for not_an_object in ("[1, 2]", '"text"', "not json"):
        err = expect_error("InvalidInputException", glue.start_blueprint_run, BlueprintName="params-bp",
                           Parameters=not_an_object, RoleArn=ROLE)
        assert "JSON object" in err.response["Error"]["Message"]
    expect_error("InvalidInputException", glue.start_blueprint_run, BlueprintName="params-bp", RoleArn=ROLE)
    assert glue.get_blueprint_runs(BlueprintName="params-bp")["BlueprintRuns"] == []
    expect_error("EntityNotFoundException", glue.start_blueprint_run, BlueprintName="nope",
                 Parameters="{}", RoleArn=ROLE)
    expect_error("InvalidInputException", glue.start_blueprint_run, BlueprintName="params-bp",
                 Parameters='{"WorkflowName": "w"}', RoleArn="not-a-role")


def test_an_unregistrable_blueprint_fails_and_cannot_run(weir, glue):
    failed = register(glue, "lost", "s3://nowhere/missing.zip")
    assert failed["Status"] == "FAILED"
    assert failed["ErrorMessage"].startswith("Unable to access object at location s3://nowhere/missing.zip")
    assert "LastActiveDefinition" not in failed
    expect_error("IllegalBlueprintStateException", glue.start_blueprint_run, BlueprintName="lost",
                 Parameters="{}", RoleArn=ROLE)


# -- failures and rollback --------------------------------------------------------------------
def test_a_raising_layout_fails_the_run_with_its_traceback(weir, glue):
    simple_blueprint(glue, weir, "raiser", raise_with="the layout refuses ")
    run = run_blueprint(glue, "raiser", {"WorkflowName": "never"})
    assert run["State"] == "FAILED", run
    assert "ValueError: the layout refuses never" in run["ErrorMessage"]
    assert "generate_layout" in run["ErrorMessage"], "the traceback's last frames are kept"
    # Files are named relative to the archive root and the shipped library's folder.
    assert 'File "simple/layout.py"' in run["ErrorMessage"], run["ErrorMessage"]
    assert str(weir.data_dir.resolve()) not in run["ErrorMessage"]
    assert str(weir.data_dir) not in run["ErrorMessage"]
    assert "WorkflowName" not in run and "RollbackErrorMessage" not in run
    expect_error("EntityNotFoundException", glue.get_workflow, Name="never")
    assert glue.list_jobs()["JobNames"] == []


def test_colliding_entities_fail_the_run_and_everything_created_is_removed(weir, glue):
    extra = """\
    later = Job(Name="later", Role="r", Command={"Name": "pythonshell", "ScriptLocation": "s3://b/y.py"},
                DependsOn={only: "SUCCEEDED"})
    crawlers.append(Crawler(Name="look", Role="r", Targets={"S3Targets": [{"Path": "s3://b/d"}]}))
    jobs.append(later)
"""
    simple_blueprint(glue, weir, "clasher", extra_jobs=extra)
    glue.create_job(Name="pre", Role="r", Command={"Name": "pythonshell", "ScriptLocation": "s3://b/p.py"})
    glue.create_trigger(Name="clash_starting_trigger", Type="ON_DEMAND", Actions=[{"JobName": "pre"}])
    glue.create_workflow(Name="taken", Description="mine")

    run = run_blueprint(glue, "clasher", {"WorkflowName": "clash"})
    assert run["State"] == "FAILED", run
    assert "CreateTrigger clash_starting_trigger" in run["ErrorMessage"]
    assert "AlreadyExistsException" in run["ErrorMessage"]
    assert run["WorkflowName"] == "clash" and "RollbackErrorMessage" not in run
    expect_error("EntityNotFoundException", glue.get_workflow, Name="clash")
    assert glue.list_jobs()["JobNames"] == ["pre"]
    assert glue.list_crawlers()["CrawlerNames"] == []
    assert [t["Name"] for t in glue.get_triggers()["Triggers"]] == ["clash_starting_trigger"]
    assert glue.get_trigger(Name="clash_starting_trigger")["Trigger"]["Actions"] == [{"JobName": "pre"}]

    run = run_blueprint(glue, "clasher", {"WorkflowName": "taken"})
    assert run["State"] == "FAILED" and "CreateWorkflow taken" in run["ErrorMessage"], run
    assert "WorkflowName" not in run, "no workflow was created"
    assert glue.get_workflow(Name="taken")["Workflow"]["Description"] == "mine"
    assert glue.list_jobs()["JobNames"] == ["pre"]


def test_a_run_interrupted_by_a_crash_fails_after_the_restart(weir, tmp_path):
    glue = weir.client()
    started, gate = tmp_path / "started", tmp_path / "gate"
    wait = f"""\
    import os, time
    open({str(started)!r}, "w").close()
    while not os.path.exists({str(gate)!r}):
        time.sleep(0.05)
"""
    simple_blueprint(glue, weir, "slow", extra_jobs=wait)
    run_id = glue.start_blueprint_run(BlueprintName="slow", Parameters='{"WorkflowName": "wc"}',
                                      RoleArn=ROLE)["RunId"]
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the layout generator never started"
        time.sleep(0.05)
    assert glue.get_blueprint_run(BlueprintName="slow", RunId=run_id)["BlueprintRun"]["State"] == "RUNNING"
    weir.kill9()
    try:
        weir.restart()
        glue = weir.client()
        run = glue.get_blueprint_run(BlueprintName="slow", RunId=run_id)["BlueprintRun"]
        assert run["State"] == "FAILED", run
        assert "Weir stopped while this blueprint run was in progress" in run["ErrorMessage"]
        expect_error("EntityNotFoundException", glue.get_workflow, Name="wc")
    finally:
        gate.write_text("go")  # lets the orphaned generator finish
    assert run_blueprint(glue, "slow", {"WorkflowName": "after"})["State"] == "SUCCEEDED"


# -- a moved data directory -------------------------------------------------------------------
def other_user():
    """(user, python, why): when running as root, `nobody` and a Python interpreter it can
    run, so a moved data directory can be served by another user; else (None,
    sys.executable, the reason that is not possible)."""
    if os.geteuid() != 0:
        return None, sys.executable, "not running as root"
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return None, sys.executable, "there is no user nobody"

    def runs(*command) -> bool:
        try:
            done = subprocess.run(command, user="nobody", group=pwd.getpwnam("nobody").pw_gid,
                                  extra_groups=[], capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    if not runs(str(weir_bin()), "--version"):
        return None, sys.executable, f"nobody cannot run {weir_bin()}"
    for python in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if python and runs(python, "-c", "import json, importlib"):
            return "nobody", python, ""
    return None, sys.executable, "nobody can run no Python interpreter"


def test_a_moved_data_directory_keeps_its_blueprints_working(weir, glue, tmp_path):
    """The data directory is relocatable: stop the server, move the whole directory (and,
    as root, hand it to `nobody`, who then runs the server), start on the new path: the
    blueprint registered before runs again and the workflows it made run their job."""
    simple_blueprint(glue, weir, "mover")
    put_s3(weir, "b", "x.py", "print('hello from the moved job')\n")
    assert run_blueprint(glue, "mover", {"WorkflowName": "before"})["State"] == "SUCCEEDED"
    before = glue.get_blueprint(Name="mover", IncludeBlueprint=True)["Blueprint"]
    assert pathlib.Path(before["BlueprintServiceLocation"]).is_relative_to(weir.data_dir.resolve())
    assert weir.terminate() == 0
    # The store names no path of the data directory (archive copies are recorded
    # relative to it).
    for spelling in {str(weir.data_dir), str(weir.data_dir.resolve())}:
        for database in weir.data_dir.glob("weir.db*"):
            named = spelling.encode() in database.read_bytes()
            assert not named, f"{database.name} names the data directory {spelling}"

    user, python, why = other_user()
    if user is None:
        warnings.warn(f"the moved data directory is served by the same user: {why}")
    # Outside tmp_path, whose parents only root may enter.
    moved_root = pathlib.Path(tempfile.mkdtemp(prefix="weir-moved-"))
    try:
        moved = moved_root / "data"
        shutil.move(weir.data_dir, moved)
        assert not weir.data_dir.exists()
        if user is not None:
            for path in [moved_root, *moved_root.rglob("*")]:
                shutil.chown(path, user, pwd.getpwnam(user).pw_gid)
        server = WeirServer(moved, tmp_path / "moved.log", extra_args=["--python", python],
                            user=user)
        server.start()
        try:
            glue = server.client()
            after = glue.get_blueprint(Name="mover", IncludeBlueprint=True)["Blueprint"]
            location = pathlib.Path(after["BlueprintServiceLocation"])
            assert location.is_relative_to(moved.resolve()) and location.is_file(), after
            run = run_blueprint(glue, "mover", {"WorkflowName": "after"})
            assert run["State"] == "SUCCEEDED", run
            for workflow in ("before", "after"):
                run_id = glue.start_workflow_run(Name=workflow)["RunId"]
                finished = wait_run(glue, workflow, run_id)
                expect_stats(finished, TotalActions=1, SucceededActions=1)
                job = next(n for n in finished["Graph"]["Nodes"] if n["Type"] == "JOB")
                stdout = moved / "job-runs" / job["JobDetails"]["JobRuns"][0]["Id"] / "stdout"
                assert stdout.read_text() == "hello from the moved job\n"
                if user is not None:
                    assert stdout.stat().st_uid == pwd.getpwnam(user).pw_uid, "the job ran as nobody"
        finally:
            server.stop()
            sys.stderr.write("---- moved weir log ----\n" + server.log_text()[-20000:])
    finally:
        shutil.rmtree(moved_root, ignore_errors=True)


# -- updates ----------------------------------------------------------------------------------
def test_a_blueprint_being_registered_cannot_be_updated_or_run(weir, glue):
    # A FIFO as the published object keeps the registration waiting until written to.
    fifo = weir.data_dir / "s3" / "bp" / "pipe.zip"
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    glue.create_blueprint(Name="busy", BlueprintLocation="s3://bp/pipe.zip")
    try:
        assert glue.get_blueprint(Name="busy")["Blueprint"]["Status"] == "CREATING"
        expect_error("IllegalBlueprintStateException", glue.update_blueprint, Name="busy",
                     BlueprintLocation="s3://bp/other.zip")
        expect_error("IllegalBlueprintStateException", glue.start_blueprint_run, BlueprintName="busy",
                     Parameters="{}", RoleArn=ROLE)
    finally:
        open(fifo, "wb").close()  # releases the registration, which finds no regular file
    failed = wait_blueprint(glue, "busy")
    assert failed["Status"] == "FAILED" and "s3://bp/pipe.zip" in failed["ErrorMessage"], failed


def test_a_failed_update_keeps_the_last_good_definition_for_runs(weir, glue):
    v1 = put_s3(weir, "bp", "v1.zip", layout_archive("simple", SIMPLE_SPEC, simple_layout("v1")))
    first = register(glue, "versions", v1, Description="first")
    assert first["Status"] == "ACTIVE"
    # The registered copy is Weir's: changing the published object changes nothing.
    put_s3(weir, "bp", "v1.zip", b"overwritten")
    assert run_blueprint(glue, "versions", {"WorkflowName": "w1"})["State"] == "SUCCEEDED"
    assert glue.get_workflow(Name="w1")["Workflow"]["Description"] == "v1"

    broken = put_s3(weir, "bp", "broken.zip", zip_bytes({"simple/layout.py": "x = 1\n"}))
    glue.update_blueprint(Name="versions", BlueprintLocation=broken, Description="second")
    failed = wait_blueprint(glue, "versions")
    assert failed["Status"] == "FAILED" and "blueprint.cfg" in failed["ErrorMessage"], failed
    assert failed["BlueprintLocation"] == broken and failed["Description"] == "second"
    last = failed["LastActiveDefinition"]
    assert last["BlueprintLocation"] == v1 and last["Description"] == "first"
    assert last["ParameterSpec"] == first["ParameterSpec"]
    assert last["BlueprintServiceLocation"] == first["BlueprintServiceLocation"]
    plain = glue.get_blueprint(Name="versions")["Blueprint"]
    assert "ParameterSpec" not in plain["LastActiveDefinition"]
    assert "BlueprintServiceLocation" not in plain["LastActiveDefinition"]

    run = run_blueprint(glue, "versions", {"WorkflowName": "w2"})
    assert run["State"] == "SUCCEEDED", run
    assert glue.get_workflow(Name="w2")["Workflow"]["Description"] == "v1"

    v2 = put_s3(weir, "bp", "v2.zip", layout_archive("simple", SIMPLE_SPEC, simple_layout("v2")))
    glue.update_blueprint(Name="versions", BlueprintLocation=v2)
    good = wait_blueprint(glue, "versions")
    assert good["Status"] == "ACTIVE" and "LastActiveDefinition" not in good, good
    assert good["Description"] == "second" and "ErrorMessage" not in good
    assert run_blueprint(glue, "versions", {"WorkflowName": "w3"})["State"] == "SUCCEEDED"
    assert glue.get_workflow(Name="w3")["Workflow"]["Description"] == "v2"
    expect_error("EntityNotFoundException", glue.update_blueprint, Name="nope", BlueprintLocation=v2)


# -- hostile archives -------------------------------------------------------------------------
def hostile(entry: zipfile.ZipInfo, content: bytes) -> bytes:
    good = layout_archive("simple", SIMPLE_SPEC, simple_layout())
    buffer = io.BytesIO(good)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(entry, content)
    return buffer.getvalue()


def test_hostile_archives_are_rejected_without_writing_outside(weir, glue):
    traversal = zipfile.ZipInfo("../../escaped.py")
    link = zipfile.ZipInfo("simple/link")
    link.external_attr = (0o120777 << 16)
    bomb = zipfile.ZipInfo("simple/bomb.bin")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    cases = [
        ("traversal", hostile(traversal, b"print('escaped')"), "outside the extraction folder"),
        ("absolute", hostile(zipfile.ZipInfo("/tmp/weir-escaped.py"), b"x"), "outside the extraction folder"),
        ("link", hostile(link, b"/etc/passwd"), "symbolic link"),
        ("bomb", hostile(bomb, bytes(64 * 1024 * 1024)), "5 MB"),
        ("large", zip_bytes({"simple/big.bin": os.urandom(1100 * 1024)}, zipfile.ZIP_STORED), "1 MB"),
    ]
    for name, archive, message in cases:
        assert len(archive) < 2 * 1024 * 1024
        blueprint = register(glue, name, put_s3(weir, "bp", f"{name}.zip", archive))
        assert blueprint["Status"] == "FAILED", blueprint
        assert message in blueprint["ErrorMessage"], blueprint
    found = [p for p in weir.data_dir.parent.rglob("escaped.py")]
    assert found == [] and not os.path.exists("/tmp/weir-escaped.py")
    assert list(weir.data_dir.rglob("bomb.bin")) == [], "the bomb was never inflated to disk"


# -- the API around it ------------------------------------------------------------------------
def test_get_list_batch_delete_and_run_history(weir, glue):
    location = put_s3(weir, "bp", "s.zip", layout_archive("simple", SIMPLE_SPEC, simple_layout(raise_with="no ")))
    for name, tags in (("alpha", {"team": "x"}), ("beta", {}), ("gamma", {"team": "x", "env": "p"})):
        register(glue, name, location, Tags=tags, Description=f"{name} blueprint")
    expect_error("AlreadyExistsException", glue.create_blueprint, Name="alpha", BlueprintLocation=location)
    expect_error("InvalidInputException", glue.create_blueprint, Name="bad name!", BlueprintLocation=location)
    expect_error("InvalidInputException", glue.create_blueprint, Name="x", BlueprintLocation="https://x/y.zip")
    expect_error("EntityNotFoundException", glue.get_blueprint, Name="n" * 200)

    plain = glue.get_blueprint(Name="alpha")["Blueprint"]
    assert plain["Status"] == "ACTIVE" and plain["Description"] == "alpha blueprint"
    assert plain["BlueprintLocation"] == location and plain["CreatedOn"] <= plain["LastModifiedOn"]
    assert "ParameterSpec" not in plain and "BlueprintServiceLocation" not in plain
    assert glue.list_blueprints(Tags={"team": "x"})["Blueprints"] == ["alpha", "gamma"]
    gamma_arn = "arn:aws:glue:us-east-1:123456789012:blueprint/gamma"
    assert glue.get_tags(ResourceArn=gamma_arn)["Tags"] == {"team": "x", "env": "p"}
    names, token = [], None
    while True:
        page = glue.list_blueprints(MaxResults=1, **({"NextToken": token} if token else {}))
        names += page["Blueprints"]
        token = page.get("NextToken")
        if not token:
            break
    assert names == ["alpha", "beta", "gamma"]
    batch = glue.batch_get_blueprints(Names=["alpha", "nope"], IncludeParameterSpec=True)
    assert [b["Name"] for b in batch["Blueprints"]] == ["alpha"] and batch["MissingBlueprints"] == ["nope"]
    assert json.loads(batch["Blueprints"][0]["ParameterSpec"])["Mode"]["defaultValue"] == "fast"

    run_ids = [run_blueprint(glue, "alpha", {"WorkflowName": f"h{i}"})["RunId"] for i in range(3)]
    first = glue.get_blueprint_runs(BlueprintName="alpha", MaxResults=2)
    second = glue.get_blueprint_runs(BlueprintName="alpha", MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in second
    listed = first["BlueprintRuns"] + second["BlueprintRuns"]
    assert [r["RunId"] for r in listed] == run_ids[::-1], "newest first"
    assert all(r["State"] == "FAILED" and r["Parameters"] for r in listed)
    expect_error("EntityNotFoundException", glue.get_blueprint_run, BlueprintName="alpha", RunId="nope")
    expect_error("EntityNotFoundException", glue.get_blueprint_runs, BlueprintName="nope")

    assert glue.delete_blueprint(Name="alpha")["Name"] == "alpha"
    assert glue.delete_blueprint(Name="alpha")["Name"] == "alpha"
    expect_error("EntityNotFoundException", glue.get_blueprint, Name="alpha")
    expect_error("EntityNotFoundException", glue.get_blueprint_run, BlueprintName="alpha", RunId=run_ids[0])
    assert glue.list_blueprints()["Blueprints"] == ["beta", "gamma"]


# -- the awsglue.blueprint library (spec §9.5) -------------------------------------------------
COMMAND = {"Name": "pythonshell", "ScriptLocation": "s3://b/s.py"}


def test_library_layout_json_is_exactly_what_the_public_library_emits():
    a = Job(Name="a", Role="r", Command=COMMAND, Description="ignored", description="kept", MaxRetries=0,
            DefaultArguments={}, Nonsense=1)
    c = Crawler(Name="c", Role="r", Targets={"JDBCTargets": [{"ConnectionName": "x", "Path": "p"}]},
                Grouping={"x": 1}, RecrawlPolicy={"y": 2}, DependsOn={a: "FAILED"})
    b = Job(Name="b", Role="r", Command=COMMAND, DependsOn={a: "SUCCEEDED", c: "SUCCEEDED"},
            WaitForDependencies="ANY")
    layout = Workflow(Name="w", Entities=Entities(Jobs=[a, b], Crawlers=[c])).to_json("s1")
    assert layout == {
        "Workflow": {"Name": "w", "Description": None, "DefaultRunProperties": None, "Tags": None},
        "Crawlers": [{"Name": "c_s1", "Role": "r", "Targets": {"JDBCTargets": [{"ConnectionName": "x", "Path": "p"}]}}],
        "Jobs": [{"Name": "a_s1", "Description": "kept", "Role": "r", "Command": COMMAND},
                 {"Name": "b_s1", "Role": "r", "Command": COMMAND}],
        "Triggers": [
            {"WorkflowName": "w", "Type": "CONDITIONAL", "Name": "w_c_s1_trigger",
             "Predicate": {"Conditions": [{"LogicalOperator": "EQUALS", "JobName": "a_s1", "State": "FAILED"}]},
             "StartOnCreation": True, "Actions": [{"CrawlerName": "c_s1"}]},
            {"WorkflowName": "w", "Type": "CONDITIONAL", "Name": "w_b_s1_trigger",
             "Predicate": {"Conditions": [
                 {"LogicalOperator": "EQUALS", "JobName": "a_s1", "State": "SUCCEEDED"},
                 {"LogicalOperator": "EQUALS", "CrawlerName": "c_s1", "CrawlState": "SUCCEEDED"}],
                 "Logical": "ANY"},
             "StartOnCreation": True, "Actions": [{"JobName": "b_s1"}]},
            {"WorkflowName": "w", "Name": "w_starting_trigger", "Actions": [{"JobName": "a_s1"}],
             "Type": "ON_DEMAND"},
        ],
    }


def test_library_schedules_suffixes_and_errors():
    only = Job(Name="j", Role="r", Command=COMMAND)
    scheduled = Workflow(Name="w", Entities=Entities(Jobs=[only]), OnSchedule="cron(0 12 * * ? *)",
                         Tags={"t": "v"}).to_json()
    assert scheduled["Jobs"][0]["Name"] == "j_", "the default suffix is empty"
    assert scheduled["Workflow"]["Tags"] == {"t": "v"}
    assert scheduled["Triggers"] == [{"WorkflowName": "w", "Name": "w_starting_trigger",
                                      "Actions": [{"JobName": "j_"}], "Type": "SCHEDULED",
                                      "Schedule": "cron(0 12 * * ? *)", "StartOnCreation": True}]
    empty = Workflow(Name="w", Entities=Entities(Jobs=[], Crawlers=[])).to_json("x")
    assert empty["Triggers"] == [{"WorkflowName": "w", "Name": "w_starting_trigger", "Actions": [],
                                  "Type": "ON_DEMAND"}]
    failures = [
        (lambda: Job(Name=1, Role="r", Command=COMMAND), "should be of type"),
        (lambda: Job(Name="j", Role="r", Command=COMMAND, MaxCapacity=2), "should be of type"),
        (lambda: Job(Name="j", Role="r", Command={"Name": "spark", "ScriptLocation": "s"}), "Command.Name"),
        (lambda: Job(Name="j", Role="r", Command={"Name": "glueetl"}), "ScriptLocation"),
        (lambda: Job(Name="j", Role="r", Command=COMMAND, WorkerType="G.8X"), "WorkerType"),
        (lambda: Job(Name="j").validate(), "Required Fields for Job were missing: ['Role', 'Command']"),
        (lambda: Crawler(Name="c", Role="r", Targets={"S3Targets": [{}]}), "Path"),
        (lambda: Crawler(Name="c", Role="r", Targets={}, SchemaChangePolicy={"DeleteBehavior": "X"}),
         "DeleteBehavior"),
        (lambda: Workflow(Entities=Entities(Jobs=[])).to_json(), "Required Workflow Fields were missing"),
        (lambda: Workflow(Name="w", Entities=Entities(Jobs=[
            Job(Name="j", Role="r", Command=COMMAND, DependsOn={"not an entity": "SUCCEEDED"})])).to_json(),
         "Dependencies must be of type Job or Crawler"),
    ]
    for make, message in failures:
        try:
            make()
        except TypeError as error:
            assert message in str(error), (message, str(error))
        else:
            raise AssertionError(f"expected TypeError mentioning {message!r}")
