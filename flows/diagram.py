"""Mermaid diagrams of flows, drawn by transitions, for clinical reviewers."""

from __future__ import annotations

from collections.abc import Callable

from transitions.extensions.diagrams import GraphMachine

from flows.models import Branch, ButtonSpec, FlowSpec


class _Model:
    """The diagram needs a model; it never runs."""


def _node(target: str) -> str:
    return f"go_to_{target[1:]}" if target.startswith("@") else target


def _branches(button: ButtonSpec) -> list[Branch]:
    if button.branches:
        return list(button.branches)
    return [Branch(to=button.to)] if button.to else []


def flow_diagram(spec: FlowSpec, labels: dict[str, str]) -> str:
    """A Mermaid state diagram of a flow: buttons label the edges, conditions in brackets."""
    exits = sorted(
        {_node(b.to) for s in spec.states.values() for button in s.buttons for b in _branches(button)}
        - set(spec.states)
    )
    machine = GraphMachine(
        model=_Model(),
        states=[*spec.states, *exits],
        initial=spec.start,
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"Flow: {spec.flow}",
        show_conditions=True,
    )
    for state_id, state in spec.states.items():
        for item in state.checklist or ():
            machine.add_transition(f"tick {item.id}", state_id, state_id)
        for button in state.buttons:
            label = labels.get(button.label, button.label).replace(":", " ").replace('"', "'")
            if button.value is not None:
                label = f"{label} ({state.answer}={button.value})"
            for branch in _branches(button):
                conditions: list[str | Callable[..., bool | None]] = [
                    f"{key}={'/'.join(value) if isinstance(value, list) else value}"
                    for key, value in branch.when.items()
                ]
                machine.add_transition(label, state_id, _node(branch.to), conditions=conditions)
    graph = machine.model.get_graph()  # type: ignore[attr-defined]
    return str(graph.draw(None))
