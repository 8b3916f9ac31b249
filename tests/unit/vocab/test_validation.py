"""Shapes tested both ways: every example conforms; a mutated copy of each fails with
the expected violation. Also the report's form, the checksums, and performance."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

import vocab
from vocab import _pyshacl_speedup
from vocab.checks import french_iban, gtin_check_digit, gtin_valid, iban, iban_valid

from .helpers import ALL_EXAMPLES, broken_copies, example, term


@pytest.mark.parametrize(("domain", "example"), ALL_EXAMPLES, ids=lambda v: getattr(v, "path", v))
def test_every_example_conforms(domain: str, example: vocab.Example) -> None:
    report = vocab.validate(vocab.example_graph(example), domain)
    assert report.conforms, report.summary(20)


@pytest.mark.parametrize(("domain", "example"), ALL_EXAMPLES, ids=lambda v: getattr(v, "path", v))
def test_every_example_broken_is_refused(domain: str, example: vocab.Example) -> None:
    """A copy of each example without a required property, or with a value of the wrong
    datatype (both found from the shapes), does not conform."""
    broken = broken_copies(domain, vocab.example_graph(example))
    assert set(broken) == {"required", "datatype"}
    for how, graph in broken.items():
        assert not vocab.validate(graph, domain).conforms, how


# --------------------------------------------------------------------------- mutations


def _first(graph: Graph, predicate: URIRef) -> URIRef:
    return sorted(graph.subjects(predicate, None))[0]


def _set(predicate: URIRef, value: object, nth: int = 0) -> Callable[[Graph], None]:
    def mutate(graph: Graph) -> None:
        subject = sorted(graph.subjects(predicate, None), key=str)[nth]
        graph.set((subject, predicate, value))

    return mutate


def _drop(predicate: URIRef) -> Callable[[Graph], None]:
    def mutate(graph: Graph) -> None:
        graph.remove((_first(graph, predicate), predicate, None))

    return mutate


def _both(*steps: Callable[[Graph], None]) -> Callable[[Graph], None]:
    def mutate(graph: Graph) -> None:
        for step in steps:
            step(graph)

    return mutate


def dec(text: str) -> Literal:
    return Literal(text, datatype=XSD.decimal)


@dataclass(frozen=True)
class Mutation:
    id: str
    domain: str
    example: str
    mutate: Callable[[Graph], None]
    path: URIRef  # the property the violation must name
    message: str = ""  # a fragment the violation message must contain


T = term
MUTATIONS = [
    # provenance, in every domain
    *[
        Mutation(
            f"{d}-no-attribution",
            d,
            n,
            _drop(PROV.wasAttributedTo),
            PROV.wasAttributedTo,
            "attributed",
        )
        for d, n in [
            ("bank", "accounts"),
            ("consent", "consent"),
            ("contact", "profile"),
            ("doc", "invoice"),
            ("energy", "electricity"),
            ("telecom", "mobile"),
            ("insurance", "home"),
            ("retail", "receipt"),
            ("health", "reimbursements"),
        ]
    ],
    Mutation(
        "bank-no-generation-time",
        "bank",
        "month",
        _drop(PROV.generatedAtTime),
        PROV.generatedAtTime,
        "generatedAtTime",
    ),
    Mutation(
        "doc-time-without-zone",
        "doc",
        "invoice",
        _set(PROV.generatedAtTime, Literal("2024-02-19T08:15:00", datatype=XSD.dateTime)),
        PROV.generatedAtTime,
        "time zone",
    ),
    Mutation(
        "bank-attributed-to-literal",
        "bank",
        "loan",
        _set(PROV.wasAttributedTo, Literal("Banque Exemple")),
        PROV.wasAttributedTo,
    ),
    # banking
    Mutation(
        "bank-iban-checksum",
        "bank",
        "accounts",
        _set(T("bank", "iban"), Literal("FR7612548029980001234567819")),
        T("bank", "iban"),
        "check digits",
    ),
    Mutation(
        "bank-iban-spaces",
        "bank",
        "accounts",
        _set(T("bank", "iban"), Literal("FR76 1254 8029 9800 0123 4567 818")),
        T("bank", "iban"),
        "without spaces",
    ),
    Mutation(
        "bank-counterparty-iban",
        "bank",
        "month",
        _set(T("bank", "counterpartyIban"), Literal("FR3330002005500000157841Z26")),
        T("bank", "counterpartyIban"),
        "check digits",
    ),
    Mutation(
        "bank-amount-not-a-number",
        "bank",
        "month",
        _set(T("bank", "amount"), dec("abc")),
        T("bank", "amount"),
    ),
    Mutation(
        "bank-amount-plain-string",
        "bank",
        "month",
        _set(T("bank", "amount"), Literal("-12.50")),
        T("bank", "amount"),
    ),
    Mutation(
        "bank-amount-three-decimals",
        "bank",
        "month",
        _set(T("bank", "amount"), dec("-12.505")),
        T("bank", "amount"),
        "two decimals",
    ),
    Mutation(
        "bank-category-outside-scheme",
        "bank",
        "month",
        _set(T("bank", "category"), URIRef("https://example.org/categories#Food")),
        T("bank", "category"),
        "bank:Categories",
    ),
    Mutation(
        "bank-two-amounts",
        "bank",
        "month",
        lambda g: g.add((_first(g, T("bank", "amount")), T("bank", "amount"), dec("1.00"))),
        T("bank", "amount"),
    ),
    Mutation(
        "bank-currency",
        "bank",
        "accounts",
        _set(T("doc", "currency"), Literal("euro")),
        T("doc", "currency"),
        "ISO 4217",
    ),
    Mutation(
        "bank-frequency",
        "bank",
        "accounts",
        _set(T("bank", "frequency"), Literal("P2D", datatype=XSD.duration)),
        T("bank", "frequency"),
    ),
    Mutation(
        "bank-interest-rate",
        "bank",
        "loan",
        _set(T("bank", "interestRate"), dec("142")),
        T("bank", "interestRate"),
    ),
    Mutation(
        "bank-outstanding-above-principal",
        "bank",
        "loan",
        _set(T("bank", "outstandingCapital"), dec("15000.01")),
        T("bank", "outstandingCapital"),
    ),
    Mutation(
        "bank-loan-ends-before-start",
        "bank",
        "loan",
        _set(T("doc", "endDate"), Literal("2020-01-01", datatype=XSD.date)),
        T("doc", "startDate"),
    ),
    Mutation(
        "bank-duration-wrong-datatype",
        "bank",
        "loan",
        _set(T("bank", "durationMonths"), Literal("sixty")),
        T("bank", "durationMonths"),
    ),
    # consent
    Mutation(
        "consent-withdrawn-without-date",
        "consent",
        "consent",
        _set(T("consent", "status"), URIRef("https://w3id.org/dpv#ConsentWithdrawn")),
        RDF.nil,
        "",
    ),
    Mutation(
        "consent-expires-before-given",
        "consent",
        "consent",
        _set(
            T("consent", "expiresAt"), Literal("2023-01-01T00:00:00+01:00", datatype=XSD.dateTime)
        ),
        T("consent", "givenAt"),
        "before",
    ),
    Mutation(
        "consent-unknown-status",
        "consent",
        "consent",
        _set(T("consent", "status"), URIRef("https://w3id.org/dpv#Maybe")),
        T("consent", "status"),
    ),
    # contact
    Mutation(
        "contact-email-not-mailto",
        "contact",
        "profile",
        _set(URIRef("http://www.w3.org/2006/vcard/ns#value"), URIRef("https://alice.example/")),
        URIRef("http://www.w3.org/2006/vcard/ns#value"),
        "mailto",
    ),
    Mutation(
        "contact-no-family-name",
        "contact",
        "profile",
        _drop(URIRef("http://www.w3.org/2006/vcard/ns#family-name")),
        URIRef("http://www.w3.org/2006/vcard/ns#family-name"),
    ),
    # documents
    Mutation(
        "doc-due-before-issue",
        "doc",
        "invoice",
        _set(T("doc", "dueDate"), Literal("2024-01-01", datatype=XSD.date)),
        T("doc", "issueDate"),
    ),
    Mutation(
        "doc-negative-total",
        "doc",
        "invoice",
        _set(T("doc", "totalAmount"), dec("-5.00")),
        T("doc", "totalAmount"),
    ),
    Mutation(
        "doc-document-without-file",
        "doc",
        "document",
        _drop(T("doc", "file")),
        T("doc", "file"),
        "file",
    ),
    # energy
    Mutation(
        "energy-pdl-13-digits",
        "energy",
        "electricity",
        _set(T("energy", "deliveryPoint"), Literal("0912456789123")),
        T("energy", "deliveryPoint"),
        "14 digits",
    ),
    Mutation(
        "energy-pce-form",
        "energy",
        "gas",
        _set(T("energy", "deliveryPoint"), Literal("GX123456")),
        T("energy", "deliveryPoint"),
        "GI",
    ),
    Mutation(
        "energy-granularity",
        "energy",
        "electricity",
        _set(T("energy", "granularity"), Literal("PT15M", datatype=XSD.duration)),
        T("energy", "granularity"),
    ),
    Mutation(
        "energy-negative-consumption",
        "energy",
        "gas",
        _set(T("energy", "consumption"), dec("-1.5")),
        T("energy", "consumption"),
    ),
    Mutation(
        "energy-unit",
        "energy",
        "gas",
        _set(T("energy", "unit"), URIRef("http://qudt.org/vocab/unit/L")),
        T("energy", "unit"),
    ),
    Mutation(
        "energy-meter-region-empty",
        "energy",
        "electricity",
        _set(URIRef("http://schema.org/addressRegion"), Literal("")),
        URIRef("http://schema.org/addressRegion"),
        "one region",
    ),
    Mutation(
        "energy-meter-address-a-literal",
        "energy",
        "electricity",
        _set(URIRef("http://schema.org/address"), Literal("Bretagne")),
        URIRef("http://schema.org/address"),
    ),
    Mutation(
        "energy-curve-ends-before-start",
        "energy",
        "gas",
        _set(T("energy", "end"), Literal("2024-01-01T00:00:00+01:00", datatype=XSD.dateTime)),
        T("energy", "start"),
    ),
    # telecom
    Mutation(
        "telecom-phone-not-e164",
        "telecom",
        "mobile",
        _set(T("telecom", "phoneNumber"), Literal("06 12 34 56 78")),
        T("telecom", "phoneNumber"),
        "E.164",
    ),
    Mutation(
        "telecom-month-13",
        "telecom",
        "mobile",
        _set(T("telecom", "month"), Literal("2024-13", datatype=XSD.gYearMonth)),
        T("telecom", "month"),
    ),
    Mutation(
        "telecom-roaming-above-total",
        "telecom",
        "mobile",
        _set(T("telecom", "roamingDataMB"), dec("99999")),
        T("telecom", "roamingDataMB"),
    ),
    Mutation(
        "telecom-negative-sms",
        "telecom",
        "mobile",
        _set(T("telecom", "smsCount"), Literal(-3)),
        T("telecom", "smsCount"),
    ),
    # insurance
    Mutation(
        "insurance-incident-after-declaration",
        "insurance",
        "home",
        _set(T("insurance", "incidentDate"), Literal("2024-02-01", datatype=XSD.date)),
        T("insurance", "incidentDate"),
        "on or before",
    ),
    Mutation(
        "insurance-settled-without-amount",
        "insurance",
        "home",
        _drop(T("insurance", "settledAmount")),
        RDF.nil,
        "",
    ),
    Mutation(
        "insurance-plate",
        "insurance",
        "vehicle",
        _set(T("insurance", "registrationNumber"), Literal("AB-123-IO")),
        T("insurance", "registrationNumber"),
        "SIV",
    ),
    Mutation(
        "insurance-home-without-dwelling",
        "insurance",
        "home",
        lambda g: g.remove((None, RDF.type, T("insurance", "InsuredDwelling"))),
        T("insurance", "insuredItem"),
        "InsuredDwelling",
    ),
    # retail
    Mutation(
        "retail-negative-quantity",
        "retail",
        "receipt",
        _set(T("retail", "quantity"), dec("-1")),
        T("retail", "quantity"),
        "positive",
    ),
    Mutation(
        "retail-gtin-checksum",
        "retail",
        "receipt",
        _set(T("retail", "gtin"), Literal("3017620422004")),
        T("retail", "gtin"),
        "check digit",
    ),
    Mutation(
        "retail-gtin-length",
        "retail",
        "receipt",
        _set(T("retail", "gtin"), Literal("30176204")),
        T("retail", "gtin"),
        "check digit",
    ),
    Mutation(
        "retail-gtin-letters",
        "retail",
        "receipt",
        _set(T("retail", "gtin"), Literal("30176204220X3")),
        T("retail", "gtin"),
        "8, 12",
    ),
    Mutation(
        "retail-no-line-items",
        "retail",
        "receipt",
        lambda g: g.remove((None, T("retail", "lineItem"), None)),
        T("retail", "lineItem"),
    ),
    Mutation(
        "retail-store-postal-code",
        "retail",
        "receipt",
        _set(URIRef("http://www.w3.org/2006/vcard/ns#postal-code"), Literal("lyon")),
        URIRef("http://www.w3.org/2006/vcard/ns#postal-code"),
    ),
    Mutation(
        "retail-negative-points",
        "retail",
        "loyalty",
        _set(T("retail", "pointsBalance"), Literal(-10)),
        T("retail", "pointsBalance"),
    ),
    # health
    Mutation(
        "health-reimbursed-above-paid",
        "health",
        "reimbursements",
        _set(T("health", "amountReimbursed"), dec("45.00"), nth=1),
        T("health", "amountReimbursed"),
        "not above",
    ),
    Mutation(
        "health-rpps-length",
        "health",
        "reimbursements",
        _set(T("health", "rpps"), Literal("1010123")),
        T("health", "rpps"),
        "11 digits",
    ),
    Mutation(
        "health-scheme",
        "health",
        "reimbursements",
        _set(T("health", "scheme"), T("health", "Reimbursement")),
        T("health", "scheme"),
    ),
    Mutation(
        "health-no-act", "health", "reimbursements", _drop(T("health", "act")), T("health", "act")
    ),
    # commons (last: test_speedup samples every 4th mutation from the start)
    Mutation(
        "commons-no-attribution",
        "commons",
        "study",
        _drop(PROV.wasAttributedTo),
        PROV.wasAttributedTo,
        "attributed",
    ),
    Mutation(
        "commons-no-budget",
        "commons",
        "study",
        _drop(T("commons", "epsilon")),
        T("commons", "epsilon"),
    ),
    Mutation(
        "commons-kind",
        "commons",
        "study",
        _set(T("commons", "kind"), Literal("median")),
        T("commons", "kind"),
    ),
    Mutation(
        "commons-period",
        "commons",
        "study",
        _set(T("commons", "period"), Literal("2025-13")),
        T("commons", "period"),
    ),
]


def _violations(mutation: Mutation) -> vocab.Report:
    graph = example(mutation.domain, mutation.example)
    mutation.mutate(graph)
    return vocab.validate(graph, mutation.domain)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_mutated_example_fails_with_the_expected_violation(mutation: Mutation) -> None:
    report = _violations(mutation)
    assert not report.conforms
    # RDF.nil stands for "a node-level constraint" (sh:or, no result path).
    expected_path = None if mutation.path == RDF.nil else mutation.path
    matching = [
        v for v in report.violations if v.path == expected_path and mutation.message in v.message
    ]
    assert matching, report.summary(20)
    assert all(v.severity == "Violation" for v in report.violations)


def test_mutations_cover_every_domain() -> None:
    assert {m.domain for m in MUTATIONS} == set(vocab.domains())


def test_report_is_readable_and_machine_readable() -> None:
    report = _violations(MUTATIONS[0])
    (violation,) = report.violations
    assert violation.focus == URIRef("https://alice.pod.example/bank/2024-02/transactions#t0187")
    assert violation.path == PROV.wasAttributedTo
    line = violation.describe(report.graph)
    assert "prov:wasAttributedTo" in line and "t0187" in line
    assert report.summary().startswith("1 SHACL violation(s):")
    parsed = Graph().parse(data=report.turtle, format="turtle")
    assert (None, URIRef("http://www.w3.org/ns/shacl#conforms"), Literal(False)) in parsed


def test_nested_violation_names_the_way_to_it() -> None:
    report = _violations(next(m for m in MUTATIONS if m.id == "retail-store-postal-code"))
    # Reported three times: the address is typed contact:PostalAddress and the store
    # retail:Store (targets of their own), and both are reached from the receipt.
    (violation,) = [v for v in report.violations if len(v.via) == 2]
    assert violation.focus == URIRef("https://alice.pod.example/retail/receipts/2024-03-09#receipt")
    assert isinstance(violation.node, BNode)
    assert violation.via == (
        term("retail", "store"),
        URIRef("http://www.w3.org/2006/vcard/ns#hasAddress"),
    )
    assert "retail:store / vcard:hasAddress / vcard:postal-code" in violation.describe(report.graph)


def test_checksum_results_are_in_the_report_graph() -> None:
    report = _violations(next(m for m in MUTATIONS if m.id == "bank-iban-checksum"))
    components = {str(v.component) for v in report.violations}
    assert components == {vocab.shapes_iri("bank") + "#ChecksumConstraintComponent"}
    parsed = Graph().parse(data=report.turtle, format="turtle")
    assert (
        len(list(parsed.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#ValidationResult"))))
        == 1
    )


def test_validate_against_an_arbitrary_shapes_graph_and_a_compiled_one() -> None:
    shapes = Graph().parse(
        format="turtle",
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://ex.example/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .""",
    )
    data = Graph()
    data.add((BNode(), RDF.type, URIRef("https://ex.example/T")))
    assert not vocab.validate(data, shapes).conforms
    compiled = vocab.compile_shapes(shapes)
    assert not vocab.validate(data, compiled).conforms
    assert vocab.validate(Graph(), compiled).conforms


