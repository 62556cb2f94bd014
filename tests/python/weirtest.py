"""Harness for the Python conformance tests: run the real `weir` binary, talk to it with
boto3, the AWS CLI, and hand-built SigV4-signed HTTP requests.

The fixtures in conftest.py wrap these; tests import the helpers (expect_error, ...)
from here.
"""

from __future__ import annotations

import json
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from unittest import mock

import boto3
import botocore.auth
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ROOT = pathlib.Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
ACCOUNT_ID = "123456789012"

STARTUP_DEADLINE = 30.0
SHUTDOWN_DEADLINE = 15.0
EXCHANGE_DEADLINE = 60.0


@dataclass
class Signer:
    """How `WeirServer.raw` signs: the development pair, us-east-1, service glue and the
    current time by default; `when` (an aware datetime) pins the signing time."""

    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    session_token: str | None = None
    service: str = "glue"
    region: str = REGION
    when: object = None

    def add_auth(self, request: AWSRequest) -> None:
        credentials = Credentials(self.access_key, self.secret_key, self.session_token)
        signer = SigV4Auth(credentials, self.service, self.region)
        if self.when is None:
            signer.add_auth(request)
        else:
            with mock.patch.object(botocore.auth, "get_current_datetime", lambda: self.when):
                signer.add_auth(request)


def workflow_arn(name: str) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:workflow/{name}"


def isolate_aws_environment() -> None:
    """Make boto3 and the CLI ignore the developer's ~/.aws and AWS_* settings."""
    for key in list(os.environ):
        if key.startswith("AWS_"):
            del os.environ[key]
    os.environ.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
    )


def weir_bin() -> pathlib.Path:
    if os.environ.get("WEIR_BIN"):
        path = pathlib.Path(os.environ["WEIR_BIN"])
    else:
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        path = target / "debug" / "weir"
    if not path.is_file():
        pytest.fail(
            f"weir binary not found at {path}: run `cargo build -p weir-server` "
            "(./scripts/test.sh does) or set WEIR_BIN",
            pytrace=False,
        )
    return path


def client_config(**overrides) -> Config:
    """botocore config for tests: no retries, bounded timeouts."""
    settings = dict(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    settings.update(overrides)
    return Config(**settings)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)

    def error_code(self) -> str:
        return sanitize_error_code(self.json()["__type"])

    def assert_error(self, code: str | None, statuses=(400,)) -> str:
        """An AWS JSON error: expected status, `__type` (== code when given), non-empty
        Message, x-amzn-ErrorType agreeing with __type, and an x-amzn-RequestId."""
        text = self.body.decode("utf-8", "replace")
        assert self.status in statuses, f"status {self.status} not in {statuses}: {text}"
        try:
            body = self.json()
        except ValueError:
            pytest.fail(f"error body is not JSON: {text!r}")
        assert isinstance(body, dict) and isinstance(body.get("__type"), str), text
        found = sanitize_error_code(body["__type"])
        assert found, text
        if code is not None:
            assert found == code, text
        message = body.get("Message", body.get("message"))
        assert isinstance(message, str) and message, f"no Message: {text}"
        assert "x-amzn-errortype" in self.headers, f"no x-amzn-ErrorType header: {self.headers}"
        assert sanitize_error_code(self.headers["x-amzn-errortype"]) == found
        assert self.headers.get("x-amzn-requestid"), "no x-amzn-RequestId on an error answer"
        return found


def sanitize_error_code(raw: str) -> str:
    """How botocore/smithy-rs read `__type`: cut at ':', keep the text after the last '#'."""
    return raw.split(":", 1)[0].rsplit("#", 1)[-1]


def postgres_base_url() -> str | None:
    """`WEIR_TEST_STORE`: when set, a PostgreSQL URL (postgres://user@host:port/db) on
    whose server every WeirServer keeps its store, in a fresh database of its own
    (scripts/test.sh sets it for its PostgreSQL pass). Unset: SQLite in the data dir."""
    url = os.environ.get("WEIR_TEST_STORE")
    if url and not url.startswith(("postgres://", "postgresql://")):
        pytest.fail(f"WEIR_TEST_STORE={url!r} is not a postgres:// URL", pytrace=False)
    return url or None


def create_postgres_database(base_url: str) -> str:
    """Creates an empty database on the server of `base_url`; returns its URL."""
    name = "weir_" + uuid.uuid4().hex
    createdb = shutil.which("createdb")
    if createdb is None:
        pytest.fail("createdb (PostgreSQL's client programs) is not on PATH", pytrace=False)
    done = subprocess.run(
        [createdb, f"--maintenance-db={base_url}", name],
        capture_output=True, text=True, timeout=60,
    )
    if done.returncode != 0:
        pytest.fail(f"createdb {name} failed: {done.stderr.strip()}", pytrace=False)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(base_url)._replace(path="/" + name))


