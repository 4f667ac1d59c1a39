"""The engine's behaviour: cancel, back, correction, re-asking, interruptions, timeouts, storage."""
from __future__ import annotations

from flows.actions import Services
from flows.engine import Engine, fit_messages
from flows.inputs import Incoming
from flows.loader import load_flow_text
from flows.messages import Card, Text
from flows.state import DbStateStore, InMemoryStateStore
from flows.surveys import InMemorySurveyStore
from tests.flows.conftest import Chat


def start_application(chat: Chat) -> None:
    chat.say("申込")
    chat.say("山田 花子")
    chat.say("やまだ はなこ")
    chat.say("090-1234-5678")
    chat.tap("2人")


# ------------------------------------------------------------------------------ outside flows


def test_unknown_text_outside_a_flow_gets_help_with_the_main_choices(chat):
    chat.say("こんにちは")
    assert "ご用件" in chat.text()
    assert {"夏まつり申込", "満足度アンケート", "登録"} <= set(chat.labels())
    chat.tap("満足度アンケート")
    assert "使い心地" in chat.text()


def test_follow_is_welcomed(chat):
    chat.send(Incoming.follow("U1"))
    assert "友だち追加ありがとうございます" in chat.text() and chat.labels()


def test_postback_trigger_passes_parameters_as_vars(chat):
    chat.postback("flow=sink&x=42")
    assert "x=42" in chat.text() and "何枚" in chat.text()


def test_a_postback_for_a_removed_flow_gets_help(chat):
    chat.postback("flow=gone")
    assert "ご用件" in chat.text()


# -------------------------------------------------------------------------------- questions


def test_every_question_offers_cancel_and_choices_as_quick_replies(chat):
    chat.say("申込")
    assert chat.labels() == ["やめる"]  # first question: nowhere to go back to
    chat.say("山田 花子")
    assert chat.labels() == ["戻る", "やめる"]
    chat.say("やまだ はなこ")
    chat.say("0164642211")
    assert chat.labels() == ["1人", "2人", "3人", "4人", "5人", "6人以上", "戻る", "やめる"]
    assert len(chat.labels()) <= 13


def test_yesno_and_date_questions_offer_buttons(chat, clock):
    chat.postback("flow=sink")
    chat.say("3")
    picker = [q for q in chat.last[-1].quick_replies if q.kind == "date"]
    assert picker and picker[0].min == "2026-04-01" and picker[0].label == "日付をえらぶ"
    chat.send(Incoming.date("U1", "2026-04-10", picker[0].data))
    assert chat.labels()[:2] == ["はい", "いいえ"]


def test_birth_date_question_offers_a_picker_that_starts_in_the_past(chat):
    chat.say("はじめる")
    chat.say("山田 花子")
    picker = next(q for q in chat.last[-1].quick_replies if q.kind == "date")
    assert picker.initial == "1960-01-01" and picker.max == "2026-04-01"
    chat.send(Incoming.date("U1", "1965-05-03", picker.data))
    assert "フリガナ" in chat.text()


def test_invalid_input_is_answered_with_why_and_the_same_question(chat):
    chat.say("はじめる")
    chat.say("山田 花子")
    chat.say("昭和65年1月1日")
    assert chat.text().startswith("昭和65年はありません（昭和は64年までです）。")
    assert "生年月日を入力してください" in chat.text()
    assert "やめる" in chat.labels()
    chat.say("昭和40年5月3日")
    chat.say("山田")
    assert "「山」はカナではありません" in chat.text() and "フリガナを入力してください" in chat.text()


def test_choice_typed_as_text_or_tapped(chat):
    chat.say("アンケート")
    chat.say("まあまあ")
    assert "下のボタンから選んでください" in chat.text() and "5 とても満足" in chat.labels()
    chat.say("とても満足")
    assert "ご意見" in chat.text() and "とばす" in chat.labels()


def test_a_button_from_an_earlier_question_is_recognised(chat):
    chat.say("アンケート")
    old = chat.last[-1].quick_replies[0].data
    chat.tap("4 満足")
    chat.postback(old)
    assert "前の質問" in chat.text() and "ご意見" in chat.text()


