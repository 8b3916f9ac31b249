"""``python -m apps.connector``: generate writes the files; push refuses bad settings
before contacting anyone."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.connector.cli import main


def test_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "generate",
                "--out",
                str(tmp_path),
                "--customers",
                "2",
                "--months",
                "2",
                "--format",
                "camt053",
            ]
        )
        == 0
    )
    assert "2 customers x 2 months" in capsys.readouterr().out
    assert len(list((tmp_path / "bank").rglob("*.xml"))) == 4
    assert len(list((tmp_path / "energy").rglob("*.csv"))) == 4


def test_push_with_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    org = tmp_path / "bank.toml"
    org.write_text('[organisation]\nwebid = "https://b/#me"\n')
    (tmp_path / "customers.csv").write_text("customer_id,webid\n")
    argv = [
        "push",
        "--org",
        str(org),
        "--input",
        str(tmp_path),
        "--customers",
        str(tmp_path / "customers.csv"),
    ]
    assert main(argv) == 2
    assert "needs client_secret_env" in capsys.readouterr().err
