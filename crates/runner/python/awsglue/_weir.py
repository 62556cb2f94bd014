"""Weir's glue between the ``awsglue`` interface and the machine it runs on.

Weir keeps S3 objects as plain files under ``$WEIR_S3_ROOT`` (object
``s3://bucket/key`` is the file ``$WEIR_S3_ROOT/bucket/key``).  Everything in
the library that touches an S3 path goes through this module:

* :func:`split` / :func:`local_path` / :func:`s3_uri` convert between the two
  spellings and refuse paths that would leave the root;
* :func:`spark_path` gives the path Spark should read or write (a ``file://``
  path under the root when ``WEIR_S3_ROOT`` is set, the S3 URI unchanged
  otherwise) and mounts the bucket on the Hadoop ``viewfs`` overload scheme so
  that scripts can also use ``s3://bucket/...`` for buckets made after launch;
* :func:`list_files` lists the objects under a path with their modification
  times (used by job bookmarks);
* :func:`glue_client` is a boto3 Glue client configured from the environment
  (``AWS_ENDPOINT_URL`` and the usual credentials);
* :func:`jdbc_conf` reads a JDBC connection through the Glue API (GetConnection)
  into the dictionary ``GlueContext.extract_jdbc_conf`` returns.

This module imports nothing from pyspark at import time.
"""

import os
import posixpath

S3_SCHEMES = ("s3://", "s3a://", "s3n://")


class WeirPathError(ValueError):
    """An S3 path that cannot be mapped under the S3 root."""


def s3_root():
    root = os.environ.get("WEIR_S3_ROOT")
    return os.path.abspath(root) if root else None


def is_s3(path):
    return isinstance(path, str) and path.lower().startswith(S3_SCHEMES)


def split(path):
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")`` (key normalised, may be "")."""
    if not is_s3(path):
        raise WeirPathError("not an S3 path: %r" % (path,))
    rest = path.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if not bucket or bucket.startswith(".") or "/" in bucket or bucket in ("..",):
        raise WeirPathError("bad bucket in S3 path %r" % (path,))
    parts = []
    for part in key.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise WeirPathError("S3 path %r escapes its bucket" % (path,))
        parts.append(part)
    return bucket, "/".join(parts)


def s3_uri(bucket, key=""):
    return "s3://%s/%s" % (bucket, key) if key else "s3://%s/" % bucket


def local_path(path):
    """The local file for an S3 path (requires ``WEIR_S3_ROOT``)."""
    root = s3_root()
    if root is None:
        raise WeirPathError("WEIR_S3_ROOT is not set")
    bucket, key = split(path)
    full = os.path.normpath(os.path.join(root, bucket, *key.split("/"))) if key else os.path.join(root, bucket)
    if not (full == os.path.join(root, bucket) or full.startswith(os.path.join(root, bucket) + os.sep)):
        raise WeirPathError("S3 path %r escapes the S3 root" % (path,))
    return full


def local_to_s3(local):
    """The S3 URI of a file under the root (inverse of :func:`local_path`)."""
    root = s3_root()
    local = os.path.abspath(local[len("file:"):] if local.startswith("file:") else local)
    while local.startswith("//"):
        local = local[1:]
    rel = os.path.relpath(local, root)
    if rel.startswith(".."):
        raise WeirPathError("%r is not under the S3 root" % (local,))
    bucket, _, key = rel.replace(os.sep, "/").partition("/")
    return s3_uri(bucket, key)


def mount(bucket, sc=None, create=False):
    """Make ``s3://bucket`` usable through Hadoop's viewfs overload scheme."""
    root = s3_root()
    if root is None:
        return
    target = os.path.join(root, bucket)
    if create:
        os.makedirs(target, exist_ok=True)
    if sc is None:
        try:
            from pyspark import SparkContext

            sc = SparkContext._active_spark_context
        except ImportError:  # pragma: no cover
            sc = None
    if sc is not None:
        conf = sc._jsc.hadoopConfiguration()
        conf.set("fs.viewfs.mounttable.%s.linkFallback" % bucket, "file://" + target)