def test_optional_question_can_be_skipped(chat, services):
    chat.say("アンケート")
    chat.tap("3 ふつう")
    chat.tap("とばす")
    assert "ありがとうございました" in chat.text()
    answers, score = services.surveys.rows[("satisfaction_2026", "U1")]
    assert answers == {"satisfaction": "3", "comment": None} and score == 3


def test_number_date_location_image_text_and_branches(chat):
    chat.postback("flow=sink")
    chat.say("１２枚")
    assert "1から10まで" in chat.text()
    chat.say("５枚")
    chat.say("3月1日")
    assert "2026年4月1日以降" in chat.text()
    chat.say("4月10日")
    chat.say("はい")
    assert "たくさんですね" in chat.text() and chat.labels()[0] == "位置を送る"
    chat.say("役場")
    assert "位置を送る" in chat.text()
    chat.send(Incoming(user_id="U1", kind="location", location={"title": "苫前町役場", "latitude": 44.3}))
    assert [q.kind for q in chat.last[-1].quick_replies][:2] == ["camera", "camera_roll"]
    chat.send(Incoming(user_id="U1", kind="image", media_id="m1"))
    chat.say("12")
    assert "数字3桁" in chat.text()
    chat.say("123")
    assert "5枚、2026年4月10日、苫前町役場、OK" in chat.text()


def test_branch_to_an_early_end(chat):
    chat.postback("flow=sink")
    chat.say("2")
    chat.say("今日")
    chat.say("いいえ")
    assert "同意がないため終わります" in chat.text()


# ------------------------------------------------------------------------------- navigation


def test_cancel_mid_flow_changes_nothing(chat, services):
    chat.say("アンケート")
    chat.tap("5 とても満足")
    chat.say("やめる")
    assert "やめました" in chat.text() and "何も変更されていません" in chat.text()
    assert services.surveys.rows == {}
    chat.say("とても良い")
    assert "ご用件" in chat.text()  # no longer in the survey


def test_cancel_by_quick_reply_and_in_other_words(chat):
    for word in ("キャンセル", "cancel", "ＣＡＮＣＥＬ"):
        chat.say("申込")
        chat.say(word)
        assert "やめました" in chat.text()
    chat.say("申込")
    chat.tap("やめる")
    assert "やめました" in chat.text()


def test_cancel_with_nothing_running(chat):
    chat.say("やめる")
    assert "いま進めている手続きはありません" in chat.text() and chat.labels()


def test_back_goes_one_question_back(chat):
    chat.say("申込")
    chat.say("戻る")
    assert "これより前には戻れません" in chat.text() and "お名前を入力" in chat.text()
    chat.say("山田 花子")
    chat.say("やまだ はなこ")
    chat.tap("戻る")
    assert "フリガナ" in chat.text()
    chat.say("back")
    assert "お名前を入力" in chat.text()
    chat.say("山田 太郎")
    chat.say("やまだ たろう")
    chat.say("0164642211")
    chat.tap("1人")
    assert "山田 太郎" in chat.text() and "ヤマダ タロウ" in chat.text()


def test_back_from_confirm_reasks_the_last_question(chat):
    start_application(chat)
    chat.say("戻る")
    assert "何人で参加しますか" in chat.text()


def test_confirm_shows_every_answer_on_a_card(chat):
    start_application(chat)
    card = chat.last[-1]
    assert isinstance(card, Card)
    assert card.rows == [("お名前", "山田 花子"), ("フリガナ", "ヤマダ ハナコ"), ("電話番号", "090-1234-5678"),
                         ("人数", "2人")]
    assert "「山田 花子」さん、2人で申し込みます。" in card.body
    assert [b.label for b in card.buttons] == ["はい、送る", "直す"]
    assert chat.labels() == ["はい、送る", "直す", "戻る", "やめる"]


