"""The data protection authority's aggregator: the second of the two non-colluding
parties. It approves studies (``approval.approve``), and for each release decrypts only
its own shares, sums them, adds its own noise, and returns that noisy share sum; it keeps
its own budget ledger and log, so a broker cannot overspend a study without it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from jwcrypto import jwk

from apps.commons import approval as approvals
from apps.commons import mechanism, shares
from apps.commons.journal import Journal
from apps.commons.study import Study


class Authority:
    def __init__(self, webid: str, key: jwk.JWK, signing_keys: list[dict[str, Any]], log: Path):
        self.webid = webid
        self.key = key  # its share-decryption key (private)
        self.signing_keys = signing_keys  # its published approval keys (public)
        self.journal = Journal(log)

    def spent(self, study: Study) -> Decimal:
        return sum(
            (Decimal(r["epsilon"]) for r in self.journal.of("release", study=study.iri)),
            Decimal(0),
        )

    def aggregate(
        self, study: Study, approval: str, round_id: str, tokens: Mapping[str, str]
    ) -> tuple[list[str], list[int]]:
        """(the pods whose share it accepted, its noisy share sum over them). Refuses
        (StudyError, BudgetExceeded) an unapproved or altered study or an overspend,
        logging the refusal."""
        try:
            approvals.verify(study, approval, self.signing_keys)
            spent = mechanism.charge(self.spent(study), study)
        except ValueError as err:
            self.journal.append("refused", study=study.iri, round=round_id, reason=str(err))
            raise
        context = f"{study.iri} {round_id}"
        size = len(study.statistic.cells()) * study.statistic.slots()
        accepted, total = [], [0] * size
        for pod, token in sorted(tokens.items()):
            try:
                total = shares.add(total, shares.decrypt(token, self.key, context, size))
            except shares.ShareError as err:
                self.journal.append(
                    "rejected-share", study=study.iri, round=round_id, pod=pod, reason=str(err)
                )
                continue
            accepted.append(pod)
        noisy = mechanism.noised(total, study.statistic, mechanism.scales(study))
        self.journal.append(
            "release",
            study=study.iri,
            round=round_id,
            epsilon=str(study.epsilon_per_release),
            spent=str(spent),
            contributions=len(accepted),
        )
        return accepted, noisy
