"""S3 bucket state, managed from the controller with boto3 (a bucket lives in no server).

The operation reads the bucket's current state when pyinfra evaluates it (a read only: ``--dry``
shows the difference), and writes through a ``FunctionCommand`` that runs on the controller during
the apply. Credentials are captured in closures, never in command arguments, so they cannot appear
in pyinfra's output.

Shared arguments:

+ endpoint_url: S3 endpoint for S3-compatible stores or a test stand-in; None means AWS
+ region: region of the bucket (used to create it outside us-east-1)
+ access_key_id, secret_access_key: credentials (secrets: pass them from the environment)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, OperationValueError, operation

MANAGED_PREFIX = "louieops-"
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
KIND_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


def expiry_rules(retention_days: Mapping[str, int], abort_multipart_days: int = 1) -> list[dict]:
    """One lifecycle rule per key prefix ``<kind>/``: expire objects after N days and abort multipart
    uploads left incomplete (an interrupted upload's parts are otherwise stored, and billed, forever)."""
    rules = []
    for kind, days in sorted(retention_days.items()):
        if not KIND_NAME.fullmatch(kind):
            raise OperationValueError(f"invalid key prefix {kind!r} for an S3 lifecycle rule")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise OperationValueError(f"retention of {kind!r} must be a whole number of days >= 1, got {days!r}")
        rules.append(
            {
                "ID": f"{MANAGED_PREFIX}expire-{kind}",
                "Status": "Enabled",
                "Filter": {"Prefix": f"{kind}/"},
                "Expiration": {"Days": days},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": abort_multipart_days},
            }
        )
    return rules


def rule_signature(rule: Mapping) -> tuple:
    """The parts of a rule this project manages, in a shape that compares equal whatever the store
    returns around them (a legacy top-level Prefix, a Filter with an And, extra empty keys)."""
    rule_filter = rule.get("Filter") or {}
    prefix = rule_filter.get("Prefix", (rule_filter.get("And") or {}).get("Prefix", rule.get("Prefix", "")))
    return (
        rule.get("ID"),
        rule.get("Status"),
        prefix,
        (rule.get("Expiration") or {}).get("Days"),
        (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation"),
    )


def plan_lifecycle(current: list[dict] | None, desired: list[dict]) -> list[dict] | None:
    """The full rule list to PUT (PUT replaces the whole configuration), or None when nothing changes.

    Rules whose ID does not start with MANAGED_PREFIX belong to someone else and are kept as they are;
    managed rules that are no longer desired are removed."""
    current = current or []
    foreign = [rule for rule in current if not str(rule.get("ID", "")).startswith(MANAGED_PREFIX)]
    managed_now = sorted(rule_signature(r) for r in current if str(r.get("ID", "")).startswith(MANAGED_PREFIX))
    if managed_now == sorted(rule_signature(r) for r in desired):
        return None
    return foreign + desired


def _client(endpoint_url, region, access_key_id, secret_access_key):
    import boto3  # imported here: only deploys with a bucket need it
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}),
    )


def read_lifecycle(client, bucket: str) -> tuple[bool, list[dict] | None]:
    """(bucket exists, its lifecycle rules or None when it has no configuration)."""
    from botocore.exceptions import ClientError

    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
            return False, None
        raise
    try:
        return True, client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return True, None
        raise


@operation()
def bucket_lifecycle(
    bucket: str,
    retention_days: Mapping[str, int],
    create: bool = True,
    abort_multipart_days: int = 1,
    # S3 connection, see the module docstring
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
):
    """
    Ensure an S3 bucket exists and expires objects under ``<kind>/`` after the given number of days.

    + bucket: bucket name
    + retention_days: days to keep objects, per key prefix, e.g. ``{"db": 30, "logs": 90}``
    + create: create the bucket when it is missing (False: fail instead, for pre-created buckets)
    + abort_multipart_days: days after which incomplete multipart uploads are aborted
    + endpoint_url, region, access_key_id, secret_access_key: see the module docstring

    Only rules whose ID starts with ``louieops-`` are managed; other rules of the bucket are kept.

    **Example:**

    .. code:: python

        s3.bucket_lifecycle(
            name="Set the lifecycle rules of S3 bucket simplylouie-backups",
            bucket="simplylouie-backups",
            retention_days={"db": 30, "uploads": 90, "logs": 90},
            access_key_id=secrets.require("AWS_ACCESS_KEY_ID"),
            secret_access_key=secrets.require("AWS_SECRET_ACCESS_KEY"),
        )
    """
    if not BUCKET_NAME.fullmatch(bucket):
        raise OperationValueError(f"invalid S3 bucket name {bucket!r}")
    desired = expiry_rules(retention_days, abort_multipart_days)

    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(endpoint_url, region, access_key_id, secret_access_key)
    where = f"s3 bucket {bucket}" + (f" at {endpoint_url}" if endpoint_url else "")
    try:
        exists, current = read_lifecycle(client, bucket)
    except (BotoCoreError, ClientError) as exc:
        raise OperationError(f"cannot read the lifecycle rules of {where}: {exc}") from exc

    if not exists and not create:
        raise OperationError(f"{where} does not exist (create it, or pass create=True)")
    rules = plan_lifecycle(current, desired)
    if exists and rules is None:
        host.noop(f"lifecycle rules of s3 bucket {bucket} are up to date")
        return

    def create_bucket():
        args = {"Bucket": bucket}
        if region and region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(**args)

    def put_rules():
        client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})

    if not exists:
        rules = desired
        yield FunctionCommand(create_bucket, (), {})
    yield FunctionCommand(put_rules, (), {})
