"""Telecom, insurance and retail exports through mapping files (apps/connector/mapfile):
the shipped examples map the synthetic files to documents that pass the vocabularies'
shapes, with provenance and stable IRIs; bad mapping files and bad rows are refused
with the file (and line) at fault."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import RDF, Literal, URIRef

from apps.connector import mapfile, synthetic
from apps.connector.config import load_org
from apps.connector.mapfile import MappingError, load_mapping, read_rows
from apps.connector.mapping import PROV, Provenance, validate
from apps.connector.push import Connector
from apps.connector.records import SourceError

EXAMPLES = Path(__file__).resolve().parents[3] / "apps" / "connector" / "examples"
HOLDER = "https://p/alice/profile/card#me"
PROVENANCE = Provenance("https://org.example/id#org", datetime(2024, 4, 2, 3, tzinfo=UTC), "b1")


def documents(domain: str, folder: Path) -> list[mapfile.Document]:
    mapping = load_mapping(EXAMPLES / f"{domain}-map.toml")
    rows = [read_rows(p, mapping) for p in sorted(folder.iterdir())]
    return mapfile.documents(mapping, rows, f"https://p/alice/{domain}/", HOLDER, PROVENANCE)


@pytest.mark.parametrize("domain", synthetic.OTHER_DOMAINS)
def test_synthetic_exports_map_to_valid_documents_with_provenance(
    tmp_path: Path, domain: str
) -> None:
    made = synthetic.customers(4)
    synthetic.generate_other(tmp_path, made, 2)
    for customer in made:
        docs = documents(domain, tmp_path / domain / customer.id)
        assert docs
        for doc in docs:
            assert validate(doc, domain) is None, doc.name
            typed = {s for s in doc.graph.subjects(RDF.type) if "#batch" not in str(s)}
            typed -= set(doc.graph.subjects(RDF.type, PROV.Entity))
            assert len(typed) == doc.records
            for node in typed:
                assert doc.graph.value(node, PROV.wasAttributedTo) == URIRef(
                    PROVENANCE.organisation
                )
                assert str(doc.graph.value(node, PROV.wasDerivedFrom)).startswith("urn:sha256:")
        # The same files make the same documents: the IRIs come from the sources' ids.
        again = documents(domain, tmp_path / domain / customer.id)
        assert [set(d.graph) for d in again] == [set(d.graph) for d in docs]


def test_receipt_lines_share_one_receipt_and_lists_give_several_values(tmp_path: Path) -> None:
    [customer] = synthetic.customers(1)
    synthetic.generate_other(tmp_path, [customer], 1)
    [receipts] = documents("retail", tmp_path / "retail" / customer.id)
    retail = "https://w3id.org/solid-pods/vocab/retail#"
    rows = read_rows(
        next((tmp_path / "retail" / customer.id).iterdir()),
        load_mapping(EXAMPLES / "retail-map.toml"),
    ).rows
    tickets = {r["ticket"] for r in rows}
    assert len(set(receipts.graph.subjects(RDF.type, URIRef(retail + "Receipt")))) == len(tickets)
    assert len(list(receipts.graph.subject_objects(URIRef(retail + "lineItem")))) == len(rows)
    contracts = documents("insurance", tmp_path / "insurance" / customer.id)
    [contract] = [d for d in contracts if d.name.startswith("contract-")]
    guarantees = set(
        contract.graph.objects(
            None, URIRef("https://w3id.org/solid-pods/vocab/insurance#guarantee")
        )
    )
    assert len(guarantees) >= 2 and Literal("Responsabilité civile") in guarantees


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """domain = "telecom"
[[files]]
match = "*.csv"
document = "doc-{a}"
  [[files.record]]
  id = "r-{a}"
  type = "MonthlyUsage"
  [files.record.fields]
  month = "{b}"
"""


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (MINIMAL.replace('"telecom"', '"weather"'), "domain 'weather'"),
        (MINIMAL.replace('month = "{b}"', 'noSuchTerm = "{b}"'), "'noSuchTerm' is not a term"),
        (MINIMAL.replace('"MonthlyUsage"', '"Unicorn"'), "a type named in the telecom context"),
        (MINIMAL.replace('"{b}"', '"{b.__class__}"'), "is not a column name"),
        (
            MINIMAL.replace('format = "csv"', "").replace("[[files]]", '[[files]]\nformat = "xls"'),
            "format 'xls'",
        ),
        ('domain = "telecom"\n', "no [[files]]"),
        ("domain = ", "map.toml"),
    ],
)
def test_bad_mapping_files_are_refused_saying_why(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(MappingError, match=says.replace("[", r"\[").replace("(", r"\(")):
        load_mapping(write(tmp_path, text))


def test_bad_rows_name_the_file_and_line(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, MINIMAL))
    source = tmp_path / "usage.csv"
    source.write_text("a,c\n1,2024-01\n")
    rows = read_rows(source, mapping)
    with pytest.raises(SourceError, match=r"usage.csv:2: no column 'b'"):
        mapfile.documents(mapping, [rows], "https://p/a/telecom/", HOLDER, PROVENANCE)
    source.write_text("a,b\n1,2024-01,extra\n")
    with pytest.raises(SourceError, match=r"usage.csv:2: not as many cells"):
        read_rows(source, mapping)
    source.write_text("a,b\n,2024-01\n")  # an empty id
    with pytest.raises(SourceError, match=re.escape("the document name 'doc-{a}' is empty")):
        mapfile.documents(
            mapping, [read_rows(source, mapping)], "https://p/a/telecom/", HOLDER, PROVENANCE
        )
    other = tmp_path / "usage.json"
    other.write_text("{}")
    with pytest.raises(SourceError, match=r"no \[\[files\]\] of map.toml matches"):
        read_rows(other, mapping)


def test_an_energy_supplier_reads_load_curves_natively_and_gas_readings_by_mapping(
    tmp_path: Path,
) -> None:
    synthetic.generate(tmp_path, 1, 2, "2024-01", gas=True)
    org = load_org(EXAMPLES / "energy.toml", env={"ENERGY_CLIENT_SECRET": "x"})
    connector = Connector(None, org, None)  # type: ignore[arg-type]
    files = sorted((tmp_path / "energy" / "C000001").iterdir())
    sources = [s for f in files for s in connector.read(f)]
    docs = connector.documents(sources, "https://p/alice/energy/", HOLDER)
    kinds = [d.name.split("-")[0] for d in docs]
    assert kinds.count("gas") == 2 and kinds.count("load") == 8  # 4 parts a month
    for doc in docs:
        assert validate(doc, "energy") is None, doc.name
    gas = next(d for d in docs if d.name.startswith("gas-readings"))
    [reading] = gas.graph.subjects(
        RDF.type, URIRef("https://w3id.org/solid-pods/vocab/energy#MeterReading")
    )
    assert gas.graph.value(
        reading, URIRef("https://w3id.org/solid-pods/vocab/energy#unit")
    ) == URIRef("http://qudt.org/vocab/unit/M3")
