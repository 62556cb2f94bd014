"""CloudWatch Logs: job output and crawls as AWS tools read them (boto3 `logs`, the AWS
CLI). Job lines are in `/aws-glue/python-jobs/output` (pythonshell) with the JobRunId as
stream, paged with GetLogEvents' forward and backward tokens as AWS pages them (the
token passed comes back at either end), found by FilterLogEvents, followed live by
Airflow-style polling exactly once, and neither lost nor repeated across a crash of the
server while the job runs."""

from __future__ import annotations

import os

import boto3
import pytest

import weirtest
from runs_helpers import (  # noqa: F401  (weir_args is a fixture)
    MANUAL_CLOCK_ARGS,
    SERVER_ARGS,
    create_job,
    scripts,
    wait_for,
    wait_job_run,
    weir_args,
)

OUTPUT = "/aws-glue/python-jobs/output"
ERROR = "/aws-glue/python-jobs/error"
DAY_MS = 86_400_000


def logs_client(weir):
    return boto3.session.Session().client(
        "logs",
        endpoint_url=weir.endpoint,
        region_name=weirtest.REGION,
        aws_access_key_id=weirtest.ACCESS_KEY,
        aws_secret_access_key=weirtest.SECRET_KEY,
        config=weirtest.client_config(),
    )


@pytest.fixture
def logs(weir):
    return logs_client(weir)


def messages(events):
    return [e["message"] for e in events]


def numbered(prefix: str, count: int, start: int = 0):
    return [f"{prefix} {i:03d}" for i in range(start, start + count)]


def run_job(glue, name: str, arguments: dict | None = None) -> str:
    kwargs = {"Arguments": arguments} if arguments else {}
    run_id = glue.start_job_run(JobName=name, **kwargs)["JobRunId"]
    assert wait_job_run(glue, name, run_id)["JobRunState"] == "SUCCEEDED"
    return run_id


def test_job_output_pages_forward_and_backward(weir, glue, logs, scripts):
    create_job(
        glue,
        "printer",
        scripts.write(
            "printer",
            """
            for i in range(250):
                print(f"line {i:03d}", flush=True)
            print("something went wrong", file=sys.stderr, flush=True)
            sys.stdout.write("no newline at the end")
            """,
        ),
    )
    run_id = run_job(glue, "printer")
    assert glue.get_job_run(JobName="printer", RunId=run_id)["JobRun"]["LogGroupName"] == (
        "/aws-glue/python-jobs"
    )
    expected = numbered("line", 250) + ["no newline at the end"]

    everything = logs.get_log_events(
        logGroupName=OUTPUT, logStreamName=run_id, startFromHead=True
    )
    assert messages(everything["events"]) == expected
    stamps = [e["timestamp"] for e in everything["events"]]
    assert stamps == sorted(stamps)
    assert all(e["ingestionTime"] >= e["timestamp"] for e in everything["events"])
    errors = logs.get_log_events(logGroupName=ERROR, logStreamName=run_id, startFromHead=True)
    assert messages(errors["events"]) == ["something went wrong"]

    # Forward from the head, 100 at a time: three pages, then the same token back.
    pages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": True}
        page = logs.get_log_events(
            logGroupName=OUTPUT, logStreamName=run_id, limit=100, **kwargs
        )
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        pages.append(messages(page["events"]))
        token = page["nextForwardToken"]
        assert token.startswith("f/")
    assert [len(p) for p in pages] == [100, 100, 51]
    assert sum(pages, []) == expected

    # Backward from the tail: the newest page first, each page in time order.
    pages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.get_log_events(
            logGroupName=OUTPUT, logStreamName=run_id, limit=100, **kwargs
        )
        if page["nextBackwardToken"] == token:
            assert page["events"] == []
            break
        pages.append(messages(page["events"]))
        token = page["nextBackwardToken"]
        assert token.startswith("b/")
    assert [len(p) for p in pages] == [100, 100, 51]
    assert sum(reversed(pages), []) == expected

    streams = logs.describe_log_streams(logGroupName=OUTPUT)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [run_id]
    assert streams[0]["firstEventTimestamp"] <= streams[0]["lastEventTimestamp"]
    assert streams[0]["lastIngestionTime"] >= streams[0]["lastEventTimestamp"]
    assert streams[0]["storedBytes"] == sum(len(m) + 26 for m in expected)
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws-glue/python-jobs/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [ERROR, OUTPUT]


