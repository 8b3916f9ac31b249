"""The per-request bounds: nesting scans, WHERE-solution limits and the stoppable runner."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from rdflib import Graph

from pod_server.errors import BadRequest, ServiceUnavailable, UnprocessableEntity
from pod_server.ldp import rdf
from pod_server.ldp.budget import Runner, WorkLimits, bracket_depth, check_nesting, json_depth
from pod_server.ldp.patch import apply_patch, parse_patch
from pod_server.settings import SettingsError, load

BASE = "http://pod.example/doc"
SPARQL = "application/sparql-update"


# --- nesting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("<a> <b> <c> .", 0),
        ("<a> <b> [ <p> ( 1 [ <q> 2 ] ) ] .", 3),
        ('<a> <b> "[[[ ((( {{{" .', 0),  # brackets in strings do not count
        ("<a> <b> '''[[\n[[''' , \"\"\"((\"\"\" .", 0),
        ("<http://ex.org/[(x)]> <b> 1 .  # [[[[ a comment", 0),
        ('<a> <b> "say \\"[\\"" , [ <p> 1 ] .', 1),  # escaped quote stays inside the string
        ("WHERE { ?a ?b ?c FILTER(?a < ?b) }", 2),  # "<" with spaces is no IRI
        ("] ] [ ]", 1),  # unbalanced closers never go below zero
    ],
)
def test_bracket_depth_counts_only_syntax(text: str, depth: int) -> None:
    assert bracket_depth(text, 100) == depth


def test_bracket_depth_stops_just_past_the_limit() -> None:
    text = "[ " * 100_000 + "] " * 100_000
    started = time.perf_counter()
    assert bracket_depth(text, 10) == 11
    assert time.perf_counter() - started < 2


def test_check_nesting_allows_the_limit_and_refuses_one_more() -> None:
    check_nesting("(" * 5 + ")" * 5, 5, "Turtle")
    with pytest.raises(BadRequest, match=r"nested too deeply \(the limit is 5 levels\)"):
        check_nesting("(" * 6 + ")" * 6, 5, "Turtle")


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ([], 1), ({"a": [1, {"b": 2}]}, 3), ([[[]], {}], 3)],
)
def test_json_depth(value: object, depth: int) -> None:
    assert json_depth(value, 100) == depth


def _nested_jsonld(depth: int) -> bytes:
    return ('{"http://ex.org/p":' * depth + "1" + "}" * depth).encode()


def _nested_rdfxml(depth: int) -> bytes:
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns:e="http://ex.org/">'
        + "<rdf:Description><e:p>" * depth
        + "</e:p></rdf:Description>" * depth
        + "</rdf:RDF>"
    ).encode()


@pytest.mark.parametrize(
    ("media_type", "make"),
    [
        (rdf.TURTLE, lambda n: ("<#a> <#b> " + "[ <#p> " * n + "1" + " ]" * n + " .").encode()),
        (rdf.TURTLE, lambda n: ("<#a> <#b> " + "( " * n + ")" * n + " .").encode()),
        (rdf.N3, lambda n: ("<#a> <#b> " + "[ <#p> " * n + "1" + " ]" * n + " .").encode()),
        (rdf.JSON_LD, _nested_jsonld),
        (rdf.RDF_XML, lambda n: _nested_rdfxml(n // 2)),  # two elements per level
    ],
)
def test_parse_refuses_nesting_past_the_limit(media_type: str, make: object) -> None:
    assert callable(make)
    assert len(rdf.parse(make(20), media_type, BASE, 40)) > 0
    with pytest.raises(BadRequest, match="nested too deeply"):
        rdf.parse(make(60), media_type, BASE, 40)


def test_deep_turtle_is_refused_quickly() -> None:
    deep = ("<#a> <#b> " + "[ <#p> " * 100_000 + "1" + " ]" * 100_000 + " .").encode()
    started = time.perf_counter()
    with pytest.raises(BadRequest, match="nested too deeply"):
        rdf.parse(deep, rdf.TURTLE, BASE)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        (SPARQL, "INSERT { <#a> <#b> 1 } WHERE " + "{ " * 30 + "}" * 30),
        (
            "text/n3",
            "@prefix solid: <http://www.w3.org/ns/solid/terms#>. <#p> a solid:InsertDeletePatch;"
            " solid:inserts { <#a> <#b> " + "( " * 30 + ")" * 30 + " }.",
        ),
    ],
)
def test_patch_refuses_nesting_past_the_limit(media_type: str, body: str) -> None:
    with pytest.raises(BadRequest, match=r"nested too deeply \(the limit is 20"):
        parse_patch(body.encode(), media_type, BASE, 20)


def test_n3_where_with_more_triples_than_the_nesting_limit_is_422() -> None:
    where = " ".join(f"?s{i} <#p> ?o{i} ." for i in range(21))
    body = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. <#p> a solid:InsertDeletePatch;"
        f" solid:where {{ {where} }}."
    )
    with pytest.raises(UnprocessableEntity, match="limit is 20"):
        parse_patch(body.encode(), "text/n3", BASE, 20)


# --- solutions ---------------------------------------------------------------------------


def _document(triples: int) -> Graph:
    text = "".join(f'<#s{i}> <#p{i % 5}> "v{i}" .\n' for i in range(triples))
    return rdf.parse(text.encode(), rdf.TURTLE, BASE)


FOUR_PATTERNS = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l"


@pytest.mark.parametrize(
    "body",
    [
        f"DELETE {{}} INSERT {{}} WHERE {{ {FOUR_PATTERNS} }}",
        f"INSERT {{ <#x> <#y> ?c }} WHERE {{ {FOUR_PATTERNS} OPTIONAL {{ ?a <#q> ?z }} }}",
        f"DELETE WHERE {{ {FOUR_PATTERNS} }}",
    ],
)
def test_where_with_millions_of_solutions_stops_at_the_limit(body: str) -> None:
    graph = _document(50)  # 50^4 = 6.25 million solutions
    patch = parse_patch(body.encode(), SPARQL, BASE)
    started = time.perf_counter()
    with pytest.raises(UnprocessableEntity, match="more than 500 solutions"):
        apply_patch(graph, patch, max_solutions=500)
    assert time.perf_counter() - started < 5


def test_where_within_the_limit_applies() -> None:
    graph = _document(10)
    patch = parse_patch(b"INSERT { ?s <#seen> 1 } WHERE { ?s ?p ?o }", SPARQL, BASE)
    assert len(apply_patch(graph, patch, max_solutions=10)) == 20
    with pytest.raises(UnprocessableEntity, match="more than 9 solutions"):
        apply_patch(graph, patch, max_solutions=9)


def test_template_times_solutions_is_bounded() -> None:
    graph = _document(5)
    template = " ".join(f"?s <#t{i}> 1 ." for i in range(11))
    patch = parse_patch(f"INSERT {{ {template} }} WHERE {{ ?s ?p ?o }}".encode(), SPARQL, BASE)
    with pytest.raises(UnprocessableEntity, match="more than 50 triples"):
        apply_patch(graph, patch, max_solutions=5)  # 5 solutions, 55 triples
    assert len(apply_patch(graph, patch, max_solutions=6)) == 5 + 55


# --- the runner --------------------------------------------------------------------------


def _spin() -> None:
    def step(n: int) -> int:
        return n + 1

    n = 0
    while True:
        n = step(n)


def _spin_swallowing() -> None:
    while True:
        try:
            _spin()
        except Exception:  # what careless library code does
            continue


@pytest.mark.parametrize("job", [_spin, _spin_swallowing])
async def test_runner_stops_a_job_at_the_time_limit(job: object) -> None:
    assert callable(job)
    runner = Runner(WorkLimits(seconds=0.2, jobs=1))
    started = time.perf_counter()
    with pytest.raises(UnprocessableEntity, match=r"0\.2-second processing limit"):
        await runner.run(job)
    assert time.perf_counter() - started < 2
    # The worker is free again, and really idle: no thread of ours still spins.
    assert await runner.run(sum, [1, 2]) == 3
    await asyncio.sleep(0.1)
    busy = [t for t in threading.enumerate() if t.name.startswith("pod-work")]
    assert len(busy) == 1
    runner.close()


async def test_runner_is_busy_past_its_queue() -> None:
    runner = Runner(WorkLimits(seconds=0.5, jobs=1, queue=1))
    results = await asyncio.gather(
        runner.run(_spin), runner.run(_spin), runner.run(_spin), return_exceptions=True
    )
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["OverTime", "ServiceUnavailable", "ServiceUnavailable"]  # OverTime: a 422
    busy = next(r for r in results if isinstance(r, ServiceUnavailable))
    assert busy.status == 503 and busy.headers["Retry-After"].isdigit()
    runner.close()


async def test_runner_inline_runs_on_the_loop_thread() -> None:
    runner = Runner(WorkLimits())
    assert await runner.run(threading.get_ident, inline=True) == threading.get_ident()
    assert await runner.run(threading.get_ident) != threading.get_ident()
    runner.close()


async def test_runner_passes_errors_through() -> None:
    runner = Runner(WorkLimits())
    with pytest.raises(BadRequest, match="nested too deeply"):
        await runner.run(rdf.parse, _nested_jsonld(200), rdf.JSON_LD, BASE)
    runner.close()


def test_work_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        WorkLimits(seconds=0)
    with pytest.raises(ValueError, match="positive"):
        WorkLimits(max_solutions=0)


# --- settings ----------------------------------------------------------------------------


def test_limits_come_from_env_and_flags() -> None:
    env = {"POD_MAX_NESTING": "50", "POD_WORK_TIMEOUT": "3"}
    settings = load({"max_solutions": 77, "heavy_jobs": None}, env)
    assert (settings.max_nesting, settings.work_timeout) == (50, 3)
    assert (settings.max_solutions, settings.heavy_jobs) == (77, 2)
    with pytest.raises(SettingsError, match="heavy jobs must be positive"):
        load({"heavy_jobs": 0}, {})


async def test_closing_the_runner_stops_running_jobs() -> None:
    runner = Runner(WorkLimits(seconds=60, jobs=1))
    job = asyncio.ensure_future(runner.run(_spin))
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    runner.close()
    with pytest.raises(UnprocessableEntity):
        await job
    assert time.perf_counter() - started < 2
