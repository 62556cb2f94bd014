"""The S3 API on Weir's endpoint, with real clients against the real server: the AWS
CLI (`s3 mb/cp/ls/sync/rm`), boto3 with its default configuration (checksums on),
presigned URLs, hand-built `aws-chunked` uploads (signed chunks, unsigned payload
with checksum trailers), two accounts, SIGKILL after an acknowledged put, and the
Glue side: a pythonshell job, a crawler and a blueprint using objects put through S3.

Objects are files of `<data-dir>/s3/<bucket>/<key>`: the tests check that side too."""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import os
import pathlib
import subprocess
import urllib.error
import urllib.request
import zlib
from unittest import mock

import boto3
import botocore.auth
import botocore.exceptions
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import weirtest
from blueprint_helpers import layout_archive, register, run_blueprint
from runs_helpers import (  # noqa: F401  (weir_args is a fixture)
    SERVER_ARGS,
    wait_job_run,
    wait_run,
    weir_args,
)
from weirtest import ACCESS_KEY, ACCOUNT_ID, REGION, SECRET_KEY

MIB = 1024 * 1024


# -- clients ------------------------------------------------------------------------------
def s3_client(weir, access_key=ACCESS_KEY, secret_key=SECRET_KEY, session_token=None, **config):
    """boto3's S3 client with its default configuration (only retries off)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=weir.endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        config=weirtest.client_config(**config),
    )


@pytest.fixture
def s3(weir):
    return s3_client(weir)


def s3_path(weir, bucket: str, key: str = "") -> pathlib.Path:
    return weir.data_dir / "s3" / bucket / key


def error_code(call, *args, **kwargs) -> tuple[str, int, dict]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response


def cli(weir, *args: str, env: dict | None = None) -> str:
    """`aws <args>` against the server; its standard output."""
    command = [weirtest.aws_executable(), *args, "--endpoint-url", weir.endpoint, "--region", REGION,
               "--no-progress" if args[0] == "s3" and args[1] in ("cp", "sync", "mv") else "--no-paginate"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, AWS_MAX_ATTEMPTS="1", **(env or {})))
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done.stdout


# -- hand-signed requests -----------------------------------------------------------------
def signed(weir, method: str, path: str, body: bytes = b"", headers: dict | None = None, *,
           content_sha256: str | None = None, secret_key: str = SECRET_KEY, host: str | None = None,
           when: datetime.datetime | None = None) -> AWSRequest:
    """A request signed for S3 as SigV4 prescribes, with `x-amz-content-sha256` set to
    `content_sha256` (default: the body's hash)."""
    request = AWSRequest(method=method, url=weir.endpoint + path, data=body, headers=dict(headers or {}))
    if host is not None:
        request.headers["Host"] = host
    request.headers["X-Amz-Content-SHA256"] = content_sha256 or hashlib.sha256(body).hexdigest()
    signer = SigV4Auth(Credentials(ACCESS_KEY, secret_key), "s3", REGION)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda: when):
            signer.add_auth(request)
    return request


def send(weir, request: AWSRequest, body: bytes | None = None) -> tuple[int, dict, bytes]:
    """Sends `request` (with `body` instead of its own when given) over a fresh connection."""
    connection = http.client.HTTPConnection(weir.host, weir.port, timeout=60)
    try:
        target = request.url[len(weir.endpoint):]
        data = request.body if body is None else body
        connection.request(request.method, target, body=data, headers=dict(request.headers.items()))
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def xml_code(body: bytes) -> str:
    text = body.decode()
    assert "<RequestId>" in text and "<Message>" in text and "<Resource>" in text, text
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


def hmac_sha256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def chunk_signer(request: AWSRequest):
    """The chunk signatures chained from the seed signature of `request`."""
    timestamp = request.context["timestamp"]
    scope = f"{timestamp[:8]}/{REGION}/s3/aws4_request"
    key = hmac_sha256(f"AWS4{SECRET_KEY}".encode(), timestamp[:8])
    for part in (REGION, "s3", "aws4_request"):
        key = hmac_sha256(key, part)
    previous = [request.headers["Authorization"].rsplit("Signature=", 1)[1]]

    def sign(data: bytes) -> str:
        string_to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", timestamp, scope, previous[0],
                                    hashlib.sha256(b"").hexdigest(), hashlib.sha256(data).hexdigest()])
        previous[0] = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        return previous[0]

    return sign


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def crc64nvme(data: bytes) -> int:
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x9A6C9329AC4BC9B5 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def b64(number: int, width: int) -> str:
    return base64.b64encode(number.to_bytes(width, "big")).decode()


