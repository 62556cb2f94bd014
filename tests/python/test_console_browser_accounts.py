"""The console in a real browser on a server with two accounts (a credentials file) and
the manual clock: another account's workflows are invisible and answer 404, a POST
without the CSRF token is refused, a session expires on the server's clock (signing in
again returns to the page asked for), and the
timeline and grid of a run with a retry show its states and durations (exact, because
the test moves the clock)."""

import os

import pytest

from browser import browser  # noqa: F401  (fixture)
from runs_helpers import MANUAL_CLOCK_ARGS, create_job, lines, scripts, start_trigger, wait_for, wait_run  # noqa: F401

ALICE = {"access_key_id": "AKIAWEIRALICE", "secret_access_key": "alice-secret", "account_id": "111111111111"}
BOB = {"access_key_id": "AKIAWEIRBOB", "secret_access_key": "bob-secret", "account_id": "222222222222"}
HOUR_MS = 3_600_000


@pytest.fixture
def weir_args(tmp_path):
    path = tmp_path / "credentials.toml"
    text = []
    for entry in (ALICE, BOB):
        text.append("[[credentials]]")
        text += [f'{key} = "{value}"' for key, value in entry.items()]
        text.append("")
    path.write_text("\n".join(text))
    return ["--credentials", str(path), *MANUAL_CLOCK_ARGS]


def client(weir, who):
    return weir.client_as(who["access_key_id"], who["secret_access_key"])


def test_accounts_are_isolated_forms_need_their_token_and_sessions_expire(weir, browser):
    alice, bob = client(weir, ALICE), client(weir, BOB)
    alice.create_workflow(Name="alice-flow")
    bob.create_workflow(Name="bob-flow")
    bob_run = bob.start_workflow_run(Name="bob-flow")["RunId"]

    # A wrong secret is refused on the page.
    browser.sign_in(ALICE["access_key_id"], "not-the-secret")
    assert browser.path() == "/console/sign-in"
    assert "not valid" in browser.text("#refusal")

    browser.sign_in(ALICE["access_key_id"], ALICE["secret_access_key"])
    assert browser.path() == "/console"
    listed = browser.text("main")
    assert "alice-flow" in listed and "bob-flow" not in listed
    assert ALICE["account_id"] in browser.text("header")
    for path in ("/console/workflows/bob-flow", f"/console/workflows/bob-flow/runs/{bob_run}",
                 f"/console/workflows/bob-flow/runs/{bob_run}/timeline",
                 "/console/workflows/bob-flow/grid"):
        assert browser.goto(path)["status"] == 404, path
    # Bob's workflow cannot be started from Alice's session either.
    browser.goto("/console/workflows/alice-flow")
    csrf = browser.attr("#start-run input[name=csrf]", "value")
    assert csrf
    refused = browser.post("/console/workflows/bob-flow/start", {"csrf": csrf, "properties": ""})
    assert refused["status"] == 400 and "EntityNotFoundException" in refused["text"]
    assert bob.get_workflow_runs(Name="bob-flow")["Runs"][0]["WorkflowRunId"] == bob_run
    assert len(bob.get_workflow_runs(Name="bob-flow")["Runs"]) == 1

    # CSRF: without the token, or with another's, the POST is refused and nothing runs.
    for form in ({"properties": ""}, {"csrf": "0" * 64, "properties": ""}):
        answer = browser.post("/console/workflows/alice-flow/start", form)
        assert answer["status"] == 403, answer
    assert alice.get_workflow_runs(Name="alice-flow")["Runs"] == []
    accepted = browser.post("/console/workflows/alice-flow/start", {"csrf": csrf, "properties": ""})
    assert accepted["status"] == 303
    assert len(alice.get_workflow_runs(Name="alice-flow")["Runs"]) == 1

    # The region switcher: another region shows none of this region's workflows.
    browser.goto("/console")
    browser.call("select", selector="header #region", value="eu-west-1")
    browser.click("header form[action='/console/region'] button")
    assert "eu-west-1" in browser.call("eval", expression="document.querySelector('header #region').value")
    assert "alice-flow" not in browser.text("main")
    assert browser.goto("/console/workflows/alice-flow")["status"] == 404

    # Expiry on the server's clock: eight hours later the session is over.
    weir.advance_clock(8 * HOUR_MS + 1)
    answer = browser.goto("/console/workflows/alice-flow")
    assert browser.path() == "/console/sign-in?next=/console/workflows/alice-flow", answer
    assert browser.count("#access_key_id") == 1
    # Signing in again goes back to the page that was asked for.
    browser.fill("#access_key_id", ALICE["access_key_id"])
    browser.fill("#secret_access_key", ALICE["secret_access_key"])
    browser.click("#sign-in")
    assert browser.path() == "/console/workflows/alice-flow"
    assert "alice-flow" in browser.text("h1")


