"""The authority's command line: a key, an approval, its verification, a journal check;
an altered study and a tampered journal exit 1 with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.commons import study
from apps.commons.cli import main
from apps.commons.journal import Journal
from tests.unit.commons.conftest import Parties


def test_keygen_approve_verify(
    tmp_path: Path, parties: Parties, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key.jwk"
    assert main(["keygen", "--kid", "cnil-2026", "--out", str(key)]) == 0
    public = json.loads(capsys.readouterr().out)
    assert "d" not in public and "d" in json.loads(key.read_text())
    assert key.stat().st_mode & 0o077 == 0
    (tmp_path / "keys.json").write_text(json.dumps([public]))
    text = tmp_path / "study.ttl"
    text.write_text(study.turtle(parties.study))
    iri = parties.study.iri
    assert main(["approve", str(text), "--iri", iri, "--key", str(key)]) == 0
    token = capsys.readouterr().out.strip()
    keys = str(tmp_path / "keys.json")
    check = ["verify", str(text), "--iri", iri, "--approval", token, "--keys", keys]
    assert main(check) == 0
    assert "approved by" in capsys.readouterr().out
    bigger = text.read_text().replace("commons:epsilon 2.0", "commons:epsilon 9.0")
    assert bigger != text.read_text()
    text.write_text(bigger)  # a bigger budget
    assert main(check) == 1
    assert "refused: the study was changed" in capsys.readouterr().err


def test_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = Journal(tmp_path / "j")
    journal.append("round", round="r1")
    journal.append("release", round="r1")
    assert main(["journal", str(tmp_path / "j")]) == 0
    assert "2 records" in capsys.readouterr().out
    lines = (tmp_path / "j").read_text().splitlines()
    (tmp_path / "j").write_text(lines[1] + "\n")
    assert main(["journal", str(tmp_path / "j")]) == 1
    assert "chain is broken" in capsys.readouterr().err
