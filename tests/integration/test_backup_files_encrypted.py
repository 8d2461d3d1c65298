"""files/backup/backup-files and restore-files with a bucket (moto on 127.0.0.1) and the real tar, zstd,
openssl and backup-s3: the archive in S3 is encrypted with the deploy's passphrase file (unreadable raw, no
zstd frame, no file name or content in the clear), restore-files brings the directory back from it, and a
missing passphrase or a wrong one fails with one line naming it while nothing is uploaded or replaced."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from louieops.resources import file

BUCKET = "louie-files-test"
KEY_ID, SECRET = "AKIATESTFILES", "files-secret-d0-not-print"
PASSPHRASE = "correct horse battery staple, twice over"
SECRET_CONTENT = b"invoice 4711 for mallory@example.org\n"
ZSTD_MAGIC = bytes.fromhex("28b52ffd")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="restore-files runs as root (owners and modes)")


@pytest.fixture
def s3(moto_url):
    client = boto3.client(
        "s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET
    )
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def server(tmp_path, moto_url):
    """The backup scripts in a scripts dir, an uploads dir with a private file, and backup.conf naming the
    bucket and a 0600 passphrase file, as the deploy writes them."""
    scripts, uploads = tmp_path / "scripts", tmp_path / "app" / "uploads"
    for d in (scripts, uploads / "2026", tmp_path / "backups" / "uploads", tmp_path / "status"):
        d.mkdir(parents=True)
    for name in ("backup-lib.sh", "backup-files", "restore-files"):
        shutil.copy(file(f"backup/{name}"), scripts / name)
    # backup-s3 with this interpreter (boto3), as the server's python3-boto3 runs it
    (scripts / "backup-s3").write_text(f'#!/bin/sh\nexec {sys.executable} {file("backup/backup-s3")} "$@"\n')
    (scripts / "backup-s3").chmod(0o755)
    (scripts / "send-alert").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {tmp_path}/alerts.log\n')
    (scripts / "send-alert").chmod(0o755)
    (uploads / "2026" / "invoice-4711.pdf").write_bytes(SECRET_CONTENT)
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    passphrase = tmp_path / "backup-passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    passphrase.chmod(0o600)
    (tmp_path / "backup.conf").write_text(
        f"APP_NAME=louie\nBACKUP_DIR={tmp_path / 'backups'}\nSCRIPTS_DIR={scripts}\nUPLOADS_DIR={uploads}\n"
        f"LOG_DIR={tmp_path / 'app' / 'logs'}\nLOCAL_RETENTION_DAYS=7\nS3_BUCKET={BUCKET}\n"
        f"S3_ENDPOINT_URL={moto_url}\nS3_REGION=us-east-1\nS3_CREDENTIALS_FILE={credentials}\n"
        f"BACKUP_PASSPHRASE_FILE={passphrase}\nBACKUP_STATUS_DIR={tmp_path / 'status'}\n"
    )
    return tmp_path


def script(server: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        ["bash", str(server / "scripts" / argv[0]), *argv[1:]],
        env={**clean, "BACKUP_CONF": str(server / "backup.conf"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def objects(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_the_archive_in_s3_is_unreadable_without_the_passphrase_and_restores_with_it(server, s3):
    done = script(server, "backup-files", "uploads")
    assert done.returncode == 0, done.stderr
    [key] = objects(s3)
    assert key.startswith("uploads/louie_uploads_") and key.endswith(".tar.zst.enc"), key
    raw = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert raw.startswith(b"Salted__") and ZSTD_MAGIC not in raw[:64]
    assert b"invoice" not in raw and b"mallory" not in raw
    # with the passphrase, by hand as backup-lib.sh says: the archive and the file in it
    manual = subprocess.run(
        f"openssl enc -d -aes-256-cbc -pbkdf2 -iter 600000 -md sha256 -pass file:{server / 'backup-passphrase'} "
        "| zstd -d | tar -t",
        shell=True, input=raw, capture_output=True, timeout=60,
    )  # fmt: skip
    assert manual.returncode == 0 and b"uploads/2026/invoice-4711.pdf" in manual.stdout, manual.stderr

    uploads = server / "app" / "uploads"
    (uploads / "2026" / "invoice-4711.pdf").write_bytes(b"overwritten by mistake\n")
    restored = script(server, "restore-files", "uploads", "--force")
    assert restored.returncode == 0, restored.stderr
    assert (uploads / "2026" / "invoice-4711.pdf").read_bytes() == SECRET_CONTENT
    assert PASSPHRASE not in done.stderr + restored.stderr


def test_without_the_passphrase_file_nothing_is_uploaded_and_the_alert_names_it(server, s3):
    (server / "backup-passphrase").unlink()
    done = script(server, "backup-files", "uploads")
    assert done.returncode == 1
    assert "BACKUP_PASSPHRASE_FILE" in done.stderr and "LOUIE_BACKUP_PASSPHRASE" in done.stderr, done.stderr
    assert objects(s3) == []
    assert "BACKUP_PASSPHRASE_FILE" in (server / "alerts.log").read_text()
    assert list((server / "backups" / "uploads").iterdir()) == []  # no staging file left behind


def test_a_wrong_passphrase_fails_the_restore_and_keeps_the_live_files(server, s3):
    assert script(server, "backup-files", "uploads").returncode == 0
    (server / "backup-passphrase").write_text("not the passphrase it was made with\n")
    live = server / "app" / "uploads" / "2026" / "invoice-4711.pdf"
    live.write_bytes(b"today's version\n")
    restored = script(server, "restore-files", "uploads", "--force")
    assert restored.returncode == 1 and "cannot decrypt and unpack" in restored.stderr, restored.stderr
    assert live.read_bytes() == b"today's version\n"
    assert not any(p.name.startswith("uploads.before-restore") for p in live.parent.parent.parent.iterdir())
