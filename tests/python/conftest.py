"""Fixtures for the Python conformance tests.

* ``weir``      a fresh `weir serve` on a loopback port with its own temp data dir (and
                its own PostgreSQL database when ``WEIR_TEST_STORE`` is set)
                (``.endpoint``, ``.data_dir``, ``.restart()``, ``.kill9()``, ``.terminate()``,
                ``.client()``, ``.raw(target, body)``); stopped after the test.
* ``weir_args`` extra `weir serve` options for ``weir`` (default none; override per module).
* ``glue``      boto3 Glue client for it (test/test, us-east-1, retries off).
* ``glue_unvalidated``  the same with botocore's client-side parameter validation off,
                for requests botocore itself would refuse (``min`` violations, missing members).
* ``aws_cli``   ``aws_cli("glue", "get-workflow", "--name", "x")`` runs the virtualenv's AWS CLI
                against the server and returns parsed JSON, or raises ``weirtest.CliError``.
"""

import sys

import pytest

import weirtest

weirtest.isolate_aws_environment()


@pytest.fixture
def weir_args():
    """Extra `weir serve` options for the ``weir`` fixture; none by default. A test module
    overrides it, e.g. ``@pytest.fixture def weir_args(): return ["--manual-clock", "now"]``."""
    return []


@pytest.fixture
def weir(tmp_path, weir_args):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = weirtest.WeirServer(data_dir, tmp_path / "weir.log", extra_args=weir_args)
    server.start()
    try:
        yield server
    finally:
        server.discard_store()
        # Shown by pytest only when the test failed.
        sys.stderr.write("---- weir log ----\n" + server.log_text()[-20000:])


@pytest.fixture
def glue(weir):
    return weir.client()


@pytest.fixture
def glue_unvalidated(weir):
    return weir.client(parameter_validation=False)


@pytest.fixture
def aws_cli(weir):
    def run(*args: str):
        return weirtest.run_aws_cli(weir.endpoint, *args)

    return run
