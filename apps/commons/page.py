"""A release as a public results page: one HTML document, a table per group with an
inline SVG bar per month (no script, no external resource), the suppressed cells marked,
and the provenance (study, authority, epsilon spent, mechanism, error bounds) stated."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from apps.commons.broker import Release
from apps.commons.mechanism import MECHANISM

BAR_WIDTH = 240


def page(release: Release, cube_url: str | None = None) -> str:
    study, stat = release.study, release.study.statistic
    values = [c.value for c in release.cells if c.value is not None and not c.suppressed]
    top = max([v for v in values if v > 0], default=Decimal(1))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(study.title)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;"
        "padding:0 .5rem}code,a{overflow-wrap:anywhere}"
        "td,th{padding:.2rem .5rem;text-align:right}th:first-child{text-align:left}"
        "table{width:100%}th:first-child{white-space:nowrap}td:last-child{width:35%}"
        "svg{width:100%;max-width:240px}.sup{color:#595959}"
        "@media (max-width:30rem){td,th{padding:.2rem .2rem;font-size:.9rem}}"
        ".bar{fill:#3b6ea5}</style></head><body>",
        f"<h1>{escape(study.title)}</h1>",
        f"<p>{escape(stat.kind.value)} of <code>{escape(stat.measure)}</code> per pod and "
        f"month, clipped to [{stat.lower}, {stat.upper}], grouped by "
        f"<code>{escape(stat.group_by)}</code>. Round {escape(release.round)}: "
        f"{release.contributions} contributions.</p>",
        f'<p>Proposed by <a href="{escape(study.body)}">{escape(study.body)}</a>, approved by '
        f'<a href="{escape(study.authority)}">{escape(study.authority)}</a>. Privacy: '
        f"epsilon {release.epsilon} spent by this release, {release.spent} of "
        f"{study.epsilon} in all; {escape(MECHANISM)}. Cells with fewer than "
        f"{study.min_contributors} contributors are suppressed; each value's error bound "
        f"holds with probability {1 - release.beta:.1%}.</p>",
    ]
    if cube_url:
        # On the results site: its other releases one level up, their index beside them.
        parts.append(
            f'<p>Data: <a href="{escape(cube_url)}">RDF Data Cube</a>. '
            '<a href="../">All releases</a> (<a href="../catalog">their index</a>, '
            "DCAT).</p>"
        )
    for group in stat.groups:
        parts.append(
            f"<h2>{escape(group)}</h2><table><thead><tr><th>month</th>"
            "<th>value</th><th>± bound</th><th>contributors</th><th></th></tr>"
            "</thead><tbody>"
        )
        for cell in (c for c in release.cells if c.group == group):
            if cell.suppressed or cell.value is None:
                parts.append(
                    f'<tr class="sup"><th>{escape(cell.period)}</th>'
                    '<td colspan="4">suppressed (too few contributors)</td></tr>'
                )
                continue
            width = int(BAR_WIDTH * max(cell.value, Decimal(0)) / top)
            bar = (
                f'<svg viewBox="0 0 {BAR_WIDTH} 12" preserveAspectRatio="none" height="12" '
                f'role="img" aria-label="'
                f'{cell.value:.1f}"><rect class="bar" width="{width}" height="12"/></svg>'
            )
            parts.append(
                f"<tr><th>{escape(cell.period)}</th><td>{cell.value:.1f}</td>"
                f"<td>{cell.bound or 0:.1f}</td><td>{cell.contributors}</td>"
                f"<td>{bar}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
