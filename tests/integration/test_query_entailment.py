"""RDFS entailment in the SPARQL endpoint (``query_entailment = "rdfs"``, off by default),
on files and PostgreSQL: a query by general class or property finds the subclass and
subproperty data of the documents the caller may read, and nothing of the others."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_query import rows, world

BANK = "https://w3id.org/solid-pods/vocab/bank#"
GENERAL = (
    "PREFIX schema: <http://schema.org/>\n"
    "SELECT ?x ?v WHERE { ?x a schema:BankAccount; schema:amount ?v }"
)


def account(name: str, amount: int) -> str:
    return f"<#{name}> a <{BANK}CurrentAccount>; <{BANK}amount> {amount} .\n"


async def test_general_classes_find_subclass_instances_only_where_readable(
    tmp_path: Path, storage: str
) -> None:
    async with world(tmp_path / "pods", storage, query_entailment="rdfs") as w:
        for box in ("shared/", "private/"):
            await w.alice.create_container(w.pod + box)
        await w.alice.put(w.pod + "shared/a", account("a", 5))
        await w.alice.put(w.pod + "private/b", account("b", 7))
        await w.alice.grant(w.pod + "shared/", w.webid["bob"], "Read")
        assert {r["v"] for r in await rows(w.alice, w.endpoint, GENERAL)} == {"5", "7"}
        assert await rows(w.bob, w.endpoint, GENERAL) == [{"x": w.pod + "shared/a#a", "v": "5"}]


async def test_off_by_default(tmp_path: Path, storage: str) -> None:
    async with world(tmp_path / "pods", storage) as w:
        await w.alice.put(w.pod + "a", account("a", 5))
        assert await rows(w.alice, w.endpoint, GENERAL) == []