# -- the AWS CLI ------------------------------------------------------------------------------
def test_cli_mb_cp_ls_sync_rm(weir, tmp_path):
    cli(weir, "s3", "mb", "s3://cli-bucket")
    small = tmp_path / "small.txt"
    small.write_bytes(b"a small file\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MIB))
    cli(weir, "s3", "cp", str(small), "s3://cli-bucket/small.txt")
    cli(weir, "s3", "cp", str(big), "s3://cli-bucket/dir/big.bin")
    # A put object is a file of the S3 tree, byte for byte.
    assert s3_path(weir, "cli-bucket", "small.txt").read_bytes() == small.read_bytes()
    assert s3_path(weir, "cli-bucket", "dir/big.bin").read_bytes() == big.read_bytes()
    listing = cli(weir, "s3", "ls", "s3://cli-bucket/")
    assert "small.txt" in listing and "PRE dir/" in listing, listing
    assert "cli-bucket" in cli(weir, "s3", "ls")
    recursive = cli(weir, "s3", "ls", "s3://cli-bucket/", "--recursive")
    assert str(20 * MIB) in recursive and "dir/big.bin" in recursive, recursive

    down = tmp_path / "down"
    cli(weir, "s3", "cp", "s3://cli-bucket/small.txt", str(down / "small.txt"))
    cli(weir, "s3", "cp", "s3://cli-bucket/dir/big.bin", str(down / "big.bin"))
    assert (down / "small.txt").read_bytes() == small.read_bytes()
    assert (down / "big.bin").read_bytes() == big.read_bytes()

    tree = tmp_path / "tree"
    files = {"a.txt": b"A", "sub/b.csv": b"x,y\n1,2\n", "sub/deeper/c d+e%.json": b'{"k": 1}',
             "sub/deeper/ünï.txt": os.urandom(3000)}
    for rel, data in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
    cli(weir, "s3", "sync", str(tree), "s3://cli-bucket/tree")
    back = tmp_path / "back"
    cli(weir, "s3", "sync", "s3://cli-bucket/tree", str(back))
    got = {str(p.relative_to(back)): p.read_bytes() for p in back.rglob("*") if p.is_file()}
    assert got == files
    # A second sync has nothing to do.
    assert cli(weir, "s3", "sync", str(tree), "s3://cli-bucket/tree").strip() == ""

    cli(weir, "s3", "rm", "s3://cli-bucket/tree", "--recursive")
    assert "tree" not in cli(weir, "s3", "ls", "s3://cli-bucket/")
    assert not s3_path(weir, "cli-bucket", "tree").exists(), "emptied prefixes leave no directories"
    cli(weir, "s3", "rm", "s3://cli-bucket", "--recursive")
    cli(weir, "s3", "rb", "s3://cli-bucket")
    assert "cli-bucket" not in cli(weir, "s3", "ls")


# -- boto3 ------------------------------------------------------------------------------------
KEYS = ["plain.txt", "with space/and+plus%percent.txt", "ünïcödé/日本語/€.bin", "a/b/c/d/e/f.json"]


def test_boto3_objects_round_trip(weir, s3):
    s3.create_bucket(Bucket="objects")
    assert s3.head_bucket(Bucket="objects")["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == REGION
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["objects"]
    assert s3.get_bucket_location(Bucket="objects")["LocationConstraint"] is None
    for index, key in enumerate(KEYS):
        body = f"body {index} of {key}".encode() * 100
        put = s3.put_object(Bucket="objects", Key=key, Body=body, ContentType="text/x-test",
                            Metadata={"origin": "test", "index": str(index)})
        assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
        assert put["ChecksumCRC32"] == b64(zlib.crc32(body), 4)
        got = s3.get_object(Bucket="objects", Key=key)
        assert got["Body"].read() == body
        assert got["ContentType"] == "text/x-test"
        assert got["Metadata"] == {"origin": "test", "index": str(index)}
        assert got["ETag"] == put["ETag"] and got["ContentLength"] == len(body)
        assert s3_path(weir, "objects", key).read_bytes() == body
        ranged = s3.get_object(Bucket="objects", Key=key, Range="bytes=5-14")
        assert ranged["Body"].read() == body[5:15]
        assert ranged["ContentRange"] == f"bytes 5-14/{len(body)}"
        assert s3.get_object(Bucket="objects", Key=key, Range="bytes=-7")["Body"].read() == body[-7:]
        head = s3.head_object(Bucket="objects", Key=key)
        assert head["ContentLength"] == len(body) and head["Metadata"]["origin"] == "test"

    # Conditionals.
    etag = s3.head_object(Bucket="objects", Key="plain.txt")["ETag"]
    assert error_code(s3.get_object, Bucket="objects", Key="plain.txt", IfNoneMatch=etag)[1] == 304
    assert error_code(s3.get_object, Bucket="objects", Key="plain.txt", IfMatch='"nope"')[0] == "PreconditionFailed"
    assert s3.get_object(Bucket="objects", Key="plain.txt", IfMatch=etag)["ETag"] == etag

    copied = s3.copy_object(Bucket="objects", Key="copies/plain.txt",
                            CopySource={"Bucket": "objects", "Key": KEYS[1]})
    assert copied["CopyObjectResult"]["ETag"] == s3.head_object(Bucket="objects", Key=KEYS[1])["ETag"]
    copy = s3.get_object(Bucket="objects", Key="copies/plain.txt")
    assert copy["Metadata"]["index"] == "1"
    replaced = s3.copy_object(Bucket="objects", Key="copies/replaced", MetadataDirective="REPLACE",
                              Metadata={"new": "yes"}, ContentType="application/json",
                              CopySource={"Bucket": "objects", "Key": KEYS[1]})
    assert replaced["CopyObjectResult"]["ETag"]
    head = s3.head_object(Bucket="objects", Key="copies/replaced")
    assert head["Metadata"] == {"new": "yes"} and head["ContentType"] == "application/json"

    s3.delete_object(Bucket="objects", Key="plain.txt")
    assert error_code(s3.head_object, Bucket="objects", Key="plain.txt")[1] == 404
    s3.delete_object(Bucket="objects", Key="plain.txt")  # deleting nothing succeeds
    deleted = s3.delete_objects(Bucket="objects", Delete={"Objects": [{"Key": k} for k in KEYS[1:]]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == sorted(KEYS[1:])
    remaining = [o["Key"] for o in s3.list_objects_v2(Bucket="objects")["Contents"]]
    assert remaining == ["copies/plain.txt", "copies/replaced"]
    # Sidecars and temporary files never show up in the bucket's directory.
    on_disk = sorted(str(p.relative_to(s3_path(weir, "objects"))) for p in s3_path(weir, "objects").rglob("*"))
    assert on_disk == ["copies", "copies/plain.txt", "copies/replaced"]


def test_boto3_multipart_transfers(weir, s3, tmp_path):
    s3.create_bucket(Bucket="multi")
    source = tmp_path / "source.bin"
    data = os.urandom(20 * MIB + 12345)
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    s3.upload_file(str(source), "multi", "big/object.bin", Config=config)
    head = s3.head_object(Bucket="multi", Key="big/object.bin")
    assert head["ContentLength"] == len(data)
    md5s = b"".join(hashlib.md5(data[i:i + 5 * MIB]).digest() for i in range(0, len(data), 5 * MIB))
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-5"'
    target = tmp_path / "target.bin"
    s3.download_file("multi", "big/object.bin", str(target), Config=config)
    assert target.read_bytes() == data
    assert s3_path(weir, "multi", "big/object.bin").read_bytes() == data

    # The low-level calls.
    upload = s3.create_multipart_upload(Bucket="multi", Key="parts", ContentType="text/plain",
                                        Metadata={"kind": "parts"})["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket="multi")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("parts", upload)]
    first = s3.upload_part(Bucket="multi", Key="parts", UploadId=upload, PartNumber=1, Body=b"x" * (5 * MIB))
    second = s3.upload_part(Bucket="multi", Key="parts", UploadId=upload, PartNumber=2, Body=b"tail")
    listed = s3.list_parts(Bucket="multi", Key="parts", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (1, 5 * MIB, first["ETag"]), (2, 4, second["ETag"])]
    code, status, _ = error_code(
        s3.complete_multipart_upload, Bucket="multi", Key="parts", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]})
    assert (code, status) == ("InvalidPart", 400)
    done = s3.complete_multipart_upload(
        Bucket="multi", Key="parts", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first["ETag"]},
                                   {"PartNumber": 2, "ETag": second["ETag"]}]})
    assert done["ETag"].endswith('-2"')
    got = s3.get_object(Bucket="multi", Key="parts")
    assert got["Body"].read() == b"x" * (5 * MIB) + b"tail" and got["Metadata"] == {"kind": "parts"}
    assert s3.list_multipart_uploads(Bucket="multi").get("Uploads", []) == []

    aborted = s3.create_multipart_upload(Bucket="multi", Key="aborted")["UploadId"]
    s3.upload_part(Bucket="multi", Key="aborted", UploadId=aborted, PartNumber=1, Body=b"gone")
    s3.abort_multipart_upload(Bucket="multi", Key="aborted", UploadId=aborted)
    assert error_code(s3.list_parts, Bucket="multi", Key="aborted", UploadId=aborted)[0] == "NoSuchUpload"
    assert error_code(s3.head_object, Bucket="multi", Key="aborted")[1] == 404


