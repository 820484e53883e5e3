"""The clinic web page in a real headless Chromium: sign-in, register, reminders read, alerts,
import, and another clinic's procedure out of reach."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from bot.services.staff import issue_staff_code
from tests.browser.conftest import WAIT, Site
from tests.e2e.conftest import Patient
from tests.support import reminder_messages

STAFF, PATIENT = 601, 602


def waiting(browser: Any) -> WebDriverWait[Any]:
    """A bounded wait that retries while a page is being replaced: Chromium then answers about the
    old page's elements with a stale reference or a missing element (`replacing` handles its
    "Node ... does not belong to the document"); any other error fails at once."""
    return WebDriverWait(
        browser, WAIT, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    )


def replacing(condition: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The condition, read as not yet met while Chromium says a node is no longer in the document."""

    def check(driver: Any) -> Any:
        try:
            return condition(driver)
        except WebDriverException as error:
            if "does not belong to the document" in (error.msg or ""):
                return False
            raise

    return check


def shows(browser: Any, title: str) -> None:
    """Wait (bounded) until the page's heading is this one."""
    waiting(browser).until(
        replacing(seen.text_to_be_present_in_element((By.TAG_NAME, "h1"), title)),
        f"expected the page {title!r}",
    )
    assert browser.find_element(By.TAG_NAME, "h1").text == title


def sign_in(browser: Any, link: str) -> None:
    browser.get(link)
    browser.find_element(By.ID, "signin").click()
    WebDriverWait(browser, WAIT).until(seen.url_to_be(link.split("/clinic/", maxsplit=1)[0] + "/clinic/"))


def registered(
    site: Site, reference: str, start: str = "2026-12-12T14:00", slug: str = "sofia"
) -> tuple[int, str]:
    """A procedure registered as the API or the CLI would, and its invite token."""

    async def register() -> tuple[int, str]:
        clinics = site.bot.wiring.clinics
        details, invite = await clinics.register(await clinics.clinic(slug), start, reference=reference)
        return details.procedure.id, invite.token

    return site.call(register())


def joined(site: Site, reference: str) -> tuple[int, Patient]:
    """A procedure whose patient opened the invite in Telegram."""
    procedure_id, token = registered(site, reference)
    patient = Patient(site.telegram, PATIENT)
    site.call(patient.send(f"/start {token}"))
    return procedure_id, patient


def test_a_one_time_link_from_dashboard_signs_in_once(site: Site, browser: Any) -> None:
    staff = Patient(site.telegram, STAFF)
    code = site.call(issue_staff_code(site.bot.wiring.clinics, "sofia"))
    site.call(staff.send(f"/staff {code}"))
    (reply,) = site.call(staff.send("/dashboard"))
    assert "works once, for 10 minutes" in reply["text"]
    link = reply["text"].split("share it with nobody): ")[1]
    assert link.startswith(f"{site.url}/clinic/signin?token=")

    sign_in(browser, link)
    shows(browser, "Today and the next days")
    assert "Sofia Spine" in browser.find_element(By.CLASS_NAME, "brand").text

    browser.delete_all_cookies()
    browser.get(link)
    button = browser.find_element(By.ID, "signin")
    button.click()
    # The page with the button is headed "Sign in" too: wait until the answer has replaced it.
    waiting(browser).until(
        replacing(
            seen.text_to_be_present_in_element((By.CSS_SELECTOR, "main p"), "has been used or has expired")
        ),
        "expected the used link to be refused",
    )
    shows(browser, "Sign in")
    browser.get(f"{site.url}/clinic/")
    assert "send /dashboard to the bot" in browser.find_element(By.CSS_SELECTOR, "main p").text


def test_register_a_procedure_and_see_its_qr_code(site: Site, browser: Any) -> None:
    sign_in(browser, site.signin_link())
    browser.find_element(By.LINK_TEXT, "Register").click()
    shows(browser, "Register a procedure")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=time]").text == "Time (in Europe/Sofia)"
    # The pickers' typed format follows the browser's locale; their value is ISO either way.
    browser.execute_script("arguments[0].value = '2026-12-11'", browser.find_element(By.ID, "date"))
    browser.execute_script("arguments[0].value = '14:30'", browser.find_element(By.ID, "time"))
    browser.find_element(By.ID, "reference").send_keys("SP-0042")
    browser.find_element(By.ID, "register").click()
    shows(browser, "Procedure #1 registered")
    qr = browser.find_element(By.ID, "qr")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", qr) > 100
    assert browser.find_element(By.ID, "invite-link").text.startswith(
        "https://t.me/vertebrobot_test_bot?start="
    )
    assert "Fri 11 Dec 2026, 14:30" in browser.find_element(By.CSS_SELECTOR, ".invite h2").text

    browser.find_element(By.LINK_TEXT, "Today").click()
    card = browser.find_element(By.ID, "procedure-1")
    assert "14:30 SP-0042" in card.text
    assert "invite not opened" in card.text