def test_correction_reasks_only_that_answer_then_returns_to_confirm(chat, services):
    start_application(chat)
    chat.say("名前を直す")
    assert chat.text().startswith("お名前を入力してください")
    chat.say("山田 はな")
    card = chat.last[-1]
    assert isinstance(card, Card) and ("お名前", "山田 はな") in card.rows and ("人数", "2人") in card.rows
    chat.tap("直す")
    assert chat.labels() == ["お名前を直す", "フリガナを直す", "電話番号を直す", "人数を直す", "戻る", "やめる"]
    chat.tap("人数を直す")
    assert "何人で参加しますか" in chat.text()
    chat.tap("3人")
    assert ("人数", "3人") in chat.last[-1].rows and ("電話番号", "090-1234-5678") in chat.last[-1].rows
    chat.tap("はい、送る")
    assert "受け付けました" in chat.text()
    answers, _ = services.surveys.rows[("natsumatsuri_2026", "U1")]
    assert answers == {"name": "山田 はな", "kana": "ヤマダ ハナコ", "phone": "09012345678", "people": "3"}


def test_correction_by_typing_the_label(chat):
    start_application(chat)
    chat.say("いいえ")
    assert "どれを直しますか" in chat.text()
    chat.say("電話番号")
    assert "電話番号を入力" in chat.text()
    chat.say("戻る")  # changed their mind: back to the confirmation, nothing changed
    assert isinstance(chat.last[-1], Card) and ("電話番号", "090-1234-5678") in chat.last[-1].rows


def test_a_corrected_answer_still_goes_through_the_branch(chat, services):
    start_application(chat)
    chat.say("人数を直す")
    chat.tap("6人以上")
    chat.tap("はい、送る")
    assert "役場（0164-64-2211）へお電話ください" in chat.text()
    assert services.surveys.rows == {}


def test_unclear_reply_at_confirm(chat):
    start_application(chat)
    chat.say("うーん")
    assert "「はい」か「直す」" in chat.text() and isinstance(chat.last[-1], Card)


# ---------------------------------------------------------------------------- interruption


def test_interrupting_flow_runs_then_the_first_resumes(chat):
    chat.say("申込")
    chat.say("山田 花子")
    chat.postback("flow=satisfaction_survey")  # a rich-menu tap mid-form
    assert "アンケートです" in chat.text()
    chat.tap("4 満足")
    chat.tap("とばす")
    assert "ありがとうございました" in chat.text()
    assert "「夏まつり申込」の続きです" in chat.text()
    assert chat.text().rstrip().endswith("例：マチノ ハナコ")  # the kana question again
    chat.say("やまだ はなこ")
    chat.say("0164642211")
    chat.tap("1人")
    assert ("お名前", "山田 花子") in chat.last[-1].rows


def test_cancelling_the_interrupting_flow_also_resumes(chat):
    chat.say("申込")
    chat.say("アンケート")
    chat.say("やめる")
    assert "やめました" in chat.text() and "「夏まつり申込」の続きです" in chat.text()
    assert "お名前を入力" in chat.text()


def test_a_drop_flow_is_not_resumed(chat, engine):
    chat.say("抽選")
    chat.say("アンケート")
    chat.tap("5 とても満足")
    chat.tap("とばす")
    assert "「抽選」は中断しました" in chat.text() and "続きです" not in chat.text()
    assert engine.store.load("U1").stack == []


def test_triggering_the_running_flow_again_continues_it(chat):
    chat.say("アンケート")
    chat.say("アンケート")  # same flow again: continue, not restart
    assert "続きから" in chat.text() and "使い心地" in chat.text()


def test_help_word_mid_flow_repeats_the_question(chat):
    chat.say("申込")
    chat.say("ヘルプ")
    assert "続きから" in chat.text() and "お名前を入力" in chat.text()


# ---------------------------------------------------------------------------- idle timeout


def test_idle_timeout_drops_the_flow_and_handles_the_new_input(chat, clock, engine):
    chat.say("申込")
    chat.say("山田 花子")
    clock.advance(minutes=31)
    chat.say("やまだ はなこ")
    assert chat.text().startswith("時間が経ったため、手続きを中断しました")
    assert "ご用件" in chat.text()  # the kana is now just unknown text
    assert engine.store.load("U1").stack == []


