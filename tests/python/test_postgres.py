"""The store on PostgreSQL (`weir serve --store postgres://…`).

Runs in scripts/test.sh's PostgreSQL pass (WEIR_TEST_STORE set); skipped otherwise. The
rest of that pass runs a representative half of the suite with every server's store on
PostgreSQL (see scripts/test.sh), among them test_concurrency's 50 parallel
StartWorkflowRun calls on a workflow with MaxConcurrentRuns 2.
"""

import subprocess

import pytest

import weirtest

BASE_URL = weirtest.postgres_base_url()
pytestmark = pytest.mark.skipif(
    BASE_URL is None, reason="WEIR_TEST_STORE (a PostgreSQL URL) is not set"
)


def test_the_store_lives_in_the_database_not_the_data_dir(tmp_path):
    first = weirtest.WeirServer(tmp_path / "one", tmp_path / "one.log")
    first.start()
    try:
        first.client().create_workflow(Name="kept", Description="in PostgreSQL")
        assert first.terminate() == 0
        assert not (tmp_path / "one" / "weir.db").exists(), "no SQLite database was made"
        (tmp_path / "one" / "replica-files").unlink()
        # The data directory without the marker of the store's files (a fresh one, or
        # one of another store) is refused: job runs and logs would be missing.
        with pytest.raises(RuntimeError, match="printed"):
            first.start()
        assert "must use the same --data-dir and --s3-dir" in first.log_text()
        # The same database holds everything, whatever the data directory has.
        (tmp_path / "one" / "replica-files").write_text(
            (tmp_path / "one" / "s3" / ".weir" / "replica-files").read_text()
        )
        first.start()
        workflow = first.client().get_workflow(Name="kept")["Workflow"]
        assert workflow["Description"] == "in PostgreSQL"
    finally:
        first.discard_store()


@pytest.mark.parametrize(
    "store, message",
    [
        ("mysql://weir@127.0.0.1/weir", "expected a PostgreSQL URL"),
        # A port nothing listens on: the server says so and exits, it does not hang.
        ("postgres://weir@127.0.0.1:1/weir", "opening the PostgreSQL store"),
    ],
)
def test_a_store_that_cannot_be_opened_stops_the_server_with_a_reason(tmp_path, store, message):
    done = subprocess.run(
        [str(weirtest.weir_bin()), "serve", "--listen", "127.0.0.1:0",
         "--data-dir", str(tmp_path / "data"), "--store", store],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
    assert "listening on" not in done.stdout