def test_list_objects_v2_pages_over_1100_keys_with_prefix_and_delimiter(weir, s3):
    s3.create_bucket(Bucket="many")
    keys = [f"data/part-{i:04d}.csv" for i in range(1000)] + [f"logs/{i:03d}/run.log" for i in range(100)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket="many", Key=k, Body=k.encode()), keys))
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="many", PaginationConfig={"PageSize": 250}))
    assert len(pages) == 5
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys)
    first = s3.list_objects_v2(Bucket="many")
    assert first["KeyCount"] == 1000 and first["IsTruncated"] and "NextContinuationToken" in first
    rest = s3.list_objects_v2(Bucket="many", ContinuationToken=first["NextContinuationToken"])
    assert rest["KeyCount"] == 100 and not rest["IsTruncated"]

    top = s3.list_objects_v2(Bucket="many", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["data/", "logs/"] and "Contents" not in top
    logs = list(paginator.paginate(Bucket="many", Prefix="logs/", Delimiter="/",
                                   PaginationConfig={"PageSize": 30}))
    assert len(logs) == 4
    assert [p["Prefix"] for page in logs for p in page.get("CommonPrefixes", [])] == [
        f"logs/{i:03d}/" for i in range(100)]
    data = s3.list_objects_v2(Bucket="many", Prefix="data/part-09", StartAfter="data/part-0950.csv")
    assert [o["Key"] for o in data["Contents"]] == [f"data/part-{i:04d}.csv" for i in range(951, 1000)]
    assert data["Contents"][0]["ETag"] == f'"{hashlib.md5(b"data/part-0951.csv").hexdigest()}"'
    v1 = list(s3.get_paginator("list_objects").paginate(Bucket="many", Prefix="logs/",
                                                        PaginationConfig={"PageSize": 40}))
    assert [o["Key"] for p in v1 for o in p["Contents"]] == sorted(keys)[1000:]


def test_files_placed_in_the_tree_are_objects_of_the_default_account(weir, s3):
    s3_path(weir, "legacy", "in/data.csv").parent.mkdir(parents=True)
    s3_path(weir, "legacy", "in/data.csv").write_bytes(b"id\n1\n")
    assert "legacy" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="legacy")["Contents"]] == ["in/data.csv"]
    got = s3.get_object(Bucket="legacy", Key="in/data.csv")
    content = b"id\n1\n"
    assert got["Body"].read() == content and got["ETag"] == f'"{hashlib.md5(content).hexdigest()}"'


