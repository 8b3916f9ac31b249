"""``R.well-known/sparql``: the SPARQL 1.1 Protocol over exactly what the caller may read.

The handler stays thin: the request's query and dataset (``protocol``), the documents the
caller may Read (``readable``), their bytes for the engine process that lacks them, and
the engine's answer (``pool``, ``worker``). Audited like a read of the endpoint.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from pod_server.access.policy import AccessPolicy
from pod_server.audit.hook import around
from pod_server.auth import Agent, Authenticator
from pod_server.errors import (
    BadRequest,
    MethodNotAllowed,
    NotAcceptable,
    PayloadTooLarge,
    PodError,
    UnprocessableEntity,
)
from pod_server.http.handlers import target
from pod_server.http.keys import AUDIT
from pod_server.http.services import Call, ServiceHandler
from pod_server.ldp import conneg, rdf
from pod_server.ldp.budget import check_nesting
from pod_server.ldp.media_types import N_TRIPLES
from pod_server.ldp.store import ResourceStore
from pod_server.query import protocol
from pod_server.query.pool import QueryPool, Worker
from pod_server.query.readable import documents, readable
from pod_server.query.worker import GRAPHS, PARSED, RESULTS, Answer, Document, Hierarchy, Job
from pod_server.storage.base import Meta

NAME = "sparql"
METHODS = ("GET", "POST", "OPTIONS")
MAX_QUERY_BYTES = 64 * 1024
MAX_DATASET_BYTES = 256 * 1024 * 1024  # RDF a query may range over (held in a worker)
MAX_RESULT_BYTES = 16 * 1024 * 1024  # a larger result is refused: page it with LIMIT
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"


def query_service(
    store: ResourceStore,
    policy: AccessPolicy,
    authenticator: Authenticator,
    pool: QueryPool,
    entail: Hierarchy | None = None,
) -> ServiceHandler:
    """The endpoint's handler, for ``Services.add(NAME, ...)``."""
    # Documents Oxigraph could not parse (rdflib could: the store accepted them), by
    # version: sent as N-Triples from then on.
    as_ntriples: set[tuple[str, str]] = set()

    async def handle(request: web.Request, call: Call) -> web.StreamResponse | None:
        if request.method == "OPTIONS":
            return None  # the ordinary answer
        if request.method not in ("GET", "POST"):
            raise MethodNotAllowed("The query endpoint answers GET and POST", allowed=METHODS)
        _, public_url = target(request, store)
        agent = await authenticator.identify(request.method, public_url, request.headers)
        hook = request.app.get(AUDIT)
        # A query is a read of the endpoint, whatever its method (one entry per query).
        audit = None if hook is None else hook.begin("GET", call.path, agent)

        async def answer() -> web.StreamResponse:
            if audit is not None:
                await audit.decide(await policy.owns(agent, call.root))
            return await respond(request, call, agent)

        return await (answer() if audit is None else around(audit, answer))

    async def respond(request: web.Request, call: Call, agent: Agent) -> web.StreamResponse:
        body = await _body(request)
        asked = protocol.parse_request(
            request.method, request.query, request.headers.get("Content-Type", ""), body
        )
        check_nesting(asked.text, store.limits.work.max_nesting, "SPARQL query")
        protocol.check_query(asked.text)
        endpoint = store.url(call.path)
        default, named = asked.default_graphs, asked.named_graphs
        if default is None and protocol.names_dataset(asked.text):
            default, named = await store.runner.run(dataset_clauses, asked.text, endpoint)
        results_type, graph_type = formats(request.headers.get("Accept"))
        origin = request.headers.get("Origin")
        everything = await documents(store.backend, call.root)
        allowed = await readable(policy, agent, origin, everything)
        by_url = {store.url(m.path): m for m in allowed}
        dataset = protocol.narrow(list(by_url), default, named)
        used = [by_url[u] for u in dict.fromkeys((*dataset.default, *dataset.named))]
        if sum(m.size for m in used) > MAX_DATASET_BYTES:
            raise UnprocessableEntity(
                f"The documents this query ranges over hold more than {MAX_DATASET_BYTES} bytes;"
                " name fewer of them (FROM / FROM NAMED)"
            )
        # Versions now, readable or not: a worker keeps other callers' documents (the dataset
        # leaves them out) and drops only those deleted or changed since it loaded them.
        current = {store.url(m.path): m.etag for m in everything}
        root_url = store.url(call.root)

        async def prepare(worker: Worker) -> Job:
            stale = [m for m in used if worker.held.get(store.url(m.path)) != m.etag]
            load = [await _document(m) for m in stale]
            drop = [
                u
                for u, etag in worker.held.items()
                if u.startswith(root_url) and current.get(u) != etag
            ]
            # Gone since the listing: its older version must not answer either.
            drop += [store.url(m.path) for m, d in zip(stale, load, strict=True) if d is None]
            return Job(
                root_url,
                asked.text,
                endpoint,
                dataset.default,
                dataset.named,
                results_type,
                graph_type,
                MAX_RESULT_BYTES,
                tuple(d for d in load if d is not None),
                tuple(drop),
                entail,
            )

        result = await pool.run(prepare)
        if result.kind == "unparsable":  # once more, those as N-Triples
            as_ntriples.update((u, by_url[u].etag) for u in result.unparsable if u in by_url)
            result = await pool.run(prepare)
        return _response(result)

    async def _document(meta: Meta) -> Document | None:
        """A document's current bytes (None: gone since it was listed)."""
        url = store.url(meta.path)
        media = conneg.parse_content_type(meta.content_type)[0]
        if media in PARSED and (url, meta.etag) not in as_ntriples:
            try:
                stored = await store.backend.read(meta.path)
            except PodError:
                return None
            try:
                return Document(url, stored.meta.etag, media, await stored.read_all())
            finally:
                stored.close()
        read, graph = await store.graph_of(meta.path)
        if read is None:
            return None
        text = await store.runner.run(rdf.serialize, graph, N_TRIPLES, None)
        return Document(url, read.etag, N_TRIPLES, text)

    return handle


