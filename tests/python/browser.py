"""A real browser for the console tests: Debian's chromium driven by playwright-core
(npm) through tests/browser/bridge.js, one JSON command per line.

Both are installed by ./scripts/browser-deps.sh (called by ./scripts/test.sh). When they
are missing the browser tests are skipped, unless WEIR_BROWSER_REQUIRED=1 (set by
test.sh), where they fail.

* ``browser``      fixture: a fresh browser (1400 × 900) pointed at the ``weir`` server.
* ``Browser.sign_in(key, secret)``  signs in through the sign-in page.
* ``SCREENSHOTS``  where pages are photographed (tests/browser/screenshots, or
                   $WEIR_SCREENSHOTS).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BROWSER_DIR = ROOT / "tests" / "browser"
BRIDGE = BROWSER_DIR / "bridge.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = pathlib.Path(os.environ.get("WEIR_SCREENSHOTS", BROWSER_DIR / "screenshots"))
# Bound of any one wait in the page (ms); generous for a loaded CI machine.
WAIT_MS = 90_000


class BrowserError(AssertionError):
    """A browser command failed (an element never appeared, a wait ran out, ...)."""


class Browser:
    def __init__(self, endpoint: str, log_path: pathlib.Path):
        self.endpoint = endpoint
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            ["node", str(BRIDGE)],
            cwd=BROWSER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )

    def call(self, op: str, **arguments):
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise BrowserError(f"the browser bridge exited during {op}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise BrowserError(f"{op} {arguments}: {answer['error']}")
        return answer["value"]

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write(json.dumps({"op": "close"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    # -- what a person does ------------------------------------------------------------
    def goto(self, path: str) -> dict:
        return self.call("goto", url=self.endpoint + path)

    def click(self, selector: str) -> str:
        return self.call("click", selector=selector)

    def fill(self, selector: str, value: str) -> None:
        self.call("fill", selector=selector, value=value)

    def text(self, selector: str) -> str:
        return self.call("text", selector=selector)

    def attr(self, selector: str, name: str):
        return self.call("attr", selector=selector, name=name)

    def count(self, selector: str) -> int:
        return self.call("count", selector=selector)

    def path(self) -> str:
        url = self.call("url")
        return url[len(self.endpoint):] if url.startswith(self.endpoint) else url

    def title(self) -> str:
        return self.call("eval", expression="document.querySelector('h1') ? document.querySelector('h1').innerText : ''")

    def wait(self, predicate: str, arg=None, timeout_ms: int = WAIT_MS):
        """Polls the JS function `predicate(arg)` in the page until it is truthy."""
        return self.call("wait", predicate=predicate, arg=arg, timeout=timeout_ms)

    def wait_node_state(self, name: str, state: str) -> None:
        """Waits until the graph node named `name` has the CSS class `state`."""
        self.wait(
            "([name, state]) => [...document.querySelectorAll('svg .node')]"
            ".some(n => n.dataset.name === name && n.classList.contains(state))",
            [name, state],
        )

    def node_classes(self, name: str) -> list[str]:
        return self.call(
            "eval",
            expression="(name) => { const n = [...document.querySelectorAll('svg .node')]"
            ".find(n => n.dataset.name === name); return n ? [...n.classList] : null; }",
            arg=name,
        )

    def click_node(self, name: str) -> None:
        self.call("click", selector=f'svg .node[data-name="{name}"] rect')

    def mark_page(self) -> None:
        """Marks the current document; `page_is_marked` is false after any reload."""
        self.call("eval", expression="window.__weirMark = 'still here'")

    def page_is_marked(self) -> bool:
        return self.call("eval", expression="window.__weirMark === 'still here'")

    def post(self, path: str, form: dict) -> dict:
        """A form POST with the browser's cookies (no redirects followed)."""
        return self.call("post", url=self.endpoint + path, form=form)

    def screenshot(self, name: str) -> pathlib.Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.call("screenshot", path=str(path))
        return path

    def sign_in(self, access_key: str = "test", secret: str = "test", region: str | None = None):
        self.goto("/console")
        assert self.path().startswith("/console/sign-in"), self.path()
        self.fill("#access_key_id", access_key)
        self.fill("#secret_access_key", secret)
        if region:
            self.call("select", selector="#region", value=region)
        self.click("#sign-in")


def browser_available() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (BROWSER_DIR / "node_modules" / "playwright-core" / "package.json").exists():
        return "playwright-core is not installed (run ./scripts/browser-deps.sh)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (run ./scripts/browser-deps.sh)"
    return None


@pytest.fixture
def browser(weir, tmp_path):
    missing = browser_available()
    if missing:
        if os.environ.get("WEIR_BROWSER_REQUIRED") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    b = Browser(weir.endpoint, tmp_path / "browser.log")
    try:
        yield b
    finally:
        b.close()
