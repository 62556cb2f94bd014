"""Several `weir serve` replicas on one PostgreSQL store.

Runs in scripts/test.sh's PostgreSQL pass (WEIR_TEST_STORE set); skipped otherwise.
The replicas of a test share one database and one data directory (as replicas on one
shared file system do), each with its own port and `--replica-name`. Invariants are
checked from the outside: the job scripts' own ledger (each attempt appends its id as
its first action) and the API of the replicas still alive.
"""

from __future__ import annotations

import threading
import time
import urllib.request

import botocore.exceptions
import pytest

import weirtest
from runs_helpers import (  # noqa: F401  (scripts is a fixture)
    MINUTE_MS,
    SERVER_ARGS,
    conditional_trigger,
    create_job,
    lines,
    scripts,
    start_trigger,
    wait_for,
)

BASE_URL = weirtest.postgres_base_url()
pytestmark = pytest.mark.skipif(
    BASE_URL is None, reason="WEIR_TEST_STORE (a PostgreSQL URL) is not set"
)

# Real-clock tests: long enough that a live replica on a loaded machine always renews
# in time (it renews every third of it), short enough for a quick takeover.
LEASE_SECONDS = 5
TAKEOVER_DEADLINE = 180.0


class Cluster:
    """`count` replicas on one fresh database and one data directory."""

    def __init__(self, tmp_path, count: int, extra_args=()):
        self.store_url = weirtest.create_postgres_database(BASE_URL)
        self.replicas: list[weirtest.WeirServer] = []
        for i in range(count):
            replica = weirtest.WeirServer(
                tmp_path / "shared-data",
                tmp_path / f"replica{i}.log",
                extra_args=[*SERVER_ARGS, "--replica-name", f"replica-{i}", *extra_args],
            )
            replica.store_url = self.store_url
            self.replicas.append(replica)
        for replica in self.replicas:
            replica.start()

    def alive(self) -> list[weirtest.WeirServer]:
        return [r for r in self.replicas if r.proc is not None]

    def close(self) -> None:
        for replica in self.replicas:
            replica.stop()
        weirtest.drop_postgres_database(self.store_url)


@pytest.fixture
def cluster_of(tmp_path):
    made: list[Cluster] = []

    def make(count: int, extra_args=()) -> Cluster:
        cluster = Cluster(tmp_path, count, extra_args)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


def schedules_armed(replica: weirtest.WeirServer) -> float | None:
    with urllib.request.urlopen(replica.endpoint + "/metrics", timeout=30) as page:
        for line in page.read().decode().splitlines():
            if line.startswith("weir_schedules_armed "):
                return float(line.split()[1])
    return None


def test_runs_complete_when_a_replica_dies_mid_run(cluster_of, scripts):
    # Scripts call the load balancer in front of the replicas, not their own replica.
    balancer = "http://balancer.invalid:5599"
    cluster = cluster_of(3, ["--lease-timeout", LEASE_SECONDS, "--endpoint-url", balancer])
    first = cluster.replicas[0].client()
    ledger, gate = scripts.path("ledger"), scripts.path("gate")
    endpoints = scripts.path("endpoints")
    create_job(
        first,
        "hold",
        scripts.write(
            "hold",
            f"""
            append({ledger!r}, ARGS["--JOB_RUN_ID"])
            wait_for_file({gate!r}, limit=600)
            """,
        ),
        ExecutionProperty={"MaxConcurrentRuns": 10},
    )
    create_job(
        first,
        "after",
        scripts.write(
            "after",
            f"""
            append({ledger!r}, ARGS["--JOB_RUN_ID"])
            append({endpoints!r}, os.environ["AWS_ENDPOINT_URL"])
            """,
        ),
        ExecutionProperty={"MaxConcurrentRuns": 10},
    )
    first.create_workflow(Name="pipeline")
    start_trigger(first, "pipeline-start", "pipeline", ["hold"])
    conditional_trigger(first, "pipeline-next", "pipeline", [("hold", "SUCCEEDED")], ["after"])

    clients = [replica.client() for replica in cluster.replicas]
    started = [clients[i % 3].start_workflow_run(Name="pipeline")["RunId"] for i in range(6)]
    wait_for(lambda: len(lines(ledger)) == 6, "every run's first job to be running")

    cluster.replicas[0].kill9()
    with open(gate, "w"):
        pass
    survivor = clients[1]

    def completed() -> bool:
        runs = [survivor.get_workflow_run(Name="pipeline", RunId=r)["Run"] for r in started]
        return all(run["Status"] == "COMPLETED" for run in runs)

    wait_for(completed, "every run, those of the killed replica too, to complete",
             deadline=TAKEOVER_DEADLINE)
    for run_id in started:
        run = survivor.get_workflow_run(Name="pipeline", RunId=run_id)["Run"]
        assert run["Statistics"]["SucceededActions"] == 2, run
        assert run["Statistics"]["FailedActions"] == 0, run
    entries = lines(ledger)
    assert len(entries) == len(set(entries)) == 12, f"an attempt started twice: {entries}"
    known = {
        job_run["Id"]
        for job in ("hold", "after")
        for job_run in survivor.get_job_runs(JobName=job)["JobRuns"]
    }
    assert set(entries) == known
    assert set(lines(endpoints)) == {balancer}
    survivor_logs = cluster.replicas[1].log_text() + cluster.replicas[2].log_text()
    assert "took over the runs that were active" in survivor_logs


