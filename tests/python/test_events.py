"""EventBridge on Weir's endpoint, and EVENT triggers that fire (spec §8).

Rules of the default bus target workflow ARNs; PutEvents delivers the events a rule
matches to the workflow's EVENT trigger, which batches them: a run starts when
BatchSize events arrived or BatchWindow seconds after the batch's first event. The
server runs on its manual clock, so windows expire when the test moves time.
"""

import json

import boto3
import botocore.exceptions
import pytest

import weirtest
from runs_helpers import (  # noqa: F401  (scripts is a fixture)
    MANUAL_CLOCK_ARGS,
    SERVER_ARGS,
    create_job,
    scripts,
    wait_for,
)


@pytest.fixture
def weir_args():
    return list(MANUAL_CLOCK_ARGS)


def events_client(server):
    return boto3.session.Session().client(
        "events",
        endpoint_url=server.endpoint,
        region_name=weirtest.REGION,
        aws_access_key_id=weirtest.ACCESS_KEY,
        aws_secret_access_key=weirtest.SECRET_KEY,
        config=weirtest.client_config(),
    )


@pytest.fixture
def events(weir):
    return events_client(weir)


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def event_workflow(glue, scripts, name: str, batch_size: int, window: int | None = None,
                   **workflow_args) -> None:
    """A workflow whose EVENT trigger batches `batch_size` events (window in seconds)."""
    job = f"{name}-job"
    create_job(glue, job, scripts.write(job, "pass"))
    glue.create_workflow(Name=name, **workflow_args)
    condition = {"BatchSize": batch_size}
    if window is not None:
        condition["BatchWindow"] = window
    glue.create_trigger(
        Name=f"{name}-start",
        WorkflowName=name,
        Type="EVENT",
        EventBatchingCondition=condition,
        Actions=[{"JobName": job}],
    )


def route(events, rule: str, pattern: dict, workflow: str) -> None:
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    answer = events.put_targets(
        Rule=rule, Targets=[{"Id": "wf", "Arn": weirtest.workflow_arn(workflow)}]
    )
    assert answer["FailedEntryCount"] == 0


def entry(detail: dict, source: str = "my.app", detail_type: str = "Thing") -> dict:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}


def put(events, entries) -> list[str]:
    """PutEvents of entries that must all be accepted; returns their event ids."""
    answer = events.put_events(Entries=entries)
    assert answer["FailedEntryCount"] == 0, answer
    return [e["EventId"] for e in answer["Entries"]]


def event_ids(run) -> list[str]:
    value = run["WorkflowRunProperties"]["aws:eventIds"]
    assert value.startswith("[") and value.endswith("]"), value
    return [i for i in value[1:-1].split(", ") if i]


def runs_of(glue, workflow: str) -> list[dict]:
    return glue.get_workflow_runs(Name=workflow)["Runs"]


def wait_runs(glue, workflow: str, count: int) -> list[dict]:
    return wait_for(
        lambda: (lambda runs: runs if len(runs) >= count else None)(runs_of(glue, workflow)),
        f"{count} runs of {workflow}",
    )


