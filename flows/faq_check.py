"""The content check's rules for typed questions (content/faq.yaml and each <locale>/faq.yaml)."""

from __future__ import annotations

from flows.content import FAQ_FILE, Content, Located, Problem
from flows.faq import FAQ_PREFIX, FAQ_TEXTS, faq_normalise
from flows.render import Renderer, clinic_params
from flows.replies import Line, Reply

MIN_PHRASINGS = 6  # fewer, and questions worded a little differently are missed
MAX_CALLBACK_BYTES = 64  # Telegram's limit on a button's callback data
MAX_MESSAGE = 4096  # Telegram's limit on a message's text


def faq_ids(content: Content) -> tuple[dict[str, Located], dict[str, Located]]:
    """Text ids and label ids the FAQ uses, with where: checked in every locale like any other."""
    texts: dict[str, Located] = {}
    labels: dict[str, Located] = {}
    if content.faq is None:
        return texts, labels
    file = content.faq_file
    for text_id in FAQ_TEXTS:
        texts.setdefault(text_id, Located("flows/faq.py", 1))
    for index, topic in enumerate(content.faq.topics):
        labels.setdefault(topic.label, content.where(file, "topics", index, "label"))
        for position, text_id in enumerate(topic.answer):
            texts.setdefault(text_id, content.where(file, "topics", index, "answer", position))
    return texts, labels


def check_faq(content: Content) -> list[Problem]:
    """Every FAQ problem: topics, answers and phrasings in every locale, sizes and callback data."""
    problems: list[Problem] = []

    def error(at: Located, message: str) -> None:
        problems.append(Problem(at.file, at.line, message))

    def warn(at: Located, message: str) -> None:
        problems.append(Problem(at.file, at.line, message, "warning"))

    if content.faq is None:
        for locale in content.locales.values():
            if locale.faq_file is not None:
                error(
                    Located(locale.faq_file, 1),
                    f"phrasings without topics: {content.faq_file} is missing (or remove this file)",
                )
        return problems
    file = content.faq_file
    topics: dict[str, int] = {}
    for index, topic in enumerate(content.faq.topics):
        at = content.where(file, "topics", index, "id")
        if topic.id in topics:
            first = content.where(file, "topics", topics[topic.id], "id")
            error(at, f"topic id {topic.id!r} is already used at {first.file}:{first.line}")
            continue
        topics[topic.id] = index
        if len(f"{FAQ_PREFIX}{topic.id}".encode()) > MAX_CALLBACK_BYTES:
            error(at, f"callback data {FAQ_PREFIX}{topic.id} is over {MAX_CALLBACK_BYTES} bytes")
    renderer = Renderer(content, clinic_params(content.clinic))
    for code, locale in sorted(content.locales.items()):
        for index, topic in enumerate(content.faq.topics):
            for position, text_id in enumerate(topic.answer):
                if text_id in locale.texts and text_id not in locale.sources:
                    error(
                        content.where(file, "topics", index, "answer", position),
                        f"answer {text_id!r} in locale {code!r} must be a text under `texts:` with sources",
                    )
            answer = renderer.render(Reply(tuple(Line(t) for t in topic.answer)), code)
            if len(answer.text) > MAX_MESSAGE:
                error(
                    content.where(file, "topics", index, "answer"),
                    f"the answer to {topic.id!r} in {code!r} is {len(answer.text)} characters; "
                    f"Telegram allows {MAX_MESSAGE}",
                )
        problems.extend(_check_phrasings(content, code, topics))
    return problems


def _check_phrasings(content: Content, code: str, topics: dict[str, int]) -> list[Problem]:
    """A locale's phrasings: every topic has enough, none is unknown, none is listed twice."""
    locale = content.locales[code]
    if locale.faq is None or locale.faq_file is None:
        missing = f"{content.root.name}/{code}/{FAQ_FILE}"
        return [Problem(missing, 1, f"locale {code!r} has no {FAQ_FILE}: add the phrasings of every topic")]
    problems: list[Problem] = []
    name = locale.faq_file
    for topic in topics:
        if not locale.faq.phrasings.get(topic):
            at = content.where(name, "phrasings")
            problems.append(Problem(at.file, at.line, f"topic {topic!r} has no phrasings in locale {code!r}"))
    seen: dict[str, Located] = {}
    groups = [(("phrasings", t), examples) for t, examples in locale.faq.phrasings.items()]
    for (section, topic), examples in [*groups, (("small_talk", ""), locale.faq.small_talk)]:
        if section == "phrasings":
            at = content.where(name, section, topic)
            if topic not in topics:
                problems.append(
                    Problem(
                        at.file, at.line, f"phrasings for unknown topic {topic!r} (see {content.faq_file})"
                    )
                )
            elif len(examples) < MIN_PHRASINGS:
                message = (
                    f"topic {topic!r} has {len(examples)} phrasings in {code!r}; give {MIN_PHRASINGS} or more"
                )
                problems.append(Problem(at.file, at.line, message, "warning"))
        for position, example in enumerate(examples):
            path = (section, topic, position) if section == "phrasings" else (section, position)
            at = content.where(name, *path)
            key = faq_normalise(example)
            first = seen.get(key)
            if first is not None:
                message = f"phrasing {example!r} is already listed at {first.file}:{first.line}"
                problems.append(Problem(at.file, at.line, message))
            else:
                seen[key] = at
    return problems