def test_parallel_starts_across_replicas_respect_max_concurrent_runs(cluster_of, scripts):
    cluster = cluster_of(3)
    first = cluster.replicas[0].client()
    release = scripts.path("release")
    create_job(
        first,
        "slow",
        scripts.write("slow", f"wait_for_file({release!r}, limit=600)"),
        ExecutionProperty={"MaxConcurrentRuns": 10},
    )
    first.create_workflow(Name="limited", MaxConcurrentRuns=2)
    start_trigger(first, "limited-start", "limited", ["slow"])
    parallel = 50
    clients = [
        cluster.replicas[i % 3].client(max_pool_connections=1) for i in range(parallel)
    ]
    barrier = threading.Barrier(parallel)
    results: list = [None] * parallel

    def start(i: int) -> None:
        barrier.wait(timeout=60)
        try:
            results[i] = ("ok", clients[i].start_workflow_run(Name="limited")["RunId"])
        except botocore.exceptions.ClientError as e:
            results[i] = ("error", e.response["Error"]["Code"])
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = ("exception", repr(e))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    started = [r for r in results if r and r[0] == "ok"]
    refused = [r for r in results if r and r[0] == "error"]
    assert len(started) == 2, results
    assert refused == [("error", "ConcurrentRunsExceededException")] * (parallel - 2), results
    runs = first.get_workflow_runs(Name="limited")["Runs"]
    assert sorted(r["WorkflowRunId"] for r in runs) == sorted(r[1] for r in started)
    with open(release, "w"):
        pass


def test_each_schedule_tick_fires_once_while_replicas_die(cluster_of, scripts):
    # Virtual time on every replica (all at the same start); the lease spans ten
    # minutes, so live replicas advanced a minute at a time always renew in time.
    start_ms = (int(time.time() * 1000) // MINUTE_MS) * MINUTE_MS + 30_000
    cluster = cluster_of(3, ["--manual-clock", start_ms, "--lease-timeout", 600])
    first = cluster.replicas[0].client()
    ledger, gate = scripts.path("ledger"), scripts.path("gate")
    create_job(
        first,
        "tick",
        scripts.write(
            "tick",
            f"""
            append({ledger!r}, ARGS["--JOB_RUN_ID"])
            wait_for_file({gate!r}, limit=600)
            """,
        ),
        ExecutionProperty={"MaxConcurrentRuns": 100},
    )
    first.create_workflow(Name="every-minute")
    first.create_trigger(
        Name="every-minute-start",
        WorkflowName="every-minute",
        Type="SCHEDULED",
        Schedule="cron(* * * * ? *)",
        StartOnCreation=True,
        Actions=[{"JobName": "tick"}],
    )

    def runs() -> list[dict]:
        client = cluster.alive()[0].client()
        return client.get_workflow_runs(Name="every-minute", MaxResults=1000)["Runs"]

    def step(expected: int) -> None:
        for replica in cluster.alive():
            replica.advance_clock(MINUTE_MS)
        wait_for(lambda: len(runs()) >= expected, f"run {expected} of the schedule")

    # The other replicas learn the trigger when they renew their leases (every 200 s
    # of their clocks); a renewal's minute fires once too.
    for replica in cluster.replicas:
        replica.advance_clock(200_000)
    wait_for(lambda: len(runs()) == 1, "the first firing")
    for replica in cluster.replicas:
        wait_for(lambda replica=replica: schedules_armed(replica) == 1,
                 "every replica to keep the schedule")
    fired = 1
    for _ in range(3):
        fired += 1
        step(fired)
    cluster.replicas[0].kill9()
    # Past the dead replica's lease: the survivors fire every tick meanwhile, and take
    # over the runs it drove once its lease ended.
    for _ in range(12):
        fired += 1
        step(fired)
    with open(gate, "w"):
        pass

    def all_completed() -> bool:
        return all(run["Status"] == "COMPLETED" for run in runs())

    wait_for(all_completed, "every scheduled run to complete", deadline=TAKEOVER_DEADLINE)
    final = runs()
    assert len(final) == fired, f"{len(final)} runs for {fired} ticks"
    minutes = sorted(int(run["StartedOn"].timestamp()) // 60 for run in final)
    assert minutes == list(range(minutes[0], minutes[0] + fired)), (
        f"a tick fired twice or was missed: {minutes}"
    )
    entries = lines(ledger)
    assert len(entries) == len(set(entries)) == fired, entries


def test_a_replica_whose_name_another_process_takes_stops(cluster_of, tmp_path):
    cluster = cluster_of(1, ["--lease-timeout", 2])
    old = cluster.replicas[0]
    newer = weirtest.WeirServer(
        old.data_dir,
        tmp_path / "newer.log",
        extra_args=[*SERVER_ARGS, "--replica-name", "replica-0", "--lease-timeout", 2],
    )
    newer.store_url = cluster.store_url
    cluster.replicas.append(newer)
    newer.start()
    wait_for(lambda: old.proc.poll() is not None, "the older process to stop",
             deadline=TAKEOVER_DEADLINE)
    assert old.proc.returncode != 0
    assert "lost its lease" in old.log_text()
    old.proc = None
    assert newer.client().list_workflows()["Workflows"] == []


def test_a_replica_on_other_files_refuses_to_start(cluster_of, tmp_path):
    cluster = cluster_of(1)
    elsewhere = weirtest.WeirServer(
        tmp_path / "another-data-dir",
        tmp_path / "elsewhere.log",
        extra_args=["--replica-name", "replica-x"],
    )
    elsewhere.store_url = cluster.store_url
    with pytest.raises(RuntimeError, match="printed"):
        elsewhere.start()
    assert "must use the same --data-dir and --s3-dir" in elsewhere.log_text()
