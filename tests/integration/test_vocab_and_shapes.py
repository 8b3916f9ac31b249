"""The vocabularies served at their IRIs, and shape-validated containers, through HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

import vocab
from pod_server.http.handlers import STORE
from pod_server.ldp import rdf
from pod_server.ldp.reading import PARSE_ON_LOOP_UP_TO
from pod_server.settings import Settings
from pod_server.storage.file import FileBackend
from tests.conftest import Pod, running_pod
from tests.unit.vocab.helpers import broken_copies

CONSTRAINED_BY = "http://www.w3.org/ns/ldp#constrainedBy"


def example_text(pod: Pod, name: str, suffix: str = "ttl") -> str:
    """A bank example as shipped: canonical IRIs, which every server validates."""
    return vocab.read_text("bank", f"examples/{name}.{suffix}")


async def constrain(pod: Pod, container: str, domain: str = "bank", canonical: bool = False) -> str:
    """Constrain ``container`` by the shapes' canonical IRI, or this server's copy's."""
    shapes = vocab.shapes_iri(domain) if canonical else pod.url(f"/vocab/{domain}/shapes")
    await pod.put(container, "")
    meta = f"<{pod.url(container)}> <{CONSTRAINED_BY}> <{shapes}>."
    assert await pod.put(container + ".meta", meta) == 201
    return shapes


async def test_ontology_is_served_with_negotiation(pod: Pod) -> None:
    url = pod.url("/vocab/bank")
    async with pod.session.get(url, headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200 and r.content_type == "text/turtle"
        graph = Graph().parse(data=await r.text(), format="turtle")
    # The copy served here has the canonical terms, the same on every server.
    canonical = vocab.ontology_iri("bank")
    assert canonical == "https://w3id.org/solid-pods/vocab/bank"
    assert (URIRef(canonical), RDF.type, OWL.Ontology) in graph
    assert (URIRef(canonical + "#Account"), None, None) in graph
    assert not any(url in str(term) for triple in graph for term in triple)
    async with pod.session.get(url, headers={"Accept": "text/html,*/*;q=0.8"}) as r:
        assert r.content_type == "text/html"
        assert "Account" in await r.text()
    async with pod.session.get(url, headers={"Accept": "application/ld+json"}) as r:
        assert r.content_type == "application/ld+json"
        json.loads(await r.text())
    async with pod.session.get(pod.url("/vocab/bank/context.jsonld")) as r:
        assert json.loads(await r.text())["@context"]["bank"] == vocab.namespace("bank")
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
    bank = vocab.namespace("bank")
    patch = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f"_:p a solid:InsertDeletePatch; solid:inserts {{ <#t9> a <{bank}Transaction>. }}."
    )
    async with pod.request(
        "PATCH", "/bank/accounts", data=patch, headers={"Content-Type": "text/n3"}
    ) as r:
        assert r.status == 422


def n3_insert(graph: Graph) -> str:
    return (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        "_:p a solid:InsertDeletePatch; solid:inserts {\n" + graph.serialize(format="nt") + "}."
    )


async def read_back(pod: Pod, path: str, media: str) -> Graph:
    async with pod.request("GET", path, headers={"Accept": media}) as r:
        assert r.status == 200 and r.content_type == media
        return rdf.parse(await r.read(), media, pod.url(path))


async def test_a_patched_document_reads_back_with_the_same_triples(pod: Pod) -> None:
    """A month pushed as a create-only N3 Patch into a validated container is stored (as
    Turtle the server writes) with exactly the triples inserted; so is a second patch."""
    await constrain(pod, "/bank/")
    url = pod.url("/bank/2024-03")
    text = example_text(pod, "month").replace(
        "https://alice.pod.example/bank/2024-03/transactions#", url + "#"
    )
    month = rdf.parse(text.encode(), rdf.TURTLE, url)
    headers = {"Content-Type": "text/n3", "If-None-Match": "*"}
    async with pod.request("PATCH", "/bank/2024-03", data=n3_insert(month), headers=headers) as r:
        assert r.status == 201, await r.text()
    for media in (rdf.TURTLE, rdf.N_TRIPLES, rdf.JSON_LD):
        assert isomorphic(await read_back(pod, "/bank/2024-03", media), month)
    async with pod.request("GET", "/bank/2024-03", headers={"Accept": rdf.TURTLE}) as r:
        stored = await r.text()
    assert "@base" not in stored and f"<{url}#" not in stored  # relative to the document
    more = Graph()
    note = URIRef(url + "#t0001")
    more.add((note, RDFS.comment, Literal('said "hi"\nand left \\ 🎉', lang="fr")))
    more.add((note, RDFS.seeAlso, URIRef(url + "2")))  # shares a string prefix with it
    headers = {"Content-Type": "text/n3"}
    async with pod.request("PATCH", "/bank/2024-03", data=n3_insert(more), headers=headers) as r:
        assert r.status == 204, await r.text()
    assert isomorphic(await read_back(pod, "/bank/2024-03", rdf.TURTLE), month + more)


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
    async with pod.request("GET", "/bank/.meta") as r:  # nothing was written
        assert r.status == 200 and CONSTRAINED_BY not in await r.text()
    # The same through PATCH: the description stays as it was.
    assert await pod.put("/bank/.meta", '<> <http://purl.org/dc/terms/title> "Bank".') == 201
    patch = f"INSERT DATA {{ <{pod.url('/elsewhere/')}> <{CONSTRAINED_BY}> <{shapes}> . }}"
    headers = {"Content-Type": "application/sparql-update"}
    async with pod.request("PATCH", "/bank/.meta", data=patch, headers=headers) as r:
        assert r.status == 400
    async with pod.request("GET", "/bank/.meta", headers={"Accept": "text/turtle"}) as r:
        assert CONSTRAINED_BY not in await r.text() and "constrainedBy" not in await r.text()
    assert await pod.put("/bank/anything", "<#a> <#b> <#c>.") == 201  # still unconstrained


