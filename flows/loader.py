"""Read the flow YAML files, validate them together, and index them for the engine.

Staff add a flow by dropping `something.yaml` into `flows/definitions/`; it is checked when the
app starts (`load_flows(strict=True)` also insists every named action is registered).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

# The resident flows in definitions/ call these actions: loading the definitions registers them.
from flows import (  # noqa: F401
    grant_actions,
    points_actions,
    proxy_actions,
    relink_actions,
    resident_actions,
    sale_actions,
    shop_actions,
    wallet_actions,
)
from flows.actions import ACTIONS, ActionRegistry
from flows.faq import Faq, load_faq
from flows.normalize import plain
from flows.spec import FlowSpec, FlowSpecError, parse_flow
from flows.typed import TypedMatcher
from flows.yaml_loaders import load_flow_yaml

DEFINITIONS = Path(__file__).parent / "definitions"


class FlowRegistry:
    """All flows by id and by trigger word, plus the actions they may call and the FAQ (if any)
    that typed questions are matched against."""

    def __init__(self, flows: Iterable[FlowSpec], actions: ActionRegistry | None = None,
                 faq: Faq | None = None) -> None:
        self.actions = actions if actions is not None else ACTIONS
        self.faq = faq
        self.flows: dict[str, FlowSpec] = {}
        self._keywords: dict[str, FlowSpec] = {}
        self._titles: dict[str, FlowSpec] = {}
        self._actions: dict[str, FlowSpec] = {}
        self._matcher: TypedMatcher | None = None
        for flow in flows:
            self._add(flow)
        if faq is not None:
            self._check_faq(faq)

    def _add(self, flow: FlowSpec) -> None:
        if flow.id in self.flows:
            raise FlowSpecError(f"{flow.source}: flow id {flow.id!r} is also used by {self.flows[flow.id].source}")
        for word in flow.keywords:
            other = self._keywords.get(plain(word))
            if other is not None:
                raise FlowSpecError(f"{flow.source}: keyword {word!r} already starts flow {other.id!r}")
            self._keywords[plain(word)] = flow
        for key in flow.actions:
            other = self._actions.get(key)
            if other is not None:
                raise FlowSpecError(f"{flow.source}: postback action {key!r} already starts flow {other.id!r}")
            self._actions[key] = flow
        if flow.follow and (other := self.follow_flow()) is not None:
            raise FlowSpecError(f"{flow.source}: only one flow may start on follow ({other.id!r} does)")
        if flow.menu:  # a menu button's label, typed, starts it too (夏まつり申込)
            for lang in ("ja", "en"):
                self._titles.setdefault(plain(flow.title_for(lang)), flow)
        self.flows[flow.id] = flow

    def _check_faq(self, faq: Faq) -> None:
        unknown = sorted(faq.flow_ids() - set(self.flows))
        if unknown:
            raise FlowSpecError(f"{faq.source}: names flow(s) that do not exist: {', '.join(unknown)}")

    def get(self, flow_id: str) -> FlowSpec | None:
        return self.flows.get(flow_id)

    def by_keyword(self, text: str) -> FlowSpec | None:
        """The flow a typed word starts: one of its keywords, or a menu flow's button label."""
        if not text:
            return None
        said = plain(text)
        return self._keywords.get(said) or self._titles.get(said)

    def matcher(self) -> TypedMatcher:
        """Typed questions against every flow's words and the FAQ; built on first use."""
        if self._matcher is None:
            self._matcher = TypedMatcher(self.flows.values(), self.faq)
        return self._matcher

    def by_postback(self, flow_id: str) -> FlowSpec | None:
        flow = self.flows.get(flow_id)
        return flow if flow is not None and flow.postback else None

    def by_action(self, key: str) -> FlowSpec | None:
        """The flow a rich-menu postback `action=<key>` starts, if any."""
        return self._actions.get(key)

    def follow_flow(self) -> FlowSpec | None:
        return next((f for f in self.flows.values() if f.follow), None)

    def menu(self) -> list[FlowSpec]:
        """Flows offered as buttons in the help reply."""
        return [f for f in self.flows.values() if f.menu]

    def check_actions(self) -> None:
        """Every action a flow names is registered, or one error listing all that are not."""
        problems = [f"{flow.source}: flow {flow.id!r} uses unregistered action(s) {missing}"
                    for flow in self.flows.values()
                    if (missing := self.actions.missing(flow.action_names()))]
        if problems:
            raise FlowSpecError("\n".join(problems))


def load_flow_text(text: str, source: str = "<text>") -> FlowSpec:
    try:
        raw = load_flow_yaml(text)
    except yaml.YAMLError as e:
        raise FlowSpecError(f"{source}: not valid YAML: {e}") from None
    return parse_flow(raw, source)


def load_flow_file(path: str | Path) -> FlowSpec:
    path = Path(path)
    return load_flow_text(path.read_text(encoding="utf-8"), str(path))


def flow_files(*dirs: str | Path) -> list[Path]:
    """The YAML files of the given folders (default: flows/definitions), in a stable order."""
    files: list[Path] = []
    for d in dirs or (DEFINITIONS,):
        d = Path(d)
        if d.is_file():
            files.append(d)
        elif d.is_dir():
            files += sorted([*d.glob("*.yaml"), *d.glob("*.yml")])
        else:
            raise FlowSpecError(f"{d}: no such file or folder of flows")
    return files


def load_flows(*dirs: str | Path, actions: ActionRegistry | None = None, strict: bool = False,
               faq: str | Path | None = None) -> FlowRegistry:
    """Load every flow file (and the FAQ file, if given); with strict=True also refuse flows whose
    actions are not registered."""
    registry = FlowRegistry((load_flow_file(p) for p in flow_files(*dirs)), actions,
                            load_faq(faq) if faq is not None else None)
    if strict:
        registry.check_actions()
    return registry
