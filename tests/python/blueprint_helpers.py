"""Helpers for the blueprint tests (test_blueprints.py).

* ``zip_bytes``       a ZIP archive built in memory with Python's zipfile.
* ``put_s3``          writes an object into the server's S3 stand-in directory
                      (``<data-dir>/s3/<bucket>/<key>``) and returns its ``s3://`` URI.
* ``register``        CreateBlueprint + wait until registration ended.
* ``wait_blueprint`` / ``wait_blueprint_run``  bounded polling until a final state.
* ``layout_archive``  a blueprint archive with a ``blueprint.cfg`` and a layout script.
"""

from __future__ import annotations

import io
import json
import textwrap
import time
import zipfile

import pytest

DEADLINE = 90.0
POLL = 0.05


def zip_bytes(entries: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """`entries` maps archive names to str/bytes contents (a name ending in '/' is a
    directory entry)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in entries.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, content)
    return buffer.getvalue()


def put_s3(weir, bucket: str, key: str, data) -> str:
    path = weir.data_dir / "s3" / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return f"s3://{bucket}/{key}"


def layout_archive(folder: str, spec: dict, layout: str, extra: dict | None = None) -> bytes:
    """A blueprint project folder `folder/` with blueprint.cfg (generator
    `<folder>.layout.generate_layout`) and layout.py (`layout`, dedented)."""
    entries = {
        f"{folder}/": b"",
        f"{folder}/blueprint.cfg": json.dumps(
            {"layoutGenerator": f"{folder}.layout.generate_layout", "parameterSpec": spec}
        ),
        f"{folder}/layout.py": textwrap.dedent(layout),
    }
    entries.update(extra or {})
    return zip_bytes(entries)


def _poll(read, done, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {deadline}s waiting for {what}: {value!r}"[:3000])
        time.sleep(POLL)


def wait_blueprint(glue, name: str) -> dict:
    """GetBlueprint (with spec and location) once the registration has ended."""
    return _poll(
        lambda: glue.get_blueprint(Name=name, IncludeBlueprint=True, IncludeParameterSpec=True)[
            "Blueprint"
        ],
        lambda b: b["Status"] not in ("CREATING", "UPDATING"),
        f"blueprint {name} to leave CREATING/UPDATING",
    )


def register(glue, name: str, location: str, **kwargs) -> dict:
    glue.create_blueprint(Name=name, BlueprintLocation=location, **kwargs)
    return wait_blueprint(glue, name)


def wait_blueprint_run(glue, blueprint: str, run_id: str) -> dict:
    return _poll(
        lambda: glue.get_blueprint_run(BlueprintName=blueprint, RunId=run_id)["BlueprintRun"],
        lambda r: r["State"] in ("SUCCEEDED", "FAILED"),
        f"blueprint run {run_id} to end",
    )


def run_blueprint(glue, blueprint: str, parameters: dict) -> dict:
    """StartBlueprintRun and wait for its end."""
    run_id = glue.start_blueprint_run(
        BlueprintName=blueprint,
        Parameters=json.dumps(parameters),
        RoleArn="arn:aws:iam::123456789012:role/blueprints",
    )["RunId"]
    return wait_blueprint_run(glue, blueprint, run_id)