def test_filter_finds_terms_and_phrases_across_the_runs_of_a_job(weir, glue, logs, scripts):
    create_job(
        glue,
        "tagged",
        scripts.write(
            "tagged",
            """
            tag = ARGS["--tag"]
            print(f"start {tag}", flush=True)
            print(f"marker for {tag}", flush=True)
            if tag == "second":
                print("the disk is full now", flush=True)
            print("the full disk is fine", flush=True)
            """,
        ),
    )
    first = run_job(glue, "tagged", {"--tag": "first"})
    second = run_job(glue, "tagged", {"--tag": "second"})

    found = logs.filter_log_events(logGroupName=OUTPUT, filterPattern="marker")["events"]
    assert {(e["logStreamName"], e["message"]) for e in found} == {
        (first, "marker for first"),
        (second, "marker for second"),
    }
    assert len({e["eventId"] for e in found}) == 2
    phrase = logs.filter_log_events(logGroupName=OUTPUT, filterPattern='"disk is full"')
    assert [(e["logStreamName"], e["message"]) for e in phrase["events"]] == [
        (second, "the disk is full now")
    ]
    both_terms = logs.filter_log_events(logGroupName=OUTPUT, filterPattern="disk full")
    assert len(both_terms["events"]) == 3
    only_first = logs.filter_log_events(
        logGroupName=OUTPUT, logStreamNames=[first], filterPattern="disk"
    )
    assert messages(only_first["events"]) == ["the full disk is fine"]

    # Paged one event at a time with nextToken: every line of both runs, once.
    collected, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.filter_log_events(logGroupName=OUTPUT, limit=1, **kwargs)
        collected += [(e["logStreamName"], e["message"]) for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert len(collected) == 7 and len(set(collected)) == 7
    paginated = [
        e
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=OUTPUT, logStreamNamePrefix=second
        )
        for e in page["events"]
    ]
    assert len(paginated) == 4


def airflow_style_poll(logs, group: str, stream: str, token: str | None):
    """One round of Airflow's AwsLogsHook.get_log_events: GetLogEvents from the head
    with the continuation token until the token comes back unchanged; returns the
    messages and the token to continue with."""
    seen = []
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True, **kwargs
        )
        seen += messages(page["events"])
        if page["nextForwardToken"] == token:
            return seen, token
        token = page["nextForwardToken"]


def test_polling_while_the_job_runs_sees_each_line_once(weir, glue, logs, scripts):
    release = scripts.path("release")
    create_job(
        glue,
        "live",
        scripts.write(
            "live",
            f"""
            for i in range(5):
                print(f"before {{i:03d}}", flush=True)
            wait_for_file({release!r})
            for i in range(5):
                print(f"after {{i:03d}}", flush=True)
            """,
        ),
    )
    run_id = glue.start_job_run(JobName="live")["JobRunId"]
    state = {"seen": [], "token": None}

    def poll():
        try:
            seen, state["token"] = airflow_style_poll(logs, OUTPUT, run_id, state["token"])
        except logs.exceptions.ResourceNotFoundException:
            return []
        state["seen"] += seen
        return state["seen"]

    wait_for(lambda: len(poll()) >= 5, "the lines printed before the wait")
    assert glue.get_job_run(JobName="live", RunId=run_id)["JobRun"]["JobRunState"] == "RUNNING"
    assert state["seen"] == numbered("before", 5)
    with open(release, "w"):
        pass
    assert wait_job_run(glue, "live", run_id)["JobRunState"] == "SUCCEEDED"
    poll()
    assert state["seen"] == numbered("before", 5) + numbered("after", 5)


def glue_job_hook_style_poll(glue, logs, job: str, run_id: str, token: str | None):
    """One round of Airflow's GlueJobHook.print_job_logs: the group from GetJobRun's
    LogGroupName + "/output", FilterLogEvents for the run's stream through the paginator
    from the last token kept (a token is kept only when a page carried one)."""
    prefix = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]["LogGroupName"]
    seen = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"{prefix}/output",
            logStreamNames=[run_id],
            PaginationConfig={"StartingToken": token},
        ):
            seen += messages(page["events"])
            token = page.get("nextToken") or token
    except logs.exceptions.ResourceNotFoundException:
        pass
    return seen, token


