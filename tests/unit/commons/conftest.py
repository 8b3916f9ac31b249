"""A study with its parties' keys, for the commons unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from jwcrypto import jwk

from apps.commons import approval, shares
from apps.commons.proposals import monthly_consumption_by_region
from apps.commons.study import Study

AUTHORITY = "https://cnil.example/profile/card#me"
BROKER = "https://broker.example/profile/card#me"
BODY = "https://ademe.example/profile/card#me"


@dataclass
class Parties:
    study: Study
    signing: jwk.JWK
    published: list[dict[str, Any]]
    broker_key: jwk.JWK
    authority_key: jwk.JWK


def make_parties(**terms: Any) -> Parties:
    signing = approval.new_signing_key("cnil-2026")
    broker_key, authority_key = shares.new_key("broker-enc"), shares.new_key("cnil-enc")
    study = monthly_consumption_by_region(
        "https://ademe.example/studies/grid-2025#study",
        BODY,
        AUTHORITY,
        BROKER,
        year=2025,
        regions=terms.pop("regions", ("Bretagne", "Corse", "Occitanie")),
        broker_key=broker_key.export_public(as_dict=True),
        authority_key=authority_key.export_public(as_dict=True),
        start=date(2025, 1, 1),
        end=date(2099, 1, 1),
        **terms,
    )
    published = [signing.export_public(as_dict=True)]
    return Parties(study, signing, published, broker_key, authority_key)


@pytest.fixture
def parties() -> Parties:
    return make_parties(epsilon=Decimal(2), epsilon_per_release=Decimal(1))