def test_rules_targets_and_tags(events):
    arn = events.put_rule(
        Name="r1",
        EventPattern=json.dumps({"source": ["my.app"]}),
        Description="first",
        Tags=[{"Key": "team", "Value": "data"}],
    )["RuleArn"]
    assert arn == f"arn:aws:events:{weirtest.REGION}:{weirtest.ACCOUNT_ID}:rule/r1"
    rule = events.describe_rule(Name="r1")
    assert rule["State"] == "ENABLED" and rule["EventBusName"] == "default"
    assert rule["Description"] == "first" and rule["Arn"] == arn
    for name in ["r2", "other-3"]:
        events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}))
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["other-3", "r1", "r2"]
    assert [r["Name"] for r in events.list_rules(NamePrefix="r")["Rules"]] == ["r1", "r2"]
    first = events.list_rules(Limit=2)
    rest = events.list_rules(Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in first["Rules"] + rest["Rules"]] == ["other-3", "r1", "r2"]
    assert "NextToken" not in rest

    events.disable_rule(Name="r1")
    assert events.describe_rule(Name="r1")["State"] == "DISABLED"
    events.enable_rule(Name="r1")
    assert events.describe_rule(Name="r1")["State"] == "ENABLED"

    target = {"Id": "t1", "Arn": weirtest.workflow_arn("w"), "Input": '{"a": 1}'}
    assert events.put_targets(Rule="r1", Targets=[target])["FailedEntryCount"] == 0
    both = {"Id": "t2", "Arn": weirtest.workflow_arn("w"), "Input": "{}", "InputPath": "$.x"}
    failed = events.put_targets(Rule="r1", Targets=[both])
    assert failed["FailedEntryCount"] == 1
    assert failed["FailedEntries"][0]["TargetId"] == "t2"
    assert events.list_targets_by_rule(Rule="r1")["Targets"] == [target]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        events.delete_rule(Name="r1")
    assert error_code(refused) == "ValidationException"
    events.remove_targets(Rule="r1", Ids=["t1"])
    assert events.list_targets_by_rule(Rule="r1")["Targets"] == []

    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "team", "Value": "data"}
    ]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    events.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"}
    ]

    events.delete_rule(Name="r1")
    for call, code in [
        (lambda: events.describe_rule(Name="r1"), "ResourceNotFoundException"),
        (lambda: events.put_rule(Name="bad", EventPattern='{"source": "my.app"}'),
         "InvalidEventPatternException"),
        (lambda: events.put_rule(Name="bad", EventPattern="not json"),
         "InvalidEventPatternException"),
        (lambda: events.put_rule(Name="bad"), "ValidationException"),
        (lambda: events.put_rule(Name="bad", EventPattern='{"a": ["b"]}',
                                 EventBusName="orders"), "ResourceNotFoundException"),
        (lambda: events.list_tags_for_resource(
            ResourceARN="arn:aws:events:us-east-1:999999999999:rule/r2"),
         "ResourceNotFoundException"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as error:
            call()
        assert error_code(error) == code


def test_event_triggers_stay_created_and_refuse_start_and_stop(glue, scripts):
    event_workflow(glue, scripts, "landing", 2)
    assert glue.get_trigger(Name="landing-start")["Trigger"]["State"] == "CREATED"
    with pytest.raises(botocore.exceptions.ClientError) as started:
        glue.start_trigger(Name="landing-start")
    assert error_code(started) == "InvalidInputException"
    assert "Trigger Type EVENT cannot be started" in str(started.value)
    with pytest.raises(botocore.exceptions.ClientError) as stopped:
        glue.stop_trigger(Name="landing-start")
    assert error_code(stopped) == "InvalidInputException"
    assert "The operation is not allowed when trigger is in state: CREATED" in str(stopped.value)


def test_patterns_deliver_exactly_the_matching_events(weir, glue, events, scripts):
    for name in ["big", "incoming", "real"]:
        event_workflow(glue, scripts, name, 100, 5)
    route(events, "big-files", {"detail": {"size": [{"numeric": [">", 100, "<=", 1000]}]}}, "big")
    route(events, "incoming", {"detail": {"key": [{"prefix": "in/"}]}}, "incoming")
    route(events, "not-test",
          {"source": ["my.app"], "detail": {"stage": [{"anything-but": ["test", "dev"]}]}},
          "real")
    details = [
        {"size": 500, "key": "in/a.csv", "stage": "prod"},   # all three
        {"size": 100, "key": "in/b.csv", "stage": "test"},   # incoming
        {"size": 1001, "key": "out/c.csv", "stage": "qa"},   # real
        {"size": "500", "key": "In/d.csv"},                  # none (string size, no stage)
        {"size": 101, "key": "in", "stage": "dev"},          # big
    ]
    entries = [entry(d) for d in details]
    entries.insert(2, {"Source": "my.app", "DetailType": "Thing", "Detail": "[1, 2]"})
    answer = events.put_events(Entries=entries)
    assert answer["FailedEntryCount"] == 1
    results = answer["Entries"]
    assert results[2]["ErrorCode"] == "MalformedDetail" and "EventId" not in results[2]
    ids = [r["EventId"] for i, r in enumerate(results) if i != 2]
    assert len(set(ids)) == 5

    assert all(runs_of(glue, w) == [] for w in ["big", "incoming", "real"])
    weir.advance_clock(5_000)
    expected = {"big": [ids[0], ids[4]], "incoming": [ids[0], ids[1]], "real": [ids[0], ids[2]]}
    for workflow, wanted in expected.items():
        (run,) = wait_runs(glue, workflow, 1)
        assert event_ids(run) == wanted, workflow
        assert run["StartingEventBatchCondition"] == {"BatchWindow": 5}

    # A disabled rule, or one without its target, delivers nothing.
    events.disable_rule(Name="big-files")
    events.remove_targets(Rule="incoming", Ids=["wf"])
    put(events, [entry({"size": 500, "key": "in/e.csv", "stage": "prod"})])
    weir.advance_clock(5_000)
    (run, _) = wait_runs(glue, "real", 2)
    assert len(runs_of(glue, "big")) == 1 and len(runs_of(glue, "incoming")) == 1


def test_window_expiry_starts_a_run_with_the_events_so_far(weir, glue, events, scripts):
    event_workflow(glue, scripts, "landing", 100, 5)
    route(events, "landing", {"source": ["my.app"]}, "landing")
    ids = put(events, [entry({"n": 1})])
    weir.advance_clock(2_000)
    ids += put(events, [entry({"n": 2})])
    weir.advance_clock(2_999)  # 4.999 s after the first event: the window is open
    assert runs_of(glue, "landing") == []
    weir.advance_clock(1)
    (run,) = wait_runs(glue, "landing", 1)
    assert event_ids(run) == ids
    assert run["StartingEventBatchCondition"] == {"BatchWindow": 5}
    detail = glue.get_workflow_run(Name="landing", RunId=run["WorkflowRunId"])["Run"]
    assert detail["StartingEventBatchCondition"] == {"BatchWindow": 5}
    properties = glue.get_workflow_run_properties(Name="landing", RunId=run["WorkflowRunId"])
    assert event_ids({"WorkflowRunProperties": properties["RunProperties"]}) == ids


def test_window_expiry_in_real_time(tmp_path, scripts):
    data = tmp_path / "real-time"
    data.mkdir()
    server = weirtest.WeirServer(data, tmp_path / "real-time.log", extra_args=SERVER_ARGS)
    server.start()
    try:
        glue, events = server.client(), events_client(server)
        event_workflow(glue, scripts, "landing", 100, 1)
        route(events, "landing", {"source": ["my.app"]}, "landing")
        ids = put(events, [entry({"n": 1}), entry({"n": 2})])
        (run,) = wait_runs(glue, "landing", 1)
        assert event_ids(run) == ids
        assert run["StartingEventBatchCondition"] == {"BatchWindow": 1}
    finally:
        server.stop()


def test_250_events_partition_into_batches_of_100(weir, glue, events, scripts):
    event_workflow(glue, scripts, "bulk", 100, 60)
    route(events, "bulk", {"source": ["my.app"]}, "bulk")
    ids = []
    for chunk in range(25):
        ids += put(events, [entry({"n": chunk * 10 + i}) for i in range(10)])
    assert len(set(ids)) == 250
    runs = wait_runs(glue, "bulk", 2)
    assert len(runs) == 2
    weir.advance_clock(60_000)
    runs = wait_runs(glue, "bulk", 3)
    batches = [event_ids(run) for run in runs]
    assert sorted(len(b) for b in batches) == [50, 100, 100]
    assert sorted(i for b in batches for i in b) == sorted(ids)
    conditions = sorted(json.dumps(r["StartingEventBatchCondition"], sort_keys=True)
                        for r in runs)
    assert conditions == ['{"BatchSize": 100}', '{"BatchSize": 100}', '{"BatchWindow": 60}']
    # The batches are the events in arrival order.
    assert sorted(batches, key=lambda b: ids.index(b[0])) == [ids[:100], ids[100:200], ids[200:]]


def test_batch_over_max_concurrent_runs_records_an_error_run(glue, events, scripts):
    gate = scripts.path("go")
    job = "slow-job"
    create_job(glue, job, scripts.write(job, f"wait_for_file({gate!r})"))
    glue.create_workflow(Name="single", MaxConcurrentRuns=1)
    glue.create_trigger(Name="single-start", WorkflowName="single", Type="EVENT",
                        EventBatchingCondition={"BatchSize": 1}, Actions=[{"JobName": job}])
    route(events, "single", {"source": ["my.app"]}, "single")
    first = put(events, [entry({"n": 1})])
    wait_runs(glue, "single", 1)
    second = put(events, [entry({"n": 2})])
    runs = wait_runs(glue, "single", 2)
    errored = [r for r in runs if r["Status"] == "ERROR"]
    assert len(errored) == 1
    assert errored[0]["ErrorMessage"] == "Concurrent runs exceeded for workflow: single."
    assert event_ids(errored[0]) == second
    running = [r for r in runs if r["Status"] != "ERROR"]
    assert event_ids(running[0]) == first
    open(gate, "w").close()


def test_sigkill_with_a_half_full_batch_loses_no_event(weir, glue, events, scripts):
    event_workflow(glue, scripts, "sized", 10, 900)
    event_workflow(glue, scripts, "windowed", 100, 120)
    route(events, "sized", {"detail": {"to": ["sized"]}}, "sized")
    route(events, "windowed", {"detail": {"to": ["windowed"]}}, "windowed")
    before = put(events, [entry({"to": "sized", "n": i}) for i in range(5)])
    pending = put(events, [entry({"to": "windowed", "n": i}) for i in range(3)])
    weir.kill9()
    weir.restart()
    events, glue = events_client(weir), weir.client()
    assert runs_of(glue, "sized") == [] and runs_of(glue, "windowed") == []
    # The half-full batch survived: five more events complete it.
    after = put(events, [entry({"to": "sized", "n": i}) for i in range(5, 10)])
    (run,) = wait_runs(glue, "sized", 1)
    assert event_ids(run) == before + after
    assert run["StartingEventBatchCondition"] == {"BatchSize": 10}
    # The other batch's window was re-armed at start-up (its 120 s count from the first
    # event; the restarted manual clock starts at the real time again, later).
    weir.advance_clock(120_000)
    (run,) = wait_runs(glue, "windowed", 1)
    assert event_ids(run) == pending
    assert run["StartingEventBatchCondition"] == {"BatchWindow": 120}


def test_deleting_a_workflow_drops_its_pending_batch(weir, glue, events, scripts):
    event_workflow(glue, scripts, "gone", 10, 60)
    route(events, "gone", {"source": ["my.app"]}, "gone")
    put(events, [entry({"n": i}) for i in range(3)])
    glue.delete_workflow(Name="gone")
    glue.delete_job(JobName="gone-job")
    event_workflow(glue, scripts, "gone", 10, 60)
    # The new workflow of the same name starts from an empty batch.
    ids = put(events, [entry({"n": i}) for i in range(10)])
    (run,) = wait_runs(glue, "gone", 1)
    assert event_ids(run) == ids
    weir.advance_clock(60_000)
    assert len(runs_of(glue, "gone")) == 1


def test_sigkill_during_a_burst_loses_and_repeats_no_acknowledged_event(weir, glue, events,
                                                                         scripts):
    import threading

    event_workflow(glue, scripts, "burst", 7, 30)
    route(events, "burst", {"source": ["my.app"]}, "burst")
    acknowledged: list[str] = []
    stop = threading.Event()

    def send() -> None:
        client = events_client(weir)
        n = 0
        while not stop.is_set():
            try:
                acknowledged.extend(put(client, [entry({"n": n + i}) for i in range(5)]))
            except Exception:  # the server was killed mid-call
                return
            n += 5

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    wait_for(lambda: len(acknowledged) >= 60, "60 acknowledged events")
    weir.kill9()
    stop.set()
    sender.join(60)
    acked = list(acknowledged)
    weir.restart()
    glue = weir.client()
    weir.advance_clock(30_000)  # the batch left pending, if any, starts now

    def all_ids():
        ids = [i for run in runs_of(glue, "burst") for i in event_ids(run)]
        return ids if set(acked) <= set(ids) else None

    ids = wait_for(all_ids, "every acknowledged event in a run")
    assert len(ids) == len(set(ids)), "an event is in two runs"
    # Only the call in flight at the kill may have committed without an answer.
    assert len(ids) - len(acked) <= 5


# -- S3 object events ---------------------------------------------------------------------------
def s3_client(server):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=weirtest.REGION,
        aws_access_key_id=weirtest.ACCESS_KEY,
        aws_secret_access_key=weirtest.SECRET_KEY,
        config=weirtest.client_config(),
    )


def test_objects_landing_in_s3_start_one_batched_run(weir, glue, events, scripts):
    """Three objects put under `in/` of a bucket that sends its events to EventBridge,
    a rule for that bucket and prefix, an EVENT trigger with BatchSize 3: one run with
    the three events; an object under `out/` starts nothing."""
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="landing")
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(
        Bucket="landing")
    s3.put_bucket_notification_configuration(
        Bucket="landing", NotificationConfiguration={"EventBridgeConfiguration": {}})
    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(
        Bucket="landing")
    event_workflow(glue, scripts, "ingest", 3)
    route(events, "landing-in", {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["landing"]}, "object": {"key": [{"prefix": "in/"}]}},
    }, "ingest")

    s3.put_object(Bucket="landing", Key="out/ignored.csv", Body=b"x")
    for name in ["a", "b"]:
        s3.put_object(Bucket="landing", Key=f"in/{name}.csv", Body=b"1,2\n")
    assert runs_of(glue, "ingest") == [], "two of three events: no run yet"
    s3.put_object(Bucket="landing", Key="in/c.csv", Body=b"3,4\n")
    (run,) = wait_runs(glue, "ingest", 1)
    assert run["StartingEventBatchCondition"] == {"BatchSize": 3}
    ids = event_ids(run)
    assert len(ids) == 3 and len(set(ids)) == 3
    # Nothing else is pending: the `out/` object matched no rule, and a window later
    # there is still one run.
    weir.advance_clock(900_000)
    assert len(runs_of(glue, "ingest")) == 1

    # Deletions are events too (Object Deleted), and a bucket without the
    # configuration emits none.
    route(events, "landing-deleted", {
        "source": ["aws.s3"], "detail-type": ["Object Deleted"],
        "detail": {"reason": ["DeleteObject"]},
    }, "ingest")
    s3.create_bucket(Bucket="quiet")
    for key in ["in/x.csv", "in/y.csv", "in/z.csv"]:
        s3.put_object(Bucket="quiet", Key=key, Body=b"q")
    s3.delete_object(Bucket="landing", Key="in/a.csv")
    weir.advance_clock(900_000)
    runs = wait_runs(glue, "ingest", 2)
    assert len(runs) == 2
    assert runs[0]["StartingEventBatchCondition"] == {"BatchWindow": 900}
    assert len(event_ids(runs[0])) == 1

    # SNS, SQS and Lambda destinations are not served.
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.put_bucket_notification_configuration(
            Bucket="landing",
            NotificationConfiguration={"QueueConfigurations": [{
                "QueueArn": "arn:aws:sqs:us-east-1:123456789012:q", "Events": ["s3:ObjectCreated:*"],
            }]})
    assert error_code(refused) == "InvalidArgument"


