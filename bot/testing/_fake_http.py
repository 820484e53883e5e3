"""Reading a Bot API request the way Telegram does (query, form, JSON or multipart) and writing
its JSON envelope."""

from __future__ import annotations

import json

from aiohttp import BodyPartReader, web

from bot.testing._bot_api_rules import bad_request
from bot.testing._fake_bot_types import JSON, Upload, maybe_int

# Fields Telegram accepts as JSON-serialised strings in query/form/multipart requests.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
# How Telegram names a JSON field it could not parse, where it differs from the field's name.
_JSON_FIELD_NAMES = {"reply_markup": "reply keyboard markup"}


async def read_params(request: web.Request) -> JSON:
    """Collect parameters from the query string and a JSON, urlencoded or multipart body."""
    params: JSON = dict(request.query)
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON encoded request parameters") from None
        if isinstance(body, dict):
            params.update(body)
    elif ctype == "multipart/form-data":
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data = await part.read(decode=True)
                params[part.name] = Upload(part.filename, part.headers.get("Content-Type", ""), bytes(data))
            else:
                params[part.name] = await part.text()
    elif ctype == "application/x-www-form-urlencoded":
        params.update(await request.post())
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                name = _JSON_FIELD_NAMES.get(key, key.replace("_", " "))
                raise bad_request(f"can't parse {name} JSON object") from None
    return params


def reply(body: JSON, status: int) -> web.Response:
    """Serialise a Bot API answer."""
    return web.json_response(body, status=status)


def int_param(p: JSON, name: str, default: int) -> int:
    """An integer parameter with a default."""
    value = maybe_int(p.get(name, default))
    return default if value is None else value


def update_type(update: JSON) -> str:
    """The kind of an update, e.g. 'message'."""
    return next(key for key in update if key != "update_id")
