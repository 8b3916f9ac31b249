"""The broker: runs a study's rounds over the owners' agents and releases the results.

A round asks every participant's agent for its contribution (the study, its approval and
the round id), at most ``parallel`` at a time, each call under ``timeout`` and retried
``retries`` times, the whole round under ``deadline``: an agent that declines, fails or
does not answer in time is left out. Every contribution received is journalled at once,
so a broker restarted mid-round asks only the agents it has no answer from. A release
decrypts the broker's own shares, sums them, adds its noise, asks the authority for its
noisy sum over the same pods, combines the two, suppresses small cells and publishes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jwcrypto import jwk

from apps.commons import approval as approvals
from apps.commons import mechanism, shares
from apps.commons.authority import Authority
from apps.commons.journal import Journal
from apps.commons.study import Study

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Offer:
    """What an agent is asked: the study as Turtle, its approval, the round."""

    study_iri: str
    study_turtle: str
    approval: str
    round: str


@dataclass(frozen=True, slots=True)
class Contribution:
    broker: str  # JWE of the broker's share vector
    authority: str  # JWE of the authority's share vector


class Declined(Exception):
    """An agent's refusal (not opted in, study not approved or altered): not retried."""


Contributor = Callable[[Offer], Awaitable[Contribution]]


@dataclass(frozen=True, slots=True)
class Release:
    study: Study
    round: str
    approval: str
    cells: list[mechanism.Cell]
    contributions: int
    epsilon: Decimal
    spent: Decimal
    beta: float = 0.05  # each error bound holds with probability 1 - beta


class Broker:
    def __init__(
        self,
        webid: str,
        key: jwk.JWK,
        authority: Authority,
        journal: Path,
        *,
        parallel: int = 16,
        timeout: float = 10.0,
        retries: int = 2,
        deadline: float = 60.0,
        beta: float = 0.05,
    ) -> None:
        self.webid, self.key, self.authority = webid, key, authority
        self.beta = beta  # the published error bounds hold with probability 1 - beta
        self.journal = Journal(journal)
        self.parallel, self.timeout, self.retries, self.deadline = (
            parallel,
            timeout,
            retries,
            deadline,
        )

    def spent(self, study: Study) -> Decimal:
        return sum(
            (Decimal(r["epsilon"]) for r in self.journal.of("release", study=study.iri)),
            Decimal(0),
        )

    def received(self, round_id: str) -> dict[str, dict[str, Any]]:
        return {r["pod"]: r for r in self.journal.of("contribution", round=round_id)}

    async def collect(
        self,
        study: Study,
        turtle: str,
        approval: str,
        round_id: str,
        agents: Mapping[str, Contributor],
    ) -> int:
        """Gather the round's contributions (resuming a journalled round); how many."""
        approvals.verify(study, approval, self.authority.signing_keys)
        if not self.journal.of("round", round=round_id):
            self.journal.append("round", study=study.iri, round=round_id, pods=len(agents))
        done = self.received(round_id)
        offer = Offer(study.iri, turtle, approval, round_id)
        gate = asyncio.Semaphore(self.parallel)

        async def ask(pod: str, agent: Contributor) -> None:
            async with gate:
                reason = "no answer"
                for attempt in range(self.retries + 1):
                    try:
                        got = await asyncio.wait_for(agent(offer), self.timeout)
                    except Declined as err:
                        reason = f"declined: {err}"
                        break
                    except Exception as err:  # a failing agent is retried, then left out
                        reason = f"{type(err).__name__}: {err}"
                        await asyncio.sleep(min(0.1 * 2**attempt, 1.0))
                        continue
                    self.journal.append(
                        "contribution",
                        study=study.iri,
                        round=round_id,
                        pod=pod,
                        broker=got.broker,
                        authority=got.authority,
                    )
                    return
                self.journal.append(
                    "left-out", study=study.iri, round=round_id, pod=pod, reason=reason
                )

        tasks = [asyncio.create_task(ask(p, a)) for p, a in agents.items() if p not in done]
        late: set[asyncio.Task[None]] = set()
        try:
            if tasks:
                _, late = await asyncio.wait(tasks, timeout=self.deadline)
        finally:
            # At the deadline, or when the round itself is cancelled (a broker stopping),
            # no call outlives the round: a stopped broker writes nothing more.
            running = [task for task in tasks if not task.done()]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if late:
            self.journal.append("deadline", study=study.iri, round=round_id, late=len(late))
        return len(self.received(round_id))

    def release(self, study: Study, approval: str, round_id: str) -> Release:
        """Combine the round into published cells; BudgetExceeded (logged) when the study's
        budget would be overspent, StudyError for an unapproved or altered study."""
        try:
            approvals.verify(study, approval, self.authority.signing_keys)
            mechanism.charge(self.spent(study), study)
        except ValueError as err:
            self.journal.append("refused", study=study.iri, round=round_id, reason=str(err))
            raise
        context = f"{study.iri} {round_id}"
        size = len(study.statistic.cells()) * study.statistic.slots()
        mine: dict[str, list[int]] = {}
        theirs: dict[str, str] = {}
        for pod, record in sorted(self.received(round_id).items()):
            try:
                mine[pod] = shares.decrypt(record["broker"], self.key, context, size)
            except shares.ShareError as err:
                self.journal.append("rejected-share", round=round_id, pod=pod, reason=str(err))
                continue
            theirs[pod] = record["authority"]
        accepted, their_sum = self.authority.aggregate(study, approval, round_id, theirs)
        scales = mechanism.scales(study)
        my_sum = mechanism.noised(
            shares.sum_shares((mine[p] for p in accepted), size), study.statistic, scales
        )
        cells = mechanism.cells(shares.combine(my_sum, their_sum), study, scales, self.beta)
        spent = self.spent(study) + study.epsilon_per_release
        self.journal.append(
            "release",
            study=study.iri,
            round=round_id,
            epsilon=str(study.epsilon_per_release),
            spent=str(spent),
            contributions=len(accepted),
            suppressed=sum(c.suppressed for c in cells),
        )
        return Release(
            study,
            round_id,
            approval,
            cells,
            len(accepted),
            study.epsilon_per_release,
            spent,
            self.beta,
        )