def test_copies_and_multipart_uploads_are_object_created_events(weir, glue, events, scripts):
    """CopyObject and CompleteMultipartUpload emit `Object Created` with their reason, and
    DeleteObjects one `Object Deleted` per deleted key."""
    s3 = s3_client(weir)
    s3.create_bucket(Bucket="staging")
    s3.put_bucket_notification_configuration(
        Bucket="staging", NotificationConfiguration={"EventBridgeConfiguration": {}})
    event_workflow(glue, scripts, "assembled", 2)
    route(events, "assembled", {
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"reason": ["CopyObject", "CompleteMultipartUpload"]},
    }, "assembled")
    event_workflow(glue, scripts, "cleaned", 2)
    route(events, "cleaned", {
        "source": ["aws.s3"], "detail-type": ["Object Deleted"],
        "detail": {"reason": ["DeleteObjects"], "deletion-type": ["Permanently Deleted"]},
    }, "cleaned")

    s3.put_object(Bucket="staging", Key="raw/a.csv", Body=b"a\n")  # PutObject: neither rule
    s3.copy_object(Bucket="staging", Key="copy/a.csv",
                   CopySource={"Bucket": "staging", "Key": "raw/a.csv"})
    assert runs_of(glue, "assembled") == []
    upload = s3.create_multipart_upload(Bucket="staging", Key="parts/b.csv")["UploadId"]
    etag = s3.upload_part(Bucket="staging", Key="parts/b.csv", UploadId=upload,
                          PartNumber=1, Body=b"b\n")["ETag"]
    s3.complete_multipart_upload(
        Bucket="staging", Key="parts/b.csv", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    (run,) = wait_runs(glue, "assembled", 1)
    assert run["StartingEventBatchCondition"] == {"BatchSize": 2}
    assert len(set(event_ids(run))) == 2

    deleted = s3.delete_objects(Bucket="staging", Delete={"Objects": [
        {"Key": "copy/a.csv"}, {"Key": "parts/b.csv"}]})
    assert len(deleted["Deleted"]) == 2
    (run,) = wait_runs(glue, "cleaned", 1)
    assert run["StartingEventBatchCondition"] == {"BatchSize": 2}
    assert len(runs_of(glue, "assembled")) == 1
