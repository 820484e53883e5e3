"""The clinic web page over ASGI: one-time sign-in, sessions, CSRF, and one clinic's pages only."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from bot.db.store import UserRecord
from bot.services.clinic_model import digest
from bot.services.clinics import Actor
from bot.services.staff import StaffDesk, issue_staff_code
from bot.services.web_access import issue_signin, signin_link
from flows.engine import Session
from tests.integration.api_world import START, World, join, register

BASE = "http://clinic.test"


def browser(world: World) -> httpx.AsyncClient:
    """A browser of its own: its own cookies."""
    return httpx.AsyncClient(transport=world.client._transport, base_url=BASE)


async def press_sign_in(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open a sign-in link and press the button, as a staff member does."""
    page = await client.get(link)
    assert page.status_code == 200
    form = dict(re.findall(r'name="(token|visit)" value="([^"]*)"', page.text))
    assert form.keys() == {"token", "visit"}
    return await client.post("/clinic/signin", data=form)


async def signed_in(world: World, slug: str = "sofia") -> httpx.AsyncClient:
    """A browser-like client signed in to a clinic through a one-time link."""
    clinic = await world.clinics.clinic(slug)
    link = signin_link(BASE, await issue_signin(world.clinics, clinic, Actor("operator")))
    client = browser(world)
    answer = await press_sign_in(client, link)
    assert answer.status_code == 303, answer.text
    return client


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_a_sign_in_link_works_once_and_the_cookie_is_httponly_strict(world: World) -> None:
    clinic = await world.clinics.clinic("sofia")
    link = signin_link(BASE, await issue_signin(world.clinics, clinic, Actor("operator")))
    client = browser(world)
    first = await press_sign_in(client, link)
    assert first.status_code == 303
    cookie = next(c for c in first.headers.get_list("set-cookie") if c.startswith("vb_clinic="))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Max-Age=43200" in cookie
    today = await client.get("/clinic/")
    assert today.status_code == 200
    assert "Today and the next days" in today.text
    again = await press_sign_in(browser(world), link)
    assert again.status_code == 400
    assert "has been used or has expired" in again.text


async def test_a_sign_in_link_expires_after_ten_minutes(world: World) -> None:
    clinic = await world.clinics.clinic("sofia")
    link = signin_link(BASE, await issue_signin(world.clinics, clinic, Actor("operator")))
    world.clock.set(world.clock.now + dt.timedelta(minutes=10))
    answer = await press_sign_in(browser(world), link)
    assert answer.status_code == 400


async def test_a_sign_in_posted_by_another_site_is_refused_and_the_link_stays_unused(world: World) -> None:
    # An attacker's page posts the attacker's own sign-in token from the victim's browser (login
    # CSRF): the browser sends no SameSite=Strict cookie with another site's form.
    clinic = await world.clinics.clinic("sofia")
    link = signin_link(BASE, await issue_signin(world.clinics, clinic, Actor("operator")))
    victim = browser(world)
    token = link.split("token=")[1]
    for form in ({"token": token}, {"token": token, "visit": ""}):
        answer = await victim.post("/clinic/signin", data=form)
        assert answer.status_code == 403
        assert "did not come from the sign-in page of this site" in answer.text
        assert "vb_clinic" not in answer.headers.get("set-cookie", "")
    attackers_page = await browser(world).get(link)  # a value the attacker was shown, not the victim
    visit = re.search(r'name="visit" value="([^"]+)"', attackers_page.text)
    assert visit is not None
    answer = await victim.post("/clinic/signin", data={"token": token, "visit": visit.group(1)})
    assert answer.status_code == 403
    assert (await victim.get("/clinic/")).status_code == 401, "the victim is not signed in"
    page = await browser(world).get(link)
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("vb_signin=")
    assert "Max-Age=600" in cookie
    assert "Path=/clinic/signin" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert (await press_sign_in(browser(world), link)).status_code == 303, "the link was not used"


