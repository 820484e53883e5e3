"""Screenshots of every clinic web page at phone and desktop width, for the README.

Runs the bot against the fake Bot API with a few procedures, a reminder read and an alert, as the
browser tests do (tests/browser/conftest.py), in Debian's headless Chromium:

    python scripts/screenshots.py [folder]      (default: docs/screenshots)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selenium.webdriver.common.by import By

from tests.browser.conftest import chromium, running_site
from tests.browser.test_clinic_page import joined, registered, sign_in

SIZES = {"phone": (412, 915), "desktop": (1280, 900)}


def main(folder: Path) -> None:
    """Fill a clinic, then photograph each page at each width."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, running_site(Path(work)) as site:
        procedure_id, patient = joined(site, "SP-0042")
        registered(site, "SP-0043", start="2026-12-11T10:30")
        site.call(patient.send("I have a fever and chills"))
        for size, (width, height) in SIZES.items():
            with chromium(width, height) as browser:
                sign_in(browser, site.signin_link())
                pages = {
                    "today": "/clinic/",
                    "alerts": "/clinic/alerts",
                    "procedure": f"/clinic/procedures/{procedure_id}",
                    "register": "/clinic/register",
                    "import": "/clinic/import",
                }
                for name, path in pages.items():
                    browser.get(site.url + path)
                    browser.save_screenshot(str(folder / f"{name}-{size}.png"))
                browser.get(site.url + "/clinic/register")
                browser.execute_script(
                    "arguments[0].value = '2026-12-15'", browser.find_element(By.ID, "date")
                )
                browser.execute_script("arguments[0].value = '10:00'", browser.find_element(By.ID, "time"))
                browser.find_element(By.ID, "reference").send_keys("SP-0044")
                browser.find_element(By.ID, "register").click()
                browser.find_element(By.ID, "qr")
                browser.save_screenshot(str(folder / f"invite-{size}.png"))
                print(f"{size}: {len(pages) + 1} screenshots in {folder}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
