"""The vocabularies served at their IRIs, and shape-validated containers, through HTTP."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

import vocab
from tests.conftest import Pod

CONSTRAINED_BY = "http://www.w3.org/ns/ldp#constrainedBy"


def example_text(pod: Pod, name: str, suffix: str = "ttl") -> str:
    """A bank example rewritten to this server's vocabulary base."""
    return vocab.read_text("bank", f"examples/{name}.{suffix}", pod.url("/vocab/"))


async def constrain(pod: Pod, container: str, domain: str = "bank") -> str:
    shapes = pod.url(f"/vocab/{domain}/shapes")
    await pod.put(container, "")
    meta = f"<{pod.url(container)}> <{CONSTRAINED_BY}> <{shapes}>."
    assert await pod.put(container + ".meta", meta) == 201
    return shapes


async def test_ontology_is_served_with_negotiation(pod: Pod) -> None:
    url = pod.url("/vocab/bank")
    async with pod.session.get(url, headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200 and r.content_type == "text/turtle"
        graph = Graph().parse(data=await r.text(), format="turtle")
    assert (URIRef(url), RDF.type, OWL.Ontology) in graph
    assert (URIRef(url + "#Account"), None, None) in graph
    async with pod.session.get(url, headers={"Accept": "text/html,*/*;q=0.8"}) as r:
        assert r.content_type == "text/html"
        assert "Account" in await r.text()
    async with pod.session.get(url, headers={"Accept": "application/ld+json"}) as r:
        assert r.content_type == "application/ld+json"
        json.loads(await r.text())
    async with pod.session.get(pod.url("/vocab/bank/context.jsonld")) as r:
        assert "@context" in json.loads(await r.text())
    async with pod.session.get(pod.url("/vocab/bank/shapes")) as r:
        assert r.status == 200 and "shacl" in await r.text()
    async with pod.session.get(pod.url("/vocab/nosuch")) as r:
        assert r.status == 404
    async with pod.session.get(pod.url("/vocab/")) as r:
        assert "energy" in await r.text()


async def test_valid_data_is_accepted(pod: Pod) -> None:
    shapes = await constrain(pod, "/bank/")
    async with pod.request("GET", "/bank/") as r:
        assert f'<{shapes}>; rel="{CONSTRAINED_BY}"' in r.headers.getall("Link")
    assert await pod.put("/bank/accounts", example_text(pod, "accounts")) == 201
    async with pod.request(
        "POST", "/bank/", data=example_text(pod, "loan"), headers={"Content-Type": "text/turtle"}
    ) as r:
        assert r.status == 201


async def test_organisation_json_is_validated_too(pod: Pod) -> None:
    await constrain(pod, "/bank/")
    doc = example_text(pod, "accounts", "jsonld")
    assert await pod.put("/bank/from-json", doc, "application/ld+json") == 201


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("FR7612548029980001234567818", "FR7612548029980001234567819", "IBAN"),  # bad checksum
        ("prov:wasAttributedTo <https://banque.example/id#org> ;", "", "wasAttributedTo"),
        ('"-23.85"^^xsd:decimal', '"lots"', "amount"),
    ],
)
async def test_violations_are_422_with_a_report_and_store_nothing(
    pod: Pod, old: str, new: str, why: str
) -> None:
    shapes = await constrain(pod, "/bank/")
    text = example_text(pod, "accounts")
    assert old in text
    async with pod.request(
        "PUT", "/bank/bad", data=text.replace(old, new, 1), headers={"Content-Type": "text/turtle"}
    ) as r:
        assert r.status == 422
        assert r.content_type == "text/turtle"
        body = await r.text()
        assert f'<{shapes}>; rel="{CONSTRAINED_BY}"' in r.headers["Link"]
    assert body.startswith("# The data does not satisfy")
    assert why.lower() in body.lower()
    Graph().parse(data=body, format="turtle")  # the report itself is valid Turtle
    async with pod.request("GET", "/bank/bad") as r:
        assert r.status == 404


async def test_patch_results_are_validated(pod: Pod) -> None:
    await constrain(pod, "/bank/")
    await pod.put("/bank/accounts", example_text(pod, "accounts"))
    bank = pod.url("/vocab/bank#")
    patch = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f"_:p a solid:InsertDeletePatch; solid:inserts {{ <#t9> a <{bank}Transaction>. }}."
    )
    async with pod.request(
        "PATCH", "/bank/accounts", data=patch, headers={"Content-Type": "text/n3"}
    ) as r:
        assert r.status == 422


async def test_files_and_unknown_shapes_are_refused(pod: Pod) -> None:
    await constrain(pod, "/bank/")
    assert await pod.put("/bank/scan.pdf", b"%PDF-1.4", "application/pdf") == 422
    await pod.put("/other/", "")
    bogus = f"<{pod.url('/other/')}> <{CONSTRAINED_BY}> <https://shapes.example/nope>."
    assert await pod.put("/other/.meta", bogus) == 422
    # Unconstrained containers take anything.
    assert await pod.put("/other/scan.pdf", b"%PDF-1.4", "application/pdf") == 201


@pytest.mark.parametrize("subject", ["<>", "<./>", "<{container}>", "<{container}.meta>"])
async def test_the_container_or_its_description_may_be_the_subject(pod: Pod, subject: str) -> None:
    """``<>`` in a container's ``.meta`` is the ``.meta`` itself; it counts as the container."""
    shapes = pod.url("/vocab/bank/shapes")
    await pod.put("/bank/", "")
    written = subject.format(container=pod.url("/bank/"))
    meta = f"@prefix ldp: <http://www.w3.org/ns/ldp#>.\n{written} ldp:constrainedBy <{shapes}>."
    assert await pod.put("/bank/.meta", meta) == 201
    async with pod.request("GET", "/bank/") as r:
        assert f'<{shapes}>; rel="{CONSTRAINED_BY}"' in r.headers.getall("Link")
    broken = example_text(pod, "accounts").replace("FR7612548029980001234567818", "FR76", 1)
    assert await pod.put("/bank/bad", broken) == 422
    assert await pod.put("/bank/accounts", example_text(pod, "accounts")) == 201


async def test_shapes_for_another_subject_are_refused(pod: Pod) -> None:
    shapes = pod.url("/vocab/bank/shapes")
    await pod.put("/bank/", "")
    meta = f"<../other/> <{CONSTRAINED_BY}> <{shapes}>."
    async with pod.request(
        "PUT", "/bank/.meta", data=meta, headers={"Content-Type": "text/turtle"}
    ) as r:
        assert r.status == 400
        assert "must be about the container" in await r.text()
    async with pod.request("GET", "/bank/.meta") as r:
        assert r.status == 404
    # The same through PATCH: the description stays as it was.
    assert await pod.put("/bank/.meta", '<> <http://purl.org/dc/terms/title> "Bank".') == 201
    patch = f"INSERT DATA {{ <{pod.url('/elsewhere/')}> <{CONSTRAINED_BY}> <{shapes}> . }}"
    headers = {"Content-Type": "application/sparql-update"}
    async with pod.request("PATCH", "/bank/.meta", data=patch, headers=headers) as r:
        assert r.status == 400
    async with pod.request("GET", "/bank/.meta", headers={"Accept": "text/turtle"}) as r:
        assert CONSTRAINED_BY not in await r.text() and "constrainedBy" not in await r.text()
    assert await pod.put("/bank/anything", "<#a> <#b> <#c>.") == 201  # still unconstrained