def drop_postgres_database(url: str) -> None:
    """Drops the database of `url` (created by create_postgres_database)."""
    parts = urllib.parse.urlsplit(url)
    base = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    subprocess.run(
        [shutil.which("dropdb") or "dropdb", f"--maintenance-db={base}", "--if-exists",
         parts.path.lstrip("/")],
        capture_output=True, timeout=60,
    )


class WeirServer:
    """A `weir serve` child process on a loopback port with its own data dir (and, when
    `WEIR_TEST_STORE` is set, its own PostgreSQL database, kept across restarts)."""

    def __init__(self, data_dir: pathlib.Path, log_path: pathlib.Path, extra_args=(),
                 user: str | None = None, env: dict | None = None):
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = log_path
        # Extra `weir serve` options (e.g. ["--manual-clock", "now"]), passed on
        # every start; restart(extra_args=...) replaces them.
        self.extra_args: list[str] = [str(a) for a in extra_args]
        # Run the server as this user (with its primary group only); needs root.
        self.user = user
        # The server's whole environment (default: this process's).
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.host = "127.0.0.1"
        self.port = 0
        # The PostgreSQL database of the store (created on the first start), if any.
        self.store_url: str | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, listen: str = "127.0.0.1:0") -> None:
        assert self.proc is None, "already running"
        base_url = postgres_base_url()
        if base_url is not None and self.store_url is None:
            self.store_url = create_postgres_database(base_url)
        store_args = [] if self.store_url is None else ["--store", self.store_url]
        log = open(self.log_path, "ab")
        identity = {}
        if self.user is not None:
            identity = dict(user=self.user, group=pwd.getpwnam(self.user).pw_gid, extra_groups=[])
        proc = subprocess.Popen(
            [
                str(weir_bin()),
                "serve",
                "--listen",
                listen,
                "--data-dir",
                str(self.data_dir),
                *store_args,
                *self.extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=self.env,
            **identity,
        )
        log.close()
        first_line: list[bytes] = []
        got_line = threading.Event()

        def drain() -> None:
            first_line.append(proc.stdout.readline())
            got_line.set()
            for _ in proc.stdout:  # keep the pipe from filling up
                pass

        threading.Thread(target=drain, daemon=True).start()
        if not got_line.wait(STARTUP_DEADLINE):
            proc.kill()
            proc.wait()
            pytest.fail(f"weir printed no `listening on` line within {STARTUP_DEADLINE}s")
        line = first_line[0].decode("utf-8", "replace").strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            proc.kill()
            code = proc.wait()
            raise RuntimeError(f"weir (exit {code}) printed {line!r} instead of `listening on ...`")
        host, _, port = line[len(prefix) :].rpartition(":")
        self.host, self.port = host, int(port)
        self.proc = proc

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def kill9(self) -> None:
        """SIGKILL: nothing is flushed or shut down."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def terminate(self) -> int:
        """SIGTERM and wait (bounded); returns the exit code."""
        assert self.proc is not None, "not running"
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(SHUTDOWN_DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"weir did not exit within {SHUTDOWN_DEADLINE}s of SIGTERM")

    def restart(self, extra_args=None) -> None:
        """Start again on the same data dir; same port when possible (clients made
        before keep working), else a new one. A running server gets SIGTERM first.
        `extra_args`, when given, replaces the extra `weir serve` options."""
        if extra_args is not None:
            self.extra_args = [str(a) for a in extra_args]
        if self.proc is not None:
            code = self.terminate()
            assert code == 0, f"weir exited with {code} on SIGTERM"
        try:
            self.start(f"{self.host}:{self.port}")
        except RuntimeError:
            self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def discard_store(self) -> None:
        """Stops the server and drops its PostgreSQL database, if it has one."""
        self.stop()
        if self.store_url is not None:
            drop_postgres_database(self.store_url)
            self.store_url = None

    def advance_clock(self, ms: int) -> int:
        """Moves the manual clock of a server started with `--manual-clock` forward by
        `ms` milliseconds; returns the clock's new time (ms since the Unix epoch)."""
        request = urllib.request.Request(
            self.endpoint + "/_weir/clock",
            data=json.dumps({"advanceMs": ms}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=EXCHANGE_DEADLINE) as response:
            return json.load(response)["nowMs"]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- clients --------------------------------------------------------------------------
    def client(self, **config_overrides):
        """A boto3 Glue client for this server (no retries)."""
        return boto3.session.Session().client(
            "glue",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=client_config(**config_overrides),
        )

    def client_as(self, access_key: str, secret_key: str, session_token: str | None = None,
                  region: str = REGION, **config_overrides):
        """A boto3 Glue client for this server with other credentials (no retries)."""
        return boto3.session.Session().client(
            "glue",
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=session_token,
            config=client_config(**config_overrides),
        )

    def raw(self, target: str | None, body: bytes, extra_headers: dict | None = None, *,
            signer: Signer | None = Signer(), tamper_headers: dict | None = None,
            tamper_body: bytes | None = None) -> RawResponse:
        """POST / with the given X-Amz-Target (none if None) and raw body, SigV4-signed
        the way botocore signs, over a plain socket. The body is sent while the response
        is read, so an early answer (e.g. 413 before the body is consumed) is seen.

        `signer=None` sends no Authorization; `tamper_headers` replace or add headers
        and `tamper_body` replaces the body after signing."""
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        if target is not None:
            headers["X-Amz-Target"] = target
        headers.update(extra_headers or {})
        request = AWSRequest(method="POST", url=self.endpoint + "/", data=body, headers=headers)
        if signer is not None:
            signer.add_auth(request)
        sent = {k: v for k, v in request.headers.items()}
        for name, value in (tamper_headers or {}).items():
            for existing in [k for k in sent if k.lower() == name.lower()]:
                del sent[existing]
            sent[name] = value
        if tamper_body is not None:
            body = tamper_body

        lines = ["POST / HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in sent.items()]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        payload = "\r\n".join(lines).encode("utf-8") + body
        return _exchange(self.host, self.port, payload)


def _exchange(host: str, port: int, payload: bytes) -> RawResponse:
    sock = socket.create_connection((host, port), timeout=EXCHANGE_DEADLINE)
    write_error: list[BaseException] = []

    def writer() -> None:
        try:
            sock.sendall(payload)
        except OSError as e:  # the server may answer and close before reading it all
            write_error.append(e)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    data = b""
    read_error = None
    deadline = time.monotonic() + EXCHANGE_DEADLINE
    try:
        while not _complete(data) and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        read_error = e
    finally:
        thread.join(EXCHANGE_DEADLINE)
        sock.close()
    try:
        return _parse(data)
    except ValueError as e:
        raise AssertionError(
            f"no HTTP response ({e}); read error {read_error!r}; write error "
            f"{write_error!r}; received {len(data)} bytes: {data[:300]!r}"
        ) from None


def _split(data: bytes):
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = data[:end].decode("iso-8859-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return head[0], headers, data[end + 4 :]


def _complete(data: bytes) -> bool:
    parts = _split(data)
    if parts is None:
        return False
    _, headers, body = parts
    if "content-length" in headers:
        return len(body) >= int(headers["content-length"])
    return False  # chunked or close-delimited: read to EOF


def _parse(data: bytes) -> RawResponse:
    parts = _split(data)
    if parts is None:
        raise ValueError("incomplete response head")
    status_line, headers, body = parts
    status = int(status_line.split()[1])
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out, rest = b"", body
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2 :]
        body = out
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if len(body) < length:
            raise ValueError(f"body truncated: {len(body)} of {length} bytes")
        body = body[:length]
    return RawResponse(status, headers, body)


# -- AWS CLI ------------------------------------------------------------------------------
class CliError(Exception):
    def __init__(self, returncode: int, stderr: str, stdout: str):
        super().__init__(f"aws exited {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout


def aws_executable() -> str:
    """The `aws` of the virtualenv running the tests."""
    candidate = pathlib.Path(sys.executable).parent / "aws"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("aws")
    if not found:
        pytest.fail("no `aws` executable in the virtualenv: pip install -r tests/python/requirements.txt")
    return found


def run_aws_cli(endpoint: str, *args: str, env: dict | None = None):
    """Runs `aws <args> --endpoint-url ... --region ... --output json`; returns parsed JSON
    (None for empty output) or raises CliError carrying the exit code and stderr.
    `env` adds or overrides environment variables (e.g. other credentials)."""
    command = [
        aws_executable(),
        *args,
        "--endpoint-url",
        endpoint,
        "--region",
        REGION,
        "--output",
        "json",
        "--cli-read-timeout",
        "60",
        "--cli-connect-timeout",
        "5",
    ]
    env = dict(os.environ, AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard", **(env or {}))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if done.returncode != 0:
        raise CliError(done.returncode, done.stderr, done.stdout)
    return json.loads(done.stdout) if done.stdout.strip() else None


# -- boto3 assertions ---------------------------------------------------------------------
def expect_error(code: str, call, *args, **kwargs) -> botocore.exceptions.ClientError:
    """Calls `call(*args, **kwargs)` and asserts it fails with error `code` and HTTP 400."""
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    return info.value