async def test_every_example_is_accepted_and_a_broken_copy_refused(pod: Pod) -> None:
    """Each shipped example, as shipped, into a container validated by its domain; copies
    without a required property or with a wrong datatype are 422 and store nothing."""
    for domain in vocab.domains():
        await constrain(pod, f"/{domain}/", domain, canonical=domain < "e")  # both IRIs
        for example in vocab.examples(domain):
            text = vocab.read_text(domain, example.path)
            name = f"/{domain}/{example.name}-{example.media_type.split('/')[1]}"
            assert await pod.put(name, text, example.media_type) == 201, example.path
            broken = broken_copies(domain, vocab.example_graph(example))
            assert set(broken) == {"required", "datatype"}
            for how, graph in broken.items():
                body = graph.serialize(format="turtle")
                assert await pod.put(f"{name}-{how}", body) == 422, (example.path, how)
                async with pod.request("GET", f"{name}-{how}") as r:
                    assert r.status == 404


async def test_data_with_the_canonical_terms_is_validated_whichever_iri_constrains(
    pod: Pod,
) -> None:
    """The trap: a broken example written with the canonical IRIs used to be stored."""
    broken = example_text(pod, "accounts").replace("FR7612548029980001234567818", "FR76", 1)
    for container, canonical in (("/local/", False), ("/canonical/", True)):
        shapes = await constrain(pod, container, canonical=canonical)
        async with pod.request("GET", container) as r:
            assert f'<{shapes}>; rel="{CONSTRAINED_BY}"' in r.headers.getall("Link")
        assert await pod.put(container + "bad", broken) == 422
        assert await pod.put(container + "good", example_text(pod, "accounts")) == 201


async def test_json_ld_may_name_the_local_copy_of_a_context(pod: Pod) -> None:
    await constrain(pod, "/bank/")
    local = pod.url("/vocab/bank/context.jsonld")
    doc = example_text(pod, "accounts", "jsonld").replace(vocab.context_iri("bank"), local)
    assert local in doc
    assert await pod.put("/bank/local-context", doc, "application/ld+json") == 201
    async with pod.request("GET", "/bank/local-context", headers={"Accept": "text/turtle"}) as r:
        graph = Graph().parse(data=await r.text(), format="turtle")
    assert len(list(graph.triples((None, URIRef(vocab.namespace("bank") + "iban"), None)))) == 2
    bad = doc.replace("FR7612548029980001234567818", "FR7612548029980001234567819")
    assert await pod.put("/bank/bad-context", bad, "application/ld+json") == 422


@pytest.mark.parametrize("processes", [True, False])
async def test_a_large_body_is_checked_in_worker_processes_or_threads(
    tmp_path: Path, processes: bool
) -> None:
    """A bank month (180 KB, past what the loop parses) gets the same answers whether the
    server checks it in worker processes or on threads: stored as sent, 422, or 400."""
    month = vocab.read_text("bank", "examples/month.ttl")
    assert len(month.encode()) > PARSE_ON_LOOP_UP_TO
    settings = Settings(open=True, validation_processes=processes)
    async with running_pod(tmp_path, FileBackend(tmp_path), settings) as pod:
        shapes = await constrain(pod, "/bank/")
        ttl = {"Content-Type": "text/turtle"}
        async with pod.request("POST", "/bank/", data=month, headers=ttl) as r:
            assert r.status == 201
            location = r.headers["Location"]
        async with pod.session.get(location, headers={"Accept": "text/turtle"}) as r:
            assert await r.text() == month  # stored as sent
        bad_iban = month.replace("FR76", "FR00", 1)
        async with pod.request("POST", "/bank/", data=bad_iban, headers=ttl) as r:
            assert r.status == 422
            assert f'<{shapes}>; rel="{CONSTRAINED_BY}"' in r.headers["Link"]
            assert "iban" in (await r.text()).lower()
        async with pod.request("POST", "/bank/", data=month[:-300] + ";; <", headers=ttl) as r:
            assert r.status == 400
            assert (await r.text()).startswith("Invalid Turtle")
        lane = pod.app[STORE].runner.lane  # type: ignore[index]
        assert (lane is not None and lane.workers == 1) is processes
