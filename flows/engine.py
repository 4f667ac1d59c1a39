"""The conversation engine: one incoming message in, a few channel-neutral messages out.

Per user it keeps a stack of frames (see `flows.state`). Each call:
1. drops the stack if the user was idle past the flow's `idle_timeout_minutes`;
2. handles やめる / キャンセル (cancel, nothing changed) and 戻る (back one question);
3. starts a flow on a trigger (a keyword or menu label, a `flow=<id>` or rich-menu `action=<key>`
   postback, a follow), on top of any running one, which resumes or is dropped when the new one ends;
4. otherwise feeds the input to the current question or confirm step; with nothing running, a
   typed message is matched (`flows.typed`) to a flow or an FAQ answer (`flows.faq`), and when
   nothing fits the FAQ's fallback gives the town's phone number and a few buttons;
5. runs say / branch / action steps until the next question, confirm or end.

A postback `action=<key>` that no flow claims (a rich-menu tab switch, a balance tile) is not the
engine's: `handle` returns no messages and leaves the state alone, for the bot layer to act on.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flows import render
from flows.answers import evaluate, interpolate, is_skip, parse_answer
from flows.clock import Clock
from flows.context import ActionContext, ActionResult
from flows.errors import ActionError, InputError
from flows.faq import MAX_CHIPS
from flows.i18n import norm_lang, pick, t
from flows.inputs import Incoming, postback_data
from flows.loader import FlowRegistry
from flows.messages import Message, QuickReply, Text
from flows.normalize import parse_yesno, plain
from flows.spec import ActionStep, AskStep, BranchStep, ConfirmStep, EndStep, FlowSpec, SayStep
from flows.state import Frame, StateStore, UserState
from ledger.clock import today_jst, utcnow
from ledger.errors import LedgerError

log = logging.getLogger(__name__)

CANCEL_WORDS = {"やめる", "やめます", "やめたい", "キャンセル", "中止", "cancel", "stop", "quit"}
BACK_WORDS = {"戻る", "もどる", "戻ります", "前に戻る", "back"}
HELP_WORDS = {"ヘルプ", "help", "メニュー", "menu", "使い方"}
FIX_WORDS = ("を直す", "をなおす", "を修正", "を変更", "直す", "なおす", "修正", "変更")
MAX_MESSAGES = 5  # LINE: five messages per reply
MAX_DEPTH = 4  # flows stacked on top of each other
MAX_STEPS = 50  # say/branch/action steps run in one turn before the flow is called broken


class Engine:
    """Runs flows from `registry` for each user, keeping their stacks in `store`."""

    def __init__(self, registry: FlowRegistry, store: StateStore, clock: Clock = utcnow) -> None:
        self.registry = registry
        self.store = store
        self.clock = clock

    def claims(self, incoming: Incoming) -> bool:
        """False for a rich-menu `action=<key>` postback that no flow starts."""
        return not _unclaimed_action(self.registry, incoming)

    def handle(self, incoming: Incoming, services: Any = None) -> list[Message]:
        """Answer one incoming message; the user's state is loaded and saved around it, with the
        user's turn lock held throughout (two turns at once would lose one; see flows.turn_lock)."""
        if not self.claims(incoming):
            return []
        with self.store.turn(incoming.user_id):
            return self._turn(incoming, services)

    def _turn(self, incoming: Incoming, services: Any) -> list[Message]:
        now = self.clock()
        try:
            state = self.store.load(incoming.user_id)
        except (KeyError, TypeError, ValueError):  # a stored stack this code cannot read: start clean
            log.exception("unreadable conversation state; starting afresh")
            state = UserState(user_key=incoming.user_id)
        if incoming.lang:
            state.lang = norm_lang(incoming.lang)
        turn = _Turn(self.registry, state, services, now)
        try:
            turn.run(incoming)
        except Exception:  # a bug must not trap the user in a state that fails on every message
            log.exception("conversation engine failed on a %s message", incoming.kind)
            state.stack.clear()
            turn.out = [Text(t("action_failed", state.lang))]
        state.updated_at = now
        self.store.save(state)
        return fit_messages(turn.out)