def spark_path(path, sc=None, write=False):
    """The path to hand to Spark for an S3 path (other paths pass through)."""
    if not is_s3(path) or s3_root() is None:
        return path
    bucket, _key = split(path)
    mount(bucket, sc, create=write)
    local = local_path(path)
    if write:
        os.makedirs(os.path.dirname(local), exist_ok=True)
    return "file://" + local


def list_files(path, recurse=True):
    """``[(s3 uri, mtime ms, size)]`` of the objects at or under ``path``.

    Hidden/marker files (names starting with ``.`` or ``_``) are skipped as
    Spark and Glue skip them.  Without ``WEIR_S3_ROOT`` this uses boto3.
    """
    if s3_root() is None:
        return _list_files_boto3(path, recurse)
    local = local_path(path)
    out = []
    if os.path.isfile(local):
        st = os.stat(local)
        return [(local_to_s3(local), int(st.st_mtime * 1000), st.st_size)]
    if not os.path.isdir(local):
        return out
    for dirpath, dirnames, filenames in os.walk(local):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")) or "=" in d)
        if not recurse and dirpath != local:
            continue
        for name in sorted(filenames):
            if name.startswith((".", "_")) or name.endswith(".crc"):
                continue
            full = os.path.join(dirpath, name)
            st = os.stat(full)
            out.append((local_to_s3(full), int(st.st_mtime * 1000), st.st_size))
    return out


def _list_files_boto3(path, recurse):
    bucket, key = split(path)
    client = _boto3_client("s3")
    out = []
    prefix = key
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            k = obj["Key"]
            if k.endswith("/"):
                continue
            rel = k[len(prefix):].lstrip("/")
            if not recurse and "/" in rel:
                continue
            if posixpath.basename(k).startswith((".", "_")):
                continue
            out.append((s3_uri(bucket, k), int(obj["LastModified"].timestamp() * 1000), obj["Size"]))
    return out


def _boto3_client(service):
    import boto3

    kwargs = {}
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    return boto3.client(service, region_name=region, **kwargs)


def glue_client():
    return _boto3_client("glue")


def jdbc_conf(connection_name, catalog_id=None):
    """The JDBC settings of the Data Catalog connection `connection_name`, as
    ``GlueContext.extract_jdbc_conf`` returns them: ``fullUrl`` (the connection's
    JDBC_CONNECTION_URL), ``url`` (the same without the database part), ``vendor``
    (``postgresql``, ``mysql``...), ``user``, ``password`` and the SSL settings."""
    kwargs = {"Name": connection_name}
    if catalog_id:
        kwargs["CatalogId"] = catalog_id
    connection = glue_client().get_connection(**kwargs)["Connection"]
    properties = connection.get("ConnectionProperties", {})
    full_url = properties.get("JDBC_CONNECTION_URL", "")
    rest = full_url[len("jdbc:"):] if full_url.startswith("jdbc:") else full_url
    vendor = rest.split(":", 1)[0]
    base = full_url
    authority = full_url.find("//")
    if authority >= 0:
        ends = (full_url.find("/", authority + 2), full_url.find(";", authority + 2))
        cut = [i for i in ends if i >= 0]
        if cut:
            base = full_url[:min(cut)]
    return {
        "fullUrl": full_url,
        "url": base,
        "vendor": vendor,
        "user": properties.get("USERNAME", ""),
        "password": properties.get("PASSWORD", ""),
        "enforceSSL": properties.get("JDBC_ENFORCE_SSL", "false"),
        "customJDBCCert": properties.get("CUSTOM_JDBC_CERT", ""),
        "skipCustomJDBCCertValidation": properties.get("SKIP_CUSTOM_JDBC_CERT_VALIDATION", "false"),
        "customJDBCCertString": properties.get("CUSTOM_JDBC_CERT_STRING", ""),
    }


def delete_path(path):
    """Remove the files under an S3 path (used by overwrite-style writes)."""
    import shutil

    local = local_path(path)
    if os.path.isdir(local):
        shutil.rmtree(local)
    elif os.path.exists(local):
        os.remove(local)