async def _body(request: web.Request) -> bytes:
    if request.method != "POST":
        return b""
    body = await request.content.read(MAX_QUERY_BYTES + 1)
    if len(body) > MAX_QUERY_BYTES:
        raise PayloadTooLarge(f"A query may be at most {MAX_QUERY_BYTES} bytes")
    return body


def dataset_clauses(text: str, base: str) -> tuple[list[str] | None, list[str] | None]:
    """The FROM and FROM NAMED IRIs of ``text`` (None, None: it has no dataset clause)."""
    try:
        clauses = translateQuery(parseQuery(text), base=base).algebra.get("datasetClause")
    except Exception as exc:  # rdflib's parser raises several kinds; all mean "malformed"
        raise BadRequest(f"Malformed query: {exc}") from None
    if not clauses:
        return None, None
    default = [str(c.default) for c in clauses if c.get("default") is not None]
    named = [str(c.named) for c in clauses if c.get("named") is not None]
    return default, named


def formats(accept: str | None) -> tuple[str, str]:
    """The media types for solutions/booleans and for graphs that ``accept`` prefers; each
    falls back to the first offered when ``accept`` names only the other kind; 406 when
    it names neither."""
    results = conneg.choose(accept, list(RESULTS))
    graphs = conneg.choose(accept, list(GRAPHS))
    if results is None and graphs is None:
        offered = ", ".join([*RESULTS, *GRAPHS])
        raise NotAcceptable(f"None of the acceptable types is available; try {offered}")
    return results or next(iter(RESULTS)), graphs or next(iter(GRAPHS))


def _response(answer: Answer) -> web.Response:
    if answer.kind == "syntax":
        raise BadRequest(f"Malformed query: {answer.message}")
    if answer.kind == "large":
        raise UnprocessableEntity(
            f"The result is larger than {MAX_RESULT_BYTES} bytes; ask for less (LIMIT/OFFSET)"
        )
    if answer.kind != "ok":
        raise PodError(f"The query could not be answered: {answer.message or answer.kind}")
    response = web.Response(body=answer.body, content_type=answer.media_type)
    if answer.media_type.startswith("text/") or answer.media_type.endswith("json"):
        response.charset = "utf-8"
    response.headers["Vary"] = "Accept, Authorization, Origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def describe_endpoint(store: ResourceStore) -> Callable[[str], str]:
    """The storage description's link to the endpoint (VoID and Service Description)."""

    def line(root: str) -> str:
        if store.multiuser and root == "/":
            return ""  # the multi-user server's own description: no storage there
        endpoint = store.url(root + ".well-known/" + NAME)
        return (
            f"<{store.url(root)}> <{VOID}sparqlEndpoint> <{endpoint}>.\n"
            f"<{endpoint}> a <{SD}Service>; <{SD}endpoint> <{endpoint}>;"
            f" <{SD}defaultEntailmentRegime> <http://www.w3.org/ns/entailment/Simple>."
        )

    return line
