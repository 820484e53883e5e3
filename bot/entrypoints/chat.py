"""A terminal chat with the same flows: numbered options stand in for buttons."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.services.service import GuideService, Handled, Incoming
from flows.engine import Event
from flows.render import RenderedMessage

LOCAL_USER = 1
PROMPT = "> "


def show(message: RenderedMessage, out: TextIO, first: int = 1) -> None:
    """Print a message and its buttons as numbered options, counting on from `first`."""
    out.write(message.text + "\n")
    for number, button in enumerate(message.buttons, start=first):
        out.write(f"  [{number}] {button.label}\n")
    out.write("\n")


def to_event(line: str, buttons: tuple[str, ...]) -> Event | None:
    """A typed line as an event: a number presses that button, /x is a command."""
    text = line.strip()
    if not text:
        return None
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return Event("button", buttons[int(text) - 1])
    if text.startswith("/"):
        return Event("command", text[1:].split()[0].lower())
    return Event("text", text)


async def chat(
    service: GuideService, inp: TextIO = sys.stdin, out: TextIO = sys.stdout, language_code: str = "en"
) -> None:
    """Run the conversation until end of input or /quit."""
    loop = asyncio.get_running_loop()
    buttons: tuple[str, ...] = ()

    async def send(event: Event) -> None:
        nonlocal buttons
        handled: Handled = await service.handle(Incoming(LOCAL_USER, LOCAL_USER, language_code, event))
        if handled.notice:
            out.write(f"({handled.notice})\n\n")
        # Every button of this answer gets its own number (a question's and the step's alike).
        shown: list[str] = []
        for message in handled.messages:
            show(message, out, first=len(shown) + 1)
            shown += [b.data for b in message.buttons]
        for document in handled.documents:
            out.write(f"({document.caption}: {document.filename}, not shown in the terminal)\n\n")
        if shown:
            buttons = tuple(shown)

    out.write("vertebrobot local chat: type a number to press a button, /menu, /help, or /quit.\n\n")
    await send(Event("command", "start"))
    while True:
        out.write(PROMPT)
        out.flush()
        line = await loop.run_in_executor(None, inp.readline)
        if not line or line.strip() in ("/quit", "/exit"):
            out.write("\nGoodbye.\n")
            return
        event = to_event(line, buttons)
        if event is not None:
            await send(event)
