"""The suspension triple on a pod's root: read, set, lifted, and kept from clients."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef

from pod_server.access.rules import AccessRules
from pod_server.access.suspension import (
    SUSPENDED_SINCE,
    kept_suspension,
    suspended_since,
    with_suspension,
)
from pod_server.errors import Conflict

ROOT = "https://pod.example/alice/"
OWNER = "<https://pod.example/alice/profile/card#me>"


def root_graph(extra: str = "") -> Graph:
    turtle = f"<{ROOT}> <http://www.w3.org/ns/solid/terms#owner> {OWNER}. {extra}"
    return Graph().parse(data=turtle, format="turtle")


def test_a_root_without_the_triple_is_active() -> None:
    assert suspended_since(root_graph(), ROOT) is None


def test_suspend_then_resume_keeps_the_other_triples() -> None:
    graph = root_graph()
    suspended = with_suspension(graph, ROOT, "2026-12-07T04:00:00Z")
    assert suspended_since(suspended, ROOT) == "2026-12-07T04:00:00Z"
    assert len(suspended) == len(graph) + 1 and len(graph) == 1  # a copy
    resumed = with_suspension(suspended, ROOT, None)
    assert suspended_since(resumed, ROOT) is None and set(resumed) == set(graph)


def test_only_the_roots_own_triple_counts() -> None:
    other = f'<https://pod.example/bob/> <{SUSPENDED_SINCE}> "x".'
    assert suspended_since(root_graph(other), ROOT) is None


def test_a_client_may_not_suspend_a_pod_by_writing_its_root() -> None:
    written = root_graph(f'<{ROOT}> <{SUSPENDED_SINCE}> "2020".')
    with pytest.raises(Conflict):
        kept_suspension(root_graph(), written, ROOT)
    with pytest.raises(Conflict):  # through the store's rules too, by PUT or PATCH
        AccessRules().keep_owners(root_graph(), written, ROOT, replace=True)


def test_writes_that_leave_it_alone_pass() -> None:
    written = root_graph('<#a> <#b> "c".')
    assert kept_suspension(root_graph(), written, ROOT) is written
    assert kept_suspension(None, root_graph(), ROOT) is not None
    same = with_suspension(root_graph(), ROOT, "2020")
    assert kept_suspension(same, same, ROOT) is same  # unchanged: nothing to refuse


def test_provisioning_a_new_root_may_name_no_suspension() -> None:
    written = root_graph()
    written.add((URIRef(ROOT), URIRef(SUSPENDED_SINCE), Literal("now")))
    with pytest.raises(Conflict):  # not even when creating it
        kept_suspension(None, written, ROOT)
