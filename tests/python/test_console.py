"""The web console (/console) and the Prometheus metrics (/metrics), fetched with urllib
like a browser or a scraper would: no signature, plain GETs (the console's after signing
in with the development pair; test_console_browser*.py drive it in a real browser)."""

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

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

WORKFLOW = "console <demo> & co"


_SESSIONS = {}


def signed_in(weir):
    """An opener holding a console session of the development pair on this server."""
    opener = _SESSIONS.get(weir.endpoint)
    if opener is None:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        with opener.open(weir.endpoint + "/console/sign-in", timeout=30) as response:
            page = response.read().decode()
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"csrf": csrf, "access_key_id": "test", "secret_access_key": "test",
             "region": "us-east-1"}
        ).encode()
        with opener.open(weir.endpoint + "/console/sign-in", data=form, timeout=30) as response:
            assert response.url.endswith("/console"), response.url
        _SESSIONS[weir.endpoint] = opener
    return opener


def get(weir, path, method="GET"):
    """(status, lower-case headers, body text) of a plain HTTP request; console pages
    are fetched signed in."""
    request = urllib.request.Request(weir.endpoint + path, method=method)
    opener = signed_in(weir) if path.startswith("/console") else urllib.request.build_opener()
    try:
        with opener.open(request, timeout=30) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    return status, {k.lower(): v for k, v in headers.items()}, body.decode("utf-8", "replace")