def _unclaimed_action(registry: FlowRegistry, inc: Incoming) -> bool:
    return inc.kind == "postback" and "action" in inc.data and registry.by_action(inc.data["action"]) is None


def fit_messages(messages: list[Message]) -> list[Message]:
    """Join consecutive plain texts and keep within LINE's five messages a reply."""
    out: list[Message] = []
    for msg in messages:
        prev = out[-1] if out else None
        if isinstance(msg, Text) and isinstance(prev, Text) and not prev.quick_replies:
            out[-1] = Text(f"{prev.text}\n\n{msg.text}", msg.quick_replies)
        else:
            out.append(msg)
    if len(out) > MAX_MESSAGES:
        log.warning("a turn produced %d messages; keeping the first %d and the last", len(out), MAX_MESSAGES - 1)
        out = [*out[: MAX_MESSAGES - 1], out[-1]]
    return out


def _word(text: str, words: set[str]) -> bool:
    return plain(text) in words


class _Turn:
    """The work of one `Engine.handle` call: the state it changes and the messages it collects."""

    def __init__(self, registry: FlowRegistry, state: UserState, services: Any, now: datetime) -> None:
        self.registry, self.state, self.services, self.now = registry, state, services, now
        self.lang = state.lang
        self.today = today_jst(now)
        self.out: list[Message] = []

    # ------------------------------------------------------------------------------ dispatch

    def run(self, inc: Incoming) -> None:
        self._expire_idle()
        if inc.kind == "follow":
            return self._follow()
        if self._is_nav(inc, "cancel", CANCEL_WORDS):
            return self._cancel()
        if self._is_nav(inc, "back", BACK_WORDS) and self.state.top is not None:
            return self._back(self.state.top)
        flow = self._triggered(inc)
        if flow is not None:
            return self._start(flow, {k: v for k, v in inc.data.items() if k not in ("flow", "action")})
        if inc.kind == "postback" and "flow" in inc.data:
            return self._help()  # an old button for a flow that no longer exists
        top = self.state.top
        if inc.kind == "text" and _word(inc.text, HELP_WORDS):
            return self._help(keep_going=top is not None)
        if top is None and inc.kind == "text" and self.registry.faq is not None:
            return self._typed(inc.text)
        if top is None:
            return self._help()
        self._feed(top, inc)

    def _is_nav(self, inc: Incoming, nav: str, words: set[str]) -> bool:
        if inc.kind == "postback":
            return inc.data.get("nav") == nav
        return inc.kind == "text" and _word(inc.text, words)

    def _expire_idle(self) -> None:
        top = self.state.top
        if top is None:
            return
        flow = self.registry.get(top.flow)
        timeout = timedelta(minutes=flow.idle_timeout_minutes if flow else 30)
        if self.now - top.updated_at > timeout:
            self.state.stack.clear()
            self.out.append(Text(t("timed_out", self.lang)))

    def _triggered(self, inc: Incoming) -> FlowSpec | None:
        if inc.kind == "postback" and "flow" in inc.data:
            return self.registry.by_postback(inc.data["flow"])
        if inc.kind == "postback" and "action" in inc.data:
            return self.registry.by_action(inc.data["action"])
        if inc.kind != "text":
            return None
        flow = self.registry.by_keyword(inc.text)
        if flow is not None and self._is_current_choice(inc):
            return None  # the word answers the question on screen; it does not start a flow
        return flow

    def _is_current_choice(self, inc: Incoming) -> bool:
        top = self.state.top
        step = self._step(top) if top else None
        if not isinstance(step, AskStep) or step.input not in ("choice", "yesno"):
            return False
        try:
            parse_answer(step, inc, self.today, top)
        except InputError:
            return False
        return True

    # -------------------------------------------------------------------------- start / end

    def _follow(self) -> None:
        flow = self.registry.follow_flow()
        if flow is not None:
            return self._start(flow, {})
        self._help(prefix=t("welcome", self.lang))

    def _help(self, *, keep_going: bool = False, prefix: str = "") -> None:
        if keep_going and self.state.top is not None:
            self.out.append(Text(t("continue_here", self.lang)))
            return self._prompt(self.state.top)
        self.out.append(render.help_message(self._menu(), self.lang, prefix=prefix))

    def _typed(self, text: str) -> None:
        """A typed message with nothing running: the flow or FAQ answer it matches, else the fallback."""
        faq = self.registry.faq
        assert faq is not None
        hit = self.registry.matcher().match(text)
        if hit is None:
            log.info("a typed message matched no flow or FAQ entry")  # never the text: it may be personal
            self.out.append(Text(faq.text(faq.fallback, self.lang), self._chips(faq.chips)))
            return
        if hit.target.flow is not None:
            flow = self.registry.get(hit.target.flow)
            assert flow is not None  # the registry checked the FAQ's flows when it loaded
            return self._start(flow, {})
        entry = hit.target.entry
        assert entry is not None
        self.out.append(Text(faq.text(entry.answer, self.lang), self._chips(entry.chips)))

    def _chips(self, flow_ids: tuple[str, ...]) -> list[QuickReply]:
        """Buttons for the first few of these flows that this person is offered."""
        offered = {f.id: f for f in self._menu()}
        flows = [offered[i] for i in flow_ids if i in offered][:MAX_CHIPS]
        return [QuickReply.postback(f.title_for(self.lang)[:20], postback_data(flow=f.id)) for f in flows]

    def _menu(self) -> list[FlowSpec]:
        """The menu flows this user is offered: `services.menu_for(flows, user_key)` may narrow them
        (a resident is not offered registration; a guest is not offered the balance)."""
        menu_for = getattr(self.services, "menu_for", None)
        menu = self.registry.menu()
        return list(menu_for(menu, self.state.user_key)) if menu_for is not None else menu

    def _start(self, flow: FlowSpec, params: dict[str, str]) -> None:
        running = next((f for f in self.state.stack if f.flow == flow.id), None)
        if running is not None:
            self.state.stack.remove(running)  # never twice in the stack
            if all(running.vars.get(k) == v for k, v in params.items()):
                running.updated_at = self.now  # tapped again: bring it back and carry on
                self.state.stack.append(running)
                self.out.append(Text(t("continue_here", self.lang)))
                return self._prompt(running)
        if len(self.state.stack) >= MAX_DEPTH:
            self.state.stack.pop(0)
        frame = Frame(flow=flow.id, step=flow.first.id, vars=dict(params), updated_at=self.now)
        self.state.stack.append(frame)
        self._advance(frame)

    def _finish(self) -> None:
        """The top flow is over: pop it, then resume (or drop) what it interrupted."""
        self.state.stack.pop()
        while self.state.stack:
            below = self.state.stack[-1]
            flow = self.registry.get(below.flow)
            if flow is None or flow.interrupt == "drop" or self._step(below) is None:
                self.state.stack.pop()
                if flow is not None:
                    self.out.append(Text(t("dropped", self.lang, title=flow.title_for(self.lang))))
                continue
            below.updated_at = self.now
            self.out.append(Text(t("resume", self.lang, title=flow.title_for(self.lang))))
            self._prompt(below)
            return

    def _cancel(self) -> None:
        if self.state.top is None:
            self.out.append(Text(t("nothing_to_cancel", self.lang)))
            return self._help()
        self.out.append(Text(t("cancelled", self.lang)))
        self._finish()

    # ----------------------------------------------------------------------------- answers

    def _feed(self, frame: Frame, inc: Incoming) -> None:
        flow, step = self.registry.get(frame.flow), self._step(frame)
        if flow is None or step is None:
            self.out.append(Text(t("flow_gone", self.lang)))
            return self._finish()
        ref = inc.data.get("s") if inc.kind in ("postback", "date") else None
        if ref is not None and ref != render.step_ref(flow, step.id):
            self.out.append(Text(t("stale_button", self.lang)))
            return self._prompt(frame)
        if isinstance(step, ConfirmStep):
            return self._confirm_reply(frame, flow, step, inc)
        if isinstance(step, AskStep):
            return self._answer(frame, flow, step, inc)
        self._advance(frame)  # resting on a non-question (a flow changed under us): move on

    def _answer(self, frame: Frame, flow: FlowSpec, step: AskStep, inc: Incoming) -> None:
        skipping = inc.data.get("nav") == "skip" or (inc.kind == "text" and is_skip(inc.text))
        if skipping and step.optional:
            value = None
        else:
            try:
                value = parse_answer(step, inc, self.today, frame)
            except InputError as e:
                self.out.append(Text(e.message(self.lang)))
                return self._prompt(frame)
        frame.answers[step.key] = value
        if frame.return_to:
            frame.step, frame.return_to = frame.return_to, None
        else:
            frame.history.append(step.id)
            frame.step = str(step.next)
        self._advance(frame)

    def _back(self, frame: Frame) -> None:
        if frame.awaiting or frame.return_to:
            frame.step = frame.return_to or frame.step
            frame.awaiting = frame.return_to = None
        elif frame.history:
            frame.step = frame.history.pop()
        else:
            self.out.append(Text(t("cannot_go_back", self.lang)))
        frame.updated_at = self.now
        self._prompt(frame)

    # ------------------------------------------------------------------- confirm and correct

    def _confirm_reply(self, frame: Frame, flow: FlowSpec, step: ConfirmStep, inc: Incoming) -> None:
        if frame.awaiting == "fix":
            return self._pick_fix(frame, flow, step, inc)
        choice = inc.data.get("c") if inc.kind == "postback" else self._confirm_word(inc.text)
        if choice == "yes":
            frame.step, frame.history = str(step.next), []
            return self._advance(frame)
        key = self._field_named(flow, step, frame, inc.text) if inc.kind == "text" else None
        if key is not None:
            return self._fix(frame, flow, step, key)
        if choice == "fix":
            fields = render.confirm_fields(flow, step, frame)
            if len(fields) == 1:
                return self._fix(frame, flow, step, fields[0].key)
            frame.awaiting = "fix"
            self.out.append(render.fix_menu(flow, step, frame, self.lang))
            return
        self.out.append(Text(t("confirm_hint", self.lang)))
        self._prompt(frame)

    def _confirm_word(self, text: str) -> str | None:
        if plain(text) in {plain(t("confirm_yes", lang)) for lang in ("ja", "en")}:
            return "yes"
        if plain(text) in {plain(t("confirm_fix", lang)) for lang in ("ja", "en")}:
            return "fix"
        try:
            return "yes" if parse_yesno(text) else "fix"
        except InputError:
            return None

    def _pick_fix(self, frame: Frame, flow: FlowSpec, step: ConfirmStep, inc: Incoming) -> None:
        key = inc.data.get("fix") if inc.kind == "postback" else self._field_named(flow, step, frame, inc.text)
        if key is None or flow.ask_for(key) is None:
            self.out.append(Text(t("invalid_choice", self.lang)))
            self.out.append(render.fix_menu(flow, step, frame, self.lang))
            return
        self._fix(frame, flow, step, key)

    def _fix(self, frame: Frame, flow: FlowSpec, step: ConfirmStep, key: str) -> None:
        ask = flow.ask_for(key)
        assert ask is not None
        frame.awaiting, frame.return_to, frame.step = None, step.id, ask.id
        self._prompt(frame)

    def _field_named(self, flow: FlowSpec, step: ConfirmStep, frame: Frame, text: str) -> str | None:
        """'名前を直す', 'お名前', 'name' → the answer key, matching labels in either language."""
        said = _strip_fix_words(plain(text))
        for ask in render.confirm_fields(flow, step, frame):
            names = {ask.key, *(ask.label_for(lang) for lang in ("ja", "en"))}
            if said and said in {_strip_fix_words(plain(n)) for n in names}:
                return ask.key
        return None

    # ---------------------------------------------------------------------------- stepping

    def _step(self, frame: Frame) -> Any:
        flow = self.registry.get(frame.flow)
        return flow.step(frame.step) if flow else None

    def _prompt(self, frame: Frame) -> None:
        """Show the question (or confirm card, or fix menu) the frame is waiting on."""
        flow, step = self.registry.get(frame.flow), self._step(frame)
        if flow is None or step is None:
            return
        if isinstance(step, AskStep):
            self.out.append(render.ask_message(flow, step, frame, self.lang, self.today))
        elif isinstance(step, ConfirmStep) and frame.awaiting == "fix":
            self.out.append(render.fix_menu(flow, step, frame, self.lang))
        elif isinstance(step, ConfirmStep):
            self.out.append(render.confirm_message(flow, step, frame, self.lang))

    def _advance(self, frame: Frame) -> None:
        """Run steps from the frame's current one until a question, a confirm or the end."""
        flow = self.registry.get(frame.flow)
        assert flow is not None
        for _ in range(MAX_STEPS):
            frame.updated_at = self.now
            step = flow.step(frame.step)
            if isinstance(step, (AskStep, ConfirmStep)):
                return self._prompt(frame)
            if isinstance(step, SayStep):
                self.out.append(Text(interpolate(step.text, flow, frame, self.lang)))
                frame.step = str(step.next)
            elif isinstance(step, BranchStep):
                frame.step = next((c.goto for c in step.cases if evaluate(c.when, frame)), str(step.next))
            elif isinstance(step, ActionStep):
                if not self._run_action(frame, flow, step):
                    return
            else:
                if isinstance(step, EndStep) and step.text:
                    self.out.append(Text(interpolate(step.text, flow, frame, self.lang)))
                return self._finish()
        log.error("flow %s ran %d steps without waiting for the user; stopped", flow.id, MAX_STEPS)
        self.out.append(Text(t("action_failed", self.lang)))
        self._finish()

    def _run_action(self, frame: Frame, flow: FlowSpec, step: ActionStep) -> bool:
        """Run one action; False when the flow has ended (error or `end`)."""
        if step.action not in self.registry.actions:
            log.error("flow %s step %s: action %r is not registered", flow.id, step.id, step.action)
            self.out.append(Text(t("not_ready", self.lang)))
            self._finish()
            return False
        ctx = ActionContext(user_id=self.state.user_key, lang=self.lang, answers=dict(frame.answers),
                            vars=dict(frame.vars), services=self.services, flow_id=flow.id, step_id=step.id,
                            params=dict(step.params), now=self.now)
        try:
            result = self.registry.actions.get(step.action)(ctx) or ActionResult()
        except (ActionError, LedgerError) as e:
            return self._action_refused(frame, step, _error_text(e, self.lang))
        except Exception:  # an action's bug must not leave the resident without an answer
            log.exception("flow %s step %s: action %r failed", flow.id, step.id, step.action)
            return self._action_refused(frame, step, t("action_failed", self.lang), allow_on_error=False)
        frame.vars.update(result.vars)
        frame.history.clear()  # 戻る never crosses an action: going back would run it twice
        self.out.extend(result.messages)
        if result.end:
            self._finish()
            return False
        if result.goto is not None and flow.step(result.goto) is None:
            log.error("flow %s step %s: action went to unknown step %r", flow.id, step.id, result.goto)
            return self._action_refused(frame, step, t("action_failed", self.lang), allow_on_error=False)
        frame.step = result.goto or str(step.next)
        return True

    def _action_refused(self, frame: Frame, step: ActionStep, message: str, *, allow_on_error: bool = True) -> bool:
        self.out.append(Text(message))
        if allow_on_error and step.on_error:
            frame.step = step.on_error
            return True
        self._finish()
        return False


def _error_text(e: ActionError | LedgerError, lang: str) -> str:
    if isinstance(e, ActionError):
        return e.message(lang)
    return pick({"ja": e.message, "en": getattr(e, "message_en", "") or e.message}, lang)


def _strip_fix_words(text: str) -> str:
    for word in FIX_WORDS:
        if text.endswith(word) and len(text) > len(word):
            text = text[: -len(word)]
            break
    return text.removeprefix("お").removeprefix("ご").strip() if len(text) > 1 else text
