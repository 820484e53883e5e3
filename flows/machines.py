"""One shared `transitions` machine per flow, built once from its YAML; users are plain records."""

from __future__ import annotations

from collections.abc import Callable

from transitions import EventData, Machine

from flows.models import Branch, FlowSpec
from flows.outcome import Session


def _condition(branch: Branch, flow: str) -> Callable[[EventData], bool]:
    wanted = {key: (value if isinstance(value, list) else [value]) for key, value in branch.when.items()}

    def holds(event: EventData) -> bool:
        session: Session = event.model  # type: ignore[assignment]
        answers = session.answers.get(flow, {})
        return all(answers.get(key) in values for key, values in wanted.items())

    return holds


def build_machine(spec: FlowSpec) -> Machine:
    """The one shared machine of a flow; exits to other flows are states named `@flow`."""
    exits = sorted({t for _, t in iter_targets(spec) if t.startswith("@")})
    machine = Machine(
        model=None,
        states=[*spec.states, *exits],
        initial=spec.start,
        auto_transitions=False,
        send_event=True,
    )
    for state_id, state in spec.states.items():
        if state.on_input:
            machine.add_transition(f"{state_id}:input", state_id, state.on_input)
        offset = len(state.checklist or ())
        for index, button in enumerate(state.buttons):
            trigger = f"{state_id}:{offset + index}"
            if button.branches:
                for branch in button.branches:
                    conditions: list[str | Callable[..., bool | None]] = (
                        [_condition(branch, spec.flow)] if branch.when else []
                    )
                    machine.add_transition(trigger, state_id, branch.to, conditions=conditions)
            elif button.to:
                machine.add_transition(trigger, state_id, button.to)
    return machine


def iter_targets(spec: FlowSpec) -> list[tuple[str, str]]:
    """Every (state, target) edge a flow's buttons and inputs can take."""
    edges: list[tuple[str, str]] = []
    for state_id, state in spec.states.items():
        if state.on_input:
            edges.append((state_id, state.on_input))
        for button in state.buttons:
            if button.branches:
                edges.extend((state_id, b.to) for b in button.branches)
            elif button.to:
                edges.append((state_id, button.to))
    return edges
