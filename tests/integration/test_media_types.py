"""A body's Content-Type must parse, and RDF must be UTF-8: else 400 or 415, nothing stored."""

from __future__ import annotations

import pytest

from tests.conftest import Pod

TURTLE = "<#a> <#b> <#c> .\n"
MALFORMED = ['text/turtle; charset="unterminated', "text/", ";;;", "text/turtle; charset", "*/*"]
BAD_CHARSETS = [
    "text/turtle; charset=unknown-thing",
    "text/turtle; charset=iso-8859-1",
    "application/ld+json; charset=utf-16",
    "application/n-triples; charset=latin1",
]


def expected_status(ctype: str) -> int:
    return 400 if ctype in MALFORMED else 415


async def listing(pod: Pod, container: str) -> str:
    async with pod.request("GET", container, headers={"Accept": "text/turtle"}) as r:
        assert r.status == 200
        return await r.text()


@pytest.mark.parametrize("ctype", MALFORMED + BAD_CHARSETS)
async def test_put_with_a_bad_content_type_stores_nothing(pod: Pod, ctype: str) -> None:
    async with pod.request("PUT", "/d/x.ttl", data=TURTLE, headers={"Content-Type": ctype}) as r:
        assert r.status == expected_status(ctype)
        assert ("charset" if r.status == 415 else "Content-Type") in await r.text()
    async with pod.request("GET", "/d/x.ttl") as r:
        assert r.status == 404
    async with pod.request("GET", "/d/") as r:
        assert r.status == 404  # not even the intermediate container was made


@pytest.mark.parametrize("ctype", MALFORMED + BAD_CHARSETS)
async def test_put_replacing_with_a_bad_content_type_keeps_the_old_body(
    pod: Pod, ctype: str
) -> None:
    assert await pod.put("/x.ttl", TURTLE) == 201
    async with pod.request(
        "PUT", "/x.ttl", data="<#z> <#z> <#z> .", headers={"Content-Type": ctype}
    ) as r:
        assert r.status == expected_status(ctype)
    async with pod.request("GET", "/x.ttl", headers={"Accept": "text/turtle"}) as r:
        assert await r.text() == TURTLE


@pytest.mark.parametrize("ctype", MALFORMED + BAD_CHARSETS)
async def test_post_with_a_bad_content_type_adds_no_member(pod: Pod, ctype: str) -> None:
    assert await pod.put("/box/", "", "text/turtle") == 201
    before = await listing(pod, "/box/")
    async with pod.request("POST", "/box/", data=TURTLE, headers={"Content-Type": ctype}) as r:
        assert r.status == expected_status(ctype)
        assert "Location" not in r.headers
    assert await listing(pod, "/box/") == before


@pytest.mark.parametrize(
    "ctype",
    [
        'text/n3; charset="unterminated',
        "text/n3; charset=iso-8859-1",
        "application/sparql-update; charset=unknown-thing",
        "application/sparql-update;;;=",
        ";;;",
    ],
)
async def test_patch_with_a_bad_content_type_changes_nothing(pod: Pod, ctype: str) -> None:
    assert await pod.put("/p.ttl", TURTLE) == 201
    update = "INSERT DATA { <#new> <#b> <#c> . }"
    async with pod.request("PATCH", "/p.ttl", data=update, headers={"Content-Type": ctype}) as r:
        assert r.status == (415 if "charset=" in ctype and '"' not in ctype else 400)
        if r.status == 415:
            assert r.headers["Accept-Patch"] == "text/n3, application/sparql-update"
    async with pod.request("GET", "/p.ttl", headers={"Accept": "text/turtle"}) as r:
        assert await r.text() == TURTLE
    async with pod.request("PATCH", "/q.ttl", data=update, headers={"Content-Type": ctype}) as r:
        assert r.status in (400, 415)
    async with pod.request("GET", "/q.ttl") as r:
        assert r.status == 404


@pytest.mark.parametrize(
    "ctype",
    ["text/turtle; charset=UTF-8", "text/turtle;charset=us-ascii", 'text/turtle; charset="utf-8"'],
)
async def test_rdf_in_utf8_or_ascii_is_accepted(pod: Pod, ctype: str) -> None:
    assert await pod.put("/ok.ttl", TURTLE, ctype) == 201


async def test_a_patch_declared_utf8_applies(pod: Pod) -> None:
    assert await pod.put("/p.ttl", TURTLE) == 201
    update = "INSERT DATA { <#new> <#b> <#c> . }"
    headers = {"Content-Type": "application/sparql-update; charset=UTF-8"}
    async with pod.request("PATCH", "/p.ttl", data=update, headers=headers) as r:
        assert r.status == 204


@pytest.mark.parametrize(
    "ctype", ["text/plain; charset=iso-8859-1", "text/csv; charset=unknown-thing; header=present"]
)
async def test_files_keep_any_well_formed_type(pod: Pod, ctype: str) -> None:
    assert await pod.put("/f.txt", b"caf\xe9", ctype) == 201
    async with pod.request("GET", "/f.txt") as r:
        assert await r.read() == b"caf\xe9"
        assert r.headers["Content-Type"] == ctype


async def test_a_file_with_a_malformed_type_is_refused(pod: Pod) -> None:
    async with pod.request(
        "PUT", "/f.txt", data=b"x", headers={"Content-Type": "text/plain; a"}
    ) as r:
        assert r.status == 400
    async with pod.request("GET", "/f.txt") as r:
        assert r.status == 404


# rdflib's parsers accept IRIs that Turtle's grammar refuses (a second "#"); stored, such a
# document could no longer be read back, patched or converted.
BAD_IRI = "http://ex.org/a#b#c"
BAD_IRI_BODIES = {
    "application/n-triples": f'<{BAD_IRI}> <http://ex.org/p> "x" .\n',
    "application/ld+json": f'{{"@id": "{BAD_IRI}", "http://ex.org/p": "x"}}',
}
BAD_IRI_PATCHES = {
    "application/sparql-update": f'INSERT DATA {{ <{BAD_IRI}> <http://ex.org/p> "y" }}',
    "text/n3": (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f'_:p a solid:InsertDeletePatch; solid:inserts {{ <{BAD_IRI}> <http://ex.org/p> "y" }}.'
    ),
}


@pytest.mark.parametrize("ctype", sorted(BAD_IRI_BODIES))
async def test_rdf_with_an_invalid_iri_is_refused_and_nothing_stored(pod: Pod, ctype: str) -> None:
    async with pod.request(
        "PUT", "/bad-iri", data=BAD_IRI_BODIES[ctype], headers={"Content-Type": ctype}
    ) as r:
        assert r.status == 400
        assert "not valid RDF" in await r.text()
    async with pod.request("GET", "/bad-iri") as r:
        assert r.status == 404


@pytest.mark.parametrize("ctype", sorted(BAD_IRI_PATCHES))
@pytest.mark.parametrize("existing", [True, False])
async def test_a_patch_inserting_an_invalid_iri_changes_nothing(
    pod: Pod, ctype: str, existing: bool
) -> None:
    if existing:
        assert await pod.put("/doc.ttl", TURTLE) == 201
    async with pod.request(
        "PATCH", "/doc.ttl", data=BAD_IRI_PATCHES[ctype], headers={"Content-Type": ctype}
    ) as r:
        assert r.status == 400
        assert "not valid RDF" in await r.text()
    async with pod.request("GET", "/doc.ttl", headers={"Accept": "application/ld+json"}) as r:
        assert r.status == (200 if existing else 404)  # still readable, as any format
        if existing:
            assert BAD_IRI not in await r.text()
