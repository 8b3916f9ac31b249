"""Screenshots for the apps' READMEs, taken by the apps' browser tests on synthetic data.

    python -m tests.e2e.readme_screens

runs those tests with ``POD_README_SCREENS`` set, so each ``readme_shot`` they make writes
``apps/<app>/screenshots/<name>.png`` (committed, small: 900 px wide, the part of the page
that matters); without the variable ``readme_shot`` does nothing and the tests keep only
their usual screenshots (``POD_E2E_SCREENS``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
TESTS = (
    "tests/e2e/test_budget_browser.py",
    "tests/e2e/test_energy_browser.py",
    "tests/e2e/test_apps_css_browser.py",
)
WIDTH = 900
VARIABLE = "POD_README_SCREENS"


def readme_shot(page: Page, app: str, name: str, height: int = 900, selector: str = "") -> None:
    """``apps/<app>/screenshots/<name>.png``: the top ``height`` pixels of the page at
    ``WIDTH``, or the element ``selector`` names; only when ``POD_README_SCREENS`` is set."""
    if not os.environ.get(VARIABLE):
        return
    folder = REPO / "apps" / app / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    page.set_viewport_size({"width": WIDTH, "height": height})
    try:
        path = str(folder / f"{name}.png")
        if selector:
            page.locator(selector).screenshot(path=path, animations="disabled")
        else:
            page.screenshot(path=path, animations="disabled")
    finally:
        if before is not None:
            page.set_viewport_size(before)


def main() -> int:
    env = {**os.environ, VARIABLE: "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", *TESTS], cwd=REPO, env=env)
    for png in sorted(REPO.glob("apps/*/screenshots/*.png")):
        print(f"{png.relative_to(REPO)}: {png.stat().st_size // 1024} KiB")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