def test_virtual_hosted_style(weir, s3):
    s3.create_bucket(Bucket="virtual")
    request = signed(weir, "PUT", "/dir/key.txt", b"hosted", host=f"virtual.localhost:{weir.port}")
    status, _, body = send(weir, request)
    assert status == 200, body
    assert s3.get_object(Bucket="virtual", Key="dir/key.txt")["Body"].read() == b"hosted"
    request = signed(weir, "GET", "/?list-type=2", host=f"virtual.localhost:{weir.port}")
    status, _, body = send(weir, request)
    assert status == 200 and b"<Key>dir/key.txt</Key>" in body, body


def test_presigned_urls_work_then_expire(weir, s3):
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="report/q1 2026+.csv", Body=b"a,b\n1,2\n")
    params = {"Bucket": "shared", "Key": "report/q1 2026+.csv"}
    # boto3's default (version 2 query signatures in us-east-1), then SigV4.
    v4 = s3_client(weir, signature_version="s3v4")
    for client in (s3, v4):
        url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=600)
        with urllib.request.urlopen(url, timeout=60) as response:
            assert response.read() == b"a,b\n1,2\n"
        tampered = url.replace("q1", "q2")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(tampered, timeout=60)
        assert info.value.code == 403 and xml_code(info.value.read()) == "SignatureDoesNotMatch"
    put_url = v4.generate_presigned_url("put_object", Params={"Bucket": "shared", "Key": "up"}, ExpiresIn=600)
    request = urllib.request.Request(put_url, data=b"uploaded", method="PUT")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
    assert s3.get_object(Bucket="shared", Key="up")["Body"].read() == b"uploaded"

    # Signed an hour ago, valid for a minute: expired.
    an_hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: an_hour_ago):
        expired_v4 = v4.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    with mock.patch.object(botocore.auth.time, "time", lambda: an_hour_ago.timestamp()):
        expired_v2 = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    for url in (expired_v4, expired_v2):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=60)
        body = info.value.read()
        assert info.value.code == 403 and xml_code(body) == "AccessDenied", body
        assert b"Request has expired" in body


