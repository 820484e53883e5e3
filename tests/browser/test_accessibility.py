"""Every page of the clinic web page checked with axe-core (4.x, the copy the PyPI package
axe-playwright-python ships; nothing fetched) in the same headless Chromium: no serious or
critical finding, at phone width, in each language."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import WAIT, Site
from tests.browser.test_clinic_page import joined, sign_in

SERIOUS = ("serious", "critical")
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_source() -> str:
    """axe.min.js from the installed package, read as a file (the package's Python is not imported)."""
    spec = find_spec("axe_playwright_python")
    assert spec is not None, "pip install axe-playwright-python"
    assert spec.submodule_search_locations
    return (Path(next(iter(spec.submodule_search_locations))) / "axe.min.js").read_text(encoding="utf-8")


def findings(browser: Any, source: str) -> list[str]:
    """The page's serious and critical axe findings, as `rule: element` lines."""
    browser.execute_script(source)  # through the driver: the page's own policy allows no script
    violations = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe failed: ' + e, impact: 'critical', nodes: []}]));",
        RULES,
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("language", ["en", "tr", "bg"])
def test_every_page_has_no_serious_accessibility_finding(site: Site, browser: Any, language: str) -> None:
    source = axe_source()
    procedure_id, patient = joined(site, "SP-11")
    site.call(patient.send("I have a fever and chills"))
    link = site.signin_link()
    browser.get(link)
    checked: dict[str, list[str]] = {"sign-in": findings(browser, source)}
    sign_in(browser, link)
    browser.get(f"{site.url}/clinic/lang/{language}?back=/clinic/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    for name, path in [
        ("today", "/clinic/"),
        ("alerts", "/clinic/alerts"),
        ("procedure", f"/clinic/procedures/{procedure_id}"),
        ("register", "/clinic/register"),
        ("import", "/clinic/import"),
        ("not found", "/clinic/procedures/999"),
    ]:
        browser.get(site.url + path)
        checked[name] = findings(browser, source)
    browser.get(f"{site.url}/clinic/register")
    browser.execute_script("arguments[0].value = '2026-12-15'", browser.find_element(By.ID, "date"))
    browser.execute_script("arguments[0].value = '10:00'", browser.find_element(By.ID, "time"))
    browser.find_element(By.ID, "register").click()
    WebDriverWait(browser, WAIT).until(seen.presence_of_element_located((By.ID, "qr")))
    checked["registered"] = findings(browser, source)
    assert {name: found for name, found in checked.items() if found} == {}