def test_a_reminder_turns_from_pending_to_read_after_got_it(site: Site, browser: Any) -> None:
    procedure_id, _ = joined(site, "SP-7")
    # The morning of that day: the session (12 hours) lasts past the evening reminder.
    site.clock.set(dt.datetime(2026, 12, 11, 8, 0, tzinfo=dt.UTC))
    sign_in(browser, site.signin_link())
    card = browser.find_element(By.ID, f"procedure-{procedure_id}")
    evening = [
        li for li in card.find_elements(By.CSS_SELECTOR, ".reminders li") if "evening before" in li.text
    ]
    assert evening[0].find_element(By.CLASS_NAME, "state").text == "pending"

    # 18:00 in Sofia the evening before: the reminder goes out, and the patient taps "Got it".
    site.clock.set(dt.datetime(2026, 12, 11, 16, 0, tzinfo=dt.UTC))
    site.call(site.bot.dispatcher.settle())
    message = reminder_messages(site.telegram, PATIENT)[-1]
    browser.refresh()
    card = browser.find_element(By.ID, f"procedure-{procedure_id}")
    evening = [
        li for li in card.find_elements(By.CSS_SELECTOR, ".reminders li") if "evening before" in li.text
    ]
    assert evening[0].find_element(By.CLASS_NAME, "state").text == "sent"

    button = message["reply_markup"]["inline_keyboard"][-1][-1]
    patient = Patient(site.telegram, PATIENT)
    site.call(patient.press_data(message["message_id"], button["callback_data"], expect_answer=False))
    browser.refresh()
    card = browser.find_element(By.ID, f"procedure-{procedure_id}")
    evening = [
        li for li in card.find_elements(By.CSS_SELECTOR, ".reminders li") if "evening before" in li.text
    ]
    assert evening[0].find_element(By.CLASS_NAME, "state").text == "read"


def test_an_alert_appears_after_a_warning_sign_and_is_marked_handled(site: Site, browser: Any) -> None:
    procedure_id, patient = joined(site, "SP-9")
    sign_in(browser, site.signin_link())
    browser.find_element(By.LINK_TEXT, "Alerts").click()
    assert "No warning signs reported." in browser.find_element(By.TAG_NAME, "main").text

    site.call(patient.send("I have a fever and chills"))
    browser.refresh()
    alert = browser.find_element(By.CSS_SELECTOR, ".cards li")
    assert "Fever or chills" in alert.text
    assert f"Procedure #{procedure_id} · SP-9 · reported Thu 10 Dec 2026, 09:00" in alert.text
    alert.find_element(By.TAG_NAME, "button").click()
    handled = waiting(browser).until(replacing(seen.presence_of_element_located((By.CLASS_NAME, "handled"))))
    assert handled.text == "Handled by the administrator at Thu 10 Dec 2026, 09:00"
    assert not browser.find_elements(By.CSS_SELECTOR, ".cards button")


def test_import_a_csv_with_one_bad_row_and_see_its_reason(site: Site, browser: Any, tmp_path: Path) -> None:
    upload = tmp_path / "appointments.csv"
    upload.write_text("start,reference\n2026-12-14T10:00,IMP-1\nnot a time,IMP-2\n", encoding="utf-8")
    sign_in(browser, site.signin_link())
    browser.find_element(By.LINK_TEXT, "Import").click()
    browser.find_element(By.ID, "file").send_keys(str(upload))
    browser.find_element(By.ID, "import").click()
    result = waiting(browser).until(replacing(seen.presence_of_element_located((By.ID, "result"))))
    assert "Created: 1 #1" in result.text
    (problem,) = result.find_elements(By.CSS_SELECTOR, ".problems li")
    assert problem.text.startswith("line 3: ")
    assert "cannot read the time 'not a time'" in problem.text


def test_another_clinics_procedure_cannot_be_opened(site: Site, browser: Any) -> None:
    theirs, _ = registered(site, "IZM-1", slug="izmir")
    sign_in(browser, site.signin_link("sofia"))
    browser.get(f"{site.url}/clinic/procedures/{theirs}")
    shows(browser, "Not done")
    assert "Not found" in browser.find_element(By.CSS_SELECTOR, "main p").text
    assert "IZM-1" not in browser.page_source
    cookie = browser.get_cookie("vb_clinic")
    answer = httpx.get(
        f"{site.url}/clinic/procedures/{theirs}", headers={"Cookie": f"vb_clinic={cookie['value']}"}
    )
    assert answer.status_code == 404
    mine = httpx.get(f"{site.url}/clinic/", headers={"Cookie": f"vb_clinic={cookie['value']}"})
    assert mine.status_code == 200, "the same session opens its own clinic's pages"


def test_another_sites_form_cannot_sign_this_browser_in_to_its_session(site: Site, browser: Any) -> None:
    # Login CSRF: a page elsewhere posts its own sign-in link's token from this browser.
    link = site.signin_link()
    token = link.split("token=")[1]
    elsewhere = (
        f'<form id="f" method="post" action="{site.url}/clinic/signin">'
        f'<input type="hidden" name="token" value="{token}"><button id="go">go</button></form>'
    )
    browser.get(f"data:text/html,{elsewhere}")
    browser.find_element(By.ID, "go").click()
    shows(browser, "Sign in")
    assert "did not come from the sign-in page" in browser.find_element(By.CSS_SELECTOR, "main p").text
    browser.get(f"{site.url}/clinic/")
    assert "send /dashboard to the bot" in browser.find_element(By.CSS_SELECTOR, "main p").text
    sign_in(browser, link)  # the link is still unused: opened and pressed here, it signs in
    shows(browser, "Today and the next days")


def test_after_sign_out_the_same_cookie_set_again_is_refused(site: Site, browser: Any) -> None:
    sign_in(browser, site.signin_link())
    copied = browser.get_cookie("vb_clinic")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/signout'] button").click()
    shows(browser, "Sign in")
    browser.add_cookie({k: copied[k] for k in ("name", "value", "path")})
    browser.get(f"{site.url}/clinic/")
    assert "send /dashboard to the bot" in browser.find_element(By.CSS_SELECTOR, "main p").text
