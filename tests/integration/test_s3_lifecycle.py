"""The S3 lifecycle operation, run by the real pyinfra CLI against @local, with moto (S3) on 127.0.0.1:
the first run creates the bucket and its rules, the next one reports no change, a changed retention is
applied, and rules this project does not manage are kept. The secret key never appears in the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
PYINFRA = Path(sys.executable).with_name("pyinfra")
KEY_ID, SECRET = "AKIATESTBACKUPS", "s3-secret-d0-not-print-2718"
BUCKET = "louie-test-backups"
OP = f"Set the lifecycle rules of S3 bucket {BUCKET}"

DEPLOY = f"""\
from pyinfra import host

from louieops import secrets
from louieops.operations import s3

s3.bucket_lifecycle(
    name="{OP}",
    bucket="{BUCKET}",
    retention_days=host.data.retention,
    endpoint_url=host.data.endpoint,
    region="us-east-1",
    access_key_id=secrets.require("AWS_ACCESS_KEY_ID"),
    secret_access_key=secrets.require("AWS_SECRET_ACCESS_KEY"),
)
"""


@pytest.fixture
def client(moto_url):
    return boto3.client(
        "s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
    )


def run(tmp_path: Path, moto_url: str, retention: dict, *args: str) -> dict:
    (tmp_path / "inventory.py").write_text(
        f"hosts = [('@local', {{'endpoint': {moto_url!r}, 'retention': {retention!r}}})]\n"
    )
    (tmp_path / "deploy.py").write_text(DEPLOY)
    env = {**os.environ, "PYTHONPATH": str(REPO), "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    argv = [str(PYINFRA), "--json", *args, str(tmp_path / "inventory.py"), str(tmp_path / "deploy.py")]
    result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert SECRET not in output
    return json.loads(result.stdout)


def changed(report: dict) -> list[str]:
    return [op["name"] for op in report["results"]["operations"] if op.get("success")]


def managed(client) -> dict:
    rules = client.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    return {
        r["ID"]: (
            r["Filter"]["Prefix"],
            r["Expiration"]["Days"],
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
        )
        for r in rules
    }


def test_first_run_creates_the_bucket_and_rules_and_the_second_changes_nothing(tmp_path, moto_url, client):
    retention = {"db": 30, "uploads": 90, "logs": 90}
    assert OP in changed(run(tmp_path, moto_url, retention, "-y"))
    assert managed(client) == {
        "louieops-expire-db": ("db/", 30, 1),
        "louieops-expire-logs": ("logs/", 90, 1),
        "louieops-expire-uploads": ("uploads/", 90, 1),
    }
    assert changed(run(tmp_path, moto_url, retention, "-y")) == []


def test_dry_run_writes_nothing(tmp_path, moto_url, client):
    run(tmp_path, moto_url, {"db": 30}, "--dry")
    assert BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]


def test_changed_retention_is_applied_and_foreign_rules_are_kept(tmp_path, moto_url, client):
    run(tmp_path, moto_url, {"db": 30, "logs": 90}, "-y")
    rules = client.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    foreign = {"ID": "someone-else", "Status": "Enabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 365}}
    client.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules + [foreign]})

    assert changed(run(tmp_path, moto_url, {"db": 30, "logs": 90}, "-y")) == []  # a foreign rule is no drift
    assert OP in changed(run(tmp_path, moto_url, {"db": 14}, "-y"))
    assert managed(client) == {"louieops-expire-db": ("db/", 14, 1), "someone-else": ("archive/", 365, None)}
