"""Sign-in throttling on the server's manual clock: five wrong secrets for an access key
lock that key's sign-ins (429, even with the right secret) until a minute after the
first failure; other keys are not affected; then the right secret signs in."""

import http.client
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from runs_helpers import MANUAL_CLOCK_ARGS


@pytest.fixture
def weir_args():
    return list(MANUAL_CLOCK_ARGS)


def attempt(weir, access_key, secret):
    """(status, page text) of one sign-in through the form, with its own cookies."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(weir.endpoint + "/console/sign-in", timeout=30) as response:
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', response.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "access_key_id": access_key,
                                   "secret_access_key": secret, "region": "us-east-1"})
    try:
        with opener.open(weir.endpoint + "/console/sign-in", data=form.encode(),
                         timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_failed_sign_ins_lock_the_key_for_a_minute(weir):
    for _ in range(5):
        status, page = attempt(weir, "test", "wrong")
        assert status == 401 and "not valid" in page
    status, page = attempt(weir, "test", "test")
    assert status == 429, "the right secret is refused while the key is locked"
    assert "Too many failed sign-ins" in page and "try again in 60 seconds" in page
    assert attempt(weir, "other", "wrong")[0] == 401, "another key is not locked"
    weir.advance_clock(59_000)
    assert attempt(weir, "test", "test")[0] == 429
    weir.advance_clock(1_000)
    status, page = attempt(weir, "test", "test")
    assert status == 200 and "Workflows" in page, "signed in once the minute passed"


def test_sign_in_returns_to_the_page_asked_for(weir):
    """A page asked for without a session sends the person to sign-in and, once signed
    in, back to that page; a `next` naming another host is ignored."""
    weir.client().create_workflow(Name="wanted")
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(weir.endpoint + "/console/workflows/wanted?x=1", timeout=30) as response:
        assert response.url == (weir.endpoint
                                + "/console/sign-in?next=/console/workflows/wanted%3Fx%3D1")
        page = response.read().decode()
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    next_page = re.search(r'name="next" value="([^"]+)"', page).group(1)
    assert next_page == "/console/workflows/wanted?x=1"
    form = {"csrf": csrf, "access_key_id": "test", "secret_access_key": "test",
            "region": "us-east-1", "next": next_page}
    with opener.open(weir.endpoint + "/console/sign-in",
                     data=urllib.parse.urlencode(form).encode(), timeout=30) as response:
        assert response.url == weir.endpoint + "/console/workflows/wanted?x=1"
        assert "wanted" in response.read().decode()

    other = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with other.open(weir.endpoint + "/console/sign-in?next=//evil.example/", timeout=30) as response:
        page = response.read().decode()
    assert 'name="next"' not in page
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    form.update(csrf=csrf, next="https://evil.example/console")
    with other.open(weir.endpoint + "/console/sign-in",
                    data=urllib.parse.urlencode(form).encode(), timeout=30) as response:
        assert response.url == weir.endpoint + "/console", "signed in, to the console's index"


def test_a_form_larger_than_the_edge_accepts_is_refused(weir):
    """Console forms are read within the edge's body limit (10 MiB), like API bodies:
    a larger declared length is answered 413 before the body is read."""
    host, port = urllib.parse.urlsplit(weir.endpoint).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/console/sign-in")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert "larger than the limit" in response.read().decode()
    connection.close()
