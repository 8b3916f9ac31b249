"""``pod query FILE.rq`` against our server (the client tests' host): rows as a table or
JSON, ASK as true/false, CONSTRUCT as Turtle; a malformed query exits with the server's
reason."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_client import Server, unique
from tests.integration.test_client_cli import host, signed_in

__all__ = ["host"]  # the module-scoped server fixture, shared with the CLI tests


def test_pod_query(host: Server, tmp_path: Path) -> None:
    pod = signed_in(host, tmp_path)
    base = host.pod() + unique("query") + "/"
    (tmp_path / "m.ttl").write_text("<#t1> <http://ex/amount> 12 . <#t2> <http://ex/amount> 30 .")
    assert pod("put", str(tmp_path / "m.ttl"), base + "m.ttl") == 0, pod.err
    select = tmp_path / "sum.rq"
    select.write_text(
        f"SELECT (SUM(?a) AS ?total) WHERE {{ GRAPH ?g {{ ?s <http://ex/amount> ?a }}"
        f' FILTER(STRSTARTS(STR(?g), "{base}")) }}'
    )
    assert pod("query", str(select)) == 0, pod.err
    assert "TOTAL" in pod.out.upper() and "42" in pod.out
    assert pod("query", str(select), "--json") == 0
    assert pod.json() == {"vars": ["total"], "rows": [{"total": "42"}]}
    ask = tmp_path / "ask.rq"
    ask.write_text("ASK { ?s <http://ex/amount> 30 }")
    assert pod("query", str(ask)) == 0 and pod.out.strip() == "true"
    construct = tmp_path / "c.rq"
    construct.write_text(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{base}m.ttl> {{ ?s ?p ?o }} }}")
    assert pod("query", str(construct)) == 0, pod.err
    assert "m.ttl#t2> ns1:amount 30" in pod.out
    bad = tmp_path / "bad.rq"
    bad.write_text("SELEC nothing")
    assert pod("query", str(bad)) != 0 and "Malformed query" in pod.err
    assert pod("query", str(tmp_path / "missing.rq")) != 0