def test_idle_timeout_then_a_trigger_starts_fresh(chat, clock):
    chat.say("申込")
    clock.advance(hours=2)
    chat.say("アンケート")
    assert "中断しました" in chat.text() and "使い心地" in chat.text()


def test_within_the_timeout_the_flow_continues(chat, clock):
    chat.say("申込")
    clock.advance(minutes=29)
    chat.say("山田 花子")
    assert "フリガナ" in chat.text() and "中断" not in chat.text()
    clock.advance(minutes=29)
    chat.say("やまだ はなこ")
    assert "電話番号" in chat.text()


def test_each_flow_has_its_own_timeout(chat, clock):
    chat.say("抽選")  # idle_timeout_minutes: 10
    clock.advance(minutes=11)
    chat.say("はい")
    assert "中断しました" in chat.text()


# ------------------------------------------------------------------------------ persistence


def test_state_survives_a_new_engine_on_the_same_database(registry, clock, flow_db, db_services):
    first = Chat(Engine(registry, DbStateStore(flow_db), clock), db_services)
    first.say("申込")
    first.say("山田 花子")
    second = Chat(Engine(registry, DbStateStore(flow_db), clock), db_services)  # after a restart
    second.say("やまだ はなこ")
    assert "電話番号を入力" in second.text()
    second.say("0164642211")
    second.tap("2人")
    assert ("お名前", "山田 花子") in second.last[-1].rows


def test_users_do_not_share_state(engine, services):
    a, b = Chat(engine, services, "UA"), Chat(engine, services, "UB")
    a.say("申込")
    b.say("山田 花子")
    assert "ご用件" in b.text()
    a.say("山田 花子")
    assert "フリガナ" in a.text()


# ----------------------------------------------------------------------------------- English


def test_english_when_the_users_line_language_is_english(engine, services):
    chat = Chat(engine, services, lang="en")
    chat.say("hello")
    assert "Please choose what you would like to do." in chat.text()
    assert "Festival sign-up" in chat.labels()
    chat.say("festival")
    assert "Sign-up for the summer festival" in chat.text() and chat.labels() == ["Cancel"]
    chat.say("Hanako Yamada")
    chat.say("Hanako")
    assert "“H” is not kana" in chat.text()
    chat.lang = None  # later events without a language: remembered
    chat.say("はなこ")
    chat.say("090-1234-5678")
    assert chat.labels() == ["1", "2", "3", "4", "5", "6 or more", "Back", "Cancel"]
    chat.tap("2")
    assert chat.last[-1].title == "Please check" and ("Name", "Hanako Yamada") in chat.last[-1].rows
    chat.say("cancel")
    assert "Stopped. Nothing has been changed." in chat.text()


def test_english_dates_and_errors(engine, services):
    chat = Chat(engine, services, lang="en-US")
    chat.say("start")
    chat.say("Emily")
    chat.say("1965/2/30")
    assert "does not exist" in chat.text()
    chat.say("1997/4/1")
    chat.say("えみりー")
    assert chat.last[-1].rows[1] == ("Birth date", "April 1, 1997")


# ------------------------------------------------------------------------------------ actions


def test_actions_get_answers_and_services_and_set_vars(registry, clock):
    services = Services(surveys=InMemorySurveyStore(), extras={})
    chat = Chat(Engine(registry, InMemoryStateStore(), clock), services)
    chat.say("はじめる")
    chat.say("山田 花子")
    chat.say("S40.5.3")
    assert "1965年5月3日（昭和40年）" not in chat.text()  # not shown until the confirmation
    chat.say("やまだ はなこ")
    assert ("生年月日", "1965年5月3日（昭和40年）") in chat.last[-1].rows
    chat.say("はい")
    assert "山田 花子さん、登録しました。会員番号はA-0001です。" in chat.text()
    assert services.registered == [{"name": "山田 花子", "birth": "1965-05-03", "kana": "ヤマダ ハナコ"}]