async def test_without_a_session_every_page_asks_to_sign_in(world: World) -> None:
    for path in ("/clinic/", "/clinic/alerts", "/clinic/register", "/clinic/import", "/clinic/procedures/1"):
        answer = await world.client.get(path)
        assert answer.status_code == 401, path
        assert "send /dashboard to the bot" in answer.text
    forged = await world.client.get("/clinic/", headers={"Cookie": "vb_clinic=eyJjIjoxfQ.forged.sig"})
    assert forged.status_code == 401


async def test_a_form_without_the_sessions_csrf_token_is_refused(world: World) -> None:
    client = await signed_in(world)
    answer = await client.post("/clinic/register", data={"date": "2026-11-24", "time": "14:00"})
    assert answer.status_code == 403
    answer = await client.post(
        "/clinic/register", data={"date": "2026-11-24", "time": "14:00", "csrf": "not-it"}
    )
    assert answer.status_code == 403
    assert (await world.client.get("/api/procedures", headers=world.sofia)).json() == []


async def test_register_shows_the_invite_with_its_qr_code_and_today_lists_it(world: World) -> None:
    client = await signed_in(world)
    form = await client.get("/clinic/register")
    assert "Time (in Europe/Sofia)" in form.text
    answer = await client.post(
        "/clinic/register",
        data={"date": "2026-11-01", "time": "15:30", "reference": "SP-7", "csrf": csrf(form)},
    )
    assert answer.status_code == 200, answer.text
    assert "Procedure #1 registered" in answer.text
    assert 'src="data:image/png;base64,iVBOR' in answer.text
    assert "https://t.me/vertebrobot_test_bot?start=" in answer.text
    today = await client.get("/clinic/")
    assert "15:30" in today.text
    assert "SP-7" in today.text
    assert "invite not opened" in today.text


async def test_another_clinics_procedure_is_not_found(world: World) -> None:
    created = await register(world, reference="SOF-1")
    client = await signed_in(world, "izmir")
    answer = await client.get(f"/clinic/procedures/{created['procedure']['id']}")
    assert answer.status_code == 404
    assert "SOF-1" not in answer.text
    today = await client.get("/clinic/")
    assert "SOF-1" not in today.text


async def test_a_procedure_page_shows_each_reminders_state_in_the_clinics_zone(world: World) -> None:
    created = await register(world, reference="SOF-2")
    await join(world, created["invite"]["link"])
    client = await signed_in(world)
    page = await client.get(f"/clinic/procedures/{created['procedure']['id']}")
    assert page.status_code == 200
    assert "Tue 24 Nov 2026, 14:00" in page.text  # START in Sofia
    assert "The patient opened the invite" in page.text
    assert page.text.count('class="state state-pending"') == 8
    assert START  # the world's start


async def test_the_page_follows_the_browsers_language_and_can_be_switched(world: World) -> None:
    client = await signed_in(world)
    turkish = await client.get("/clinic/", headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})
    assert "Bugün ve önümüzdeki günler" in turkish.text
    assert '<html lang="tr">' in turkish.text
    switched = await client.get("/clinic/lang/bg", params={"back": "/clinic/alerts"})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/clinic/alerts"
    bulgarian = await client.get("/clinic/alerts", headers={"Accept-Language": "tr"})
    assert "Сигнали" in bulgarian.text
    away = await client.get("/clinic/lang/en", params={"back": "https://evil.example/"})
    assert away.headers["location"] == "/clinic/"


async def test_sign_out_ends_the_session(world: World) -> None:
    client = await signed_in(world)
    page = await client.get("/clinic/")
    out = await client.post("/clinic/signout", data={"csrf": csrf(page)})
    assert out.status_code == 200
    assert "You are signed out." in out.text
    assert (await client.get("/clinic/")).status_code == 401


async def test_after_sign_out_a_copy_of_the_session_cookie_is_refused(world: World) -> None:
    client = await signed_in(world)
    copied = client.cookies["vb_clinic"]
    other = await signed_in(world)  # another session of the same clinic stays on
    page = await client.get("/clinic/")
    assert (await client.post("/clinic/signout", data={"csrf": csrf(page)})).status_code == 200
    replayed = await browser(world).get("/clinic/", headers={"Cookie": f"vb_clinic={copied}"})
    assert replayed.status_code == 401
    assert "send /dashboard to the bot" in replayed.text
    assert (await other.get("/clinic/")).status_code == 200


