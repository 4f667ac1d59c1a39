"""Flow YAML is checked when it is loaded, with errors that say which file, step and what is wrong."""
from __future__ import annotations

import textwrap

import pytest

from flows.actions import ACTIONS, ActionRegistry
from flows.loader import DEFINITIONS, FlowRegistry, load_flow_text, load_flows
from flows.spec import AskStep, BranchStep, ConfirmStep, FlowSpecError


def flow(steps: str, head: str = "") -> str:
    return "id: f\ntitle: テスト\n" + textwrap.dedent(head) + "steps:\n" + textwrap.indent(textwrap.dedent(steps), "  ")


def error(text: str) -> str:
    with pytest.raises(FlowSpecError) as exc:
        load_flow_text(text, "x.yaml")
    return str(exc.value)


def test_shipped_flows_load_strictly():
    registry = load_flows(strict=True)
    assert {"satisfaction_survey", "event_application"} <= set(registry.flows)
    survey = registry.get("satisfaction_survey")
    assert survey is not None and survey.interrupt == "resume" and survey.idle_timeout_minutes == 30
    assert registry.by_keyword("アンケート") is survey
    assert registry.by_keyword("ｱﾝｹｰﾄ") is survey  # half-width kana typed on an old phone
    assert registry.by_keyword("Survey") is survey


def test_defaults_and_ids():
    spec = load_flow_text(flow("""
        - type: ask
          key: name
          prompt: お名前は？
        - type: end
    """))
    ask = spec.first
    assert isinstance(ask, AskStep) and ask.id == "name" and ask.input == "text" and ask.next == "end_2"
    assert spec.interrupt == "resume" and spec.idle_timeout_minutes == 30 and spec.postback


def test_unknown_step_type():
    msg = error(flow("- type: asq\n  key: a\n  prompt: p\n- type: end\n"))
    assert "x.yaml" in msg and "unknown step type 'asq'" in msg and "ask" in msg


def test_missing_next_on_the_last_step():
    msg = error(flow("- type: ask\n  key: a\n  prompt: p\n"))
    assert "step 'a'" in msg and "missing `next`" in msg


def test_duplicate_step_ids():
    msg = error(flow("- type: ask\n  key: a\n  prompt: p\n- type: ask\n  key: a\n  prompt: q\n- type: end\n"))
    assert "duplicate step id 'a'" in msg


def test_next_to_an_unknown_step():
    msg = error(flow("- type: say\n  text: hi\n  next: nowhere\n- type: end\n"))
    assert "unknown step 'nowhere'" in msg


def test_typo_in_a_key_is_caught():
    msg = error(flow("- type: ask\n  key: a\n  promt: p\n- type: end\n"))
    assert "unknown key(s) promt" in msg


def test_unknown_input_type():
    assert "unknown input 'kanna'" in error(flow("- type: ask\n  key: a\n  prompt: p\n  input: kanna\n- type: end\n"))


def test_choice_rules():
    assert "needs a list of `choices`" in error(flow("- type: ask\n  key: a\n  prompt: p\n  input: choice\n- type: end\n"))
    many = "\n".join(f"    - {i}" for i in range(12))
    assert "at most 11 choices" in error(flow(f"- type: ask\n  key: a\n  prompt: p\n  input: choice\n  choices:\n{many}\n- type: end\n"))
    long = "    - とてもとてもとてもとても長い選択肢のラベルです"
    assert "longer than 20" in error(flow(f"- type: ask\n  key: a\n  prompt: p\n  input: choice\n  choices:\n{long}\n- type: end\n"))
    assert "same value" in error(flow("- type: ask\n  key: a\n  prompt: p\n  input: choice\n  choices: [1, 1]\n- type: end\n"))


def test_branch_needs_well_formed_conditions():
    msg = error(flow("- type: branch\n  cases:\n    - when: {answer: a, bigger: 3}\n      goto: e\n- id: e\n  type: end\n"))
    assert "`when` needs" in msg
    spec = load_flow_text(flow("- type: branch\n  cases:\n    - when: {var: x, equals: 1}\n      goto: e\n  default: e\n- id: e\n  type: end\n"))
    branch = spec.first
    assert isinstance(branch, BranchStep) and branch.next == "e" and branch.cases[0].when.source == "vars"


def test_confirm_fields_must_be_answers():
    msg = error(flow("- type: ask\n  key: a\n  prompt: p\n- type: confirm\n  fields: [a, b]\n- type: end\n"))
    assert "unknown answers ['b']" in msg
    spec = load_flow_text(flow("- type: ask\n  key: a\n  prompt: p\n- type: confirm\n  fields: [a]\n- type: end\n"))
    assert isinstance(spec.steps[1], ConfirmStep)