def test_validate_does_not_modify_the_data() -> None:
    graph = example("bank", "month")
    before = len(graph)
    vocab.validate(graph, "bank")
    assert len(graph) == before


def test_validation_under_another_base() -> None:
    base = "https://pod.example/vocab/"
    text = vocab.read_text("bank", "examples/accounts.ttl", base)
    graph = Graph().parse(data=text, format="turtle")
    assert vocab.validate(graph, "bank", base).conforms
    graph.set(
        (
            URIRef("https://alice.pod.example/bank/accounts#current"),
            URIRef(base + "bank#iban"),
            Literal("FR7612548029980001234567819"),
        )
    )
    assert not vocab.validate(graph, "bank", base).conforms
    # Data written with the default base is not checked by shapes under another base.
    assert vocab.validate(example("bank", "accounts"), "bank", base).conforms


@pytest.mark.parametrize("mutation", MUTATIONS[::4], ids=lambda m: m.id)
def test_speedup_gives_the_same_reports_as_pyshacl(mutation: Mutation) -> None:
    """vocab._pyshacl_speedup changes how pyshacl iterates, never what it finds."""
    assert _pyshacl_speedup.supported()
    fast = sorted(v.describe() for v in _violations(mutation).violations)
    _pyshacl_speedup.disable()
    try:
        slow = sorted(v.describe() for v in _violations(mutation).violations)
    finally:
        _pyshacl_speedup.enable()
    assert fast == slow


