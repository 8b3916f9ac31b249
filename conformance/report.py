"""Reports of a run: Markdown, JSON and JUnit XML, with per-area counts and the failures."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conformance.registry import AREAS
from conformance.runner import Outcome, Result, Run

COLUMNS = (Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED, Outcome.DEVIATION, Outcome.FIXED)


def area_rows(run: Run) -> list[tuple[str, dict[Outcome, int]]]:
    rows = []
    for area in AREAS:
        counts = run.count(area)
        if sum(counts.values()):
            rows.append((area, {column: counts[column] for column in COLUMNS}))
    return rows


def markdown(run: Run) -> str:
    lines = [
        f"# Conformance run against {run.server}",
        "",
        f"Profile `{run.profile}`; identities: {', '.join(run.identities) or 'none (open mode)'};"
        f" storage {run.storage or run.server}; {run.seconds:.1f} s.",
        "",
        "| area | passed | failed | skipped | known deviations | fixed deviations |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for area, counts in area_rows(run):
        lines.append(f"| {area} | " + " | ".join(str(counts[c]) for c in COLUMNS) + " |")
    for title, outcomes in (
        ("Failures", (Outcome.FAILED, Outcome.FIXED)),
        ("Known deviations", (Outcome.DEVIATION,)),
    ):
        chosen = [r for r in run.results if r.outcome in outcomes]
        lines += ["", f"## {title} ({len(chosen)})", ""]
        lines += [_markdown_item(r) for r in chosen] or ["None."]
    lines += ["", run.summary_line(), ""]
    return "\n".join(lines)


def _markdown_item(result: Result) -> str:
    first, *rest = result.message.splitlines() or [""]
    item = f"- **{result.check.id}** ([spec]({result.check.spec})): {first}"
    return item + "".join(f"\n  {line}" for line in rest[:6])


def as_json(run: Run) -> dict[str, Any]:
    passed, failed, skipped = run.totals()
    return {
        "server": run.server,
        "storage": run.storage or run.server,
        "profile": run.profile,
        "identities": list(run.identities),
        "seconds": round(run.seconds, 2),
        "totals": {"passed": passed, "failed": failed, "skipped": skipped},
        "areas": {area: {c.value: n for c, n in counts.items()} for area, counts in area_rows(run)},
        "results": [
            {
                "id": r.check.id,
                "area": r.check.area,
                "outcome": r.outcome.value,
                "spec": r.check.spec,
                "quote": r.check.quote,
                "message": r.message,
                "seconds": round(r.seconds, 3),
            }
            for r in run.results
        ],
    }


def junit(run: Run) -> str:
    suites = ET.Element("testsuites", name="conformance", time=f"{run.seconds:.2f}")
    for area in AREAS:
        results = [r for r in run.results if r.check.area == area]
        if not results:
            continue
        counts = run.count(area)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=area,
            tests=str(len(results)),
            failures=str(counts[Outcome.FAILED] + counts[Outcome.FIXED]),
            skipped=str(counts[Outcome.SKIPPED] + counts[Outcome.DEVIATION]),
        )
        for r in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{area}",
                name=r.check.id,
                time=f"{r.seconds:.3f}",
            )
            if r.outcome in (Outcome.FAILED, Outcome.FIXED):
                ET.SubElement(case, "failure", message=r.message.splitlines()[0]).text = r.message
            elif r.outcome in (Outcome.SKIPPED, Outcome.DEVIATION):
                ET.SubElement(case, "skipped", message=r.message.splitlines()[0])
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write(run: Run, path: str) -> None:
    target = Path(path)
    if target.suffix == ".md":
        target.write_text(markdown(run))
    elif target.suffix == ".json":
        target.write_text(json.dumps(as_json(run), indent=2) + "\n")
    elif target.suffix == ".xml":
        target.write_text(junit(run) + "\n")
    else:
        raise ValueError(f"{path}: the report's name must end in .md, .json or .xml")