def sink_until_code(chat: Chat) -> None:
    chat.postback("flow=sink")
    for text in ("2", "今日", "はい"):
        chat.say(text)
    chat.send(Incoming(user_id="U1", kind="location", location={"title": "役場"}))
    chat.say("とばす")


def test_action_error_is_shown_and_on_error_reasks(chat):
    sink_until_code(chat)
    chat.say("000")
    assert "その番号は使えません。" in chat.text() and "3桁の番号は" in chat.text()
    chat.say("123")
    assert "OK" in chat.text()


def test_ledger_errors_show_their_japanese_message(chat):
    sink_until_code(chat)
    chat.say("111")
    assert "残高が足りません。" in chat.text()


def test_a_crashing_action_ends_the_flow_politely(chat, engine, caplog):
    sink_until_code(chat)
    chat.say("999")
    assert "うまく処理できませんでした" in chat.text()
    assert engine.store.load("U1").stack == []
    assert "demo_risky" in caplog.text


def test_an_unregistered_action_says_not_ready(registry, clock, services):
    registry.flows["wip"] = load_flow_text("id: wip\ntitle: 準備中\nsteps:\n  - {type: action, action: later}\n  - {type: end}\n")
    chat = Chat(Engine(registry, InMemoryStateStore(), clock), services)
    chat.postback("flow=wip")
    assert "準備中" in chat.text()


# ---------------------------------------------------------------------------------- limits


def test_replies_fit_line_limits():
    many = [Text(str(i)) for i in range(3)] + [Card(title=str(i)) for i in range(6)]
    fitted = fit_messages(many)
    assert len(fitted) == 5 and isinstance(fitted[0], Text) and fitted[0].text == "0\n\n1\n\n2"
    assert fitted[-1].title == "5"


def test_a_flow_is_never_twice_in_the_stack(chat, engine):
    chat.say("申込")
    chat.say("山田 花子")
    chat.say("アンケート")
    chat.say("申込")  # back to the form, where it was
    assert "続きから" in chat.text() and "フリガナ" in chat.text()
    assert [f.flow for f in engine.store.load("U1").stack] == ["satisfaction_survey", "event_application"]


def test_same_flow_with_other_parameters_starts_again(chat, engine):
    chat.postback("flow=sink&x=1")
    chat.say("3")
    chat.postback("flow=sink&x=2")
    assert "x=2" in chat.text() and "何枚" in chat.text()
    assert len(engine.store.load("U1").stack) == 1


def test_back_does_not_cross_an_action(chat):
    chat.postback("flow=sink")
    for text in ("2", "今日", "はい"):
        chat.say(text)
    assert "場所を送ってください" in chat.text() and "戻る" not in chat.labels()
    chat.say("戻る")
    assert "これより前には戻れません" in chat.text()


def test_a_number_offers_its_suggestions_within_the_limit_and_takes_their_words():
    from flows.loader import FlowRegistry

    spec = load_flow_text("""
id: sets
title: セット
triggers: {keywords: [セット申込]}
steps:
  - type: action
    action: set_vars
    with: {limit: 2}
  - type: ask
    key: n
    prompt: 何セット？
    input: number
    min: 1
    max: "{vars.limit}"
    suggest:
      - {label: 1セット, value: 1}
      - {label: 2セット, value: 2}
      - {label: 3セット, value: 3}
      - {label: 全部, value: "{vars.limit}"}
  - type: end
    text: "{answers.n}セットですね。"
""")
    chat = Chat(Engine(FlowRegistry([spec]), InMemoryStateStore()), Services())
    chat.say("セット申込")
    assert chat.labels() == ["1セット", "2セット", "やめる"]  # 3 is over the limit, 全部 is 2 again
    chat.say("3")
    assert "1から2までの数" in chat.text() and "例：3" not in chat.text()
    chat.say("ぜんぶ")
    assert "2セットですね" in chat.text()
    chat.say("セット申込")
    chat.tap("1セット")
    assert "1セットですね" in chat.text()