def test_bank_month_validates_quickly() -> None:
    graph = example("bank", "month")
    assert len(list(graph.subjects(RDF.type, term("bank", "Transaction")))) == 300
    vocab.validate(graph, "bank")  # compile the shapes
    started = time.perf_counter()
    report = vocab.validate(graph, "bank")
    elapsed = time.perf_counter() - started
    assert report.conforms
    # ~0.05 s on a developer machine; the bound only catches a lost optimisation.
    assert elapsed < 1.0, f"bank month took {elapsed:.2f} s"


# --------------------------------------------------------------------------- checksums


def test_iban_checks() -> None:
    assert iban_valid("FR1420041010050500013M02606")
    assert iban_valid("GB82WEST12345698765432")
    assert not iban_valid("FR1420041010050500013M02607")
    assert not iban_valid("fr1420041010050500013M02606")
    assert iban("GB", "WEST12345698765432") == "GB82WEST12345698765432"
    assert french_iban("20041", "01005", "0500013M026") == "FR1420041010050500013M02606"
    with pytest.raises(ValueError):
        french_iban("2004", "01005", "0500013M026")


def test_gtin_checks() -> None:
    assert gtin_valid("3017620422003")
    assert gtin_valid("96385074")  # GTIN-8
    assert gtin_valid("036000291452")  # GTIN-12 (UPC-A)
    assert not gtin_valid("3017620422004")
    assert not gtin_valid("301762042200")
    assert gtin_check_digit("301762042200") == "3"
