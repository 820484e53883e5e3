"""The content check's rules for typed questions (content/faq.yaml and each <locale>/faq.yaml)."""

from __future__ import annotations

from flows.check_limits import MAX_CALLBACK_BYTES, MAX_MESSAGE
from flows.content import FAQ_FILE, Content, Located, Problem
from flows.faq import FAQ_PREFIX, FAQ_TEXTS, PREFIX_MARK, FaqMatcher, faq_normalise, keyword_form
from flows.render import Renderer, clinic_params
from flows.replies import Line, Reply

MIN_PHRASINGS = 6  # fewer, and questions worded a little differently are missed
MIN_STEM = 4  # words cut shorter than this mostly read alike


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
    for locale in content.locales.values():  # small-talk answers: each language's own list
        for text_id in locale.faq.chat if locale.faq else ():
            texts.setdefault(text_id, Located(locale.faq_file or file, 1))
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
        problems.extend(_check_wording(content, code, topics))
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


def _check_wording(content: Content, code: str, topics: dict[str, int]) -> list[Problem]:
    """A locale's stop words, stem length and keywords: single words, each keyword one topic's."""
    locale = content.locales[code]
    if locale.faq is None or locale.faq_file is None:
        return []
    faq, name = locale.faq, locale.faq_file
    problems: list[Problem] = []

    def error(at: Located, message: str) -> None:
        problems.append(Problem(at.file, at.line, message))

    if 0 < faq.stem_length < MIN_STEM:
        error(
            content.where(name, "stem_length"),
            f"stem_length {faq.stem_length} cuts words to fewer than {MIN_STEM} letters, where most "
            "words read alike; use 0 (whole words) or more",
        )
    stop_words: set[str] = set()
    for position, word in enumerate(faq.stop_words):
        form = faq_normalise(word)
        if len(form.split()) != 1:
            error(content.where(name, "stop_words", position), f"stop word {word!r} must be one word")
        stop_words.add(form)
    seen: dict[tuple[str, bool], tuple[str, str, Located]] = {}  # form -> topic, as written, where
    for topic, words in faq.keywords.items():
        if topic not in topics:
            at = content.where(name, "keywords", topic)
            error(at, f"keywords for unknown topic {topic!r} (see {content.faq_file})")
        for position, word in enumerate(words):
            at = content.where(name, "keywords", topic, position)
            form, prefix = keyword_form(word)
            if PREFIX_MARK in word.strip().removesuffix(PREFIX_MARK) or len(form.split()) != 1:
                error(at, f"keyword {word!r} must be one word, with `{PREFIX_MARK}` only at its end")
                continue
            if form in stop_words:
                error(at, f"keyword {word!r} is also a stop word: it cannot point to a topic")
            first = seen.get((form, prefix))
            if first is not None:
                where = f"{first[2].file}:{first[2].line}"
                error(at, f"keyword {word!r} is already listed at {where} (topic {first[0]!r})")
            else:
                seen[(form, prefix)] = (topic, word, at)
    # Two topics' keywords that match the same word ("warfarin" and "warfarin*", "spot" and a
    # typo-tolerant "sport") would add the bonus to both topics: each keyword is matched against
    # the others by the matcher itself, and each pair is reported once, at the later keyword.
    entries = list(seen.values())
    matcher = FaqMatcher({}, 0, keywords={str(i): [word] for i, (_, word, _) in enumerate(entries)})
    reported: set[tuple[int, int]] = set()
    for index, (form, _) in enumerate(seen):
        for other in sorted(int(label) for label in matcher.keyword_topics([form])):
            pair = (min(index, other), max(index, other))
            first_topic, first_word, first_at = entries[pair[0]]
            then_topic, then_word, then_at = entries[pair[1]]
            if first_topic == then_topic or pair in reported:
                continue
            reported.add(pair)
            error(
                then_at,
                f"keyword {then_word!r} of topic {then_topic!r} and {first_word!r} of topic "
                f"{first_topic!r} ({first_at.file}:{first_at.line}) match the same words: a keyword "
                "must point to one topic",
            )
    return problems
