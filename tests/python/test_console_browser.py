"""The console in a real browser (Debian's chromium via playwright-core, see browser.py):
what a person sees and does. Sign in with the development pair, start a diamond
workflow with a run property, watch nodes turn green and red without reloading, resume
the failed node from the graph, stop a long run (accounts, CSRF, expiry, the timeline and
the grid are in test_console_browser_accounts.py). Screenshots go to browser.SCREENSHOTS."""

import os
import urllib.parse

from browser import browser  # noqa: F401  (fixture)
from runs_helpers import (  # noqa: F401  (fixtures)
    conditional_trigger,
    create_job,
    node_runs,
    scripts,
    start_trigger,
    wait_for,
    wait_run,
    weir_args,
)

DIAMOND = "diamond"


def quote(name):
    return urllib.parse.quote(name, safe="")


def diamond(glue, scripts):
    """A → (B, C) → D. A waits for the file `go`; C fails until the file `c-fixed` exists."""
    gate, fixed = scripts.path("go"), scripts.path("c-fixed")
    create_job(glue, "A", scripts.write("A", f"wait_for_file({gate!r})"))
    create_job(glue, "B", scripts.write("B", 'print("B done")'))
    create_job(
        glue,
        "C",
        scripts.write("C", f'if not os.path.exists({fixed!r}): sys.exit("C broke")'),
    )
    create_job(glue, "D", scripts.write("D", 'print("D done")'))
    glue.create_workflow(Name=DIAMOND, DefaultRunProperties={"team": "data"})
    start_trigger(glue, "start", DIAMOND, ["A"])
    conditional_trigger(glue, "fan-out", DIAMOND, [("A", "SUCCEEDED")], ["B", "C"])
    conditional_trigger(
        glue, "fan-in", DIAMOND, [("B", "SUCCEEDED"), ("C", "SUCCEEDED")], ["D"]
    )
    return gate, fixed


def run_id_of(path):
    return path.rstrip("/").rsplit("/", 1)[-1]


def test_operate_a_diamond_from_the_page(weir, glue, scripts, browser):
    gate, fixed = diamond(glue, scripts)
    browser.sign_in("test", "test")
    assert browser.path() == "/console", browser.path()
    assert "diamond" in browser.text("table.workflows")

    # The workflow page: the graph fits, and the start form is prefilled from
    # DefaultRunProperties; add a run property and start.
    browser.goto("/console/workflows/" + DIAMOND)
    assert browser.count("svg .node") == 7
    browser.screenshot("workflow")
    prefilled = browser.call("eval", expression="document.querySelector('#run-properties').value")
    assert prefilled.strip() == "team=data"
    browser.fill("#run-properties", "team=data\ncolour=blue")
    browser.click("#start")
    run_path = browser.path()
    assert run_path.startswith(f"/console/workflows/{DIAMOND}/runs/wr_"), run_path
    run_id = run_id_of(run_path)
    properties = glue.get_workflow_run_properties(Name=DIAMOND, RunId=run_id)["RunProperties"]
    assert properties == {"team": "data", "colour": "blue"}
    assert "colour" in browser.text("#facts") and "blue" in browser.text("#facts")

    # Live: A runs; once released, A, B go green and C red without a reload.
    browser.mark_page()
    browser.wait_node_state("A", "running")
    open(gate, "w").close()
    for node in ("A", "B"):
        browser.wait_node_state(node, "succeeded")
    browser.wait_node_state("C", "failed")
    browser.wait("() => document.querySelector('#run-status').innerText.includes('COMPLETED')")
    assert "notrun" in browser.node_classes("D")
    assert browser.page_is_marked(), "the run page reloaded"
    browser.screenshot("run-failed-branch")

    # Resume the failed node, picked on the graph (only attempted nodes are pickable).
    assert browser.count("svg .node.pickable") == 3
    assert "pickable" not in browser.node_classes("D")
    open(fixed, "w").close()
    browser.click_node("C")
    assert "picked" in browser.node_classes("C")
    assert browser.call("eval", expression="[...document.querySelectorAll('input.pick:checked')].length") == 1
    browser.click("#resume-run")
    resumed_path = browser.path()
    resumed_id = run_id_of(resumed_path)
    assert resumed_id != run_id and resumed_path.startswith(f"/console/workflows/{DIAMOND}/runs/")
    browser.mark_page()
    for node in ("C", "D"):
        browser.wait_node_state(node, "succeeded")
    browser.wait("() => document.querySelector('#run-status').innerText.includes('COMPLETED')")
    assert browser.page_is_marked(), "the resumed run page reloaded"
    resumed = glue.get_workflow_run(Name=DIAMOND, RunId=resumed_id, IncludeGraph=True)["Run"]
    assert resumed["Status"] == "COMPLETED"
    assert resumed["PreviousRunId"] == run_id
    assert node_runs(resumed, "D")[-1]["JobRunState"] == "SUCCEEDED"
    browser.screenshot("run")

    # A refusal shows the API's message: resuming from a trigger node.
    trigger_id = next(
        n["UniqueId"] for n in resumed["Graph"]["Nodes"] if n["Type"] == "TRIGGER"
    )
    browser.goto(resumed_path)
    csrf = browser.attr("#resume input[name=csrf]", "value")
    refused = browser.post(resumed_path + "/resume", {"csrf": csrf, "node": trigger_id})
    assert refused["status"] == 400
    assert "InvalidInputException" in refused["text"]