def test_glue_job_hook_style_filter_polling_sees_each_line_once(weir, glue, logs, scripts):
    release = scripts.path("release")
    create_job(
        glue,
        "hooked",
        scripts.write(
            "hooked",
            f"""
            for i in range(3):
                print(f"before {{i:03d}}", flush=True)
            wait_for_file({release!r})
            for i in range(3):
                print(f"after {{i:03d}}", flush=True)
            """,
        ),
    )
    run_id = glue.start_job_run(JobName="hooked")["JobRunId"]
    state = {"seen": [], "token": None}

    def poll():
        seen, state["token"] = glue_job_hook_style_poll(glue, logs, "hooked", run_id,
                                                        state["token"])
        state["seen"] += seen
        return state["seen"]

    wait_for(lambda: len(poll()) >= 3, "the lines printed before the wait")
    assert poll() == numbered("before", 3), "polling again repeats nothing"
    with open(release, "w"):
        pass
    assert wait_job_run(glue, "hooked", run_id)["JobRunState"] == "SUCCEEDED"
    poll()
    assert state["seen"] == numbered("before", 3) + numbered("after", 3)


def test_a_crash_while_the_job_runs_loses_and_repeats_no_line(weir, glue, scripts):
    first, second = scripts.path("first"), scripts.path("second")
    printed = scripts.path("printed")
    create_job(
        glue,
        "steady",
        scripts.write(
            "steady",
            f"""
            for i in range(50):
                print(f"line {{i:03d}}", flush=True)
            wait_for_file({first!r})
            for i in range(50, 100):
                print(f"line {{i:03d}}", flush=True)
            append({printed!r}, "100")
            wait_for_file({second!r})
            for i in range(100, 150):
                print(f"line {{i:03d}}", flush=True)
            """,
        ),
    )
    run_id = glue.start_job_run(JobName="steady")["JobRunId"]
    logs = logs_client(weir)

    def stored():
        try:
            return messages(
                logs.get_log_events(logGroupName=OUTPUT, logStreamName=run_id, startFromHead=True)[
                    "events"
                ]
            )
        except logs.exceptions.ResourceNotFoundException:
            return []

    wait_for(lambda: len(stored()) == 50, "the first lines to be stored")
    weir.kill9()
    # Lines printed while no server runs are read when the restarted one re-attaches.
    with open(first, "w"):
        pass
    wait_for(lambda: os.path.exists(printed), "the job to print while the server is down")
    weir.restart()
    glue, logs = weir.client(), logs_client(weir)
    wait_for(lambda: len(stored()) == 100, "the lines printed while the server was down")
    with open(second, "w"):
        pass
    assert wait_job_run(glue, "steady", run_id)["JobRunState"] == "SUCCEEDED"
    assert stored() == numbered("line", 150)


def test_a_graceful_restart_keeps_a_half_written_line_whole(weir, glue, scripts):
    release = scripts.path("release")
    create_job(
        glue,
        "halves",
        scripts.write(
            "halves",
            f"""
            for i in range(10):
                print(f"line {{i:03d}}", flush=True)
            sys.stdout.write("first half, ")
            sys.stdout.flush()
            wait_for_file({release!r})
            print("second half", flush=True)
            print("line 010", flush=True)
            """,
        ),
    )
    run_id = glue.start_job_run(JobName="halves")["JobRunId"]
    logs = logs_client(weir)

    def stored():
        try:
            return messages(
                logs.get_log_events(logGroupName=OUTPUT, logStreamName=run_id, startFromHead=True)[
                    "events"
                ]
            )
        except logs.exceptions.ResourceNotFoundException:
            return []

    wait_for(lambda: len(stored()) == 10, "the complete lines to be stored")
    weir.restart()
    glue, logs = weir.client(), logs_client(weir)
    with open(release, "w"):
        pass
    assert wait_job_run(glue, "halves", run_id)["JobRunState"] == "SUCCEEDED"
    assert stored() == numbered("line", 10) + ["first half, second half", "line 010"]


def test_output_of_a_job_that_ended_while_the_server_was_down_is_stored(weir, glue, scripts):
    release = scripts.path("release")
    create_job(
        glue,
        "ends-alone",
        scripts.write(
            "ends-alone",
            f"""
            print("first", flush=True)
            wait_for_file({release!r})
            print("last", flush=True)
            """,
        ),
    )
    run_id = glue.start_job_run(JobName="ends-alone")["JobRunId"]
    wait_for(lambda: weir.data_dir.joinpath("job-runs", run_id, "stdout").exists()
             and b"first" in weir.data_dir.joinpath("job-runs", run_id, "stdout").read_bytes(),
             "the job to print")
    weir.kill9()
    with open(release, "w"):
        pass
    wait_for(lambda: weir.data_dir.joinpath("job-runs", run_id, "exit").exists(),
             "the job to end while the server is down")
    weir.restart()
    glue, logs = weir.client(), logs_client(weir)
    assert wait_job_run(glue, "ends-alone", run_id)["JobRunState"] == "SUCCEEDED"
    got = logs.get_log_events(logGroupName=OUTPUT, logStreamName=run_id, startFromHead=True)
    assert messages(got["events"]) == ["first", "last"]


