"""The journal survives a crash mid-line; settings and customer files are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.connector.config import ConfigError, load_customers, load_org
from apps.connector.journal import Journal

ORG = """
[organisation]
name = "Banque Exemple"
webid = "https://pods.example/bank/profile/card#me"
issuer = "https://pods.example/"
client_id = "abc"
client_secret_env = "BANK_SECRET"

[consent]
container = "bank/"
purpose = "https://w3id.org/solid-pods/vocab/consent#DataReturn"
data = ["https://w3id.org/solid-pods/vocab/bank#Transaction"]

[push]
domain = "bank"
concurrency = 4

[categories]
"LOYER" = "Rent"
"""


def test_journal_reloads_and_ignores_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path, sync=False)
    journal.consent_asked("C1", "https://p/alice/.well-known/consent/x", "https://p/alice/bank/")
    journal.pushed("C1", "https://p/alice/bank/t-2024-01", 40)
    journal.consent_asked("C2", "https://p/bob/.well-known/consent/y", "https://p/bob/bank/")
    journal.forget_consent("C2")
    journal.close()
    with path.open("a") as handle:
        handle.write('{"event": "pushed", "customer": "C1", "resou')  # killed mid-write
    again = Journal(path, sync=False)
    one = again.state("C1")
    assert one.consent == "https://p/alice/.well-known/consent/x"
    assert one.pushed == {"https://p/alice/bank/t-2024-01": 40}
    assert again.state("C2").consent is None and again.state("C3").pushed == {}
    again.pushed("C1", "https://p/alice/bank/t-2024-02", 41)  # appends after the torn line
    again.close()
    last = Journal(path, sync=False)
    last.close()
    assert len(last.state("C1").pushed) == 2


def test_org_settings(tmp_path: Path) -> None:
    path = tmp_path / "bank.toml"
    path.write_text(ORG)
    org = load_org(path, env={"BANK_SECRET": "s3cret"})
    assert (org.client_secret, org.domain, org.container, org.concurrency) == (
        "s3cret",
        "bank",
        "bank/",
        4,
    )
    assert org.categories == {"LOYER": "Rent"}
    assert org.data == ("https://w3id.org/solid-pods/vocab/bank#Transaction",)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('client_secret_env = "BANK_SECRET"', 'client_secret_env = "NOPE"', "NOPE is not set"),
        ('domain = "bank"', 'domain = "retail"', "domain 'retail'"),
        ('container = "bank/"', 'container = "/bank"', "relative path ending in /"),
        ('"LOYER" = "Rent"', '"LOYER" = "Loyer"', "unknown bank categories"),
        ('purpose = "https', 'purpos = "https', "[consent] needs purpose"),
        ("concurrency = 4", "concurrency = 0", "concurrency must be"),
        ("[push]", "[push", "bank.toml"),
    ],
)
def test_org_settings_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "bank.toml"
    path.write_text(ORG.replace(old, new))
    with pytest.raises(ConfigError) as caught:
        load_org(path, env={"BANK_SECRET": "s3cret"})
    assert message in str(caught.value)


def test_customers(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id,webid,storage\nC1,https://p/alice/profile/card#me,\nC2,https://p/bob/profile/card#me,https://p/bob/\n"
    )
    found = load_customers(path)
    assert [(c.id, c.storage) for c in found] == [("C1", None), ("C2", "https://p/bob/")]
    path.write_text("customer_id,webid\nC1,https://a/#me\nC1,https://b/#me\n")
    with pytest.raises(ConfigError, match=r"customers.csv:3: customer_id 'C1' is repeated"):
        load_customers(path)
    path.write_text("customer_id,webid\nC1,alice\n")
    with pytest.raises(ConfigError, match=r":2: a customer_id and an http\(s\) WebID"):
        load_customers(path)
    path.write_text("id,who\n")
    with pytest.raises(ConfigError, match=r":1: the header must name"):
        load_customers(path)


def test_customers_with_their_homes_region(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id,webid,region\nC1,https://a/#me,Bretagne\nC2,https://b/#me,\n"
        "C3,https://c/#me,  Provence-Alpes-Côte d'Azur \n"
    )
    found = load_customers(path)
    assert [c.region for c in found] == ["Bretagne", None, "Provence-Alpes-Côte d'Azur"]
    path.write_text("customer_id,webid,region\nC1,https://a/#me,Bretagne\x07\n")
    with pytest.raises(ConfigError, match=r"customers.csv:2: region 'Bretagne\\x07' is not"):
        load_customers(path)
    path.write_text(f"customer_id,webid,region\nC1,https://a/#me,{'x' * 101}\n")
    with pytest.raises(ConfigError, match=r":2: region 'xxx"):
        load_customers(path)


def test_shipped_examples_load() -> None:
    examples = Path(__file__).resolve().parents[3] / "apps" / "connector" / "examples"
    bank = load_org(examples / "bank.toml", env={"BANK_CLIENT_SECRET": "x"})
    energy = load_org(examples / "energy.toml", env={"ENERGY_CLIENT_SECRET": "x"})
    assert (bank.domain, energy.domain) == ("bank", "energy")
    assert bank.categories["LOYER"] == "Rent"