def test_stop_a_long_run_from_the_page(weir, glue, scripts, browser):
    started = scripts.path("started")
    create_job(
        glue,
        "sleeper",
        scripts.write("sleeper", f"append({started!r}, 'up')\nwait_for_file({scripts.path('never')!r}, 3600)"),
    )
    glue.create_workflow(Name="long")
    start_trigger(glue, "go", "long", ["sleeper"])
    browser.sign_in()
    browser.goto("/console/workflows/long")
    browser.click("#start")
    run_id = run_id_of(browser.path())
    browser.mark_page()
    browser.wait_node_state("sleeper", "running")
    wait_for(lambda: os.path.exists(started), "the job to start")
    browser.click("button.stop")
    browser.wait("() => document.querySelector('#run-status').innerText.includes('STOPPED')")
    browser.wait_node_state("sleeper", "stopped")
    run = glue.get_workflow_run(Name="long", RunId=run_id)["Run"]
    assert run["Status"] == "STOPPED"


def test_jobs_triggers_crawlers_and_run_properties_from_the_page(weir, glue, scripts, browser):
    out = scripts.path("out")
    create_job(glue, "echo", scripts.write("echo", f'append({out!r}, ARGS.get("--who", "?"))'))
    create_job(
        glue, "nap", scripts.write("nap", f"wait_for_file({scripts.path('never')!r}, 3600)")
    )
    glue.create_workflow(Name="props")
    start_trigger(glue, "go", "props", ["nap"])
    conditional_trigger(glue, "after", "props", [("nap", "SUCCEEDED")], ["echo"])
    glue.create_crawler(Name="nodb", Role="local", Targets={"S3Targets": [{"Path": "s3://empty/"}]})
    browser.sign_in()

    # A job run with an argument, followed on the job page without a reload.
    browser.goto("/console/jobs/echo")
    browser.fill("#arguments", "--who=console")
    browser.click("#start-job-run")
    assert browser.path() == "/console/jobs/echo"
    browser.mark_page()
    browser.wait("() => document.querySelector('#job-page-runs .badge.succeeded') !== null")
    assert browser.page_is_marked()
    assert open(out).read().split() == ["console"]

    # A job run's log follows live on its page.
    create_job(
        glue,
        "talker",
        scripts.write(
            "talker",
            f"""
            print("first line", flush=True)
            wait_for_file({scripts.path('talk')!r})
            print("second line", flush=True)
            """,
        ),
    )
    browser.goto("/console/jobs/talker")
    browser.click("#start-job-run")
    browser.wait("() => document.querySelector('#job-page-runs a[href$=\"/stdout\"]') !== null")
    follow = browser.attr("#job-page-runs a:text('follow')", "href")
    browser.goto(follow)
    browser.mark_page()
    browser.wait("() => document.querySelector('#stdout').innerText.includes('first line')")
    assert "second line" not in browser.text("#stdout")
    # The lines are CloudWatch Logs' (the stream a GetLogEvents call reads).
    assert "/aws-glue/python-jobs/output" in browser.text("#job-run")
    open(scripts.path("talk"), "w").close()
    browser.wait("() => document.querySelector('#stdout').innerText.includes('second line')")
    browser.wait("() => document.querySelector('#job-run .badge.succeeded') !== null")
    assert browser.page_is_marked()

    # A long job run, stopped from its page.
    browser.goto("/console/jobs/nap")
    browser.click("#start-job-run")
    browser.wait("() => document.querySelector('#job-page-runs button.stop') !== null")
    browser.click("#job-page-runs button.stop")
    browser.wait("() => document.querySelector('#job-page-runs .badge.stopped') !== null")
    states = [r["JobRunState"] for r in glue.get_job_runs(JobName="nap")["JobRuns"]]
    assert states == ["STOPPED"] or states == ["STOPPING"], states

    # Triggers: deactivate and activate from the workflow page.
    browser.goto("/console/workflows/props")
    assert browser.text("tr[data-trigger=after] td.state") == "ACTIVATED"
    browser.click("tr[data-trigger=after] button")
    assert browser.text("tr[data-trigger=after] td.state") == "DEACTIVATED"
    assert glue.get_trigger(Name="after")["Trigger"]["State"] == "DEACTIVATED"
    browser.click("tr[data-trigger=after] button")
    assert glue.get_trigger(Name="after")["Trigger"]["State"] == "ACTIVATED"

    # Run properties edited while the run runs; then the run is stopped.
    browser.click("#start")
    run_id = browser.path().rsplit("/", 1)[-1]
    browser.wait("() => document.querySelector('#edit-properties') !== null")
    browser.fill("#edit-properties textarea", "stage=two")
    browser.click("#save-properties")
    assert glue.get_workflow_run_properties(Name="props", RunId=run_id)["RunProperties"] == {
        "stage": "two"
    }
    browser.wait("() => document.querySelector('#facts').innerText.includes('stage')")
    browser.click("button.stop")
    wait_run(glue, "props", run_id)

    # Crawlers: start one (its crawl fails: no database), and a refused stop shows the
    # API's error.
    browser.goto("/console/crawlers")
    browser.click("tr[data-crawler=nodb] button")
    wait_for(
        lambda: glue.get_crawler(Name="nodb")["Crawler"].get("LastCrawl", {}).get("Status") == "FAILED",
        "the crawl to fail",
    )
    browser.goto("/console/crawlers")
    assert "FAILED" in browser.text("tr[data-crawler=nodb]")
    csrf = browser.attr("tr[data-crawler=nodb] input[name=csrf]", "value")
    refused = browser.post("/console/crawlers/nodb/stop", {"csrf": csrf})
    assert refused["status"] == 400 and "CrawlerNotRunningException" in refused["text"]