def test_flow_level_checks():
    assert "`id` must be" in error("id: Bad-Id\ntitle: t\nsteps: [{type: end}]\n")
    assert "`title`" in error("id: f\nsteps: [{type: end}]\n")
    assert "interrupt" in error("id: f\ntitle: t\ninterrupt: pause\nsteps: [{type: end}]\n")
    assert "idle_timeout_minutes" in error("id: f\ntitle: t\nidle_timeout_minutes: 0\nsteps: [{type: end}]\n")
    assert "non-empty list" in error("id: f\ntitle: t\nsteps: []\n")
    assert "not valid YAML" in error("id: f\ntitle: {ja: 何？, en: What?}\n")


def test_texts_may_be_bilingual_and_unquoted_commas_are_explained():
    msg = error(flow("- type: say\n  text: {ja: はい, en: Yes, please}\n- type: end\n"))
    assert "quote texts" in msg
    spec = load_flow_text(flow("- type: say\n  text: {ja: はい, en: 'Yes, please'}\n- type: end\n"))
    assert spec.first.text == {"ja": "はい", "en": "Yes, please"}


def test_unregistered_actions_fail_only_when_strict(tmp_path):
    (tmp_path / "a.yaml").write_text(flow("- type: action\n  action: nobody_wrote_this\n- type: end\n"), encoding="utf-8")
    loose = load_flows(tmp_path)
    assert "f" in loose.flows
    with pytest.raises(FlowSpecError) as exc:
        load_flows(tmp_path, strict=True)
    assert "a.yaml" in str(exc.value) and "nobody_wrote_this" in str(exc.value)


def test_flows_across_files_must_not_clash(tmp_path):
    one = load_flow_text("id: a\ntitle: A\ntriggers: {keywords: [残高]}\nsteps: [{type: end}]\n", "a.yaml")
    two = load_flow_text("id: b\ntitle: B\ntriggers: {keywords: [ざんだか, 残高]}\nsteps: [{type: end}]\n", "b.yaml")
    same = load_flow_text("id: a\ntitle: A2\nsteps: [{type: end}]\n", "c.yaml")
    with pytest.raises(FlowSpecError, match="keyword '残高' already starts flow 'a'"):
        FlowRegistry([one, two])
    with pytest.raises(FlowSpecError, match="flow id 'a' is also used by a.yaml"):
        FlowRegistry([one, same])


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(FlowSpecError, match="no such file or folder"):
        load_flows(tmp_path / "nope")


def test_action_registry():
    registry = ActionRegistry()
    registry.register("a", lambda ctx: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", lambda ctx: None)
    child = registry.child()
    assert "a" in child and child.missing(["a", "b"]) == ["b"]
    assert {"save_survey", "check_survey", "set_vars"} <= ACTIONS.names()
    with pytest.raises(LookupError, match="no action named 'zzz'"):
        ACTIONS.get("zzz")


def test_definitions_folder_is_where_staff_drop_files():
    assert (DEFINITIONS / "event_application.yaml").is_file()


def test_yaml_11_surprises_do_not_reach_flows():
    spec = load_flow_text(flow("""
        - type: ask
          key: a
          prompt: p
          input: choice
          choices:
            - {value: no, label: いいえ}
            - {value: 0120, label: フリーダイヤル}
        - type: end
    """))
    assert [c.value for c in spec.first.choices] == ["no", "0120"]


def test_an_optional_choice_keeps_room_for_skip():
    eleven = "\n".join(f"    - {i}" for i in range(11))
    assert "room for 10 choices" in error(flow(f"- type: ask\n  key: a\n  prompt: p\n  input: choice\n  optional: true\n  choices:\n{eleven}\n- type: end\n"))


def test_rich_menu_actions_start_flows_and_must_be_unique():
    one = load_flow_text("id: a\ntitle: A\ntriggers: {actions: [register]}\nsteps: [{type: end}]\n", "a.yaml")
    two = load_flow_text("id: b\ntitle: B\ntriggers: {actions: register}\nsteps: [{type: end}]\n", "b.yaml")
    assert FlowRegistry([one]).by_action("register") is one
    with pytest.raises(FlowSpecError, match="postback action 'register' already starts flow 'a'"):
        FlowRegistry([one, two])


def test_number_bounds_and_suggestions_may_name_vars():
    spec = load_flow_text(flow("""
        - type: ask
          key: n
          prompt: 何個？
          input: number
          max: "{vars.limit}"
          suggest:
            - {label: 1個, value: 1}
            - {label: 全部, value: "{vars.limit}"}
        - type: end
    """))
    ask = spec.ask_for("n")
    assert ask.max == "{vars.limit}" and [c.value for c in ask.suggest] == ["1", "{vars.limit}"]


@pytest.mark.parametrize(("body", "says"), [
    ('input: number\n  max: "{limit}"', "whole number"),
    ("input: text\n  suggest: [{label: a, value: 1}]", "only goes with `input: number`"),
    ("input: number\n  suggest: [{label: a, value: many}]", "whole number"),
    ("input: number\n  suggest: [{label: a}]", "{label: ..., value: ...}"),
])
def test_wrong_suggestions_are_named(body, says):
    assert says in error(flow(f"- type: ask\n  key: n\n  prompt: 何個？\n  {body}\n- type: end\n"))