def test_every_error_code(weir, s3):
    def code_of(call, **kwargs):
        code, status, _ = error_code(call, **kwargs)
        return code, status

    assert code_of(s3.get_object, Bucket="nowhere", Key="k") == ("NoSuchBucket", 404)
    # HeadBucket of a missing bucket is a bare 404.
    assert code_of(s3.head_bucket, Bucket="nowhere") == ("404", 404)
    s3.create_bucket(Bucket="errors")
    assert code_of(s3.get_object, Bucket="errors", Key="missing") == ("NoSuchKey", 404)
    assert code_of(s3.create_bucket, Bucket="errors") == ("BucketAlreadyOwnedByYou", 409)
    assert code_of(s3.create_bucket, Bucket="Not_Valid") == ("InvalidBucketName", 400)
    s3.put_object(Bucket="errors", Key="ten", Body=b"0123456789")
    assert code_of(s3.delete_bucket, Bucket="errors") == ("BucketNotEmpty", 409)
    assert code_of(s3.get_object, Bucket="errors", Key="ten", Range="bytes=10-") == ("InvalidRange", 416)
    wrong = s3_client(weir, secret_key="not-the-secret")
    assert code_of(wrong.get_object, Bucket="errors", Key="ten") == ("SignatureDoesNotMatch", 403)
    assert code_of(s3.get_object, Bucket="errors", Key="ten",
                   ExpectedBucketOwner="999999999999") == ("AccessDenied", 403)
    assert code_of(s3.put_object, Bucket="errors", Key="a/../../escape", Body=b"x") == ("InvalidArgument", 400)
    assert not (weir.data_dir / "escape").exists()

    status, _, body = send(weir, signed(weir, "POST", "/errors?delete", b"<Delete><Object><Key>ten"))
    assert status == 400 and xml_code(body) == "MalformedXML", body

    # A body larger than a PutObject may be is refused before it is read.
    request = signed(weir, "PUT", "/errors/huge", content_sha256="UNSIGNED-PAYLOAD",
                     headers={"Content-Length": str(6 * 1024 ** 3)})
    connection = http.client.HTTPConnection(weir.host, weir.port, timeout=60)
    try:
        connection.putrequest("PUT", "/errors/huge", skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 400 and xml_code(body) == "EntityTooLarge", body
    assert code_of(s3.head_object, Bucket="errors", Key="huge") == ("404", 404)

    # A body that is not the one signed.
    request = signed(weir, "PUT", "/errors/tampered", b"signed body")
    status, _, body = send(weir, request, body=b"other body!")
    assert status == 400 and xml_code(body) == "XAmzContentSHA256Mismatch", body
    assert code_of(s3.head_object, Bucket="errors", Key="tampered") == ("404", 404)


def test_aws_chunked_uploads_signed_and_with_checksum_trailers(weir, s3):
    s3.create_bucket(Bucket="chunked")
    data = os.urandom(200_000)
    pieces = [data[:65536], data[65536:131072], data[131072:]]

    # STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signed, chained to the seed.
    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data))}
    request = signed(weir, "PUT", "/chunked/signed", headers=headers,
                     content_sha256="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    sign = chunk_signer(request)
    body = b"".join(f"{len(p):x};chunk-signature={sign(p)}\r\n".encode() + p + b"\r\n" for p in pieces)
    body += f"0;chunk-signature={sign(b'')}\r\n\r\n".encode()
    status, _, answer = send(weir, request, body=body)
    assert status == 200, answer
    assert s3.get_object(Bucket="chunked", Key="signed")["Body"].read() == data

    # A chunk whose signature does not follow: refused, nothing stored.
    request = signed(weir, "PUT", "/chunked/forged", headers=headers,
                     content_sha256="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    sign = chunk_signer(request)
    body = b"".join(f"{len(p):x};chunk-signature={sign(p[::-1])}\r\n".encode() + p + b"\r\n" for p in pieces)
    body += f"0;chunk-signature={sign(b'')}\r\n\r\n".encode()
    status, _, answer = send(weir, request, body=body)
    assert status == 403 and xml_code(answer) == "SignatureDoesNotMatch", answer
    assert error_code(s3.head_object, Bucket="chunked", Key="forged")[1] == 404

    # STREAMING-UNSIGNED-PAYLOAD-TRAILER with each checksum current SDKs send.
    for name, value in [("crc32", b64(zlib.crc32(data), 4)), ("crc32c", b64(crc32c(data), 4)),
                        ("crc64nvme", b64(crc64nvme(data), 8))]:
        trailer_headers = dict(headers, **{"X-Amz-Trailer": f"x-amz-checksum-{name}"})
        for key, sent_value in [(f"trailer-{name}", value), (f"bad-{name}", b64(0, len(base64.b64decode(value))))]:
            request = signed(weir, "PUT", f"/chunked/{key}", headers=trailer_headers,
                             content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
            body = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces)
            body += f"0\r\nx-amz-checksum-{name}:{sent_value}\r\n\r\n".encode()
            status, answer_headers, answer = send(weir, request, body=body)
            if key.startswith("bad"):
                assert status == 400 and xml_code(answer) == "BadDigest", answer
                assert error_code(s3.head_object, Bucket="chunked", Key=key)[1] == 404
            else:
                assert status == 200, answer
                assert answer_headers[f"x-amz-checksum-{name}"] == value
                assert s3.get_object(Bucket="chunked", Key=key)["Body"].read() == data


def peak_rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_64_mib_object_streams_through_the_edge_in_one_put(weir, s3):
    # One PutObject of 64 MiB: far above the edge's 10 MiB body limit of Glue, and
    # never held whole in the server's memory (its peak resident size grows by less).
    s3.create_bucket(Bucket="large")
    data = os.urandom(64 * MIB)
    s3.put_object(Bucket="large", Key="single", Body=b"warm-up")
    s3.get_object(Bucket="large", Key="single")["Body"].read()
    before = peak_rss_kib(weir.proc.pid)
    put = s3.put_object(Bucket="large", Key="single", Body=data)
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3.get_object(Bucket="large", Key="single")
    digest = hashlib.md5()
    for piece in got["Body"].iter_chunks(1 * MIB):
        digest.update(piece)
    assert digest.hexdigest() == hashlib.md5(data).hexdigest()
    grown = peak_rss_kib(weir.proc.pid) - before
    assert grown < 32 * 1024, f"the server's peak resident size grew by {grown} KiB"


# -- accounts and durability --------------------------------------------------------------------
ALICE = {"access_key_id": "AKIAS3ALICE", "secret_access_key": "alice-secret", "account_id": "111111111111"}
BOB = {"access_key_id": "AKIAS3BOB", "secret_access_key": "bob-secret", "account_id": "222222222222"}


@pytest.fixture
def two_accounts(tmp_path):
    path = tmp_path / "credentials.toml"
    lines = []
    for entry in (ALICE, BOB):
        lines.append("[[credentials]]")
        lines += [f'{key} = "{value}"' for key, value in entry.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return ["--credentials", str(path)]


def test_two_accounts_are_isolated(tmp_path, two_accounts):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # A directory from before S3 was served belongs to the default account.
    (data_dir / "s3" / "before").mkdir(parents=True)
    (data_dir / "s3" / "before" / "old.txt").write_text("old")
    server = weirtest.WeirServer(data_dir, tmp_path / "weir.log", extra_args=two_accounts)
    server.start()
    try:
        alice = s3_client(server, ALICE["access_key_id"], ALICE["secret_access_key"])
        bob = s3_client(server, BOB["access_key_id"], BOB["secret_access_key"])
        alice.create_bucket(Bucket="alice-data")
        alice.put_object(Bucket="alice-data", Key="secret.txt", Body=b"alice only")
        bob.create_bucket(Bucket="bob-data")
        assert [b["Name"] for b in alice.list_buckets()["Buckets"]] == ["alice-data"]
        assert [b["Name"] for b in bob.list_buckets()["Buckets"]] == ["bob-data"]
        for call, kwargs in [(bob.get_object, {"Key": "secret.txt"}), (bob.list_objects_v2, {}),
                             (bob.put_object, {"Key": "x", "Body": b"x"}), (bob.delete_bucket, {}),
                             (bob.delete_object, {"Key": "secret.txt"})]:
            code, status, _ = error_code(call, Bucket="alice-data", **kwargs)
            assert (code, status) == ("AccessDenied", 403), call
        assert error_code(bob.head_bucket, Bucket="alice-data")[1] == 403
        assert error_code(bob.create_bucket, Bucket="alice-data")[0] == "BucketAlreadyExists"
        assert error_code(alice.head_bucket, Bucket="alice-data",
                          ExpectedBucketOwner=BOB["account_id"])[1] == 403
        assert alice.head_bucket(Bucket="alice-data", ExpectedBucketOwner=ALICE["account_id"])
        assert error_code(alice.get_object, Bucket="before", Key="old.txt")[0] == "AccessDenied"
        assert alice.get_object(Bucket="alice-data", Key="secret.txt")["Body"].read() == b"alice only"
    finally:
        server.stop()


def test_an_acknowledged_put_survives_sigkill(weir, s3):
    s3.create_bucket(Bucket="durable")
    data = os.urandom(8 * MIB)
    s3.put_object(Bucket="durable", Key="whole.bin", Body=data, Metadata={"kept": "yes"})
    weir.kill9()
    assert s3_path(weir, "durable", "whole.bin").read_bytes() == data
    weir.start()
    s3 = s3_client(weir)
    got = s3.get_object(Bucket="durable", Key="whole.bin")
    assert got["Body"].read() == data and got["Metadata"] == {"kept": "yes"}
    assert got["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'


# -- Glue over S3 -------------------------------------------------------------------------------
def test_a_pythonshell_job_reads_and_writes_objects_with_plain_boto3(weir, glue, s3):
    s3.create_bucket(Bucket="job-data")
    s3.put_object(Bucket="job-data", Key="in/words.txt", Body=b"hello from s3\n")
    script = textwrap_dedent("""
        import boto3
        s3 = boto3.client("s3")
        body = s3.get_object(Bucket="job-data", Key="in/words.txt")["Body"].read()
        s3.put_object(Bucket="job-data", Key="out/WORDS.txt", Body=body.upper(),
                      Metadata={"written-by": "job"})
    """)
    s3.put_object(Bucket="job-data", Key="scripts/job.py", Body=script.encode())
    glue.create_job(Name="s3-job", Role="r",
                    Command={"Name": "pythonshell", "ScriptLocation": "s3://job-data/scripts/job.py"})
    run_id = glue.start_job_run(JobName="s3-job")["JobRunId"]
    run = wait_job_run(glue, "s3-job", run_id)
    assert run["JobRunState"] == "SUCCEEDED", run
    got = s3.get_object(Bucket="job-data", Key="out/WORDS.txt")
    assert got["Body"].read() == b"HELLO FROM S3\n" and got["Metadata"] == {"written-by": "job"}


def textwrap_dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).lstrip()


def test_a_crawler_crawls_objects_uploaded_through_s3(weir, glue, s3):
    s3.create_bucket(Bucket="lake")
    for name, text in [("customers/part-0.csv", "id,name\n1,Ann\n2,Bob\n"),
                       ("customers/part-1.csv", "id,name\n3,Cy\n"),
                       ("orders/o.csv", "order_id,amount\n10,9.5\n")]:
        s3.put_object(Bucket="lake", Key=f"data/{name}", Body=text.encode(), ContentType="text/csv",
                      Metadata={"source": "s3-test"})
    glue.create_crawler(Name="lake-crawler", Role="arn:aws:iam::123456789012:role/c", DatabaseName="lakedb",
                        Targets={"S3Targets": [{"Path": "s3://lake/data/"}]})
    glue.start_crawler(Name="lake-crawler")

    def crawled():
        crawls = glue.list_crawls(CrawlerName="lake-crawler")["Crawls"]
        done = [c for c in crawls if c["State"] != "RUNNING"]
        return done if done and glue.get_crawler(Name="lake-crawler")["Crawler"]["State"] == "READY" else None

    from runs_helpers import wait_for

    crawls = wait_for(crawled, "the crawl to finish")
    assert crawls[0]["State"] == "COMPLETED", crawls
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="lakedb")["TableList"]}
    assert sorted(tables) == ["customers", "orders"]
    columns = [c["Name"] for c in tables["customers"]["StorageDescriptor"]["Columns"]]
    assert columns == ["id", "name"]


BLUEPRINT_LAYOUT = """\
import boto3
import botocore.exceptions
from awsglue.blueprint.job import Job
from awsglue.blueprint.workflow import Entities, Workflow


def generate_layout(user_params, system_params):
    s3 = boto3.client("s3")
    bucket = user_params["ScriptBucket"]
    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "404":
            raise
        s3.create_bucket(Bucket=bucket)
    s3.upload_file("staged/etl.py", bucket, "scripts/etl.py")
    etl = Job(Name="etl", Role="r",
              Command={"Name": "pythonshell", "ScriptLocation": "s3://%s/scripts/etl.py" % bucket,
                       "PythonVersion": "3"})
    return Workflow(Name=user_params["WorkflowName"], Entities=Entities(Jobs=[etl]))
"""

STAGED_SCRIPT = """\
import boto3
boto3.client("s3").put_object(Bucket="staged-scripts", Key="ran/marker.txt", Body=b"the etl ran")
"""


def test_a_blueprint_stages_its_script_through_s3_and_the_workflow_runs(weir, glue, s3):
    archive = layout_archive("staged", {"WorkflowName": {"type": "String"}, "ScriptBucket": {"type": "String"}},
                             BLUEPRINT_LAYOUT, {"staged/etl.py": STAGED_SCRIPT})
    s3.create_bucket(Bucket="blueprints")
    s3.put_object(Bucket="blueprints", Key="staged.zip", Body=archive)
    blueprint = register(glue, "staged-bp", "s3://blueprints/staged.zip")
    assert blueprint["Status"] == "ACTIVE", blueprint
    run = run_blueprint(glue, "staged-bp", {"WorkflowName": "staged-wf", "ScriptBucket": "staged-scripts"})
    assert run["State"] == "SUCCEEDED", run
    assert s3.get_object(Bucket="staged-scripts", Key="scripts/etl.py")["Body"].read() == STAGED_SCRIPT.encode()
    run_id = glue.start_workflow_run(Name="staged-wf")["RunId"]
    finished = wait_run(glue, "staged-wf", run_id)
    assert finished["Status"] == "COMPLETED", finished
    assert finished["Statistics"]["SucceededActions"] == 1, finished
    marker = s3.get_object(Bucket="staged-scripts", Key="ran/marker.txt")
    assert marker["Body"].read() == b"the etl ran"


def test_glue_answers_as_before_next_to_s3(weir, glue, s3):
    s3.create_bucket(Bucket="side-by-side")
    glue.create_workflow(Name="still-glue")
    assert glue.get_workflow(Name="still-glue")["Workflow"]["Name"] == "still-glue"
    response = weir.raw("AWSGlue.GetWorkflow", json.dumps({"Name": "absent"}).encode())
    response.assert_error("EntityNotFoundException")
