"""The console without authentication (`--no-auth`): no sign-in, the default account and
region, a warning banner; state-changing POSTs still need the page's CSRF token."""

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from runs_helpers import SERVER_ARGS


@pytest.fixture
def weir_args():
    return ["--no-auth", *SERVER_ARGS]


def fetch(weir, path, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(weir.endpoint + path, data=data, timeout=30) as response:
            return response.status, response.url, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, path, error.read().decode()


def test_an_open_console_needs_no_sign_in_and_says_so(weir, glue):
    glue.create_workflow(Name="open-flow")
    status, url, html = fetch(weir, "/console")
    assert status == 200 and url.endswith("/console")
    assert "open-flow" in html
    assert 'role="alert"' in html and "--no-auth" in html
    assert "Sign out" not in html

    status, _, html = fetch(weir, "/console/workflows/open-flow")
    assert status == 200
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
    status, _, _ = fetch(weir, "/console/workflows/open-flow/start", {"properties": ""})
    assert status == 403
    assert glue.get_workflow_runs(Name="open-flow")["Runs"] == []
    status, url, _ = fetch(weir, "/console/workflows/open-flow/start", {"csrf": csrf, "properties": ""})
    assert status == 200 and "/console/workflows/open-flow/runs/wr_" in url
    assert len(glue.get_workflow_runs(Name="open-flow")["Runs"]) == 1
    # A malformed property line is refused with the reason, and nothing starts.
    status, _, html = fetch(
        weir, "/console/workflows/open-flow/start", {"csrf": csrf, "properties": "novalue"}
    )
    assert status == 400 and "InvalidInputException" in html and "key=value" in html
    assert len(glue.get_workflow_runs(Name="open-flow")["Runs"]) == 1
