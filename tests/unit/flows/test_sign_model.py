"""The learned layer scores a message exactly as the fitted scikit-learn model would."""

from __future__ import annotations

import pytest
import yaml

from flows.content import Content
from flows.engine import FlowEngine
from flows.redflags import normalise
from flows.sign_model import SignModel, _fitted, fit, training_rows
from tests.conftest import ROOT


@pytest.mark.parametrize("code", ["en", "bg"])
def test_the_direct_score_is_the_fitted_models_likelihood(content: Content, code: str) -> None:
    examples = content.locales[code].examples
    assert examples is not None
    model = SignModel(examples, normalise)
    table = yaml.safe_load((ROOT / f"tests/fixtures/warning_signs/blind-19/{code}.yaml").read_text("utf-8"))
    texts = [normalise(row["text"]) for row in table["alarms"][:40] + table["ordinary"][:40]]
    texts += [" ", " zzzz qqqq ", normalise("no no no no no")]  # nothing known, one feature many times
    rows, signs = training_rows(examples)
    assert model.rows == len(rows) > 5000
    expected = fit(tuple(normalise(row) for row in rows), signs).predict_proba(texts)[:, 1]
    got = [model.likelihood(text) for text in texts]
    assert got == pytest.approx(list(expected), abs=1e-9)
    # several readings of one message: the highest counts
    assert model.likelihood(*texts[:3]) == pytest.approx(max(expected[:3]), abs=1e-9)


def test_the_engine_trains_every_language_before_the_first_message(content: Content) -> None:
    # Training takes seconds per language: done at start-up, the first patient's message (maybe a
    # warning sign) only reads the trained model.
    engine = FlowEngine(content)
    _fitted.cache_clear()
    try:
        engine.train()
        trained = _fitted.cache_info()
        assert trained.currsize == len([m for m in engine.matchers.values() if m.model is not None]) == 3
        for code in engine.matchers:
            engine.matchers[code].triage("I feel a bit off today")
        assert _fitted.cache_info().misses == trained.misses
    finally:
        _fitted.cache_clear()
