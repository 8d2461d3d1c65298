"""The pure parts of the S3 lifecycle operation: the wanted rules and the decision to write them."""

from __future__ import annotations

import pytest
from pyinfra.api import OperationValueError

from louieops.operations.s3 import expiry_rules, plan_lifecycle, rule_signature


def test_one_expiry_rule_per_prefix_with_multipart_cleanup():
    assert expiry_rules({"logs": 90, "db": 30}) == [
        {
            "ID": "louieops-expire-db",
            "Status": "Enabled",
            "Filter": {"Prefix": "db/"},
            "Expiration": {"Days": 30},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
        {
            "ID": "louieops-expire-logs",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/"},
            "Expiration": {"Days": 90},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
    ]


@pytest.mark.parametrize("retention", [{"db": 0}, {"db": "30"}, {"db": True}, {"../x": 3}, {"DB": 3}])
def test_invalid_retention_is_rejected(retention):
    with pytest.raises(OperationValueError):
        expiry_rules(retention)


def test_no_write_when_the_store_returns_the_same_rules_in_another_shape():
    desired = expiry_rules({"db": 30})
    returned = [
        {
            "ID": "louieops-expire-db",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "db/", "Tags": []}},
            "Expiration": {"Days": 30, "ExpiredObjectDeleteMarker": False},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
    assert rule_signature(returned[0]) == rule_signature(desired[0])
    assert plan_lifecycle(returned, desired) is None


def test_missing_configuration_writes_the_wanted_rules():
    desired = expiry_rules({"db": 30})
    assert plan_lifecycle(None, desired) == desired


def test_changed_days_rewrite_and_keep_foreign_rules_first():
    foreign = {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 400}}
    current = [foreign, *expiry_rules({"db": 30, "logs": 90})]
    desired = expiry_rules({"db": 14})
    assert plan_lifecycle(current, desired) == [foreign, *desired]  # logs rule dropped, db updated


def test_foreign_rules_alone_are_no_drift():
    foreign = {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 400}}
    desired = expiry_rules({"db": 30})
    assert plan_lifecycle([foreign, *desired], desired) is None
