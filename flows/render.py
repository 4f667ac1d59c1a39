"""The engine's messages: a question with its quick replies, the confirm card, the fix menu, help.

Every question carries やめる (and 戻る when there is somewhere to go back to), so a resident
never has to know a command word. Postback data is short: `s` names the flow and step a button
belongs to (old buttons are recognised), `a` an answer, `c` a confirm choice, `fix` an answer
to correct, `nav` back/cancel/skip, `flow` a flow to start.
"""
from __future__ import annotations

from datetime import date

from flows.answers import display, interpolate, suggestions
from flows.i18n import pick, t
from flows.inputs import postback_data
from flows.messages import MAX_QUICK_REPLIES, Button, Card, QuickReply, Text
from flows.spec import AskStep, ConfirmStep, FlowSpec
from flows.state import Frame


def step_ref(flow: FlowSpec, step_id: str) -> str:
    return f"{flow.id}:{step_id}"


def nav_replies(frame: Frame, lang: str, *, back: bool | None = None) -> list[QuickReply]:
    """戻る (when possible) and やめる, always last."""
    can_back = bool(frame.history or frame.return_to or frame.awaiting) if back is None else back
    out = [QuickReply.postback(t("back", lang), postback_data(nav="back"))] if can_back else []
    return [*out, QuickReply.postback(t("cancel", lang), postback_data(nav="cancel"))]


def _fit(replies: list[QuickReply], nav: list[QuickReply]) -> list[QuickReply]:
    return [*replies[: MAX_QUICK_REPLIES - len(nav)], *nav]


def ask_message(flow: FlowSpec, step: AskStep, frame: Frame, lang: str, today: date) -> Text:
    text = interpolate(step.prompt, flow, frame, lang)
    if step.hint:
        text += "\n" + interpolate(step.hint, flow, frame, lang)
    ref = step_ref(flow, step.id)
    replies = _input_replies(step, ref, lang, today)
    replies += [QuickReply.postback(interpolate(c.label, flow, frame, lang)[:20], postback_data(a=value, s=ref))
                for c, value in suggestions(step, frame)]
    if step.optional:
        replies.append(QuickReply.postback(t("skip", lang), postback_data(nav="skip", s=ref)))
    return Text(text, _fit(replies, nav_replies(frame, lang)))


def _input_replies(step: AskStep, ref: str, lang: str, today: date) -> list[QuickReply]:
    if step.input == "choice":
        return [QuickReply.postback(pick(c.label, lang), postback_data(a=c.value, s=ref)) for c in step.choices]
    if step.input == "yesno":
        return [QuickReply.postback(t(w, lang), postback_data(a=w, s=ref)) for w in ("yes", "no")]
    if step.input == "date":
        lo, hi = ((today if b == "today" else b) for b in (step.min, step.max))
        return [QuickReply.date_picker(t("pick_date", lang), postback_data(s=ref),
                                       min=lo.isoformat() if lo else None, max=hi.isoformat() if hi else None,
                                       initial=step.initial or (lo or today).isoformat())]
    if step.input == "birthdate":
        return [QuickReply.date_picker(t("pick_date", lang), postback_data(s=ref), min="1900-01-01",
                                       max=today.isoformat(), initial=step.initial or "1960-01-01")]
    if step.input == "location":
        return [QuickReply.location(t("send_location", lang))]
    if step.input == "image":
        return [QuickReply.camera(t("camera", lang)), QuickReply.camera_roll(t("camera_roll", lang))]
    return []


def confirm_fields(flow: FlowSpec, step: ConfirmStep, frame: Frame) -> list[AskStep]:
    """The answers shown on the card and offered for correction."""
    asks = flow.asks()
    if step.fields:
        return [a for key in step.fields for a in asks if a.key == key]
    shown: dict[str, AskStep] = {}
    for a in asks:
        if a.key in frame.answers:
            shown.setdefault(a.key, a)
    return list(shown.values())


def confirm_message(flow: FlowSpec, step: ConfirmStep, frame: Frame, lang: str) -> Card:
    ref = step_ref(flow, step.id)
    rows = [(a.label_for(lang), display(a, frame.answers.get(a.key), lang)) for a in confirm_fields(flow, step, frame)]
    body = interpolate(step.summary, flow, frame, lang) if step.summary else ""
    yes, fix = postback_data(c="yes", s=ref), postback_data(c="fix", s=ref)
    question = t("confirm_question", lang)
    card = Card(
        title=interpolate(step.title, flow, frame, lang) if step.title else t("confirm_title", lang),
        rows=rows, body=f"{body}\n\n{question}".strip(),
        buttons=[Button.postback(t("confirm_yes", lang), yes),
                 Button.postback(t("confirm_fix", lang), fix, style="secondary")],
        quick_replies=[QuickReply.postback(t("confirm_yes", lang), yes),
                       QuickReply.postback(t("confirm_fix", lang), fix),
                       *nav_replies(frame, lang, back=bool(frame.history))],
    )
    card.alt_text = "\n".join([card.title, *(f"{k}: {v}" for k, v in rows), question])[:400]
    return card


def fix_menu(flow: FlowSpec, step: ConfirmStep, frame: Frame, lang: str) -> Text:
    ref = step_ref(flow, step.id)
    replies = [QuickReply.postback(t("fix_item", lang, label=a.label_for(lang))[:20], postback_data(fix=a.key, s=ref))
               for a in confirm_fields(flow, step, frame)]
    return Text(t("which_fix", lang), _fit(replies, nav_replies(frame, lang, back=True)))


def help_message(menu: list[FlowSpec], lang: str, *, prefix: str = "") -> Text:
    text = f"{prefix}\n{t('help', lang)}".strip() if prefix else t("help", lang)
    replies = [QuickReply.postback(f.title_for(lang)[:20], postback_data(flow=f.id)) for f in menu]
    return Text(text, replies[:MAX_QUICK_REPLIES])