async def test_a_session_ends_after_twelve_hours_and_ended_ones_are_trimmed(world: World) -> None:
    client = await signed_in(world)
    world.clock.set(world.clock.now + dt.timedelta(hours=12))
    assert (await client.get("/clinic/")).status_code == 401
    await signed_in(world)  # a sign-in trims the sessions that are over
    count = "SELECT count(*) FROM web_sessions"
    assert await world.clinics.store.run(lambda tx: tx.conn.exec_driver_sql(count).scalar()) == 1


async def test_a_staff_members_session_ends_when_they_are_removed_and_dashboard_needs_the_web_url(
    world: World,
) -> None:
    desk = StaffDesk(world.clinics, web_url="https://bot.example.org")
    code = await issue_staff_code(world.clinics, "sofia")
    assert (await desk.handle(77, 77, "staff", code)).text.startswith("You are now staff of Sofia Spine.")
    reply = await desk.handle(77, 77, "dashboard", "")
    link = reply.text.split("share it with nobody): ")[1]
    assert link.startswith("https://bot.example.org/clinic/signin?token=")
    client = browser(world)
    assert (await press_sign_in(client, link.replace("https://bot.example.org", BASE))).status_code == 303
    assert (await client.get("/clinic/")).status_code == 200
    await world.clinics.remove_staff("sofia", 77)
    assert (await client.get("/clinic/")).status_code == 401, (
        "removed staff see nothing from the next request"
    )
    again = await issue_staff_code(world.clinics, "sofia")
    assert (await desk.handle(77, 77, "staff", again)).text.startswith("You are now staff of Sofia Spine.")
    assert (await client.get("/clinic/")).status_code == 401, "staff again: the old session stays ended"
    assert (await desk.handle(77, 77, "dashboard", "")).text.startswith("Your sign-in link"), (
        "a new link is needed"
    )
    await world.clinics.remove_staff("sofia", 77)
    unset = await StaffDesk(world.clinics).handle(78, 78, "dashboard", "")
    assert unset.text.startswith("This command is for clinic staff."), "strangers get no link"
    assert (await desk.handle(77, 77, "dashboard", "")).text.startswith("This command is for clinic staff.")


COMPANION = 7_301


async def companion_joins(world: World, procedure_id: int) -> None:
    """Someone opens the patient's companion link (made the way "Invite my companion" makes it)."""
    token = "a-companion-link-token"
    now = world.clock.now
    record = UserRecord(COMPANION, COMPANION, "en", Session("menu", "main"), is_new=True)
    await world.store.run(lambda tx: tx.save_user(record))
    await world.store.run(
        lambda tx: tx.bookings.add_invite(
            procedure_id, digest(token), now + dt.timedelta(days=1), now, role="companion"
        )
    )
    joined = await world.store.run(lambda tx: world.clinics.redeem(tx, COMPANION, token, now))
    assert joined.result == "companion"


async def test_ready_for_pick_up_tells_the_companions_from_the_procedure_page(world: World) -> None:
    created = await register(world, reference="SOF-9")
    procedure_id = created["procedure"]["id"]
    await join(world, created["invite"]["link"])
    client = await signed_in(world)
    page = await client.get(f"/clinic/procedures/{procedure_id}")
    answer = await client.post(f"/clinic/procedures/{procedure_id}/pickup", data={"csrf": csrf(page)})
    assert answer.status_code == 422, "nobody to tell before a companion joined"
    assert "no companion has joined this procedure" in answer.text

    await companion_joins(world, procedure_id)
    page = await client.get(f"/clinic/procedures/{procedure_id}")
    assert "Ready for pick-up" in page.text
    answer = await client.post(f"/clinic/procedures/{procedure_id}/pickup", data={"csrf": csrf(page)})
    assert answer.status_code == 200, answer.text
    assert "1 companion(s) told that the patient is ready to be picked up." in answer.text
    upcoming = await world.store.run(lambda tx: tx.reminders.upcoming(COMPANION))
    assert [r.message for r in upcoming if r.key == "notice"] == ["companion.pickup"]