def test_log_group_arguments_choose_the_groups(weir, glue, logs, scripts):
    create_job(
        glue,
        "grouped",
        scripts.write(
            "grouped",
            """
            print("to out", flush=True)
            print("to err", file=sys.stderr, flush=True)
            """,
        ),
    )
    custom = run_job(glue, "grouped", {"--custom-logGroup-prefix": "/team/etl"})
    assert glue.get_job_run(JobName="grouped", RunId=custom)["JobRun"]["LogGroupName"] == (
        "/team/etl"
    )
    out = logs.get_log_events(logGroupName="/team/etl/output", logStreamName=custom)
    err = logs.get_log_events(logGroupName="/team/etl/error", logStreamName=custom)
    assert (messages(out["events"]), messages(err["events"])) == (["to out"], ["to err"])
    single = run_job(glue, "grouped", {"--continuous-log-logGroup": "/team/one"})
    both = logs.get_log_events(logGroupName="/team/one", logStreamName=single, startFromHead=True)
    assert sorted(messages(both["events"])) == ["to err", "to out"]


def test_the_aws_cli_reads_job_output(weir, glue, aws_cli, scripts):
    create_job(glue, "cli", scripts.write("cli", 'print("hello from the job", flush=True)'))
    run_id = run_job(glue, "cli")
    groups = aws_cli("logs", "describe-log-groups")["logGroups"]
    assert OUTPUT in [g["logGroupName"] for g in groups]
    got = aws_cli(
        "logs", "get-log-events", "--log-group-name", OUTPUT, "--log-stream-name", run_id,
        "--start-from-head",
    )
    assert messages(got["events"]) == ["hello from the job"]
    assert got["nextForwardToken"].startswith("f/")
    streams = aws_cli(
        "logs", "describe-log-streams", "--log-group-name", OUTPUT,
        "--order-by", "LastEventTime", "--descending",
    )["logStreams"]
    assert [s["logStreamName"] for s in streams] == [run_id]


def test_errors_are_cloudwatch_logs_errors(weir, logs):
    expect = weirtest.expect_error
    expect("ResourceNotFoundException", logs.get_log_events,
           logGroupName="/missing", logStreamName="s")
    logs.create_log_group(logGroupName="/mine")
    expect("ResourceAlreadyExistsException", logs.create_log_group, logGroupName="/mine")
    error = expect("ResourceNotFoundException", logs.get_log_events,
                   logGroupName="/mine", logStreamName="nope")
    assert error.response["Error"]["Message"] == "The specified log stream does not exist."
    expect("ResourceNotFoundException", logs.create_log_stream,
           logGroupName="/missing", logStreamName="s")
    logs.create_log_stream(logGroupName="/mine", logStreamName="s")
    expect("ResourceAlreadyExistsException", logs.create_log_stream,
           logGroupName="/mine", logStreamName="s")
    expect("InvalidParameterException", logs.get_log_events,
           logGroupName="/mine", logStreamName="s", nextToken="f/not-a-number")
    expect("InvalidParameterException", logs.put_retention_policy,
           logGroupName="/mine", retentionInDays=2)
    expect("InvalidParameterException", logs.filter_log_events,
           logGroupName="/mine", filterPattern='"unclosed')
    expect("ResourceNotFoundException", logs.delete_log_stream,
           logGroupName="/mine", logStreamName="other")
    expect("ResourceNotFoundException", logs.delete_log_group, logGroupName="/missing")