def duration(ms: int) -> str:
    """The console's way of writing a duration (timeline.rs `duration`)."""
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms // 1000}.{ms % 1000 // 100} s"
    return f"{ms // 60_000}m {ms % 60_000 // 1000:02d}s"


def millis(timestamp) -> int:
    return round(timestamp.timestamp() * 1000)


def test_timeline_and_grid_of_a_run_with_a_retry(weir, browser, scripts):
    alice = client(weir, ALICE)
    started = scripts.path("started")
    gate = scripts.path("gate")
    create_job(
        alice,
        "flaky",
        scripts.write(
            "flaky",
            f"""
            append({started!r}, "attempt")
            n = len(open({started!r}).read().split())
            wait_for_file({gate!r} + str(n), 300)
            if n == 1:
                sys.exit("the first attempt fails")
            print("second attempt succeeds")
            """,
        ),
        MaxRetries=1,
    )
    alice.create_workflow(Name="retrying")
    start_trigger(alice, "go", "retrying", ["flaky"])
    run_id = alice.start_workflow_run(Name="retrying")["RunId"]
    # Attempt 0 takes 5 s of the server's clock and fails; attempt 1 takes 7 s.
    wait_for(lambda: os.path.exists(started) and len(lines(started)) == 1, "attempt 0")
    weir.advance_clock(5_000)
    open(gate + "1", "w").close()
    wait_for(lambda: len(lines(started)) == 2, "attempt 1")
    weir.advance_clock(7_000)
    open(gate + "2", "w").close()
    run = wait_run(alice, "retrying", run_id)
    assert run["Status"] == "COMPLETED"
    attempts = alice.get_job_runs(JobName="flaky")["JobRuns"]
    attempts.sort(key=lambda r: r["Attempt"])
    assert [a["JobRunState"] for a in attempts] == ["FAILED", "SUCCEEDED"]
    took = [millis(a["CompletedOn"]) - millis(a["StartedOn"]) for a in attempts]
    assert took == [5_000, 7_000]

    browser.sign_in(ALICE["access_key_id"], ALICE["secret_access_key"])
    browser.goto(f"/console/workflows/retrying/runs/{run_id}/timeline")
    assert browser.count("svg.timeline g.row") == 2
    rows = browser.call(
        "eval",
        expression="[...document.querySelectorAll('tr.timeline-row')].map(r => "
        "[...r.cells].map(c => c.innerText.trim()))",
    )
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        ("flaky", "0", "FAILED", duration(took[0])),
        ("flaky", "1", "SUCCEEDED", duration(took[1])),
    ]
    assert rows[1][6] == duration(millis(attempts[1]["StartedOn"]) - millis(attempts[0]["CompletedOn"]))
    bars = browser.call(
        "eval",
        expression="[...document.querySelectorAll('svg.timeline g.row')].map(g => "
        "[g.dataset.state, g.querySelector('rect.bar').getAttribute('class')])",
    )
    assert bars == [["FAILED", "bar failed"], ["SUCCEEDED", "bar succeeded"]]
    browser.screenshot("timeline")

    # A second run that is stopped, so the grid has two columns of different states.
    second = alice.start_workflow_run(Name="retrying")["RunId"]
    wait_for(lambda: len(lines(started)) == 3, "the second run's attempt")
    alice.stop_workflow_run(Name="retrying", RunId=second)
    wait_run(alice, "retrying", second)

    browser.goto("/console/workflows/retrying/grid")
    cells = browser.call(
        "eval",
        expression="[...document.querySelectorAll('td.cell')].map(c => "
        "[c.dataset.run, c.dataset.node, c.dataset.state, c.dataset.attempts, c.innerText.trim(), "
        "c.classList.contains('succeeded'), c.classList.contains('stopped')])",
    )
    assert cells[0] == [run_id, "flaky", "SUCCEEDED", "2", duration(sum(took)), True, False]
    assert cells[1][:3] == [second, "flaky", "STOPPED"] and cells[1][6] is True
    browser.screenshot("grid")
