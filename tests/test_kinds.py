"""Evidence kinds declare what their items carry, so a message placeholder can be checked at validation.

A kind without ``raw`` declares its whole item; a kind with ``raw_members`` (AWS, from botocore's
models) can name every field of the provider object it keeps. Both are held to it here, over each
connector's simulated estate (built in the shapes the real APIs answer).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector.registry import available_connectors
from connectors.base import EvidenceItem

CONNECTORS = available_connectors()


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_every_field_of_an_item_is_one_its_kind_can_have(name: str) -> None:
    connector = CONNECTORS[name]
    kinds = {k.name: k for k in connector.evidence_kinds}
    undeclared = {
        (item.kind, top)
        for item in connector.simulated_estate(datetime(2026, 1, 1, tzinfo=UTC))
        if isinstance(item, EvidenceItem)
        for top in item.data
        if kinds[item.kind].may_have(top) is False
    }
    assert undeclared == set()


def test_a_raw_kind_with_a_model_knows_the_providers_fields_and_nothing_else() -> None:
    trail = next(k for k in CONNECTORS["aws"].evidence_kinds if k.name == "aws.cloudtrail.trail")
    assert trail.may_have("S3BucketName") is True  # in botocore's Trail shape, not in `fields`
    assert trail.may_have("S3BucketNmae") is False
    repo = next(k for k in CONNECTORS["github"].evidence_kinds if k.name == "github.repo")
    assert repo.may_have("anything") is None  # the REST object's fields are not known offline: not judged