def test_put_describe_and_delete(weir, logs):
    logs.create_log_group(logGroupName="/app")
    for name in ("b", "a", "c"):
        logs.create_log_stream(logGroupName="/app", logStreamName=name)
    logs.put_log_events(
        logGroupName="/app", logStreamName="b",
        logEvents=[{"timestamp": 1_000, "message": "old"}, {"timestamp": 2_000, "message": "new"}],
    )
    logs.put_log_events(
        logGroupName="/app", logStreamName="c", logEvents=[{"timestamp": 1_500, "message": "x"}]
    )
    names = lambda **kw: [  # noqa: E731
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName="/app", **kw)["logStreams"]
    ]
    assert names() == ["a", "b", "c"]
    assert names(descending=True) == ["c", "b", "a"]
    assert names(orderBy="LastEventTime", descending=True) == ["b", "c", "a"]
    assert names(logStreamNamePrefix="b") == ["b"]
    first = logs.describe_log_streams(logGroupName="/app", limit=2)
    rest = logs.describe_log_streams(logGroupName="/app", limit=2, nextToken=first["nextToken"])
    assert [s["logStreamName"] for s in first["logStreams"] + rest["logStreams"]] == ["a", "b", "c"]
    assert "nextToken" not in rest
    window = logs.get_log_events(
        logGroupName="/app", logStreamName="b", startTime=1_500, endTime=3_000, startFromHead=True
    )
    assert messages(window["events"]) == ["new"]

    logs.put_retention_policy(logGroupName="/app", retentionInDays=7)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/app")["logGroups"]
    assert group["retentionInDays"] == 7
    logs.delete_log_stream(logGroupName="/app", logStreamName="b")
    assert names() == ["a", "c"]
    logs.delete_log_group(logGroupName="/app")
    assert logs.describe_log_groups(logGroupNamePrefix="/app")["logGroups"] == []


def test_retention_purges_old_events_on_the_servers_clock(weir, scripts):
    weir.restart(extra_args=MANUAL_CLOCK_ARGS)
    logs = logs_client(weir)
    now = weir.advance_clock(0)
    logs.create_log_group(logGroupName="/kept")
    logs.create_log_stream(logGroupName="/kept", logStreamName="s")
    logs.put_log_events(
        logGroupName="/kept", logStreamName="s",
        logEvents=[{"timestamp": now - 3 * DAY_MS, "message": "old"},
                   {"timestamp": now, "message": "recent"}],
    )
    logs.put_retention_policy(logGroupName="/kept", retentionInDays=1)

    def remaining():
        events = logs.get_log_events(logGroupName="/kept", logStreamName="s", startFromHead=True)
        return messages(events["events"])

    assert remaining() == ["old", "recent"]
    # The purge runs hourly on the server's clock.
    weir.advance_clock(3_600_000)
    wait_for(lambda: remaining() == ["recent"], "the event past the retention to go")


def test_a_job_runs_streams_go_with_its_run_history(weir, glue, scripts):
    create_job(glue, "short-lived", scripts.write("short-lived", 'print("kept until purged")'))
    run_id = run_job(glue, "short-lived")
    logs = logs_client(weir)
    got = logs.get_log_events(logGroupName=OUTPUT, logStreamName=run_id, startFromHead=True)
    assert messages(got["events"]) == ["kept until purged"]
    weir.restart(extra_args=[*SERVER_ARGS, "--retention-days", "0"])
    logs = logs_client(weir)

    def purged():
        streams = logs.describe_log_streams(logGroupName=OUTPUT)["logStreams"]
        return run_id not in [s["logStreamName"] for s in streams]

    wait_for(purged, "the purged run's stream to go", deadline=30)
    weirtest.expect_error("ResourceNotFoundException", logs.get_log_events,
                          logGroupName=OUTPUT, logStreamName=run_id)


def test_crawls_log_to_the_crawler_stream(weir, glue, logs):
    bucket = weir.data_dir / "s3" / "bucket" / "t"
    bucket.mkdir(parents=True)
    (bucket / "a.csv").write_text("id,name\n1,x\n2,y\n")
    glue.create_database(DatabaseInput={"Name": "db"})
    glue.create_crawler(
        Name="c1", Role="local", DatabaseName="db",
        Targets={"S3Targets": [{"Path": "s3://bucket/t/"}]},
    )
    glue.start_crawler(Name="c1")
    crawler = wait_for(
        lambda: (c := glue.get_crawler(Name="c1")["Crawler"]).get("LastCrawl") and c,
        "the crawl to end",
    )
    last = crawler["LastCrawl"]
    assert (last["LogGroup"], last["LogStream"]) == ("/aws-glue/crawlers", "c1")
    lines = messages(
        logs.get_log_events(logGroupName="/aws-glue/crawlers", logStreamName="c1",
                            startFromHead=True)["events"]
    )
    assert len(lines) == 3, lines
    assert "Running Start Crawl for Crawler c1" in lines[0]
    assert "Tables created: 1" in lines[1]
    assert "finished running" in lines[2]
