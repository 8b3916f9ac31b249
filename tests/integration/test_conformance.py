"""The black-box conformance suite (conformance/) against our server, started in-process.

Over each backend (files and PostgreSQL), twice: in open mode (one storage at the base URL, anyone may write), and in the multi-user
layout with two accounts, alice and bob, signed in through our own Solid-OIDC provider with
client credentials, so the WAC table for a second agent and the Solid-OIDC area run too. Any
failure not listed in conformance/deviations.py fails a test, and so does a listed deviation
that now passes (strict xfail).
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.deviations import DEVIATIONS
from conformance.registry import AREAS, REGISTRY
from conformance.runner import Outcome, Run, run_suite
from pod_server.http.handlers import STORE
from pod_server.idp.routes import IDP
from pod_server.pods.hosting import add_user, user_credentials
from pod_server.settings import Settings
from tests.conftest import deployed, running_pod


def assert_no_problems(run: Run) -> None:
    problems = [f"{r.check.id} [{r.outcome.value}]: {r.message}" for r in run.problems]
    assert not problems, "\n".join(problems)


async def test_our_server_passes_all_but_known_deviations(tmp_path: Path, storage: str) -> None:
    settings, backend = deployed(storage, tmp_path, Settings(open=True))
    async with running_pod(tmp_path, backend, settings) as pod:
        run = await run_suite(pod.base, profile="ours")
    assert_no_problems(run)
    counts = run.count()
    # Open mode still exercises most of the suite: protocol, patches and the public WAC table.
    assert counts[Outcome.PASSED] >= 250, run.summary_line()
    assert {r.check.area for r in run.results if r.outcome is Outcome.PASSED} >= {
        "protocol",
        "patch",
        "wac",
    }


async def test_our_server_with_two_identities(tmp_path: Path, storage: str) -> None:
    """Multi-user layout: pods at BASE/alice/ and BASE/bob/, the suite given the server's base
    URL and the credentials files as `pod-server user credentials` prints them."""
    root = tmp_path / "pods"
    root.mkdir()
    settings, backend = deployed(storage, root, Settings(multiuser=True))
    async with running_pod(root, backend, settings) as pod:
        store = pod.app[STORE]  # type: ignore[index]
        state = pod.app[IDP].state  # type: ignore[index]
        made: dict[str, dict[str, str]] = {}
        for name in ("alice", "bob"):
            await add_user(store, state, name, f"{name}@example.org", "a long passphrase")
            made[name] = await user_credentials(store, state, name, "conformance")
        files = {name: tmp_path / f"{name}.json" for name in made}
        for name, path in files.items():
            path.write_text(json.dumps(made[name]))
        run = await run_suite(
            pod.base,
            alice_credentials=str(files["alice"]),
            bob_credentials=str(files["bob"]),
            profile="ours",
        )
    assert_no_problems(run)
    assert run.identities == ("alice", "bob")
    # The root belongs to nobody: the suite found Alice's pod through her WebID's pim:storage.
    assert run.storage == made["alice"]["pod"]
    # With both identities nothing that needs one is skipped: the whole WAC table (public and
    # Bob) and every Solid-OIDC check ran.
    for area in ("protocol", "patch", "wac", "oidc"):
        counts = run.count(area)
        assert counts[Outcome.SKIPPED] == 0, f"{area}: {dict(counts)}"
        assert counts[Outcome.PASSED] >= 0.9 * sum(counts.values()), f"{area}: {dict(counts)}"
    assert run.count()[Outcome.PASSED] >= 400, run.summary_line()


def test_suite_has_at_least_200_distinct_checks() -> None:
    assert len(REGISTRY) >= 200
    assert {check.area for check in REGISTRY.values()} == set(AREAS)
    for check in REGISTRY.values():
        assert check.quote.strip() and check.spec, f"{check.id} cites no requirement"


def test_every_deviation_names_a_real_check() -> None:
    for profile, table in DEVIATIONS.items():
        unknown = sorted(set(table) - set(REGISTRY))
        assert not unknown, f"{profile}: deviations for unknown checks {unknown}"
        assert all(reason.strip() for reason in table.values()), f"{profile}: a reason is empty"