def get_unsigned(weir, path):
    """(status, headers, body) of a GET without a session (redirects followed)."""
    try:
        with urllib.request.urlopen(weir.endpoint + path, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def quote(name):
    return urllib.parse.quote(name, safe="")


def node_class(svg, name):
    """The class attribute of the SVG node whose data-name is `name` (HTML-escaped)."""
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    match = re.search(r'<g class="([^"]*)" data-name="' + re.escape(escaped) + '"', svg)
    assert match, f"no node {name!r} in {svg[:2000]}"
    return match.group(1)


def run_demo(glue, scripts):
    """extract (succeeds) → load<1> (fails) → report (never runs)."""
    create_job(glue, "extract", scripts.write("extract", 'print("hello from extract")'))
    create_job(
        glue,
        "load<1>",
        scripts.write("load", 'sys.stderr.write("load <broke>\\n"); sys.exit(3)'),
    )
    create_job(glue, "report", scripts.write("report", 'print("report")'))
    glue.create_workflow(Name=WORKFLOW, Description="<b>not bold</b>")
    start_trigger(glue, "go", WORKFLOW, ["extract"])
    conditional_trigger(glue, "then-load", WORKFLOW, [("extract", "SUCCEEDED")], ["load<1>"])
    conditional_trigger(glue, "then-report", WORKFLOW, [("load<1>", "SUCCEEDED")], ["report"])
    run_id = glue.start_workflow_run(Name=WORKFLOW)["RunId"]
    run = wait_run(glue, WORKFLOW, run_id)
    assert run["Status"] == "COMPLETED", run
    return run


def test_console_pages_draw_graphs_and_states(weir, glue, scripts):
    run = run_demo(glue, scripts)
    run_id = run["WorkflowRunId"]

    # The list: escaped name, link to the workflow page, last run status.
    status, headers, html = get(weir, "/console")
    assert status == 200, html
    assert headers["content-type"].startswith("text/html")
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "console &lt;demo&gt; &amp; co" in html
    assert "<demo>" not in html and "<b>not bold</b>" not in html
    workflow_path = "/console/workflows/" + quote(WORKFLOW)
    assert f'href="{workflow_path}"' in html
    assert "COMPLETED" in html
    assert '<script src="/console/static/console.js"' in html

    # The workflow page: the static graph and the run list.
    status, _, html = get(weir, workflow_path)
    assert status == 200, html
    assert "<svg" in html and "marker-end" in html
    for trigger in ("go", "then-load", "then-report"):
        assert node_class(html, trigger) == "node trigger"
    for job in ("extract", "load<1>", "report"):
        assert node_class(html, job) == "node job static"
    assert html.count('class="edge"') == 5
    run_path = f"{workflow_path}/runs/{run_id}"
    assert f'href="{run_path}"' in html
    assert "3 actions: 1 succeeded, 1 failed" in html

    # The run page: nodes coloured by their latest job run, and the job-run table.
    status, _, html = get(weir, run_path)
    assert status == 200, html
    assert node_class(html, "extract") == "node job succeeded"
    assert node_class(html, "load<1>") == "node job failed"
    assert node_class(html, "report") == "node job notrun"
    assert "http-equiv" not in html  # finished runs do not auto-refresh
    extract_id = node_runs(run, "extract")[0]["Id"]
    load_run = node_runs(run, "load<1>")[0]
    assert f'<tr id="{extract_id}">' in html
    assert f'<tr id="{load_run["Id"]}">' in html
    assert "load&lt;1&gt;" in html and "load<1>" not in html
    assert f'href="/console/jobs/extract/runs/{extract_id}/stdout"' in html
    if load_run.get("ErrorMessage"):
        assert load_run["ErrorMessage"].replace("<", "&lt;").replace(">", "&gt;") in html

    # Logs, as text/plain.
    status, headers, text = get(weir, f"/console/jobs/extract/runs/{extract_id}/stdout")
    assert status == 200, text
    assert headers["content-type"].startswith("text/plain")
    assert headers["x-content-type-options"] == "nosniff"
    assert "hello from extract" in text
    status, _, text = get(weir, f"/console/jobs/{quote('load<1>')}/runs/{load_run['Id']}/stderr")
    assert status == 200 and "load <broke>" in text


def test_console_refuses_what_it_does_not_know(weir, glue):
    glue.create_workflow(Name="empty")
    status, _, html = get(weir, "/console/workflows/empty")
    assert status == 200 and "graph is empty" in html and "No runs." in html

    missing = [
        "/console/workflows/nope",
        "/console/workflows/empty/runs/wr_" + "0" * 64,
        "/console/workflows/nope/runs/wr_" + "0" * 64,
        "/console/jobs/nope/runs/jr_" + "0" * 64 + "/stdout",  # valid id, no such run
        "/console/jobs/nope/runs/jr_" + "0" * 64 + "/pid",
        "/console/jobs/nope/runs/jr_..%2F..%2F..%2Fetc/stdout",
        "/console/jobs/nope/runs/..%2F..%2Fweir.db/stdout",
        "/console/jobs/nope/runs/jr_" + "0" * 63 + "G/stdout",
    ]
    for path in missing:
        status, headers, body = get(weir, path)
        assert status == 404, (path, status, body[:300])
        assert headers["content-type"].startswith("text/html")
    status, _, _ = get(weir, "/console/workflows/empty?before=garbage")
    assert status == 400
    # Pages are GET (and HEAD) only; actions are POSTs to their own routes.
    status, _, _ = get(weir, "/console", method="POST")
    assert status == 405
    # Without a session, every page leads to the sign-in page.
    status, _, html = get_unsigned(weir, "/console/workflows/empty")
    assert status == 200 and 'id="access_key_id"' in html


def parse_metrics(text):
    """{'name{labels}': value} of the sample lines of a Prometheus text answer."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        samples[key] = float(value)
    return samples


def metrics(weir):
    status, headers, text = get(weir, "/metrics")
    assert status == 200, text
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    return text, parse_metrics(text)


def test_metrics_count_requests_and_runs(weir, glue, scripts):
    text, before = metrics(weir)
    assert "# TYPE weir_api_requests_total counter" in text
    assert "# TYPE weir_api_request_duration_seconds histogram" in text
    assert before["weir_api_requests_in_flight"] == 0

    glue.create_workflow(Name="counted")
    glue.get_workflow(Name="counted")
    glue.get_workflow(Name="counted")
    try:
        glue.get_workflow(Name="not-there")
    except glue.exceptions.EntityNotFoundException:
        pass
    else:
        raise AssertionError("GetWorkflow of a missing workflow succeeded")

    _, after = metrics(weir)
    ok = 'weir_api_requests_total{operation="GetWorkflow",error_code="none"}'
    enf = 'weir_api_requests_total{operation="GetWorkflow",error_code="EntityNotFoundException"}'
    assert after[ok] == 2
    assert after[enf] == 1
    assert after['weir_api_requests_total{operation="CreateWorkflow",error_code="none"}'] == 1
    count = 'weir_api_request_duration_seconds_count{operation="GetWorkflow"}'
    assert after[count] == 3
    inf = 'weir_api_request_duration_seconds_bucket{operation="GetWorkflow",le="+Inf"}'
    assert after[inf] == 3
    assert after["weir_api_requests_in_flight"] == 0

    # A workflow run: one job succeeds, one fails; the run completes.
    run_demo(glue, scripts)

    def finished():
        _, now = metrics(weir)
        key = 'weir_workflow_runs_finished_total{status="COMPLETED"}'
        return now if now.get(key) == 1 else None

    now = wait_for(finished, "the finished run to be counted")
    assert now['weir_job_runs_finished_total{state="SUCCEEDED"}'] == 1
    assert now['weir_job_runs_finished_total{state="FAILED"}'] == 1
