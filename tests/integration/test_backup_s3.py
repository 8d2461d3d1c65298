"""files/backup/backup-s3 (the server-side S3 tool of the backups) against moto on 127.0.0.1: uploads are
encrypted and carry their sha256, downloads are checked against it, and an endpoint override in the
environment wins over the config file (how a run is pointed at an unreachable S3 in the e2e tests)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from louieops.resources import file

TOOL = file("backup/backup-s3")
BUCKET = "louie-tool-test"
KEY_ID, SECRET = "AKIATESTTOOL", "tool-secret-d0-not-print"


@pytest.fixture
def s3(moto_url):
    client = boto3.client(
        "s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
    )
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def conf(tmp_path, moto_url):
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    path = tmp_path / "backup.conf"
    path.write_text(
        f"# comment\nS3_BUCKET={BUCKET}\nS3_ENDPOINT_URL={moto_url}\nS3_REGION=us-east-1\n"
        f"S3_CREDENTIALS_FILE={credentials}\n"
    )
    return path


def tool(conf: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, TOOL, *args],
        env={**clean, "BACKUP_CONF": str(conf), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_put_encrypts_records_the_sha256_and_get_verifies_it(tmp_path, conf, s3):
    data = os.urandom(20 * 1024 * 1024)  # above the multipart threshold: a multipart upload
    src = tmp_path / "x_db_20260101T000000Z.dump.zst"
    src.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    assert tool(conf, "put", str(src), f"db/{src.name}").returncode == 0

    head = s3.head_object(Bucket=BUCKET, Key=f"db/{src.name}")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["Metadata"]["sha256"] == sha
    assert tool(conf, "head", f"db/{src.name}").stdout.split()[:2] == [sha, str(len(data))]
    assert tool(conf, "latest", "db/", ".dump.zst").stdout.strip() == f"db/{src.name}"

    dest = tmp_path / "restore" / src.name
    dest.parent.mkdir()
    assert tool(conf, "get", f"db/{src.name}", str(dest)).returncode == 0
    assert dest.read_bytes() == data
    assert (tmp_path / "restore" / f"{src.name}.sha256").read_text() == f"{sha}  {src.name}\n"


def test_get_refuses_an_object_whose_content_does_not_match_its_sha256(tmp_path, conf, s3):
    s3.put_object(Bucket=BUCKET, Key="db/bad.dump.zst", Body=b"tampered", Metadata={"sha256": "0" * 64})
    dest = tmp_path / "bad.dump.zst"
    result = tool(conf, "get", "db/bad.dump.zst", str(dest))
    assert result.returncode == 1
    assert "!= recorded" in result.stderr
    assert list(tmp_path.glob("*bad*")) == []  # nothing left that looks like a backup


def test_latest_picks_the_newest_name_and_reports_an_empty_prefix(tmp_path, conf, s3):
    assert tool(conf, "latest", "db/", ".dump.zst").returncode == 3
    for stamp in ("20260102T000000Z", "20260110T060000Z", "20260105T000000Z"):
        s3.put_object(Bucket=BUCKET, Key=f"db/x_db_{stamp}.dump.zst", Body=b"x")
        s3.put_object(Bucket=BUCKET, Key=f"db/x_db_{stamp}.dump.zst.rows", Body=b"x")
    assert tool(conf, "latest", "db/", ".dump.zst").stdout.strip() == "db/x_db_20260110T060000Z.dump.zst"


def test_an_endpoint_in_the_environment_overrides_the_config(tmp_path, conf, s3):
    src = tmp_path / "a.tar.zst"
    src.write_bytes(b"data")
    result = tool(conf, "put", str(src), "uploads/a.tar.zst", env={"S3_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert "Could not connect" in result.stderr
    assert SECRET not in result.stderr
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
