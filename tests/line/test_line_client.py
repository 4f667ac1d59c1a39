"""LineClient against the fake LINE server: retries, retry keys, chunking, time-outs, rich menus."""
from __future__ import annotations

import logging
import socket
import time
import uuid
from typing import Any

import pytest

from bot.line_client import LineApiError, LineClient, chunk_retry_key, retry_key_for
from tests.line.conftest import ALICE, BOB, TOKEN, FakeLine, png, user_ids

HELLO = [{"type": "text", "text": "残高は12,000円です"}]
PUSH = "/v2/bot/message/push"


def retry_keys(fake: FakeLine, path: str) -> list[str | None]:
    return [r.headers.get("X-Line-Retry-Key") for r in fake.store.requests_to(path)]


def statuses(fake: FakeLine, path: str) -> list[int | None]:
    return [r.status for r in fake.store.requests_to(path)]


class SleepLog:
    """Stands in for time.sleep: records the back-off the client asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
def quick_client(fake_line: FakeLine, sleeps: SleepLog) -> LineClient:
    return LineClient(fake_line.url, TOKEN, timeout=2.0, max_retries=3, backoff=0.5, sleep=sleeps)


# --------------------------------------------------------------------------- reply


def test_reply_delivers_once(fake_line: FakeLine, line_client: LineClient) -> None:
    token = fake_line.store.new_reply_token(ALICE)
    assert line_client.reply(token, HELLO) is True
    assert fake_line.store.messages_to(ALICE) == HELLO
    assert fake_line.store.violations == []


def test_stale_reply_token_falls_back_to_push(fake_line: FakeLine, line_client: LineClient) -> None:
    token = fake_line.store.new_reply_token(ALICE)
    assert line_client.reply(token, HELLO) is True
    assert line_client.reply_or_push(token, ALICE, [{"type": "text", "text": "二通目"}]) == "push"
    assert [m["text"] for m in fake_line.store.messages_to(ALICE)] == ["残高は12,000円です", "二通目"]
    assert [d.kind for d in fake_line.store.deliveries] == ["reply", "push"]
    assert statuses(fake_line, "/v2/bot/message/reply") == [200, 400]  # a 400 is not retried


def test_reply_or_push_prefers_the_reply(fake_line: FakeLine, line_client: LineClient) -> None:
    assert line_client.reply_or_push(fake_line.store.new_reply_token(ALICE), ALICE, HELLO) == "reply"
    assert line_client.reply_or_push(None, ALICE, HELLO) == "push"
    assert [d.kind for d in fake_line.store.deliveries] == ["reply", "push"]


def test_reply_whose_answer_was_lost_is_not_pushed_again(fake_line: FakeLine, line_client: LineClient) -> None:
    """LINE delivered, the 500 hid it, the retry finds the token spent: that is success, not a push."""
    fake_line.store.fail_next("/v2/bot/message/reply", 500, after_processing=True)
    token = fake_line.store.new_reply_token(ALICE)
    assert line_client.reply_or_push(token, ALICE, HELLO) == "reply"
    assert fake_line.store.messages_to(ALICE) == HELLO
    assert fake_line.store.requests_to(PUSH) == []


# --------------------------------------------------------------------------- push and retries


def test_push_retried_after_500s_arrives_once_with_one_retry_key(fake_line: FakeLine, quick_client: LineClient,
                                                                 sleeps: SleepLog) -> None:
    fake_line.store.fail_next(PUSH, 500, count=2)
    quick_client.push(ALICE, HELLO)
    assert statuses(fake_line, PUSH) == [500, 500, 200]
    keys = retry_keys(fake_line, PUSH)
    assert keys[0] and len(set(keys)) == 1 and uuid.UUID(keys[0])
    assert fake_line.store.messages_to(ALICE) == HELLO
    assert len(sleeps.delays) == 2 and sleeps.delays[1] > sleeps.delays[0] * 0.99  # exponential, jittered


def test_push_whose_answer_was_lost_is_not_delivered_twice(fake_line: FakeLine, line_client: LineClient) -> None:
    fake_line.store.fail_next(PUSH, 500, count=1, after_processing=True)
    line_client.push(ALICE, HELLO)
    assert statuses(fake_line, PUSH) == [500, 409]  # the 409 on the retry means "already sent": success
    assert fake_line.store.messages_to(ALICE) == HELLO


def test_push_with_a_domain_key_is_idempotent_across_calls(fake_line: FakeLine, line_client: LineClient) -> None:
    line_client.push(ALICE, HELLO, retry_key="grant-notice:42")
    line_client.push(ALICE, HELLO, retry_key="grant-notice:42")
    assert len(fake_line.store.messages_to(ALICE)) == 1
    assert retry_keys(fake_line, PUSH) == [retry_key_for("grant-notice:42")] * 2


def test_429_is_retried_and_retry_after_respected(fake_line: FakeLine, quick_client: LineClient,
                                                  sleeps: SleepLog) -> None:
    fake_line.store.fail_next(PUSH, 429, count=1, retry_after=0.25)
    quick_client.push(ALICE, HELLO)
    assert statuses(fake_line, PUSH) == [429, 200]
    assert sleeps.delays == [0.25]


def test_a_long_retry_after_gives_up_rather_than_hold_a_worker(fake_line: FakeLine, quick_client: LineClient) -> None:
    fake_line.store.fail_next(PUSH, 429, count=1, retry_after=3600)
    with pytest.raises(LineApiError) as raised:
        quick_client.push(ALICE, HELLO)
    assert raised.value.status == 429 and statuses(fake_line, PUSH) == [429]


def test_persistent_5xx_raises_after_the_last_retry(fake_line: FakeLine, quick_client: LineClient) -> None:
    fake_line.store.fail_next(PUSH, 503, count=10)
    with pytest.raises(LineApiError) as raised:
        quick_client.push(ALICE, HELLO)
    assert raised.value.status == 503 and raised.value.request_id
    assert len(fake_line.store.requests_to(PUSH)) == 4  # 1 + max_retries
    assert fake_line.store.deliveries == []


def test_400_is_not_retried(fake_line: FakeLine, quick_client: LineClient, sleeps: SleepLog) -> None:
    with pytest.raises(LineApiError) as raised:
        quick_client.push("yamada-hanako", HELLO)  # not a LINE user id: LINE says 400
    assert raised.value.status == 400 and raised.value.details
    assert len(fake_line.store.requests_to(PUSH)) == 1 and sleeps.delays == []


def test_401_is_not_retried(fake_line: FakeLine, sleeps: SleepLog) -> None:
    client = LineClient(fake_line.url, "wrong-token", backoff=0.5, sleep=sleeps)
    with pytest.raises(LineApiError) as raised:
        client.push(ALICE, HELLO)
    assert raised.value.status == 401 and len(fake_line.store.requests) == 1 and sleeps.delays == []


def test_malformed_message_fails_before_any_request(fake_line: FakeLine, line_client: LineClient) -> None:
    with pytest.raises(LineApiError) as raised:
        line_client.push(ALICE, [{"type": "text"}])
    assert raised.value.status == 0 and "text" in raised.value.message
    with pytest.raises(LineApiError) as unknown:
        line_client.push(ALICE, [{"type": "hologram", "text": "秘密の内容"}])
    assert "unknown type" in unknown.value.message and "秘密" not in str(unknown.value)
    assert fake_line.store.requests == []


# --------------------------------------------------------------------------- time-outs and network


def test_slow_answer_times_out_fast_and_is_retried(fake_line: FakeLine) -> None:
    client = LineClient(fake_line.url, TOKEN, timeout=0.25, max_retries=2, backoff=0.001)
    fake_line.store.delay_next(PUSH, 1.0)
    started = time.monotonic()
    client.push(ALICE, HELLO)
    assert time.monotonic() - started < 0.9
    keys = retry_keys(fake_line, PUSH)
    assert len(keys) == 2 and keys[0] == keys[1]
    assert fake_line.store.wait_idle(5)  # the slow first attempt finishes server-side...
    assert fake_line.store.messages_to(ALICE) == HELLO  # ...and the retry key kept it to one delivery
    client.close()


def test_every_call_carries_a_timeout(fake_line: FakeLine, line_client: LineClient,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    pool = line_client._api_client.rest_client.pool_manager  # where the SDK's calls and ours meet
    original = pool.request

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(kwargs.get("timeout"), "total", None))
        return original(*args, **kwargs)

    monkeypatch.setattr(pool, "request", spy)
    line_client.push(ALICE, HELLO)
    line_client.get_profile(ALICE)
    line_client.show_loading(ALICE)
    line_client.list_rich_menus()
    assert seen == [2.0, 2.0, 2.0, 2.0]


def test_unreachable_host_raises_after_retries(sleeps: SleepLog) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    client = LineClient(f"http://127.0.0.1:{port}", TOKEN, timeout=0.5, max_retries=2, backoff=0.5, sleep=sleeps)
    with pytest.raises(LineApiError) as raised:
        client.push(ALICE, HELLO)
    assert raised.value.status == 0 and not raised.value.ambiguous  # never reached LINE
    assert len(sleeps.delays) == 2


# --------------------------------------------------------------------------- multicast and friends


def test_multicast_chunks_with_stable_keys_and_resumes(fake_line: FakeLine, line_client: LineClient) -> None:
    ids = user_ids(1201)
    path = "/v2/bot/message/multicast"
    result = line_client.multicast(ids, HELLO, retry_key_prefix="announcement-7")
    requests = fake_line.store.requests_to(path)
    assert [len(r.json["to"]) for r in requests] == [500, 500, 201]
    keys = retry_keys(fake_line, path)
    assert len(set(keys)) == 3 and keys == [chunk_retry_key("announcement-7", i) for i in range(3)]
    assert (result.requests, result.accepted, result.already_accepted) == (3, 3, 0)
    assert all(len(fake_line.store.messages_to(u)) == 1 for u in (ids[0], ids[700], ids[1200]))

    again = line_client.multicast(ids, HELLO, retry_key_prefix="announcement-7")
    assert (again.requests, again.accepted, again.already_accepted) == (3, 0, 3)
    assert retry_keys(fake_line, path)[3:] == keys
    assert len(fake_line.store.deliveries) == 3  # nothing new delivered


def test_interrupted_multicast_resumes_where_it_stopped(fake_line: FakeLine, line_client: LineClient) -> None:
    ids = user_ids(1201)
    line_client.multicast(ids[:500], HELLO, retry_key_prefix="grant-2025-spring")  # the run that died
    result = line_client.multicast(ids, HELLO, retry_key_prefix="grant-2025-spring")
    assert (result.accepted, result.already_accepted) == (2, 1)
    assert all(len(fake_line.store.messages_to(u)) == 1 for u in ids[::100])


def test_multicast_of_nobody_sends_nothing(fake_line: FakeLine, line_client: LineClient) -> None:
    assert line_client.multicast([], HELLO).requests == 0
    assert fake_line.store.requests == []


def test_narrowcast_and_broadcast_carry_retry_keys(fake_line: FakeLine, line_client: LineClient) -> None:
    request_id = line_client.narrowcast(
        HELLO, filter={"demographic": {"type": "age", "gte": "age_65"}}, limit={"max": 100})
    line_client.broadcast(HELLO)
    assert request_id == fake_line.store.deliveries[0].request_id
    assert [d.kind for d in fake_line.store.deliveries] == ["narrowcast", "broadcast"]
    assert fake_line.store.deliveries[0].extra["limit"]["max"] == 100
    assert all(r.headers.get("X-Line-Retry-Key") for r in fake_line.store.requests)
    assert fake_line.store.violations == []


def test_profile_and_loading(fake_line: FakeLine, line_client: LineClient) -> None:
    profile = line_client.get_profile(BOB)
    assert profile is not None and profile["displayName"] == "Bob" and profile["language"] == "en"
    assert line_client.get_profile("U" + "e" * 32) is None
    assert line_client.show_loading(ALICE, seconds=7) is True
    assert fake_line.store.loading[ALICE] == 10  # LINE wants multiples of 5


def test_loading_is_best_effort_without_retries(fake_line: FakeLine, line_client: LineClient) -> None:
    fake_line.store.fail_next("/v2/bot/chat/loading/start", 500, count=5)
    assert line_client.show_loading(ALICE) is False
    assert len(fake_line.store.requests) == 1


def test_message_content_comes_from_the_same_host(fake_line: FakeLine, line_client: LineClient) -> None:
    fake_line.store.put_content("100001", b"\x89PNG...", "image/png")
    assert line_client.get_message_content("100001") == b"\x89PNG..."


def test_logs_hold_no_personal_data(fake_line: FakeLine, line_client: LineClient,
                                    caplog: pytest.LogCaptureFixture) -> None:
    fake_line.store.fail_next(PUSH, 500)
    with caplog.at_level(logging.DEBUG, logger="bot.line_client"):
        line_client.reply_or_push(fake_line.store.new_reply_token(ALICE), ALICE, HELLO)
        line_client.push(BOB, HELLO)
        line_client.get_profile(ALICE)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "bot.line_client")
    assert "request_id=" in logged
    for secret in (ALICE, BOB, "12,000", "山田"):
        assert secret not in logged


# --------------------------------------------------------------------------- rich menus


MENU = {"size": {"width": 2500, "height": 843}, "selected": True, "name": "resident", "chatBarText": "メニュー",
        "areas": [{"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
                   "action": {"type": "postback", "data": "menu=balance", "displayText": "残高"}},
                  {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
                   "action": {"type": "uri", "uri": "https://liff.line.me/1234567890-devliff/pay"}}]}


def test_rich_menu_lifecycle(fake_line: FakeLine, line_client: LineClient) -> None:
    line_client.validate_rich_menu(MENU)
    menu_id = line_client.create_rich_menu(MENU)
    line_client.upload_rich_menu_image(menu_id, png())
    line_client.create_or_update_alias("resident", menu_id)  # first deploy: created
    newer = line_client.create_rich_menu({**MENU, "name": "resident-v2"})
    line_client.upload_rich_menu_image(newer, png())
    line_client.create_or_update_alias("resident", newer)  # redeploy: updated
    assert line_client.list_rich_menu_aliases() == [{"richMenuAliasId": "resident", "richMenuId": newer}]

    line_client.set_default_rich_menu(newer)
    line_client.link_rich_menu(ALICE, menu_id)
    ids = user_ids(1201)
    assert line_client.bulk_link(ids, menu_id) == 3
    assert [len(r.json["userIds"]) for r in fake_line.store.requests_to("/v2/bot/richmenu/bulk/link")] == [500, 500, 201]
    assert fake_line.store.menu_for(ALICE) == menu_id and fake_line.store.menu_for(ids[1200]) == menu_id
    line_client.unlink_rich_menu(ALICE)
    assert fake_line.store.menu_for(ALICE) == newer  # back to the default

    listed = {m["richMenuId"]: m for m in line_client.list_rich_menus()}
    assert set(listed) == {menu_id, newer} and listed[menu_id]["chatBarText"] == "メニュー"
    line_client.delete_rich_menu(menu_id)
    assert [m["richMenuId"] for m in line_client.list_rich_menus()] == [newer]
    assert fake_line.store.violations == []


def test_image_upload_retried_after_a_lost_answer_counts_as_done(fake_line: FakeLine, line_client: LineClient) -> None:
    menu_id = line_client.create_rich_menu(MENU)
    fake_line.store.fail_next(f"/v2/bot/richmenu/{menu_id}/content", 500, after_processing=True)
    line_client.upload_rich_menu_image(menu_id, png())
    assert menu_id in fake_line.store.images


def test_linking_a_menu_without_image_is_refused(fake_line: FakeLine, line_client: LineClient) -> None:
    menu_id = line_client.create_rich_menu(MENU)
    with pytest.raises(LineApiError) as raised:
        line_client.link_rich_menu(ALICE, menu_id)
    assert raised.value.status == 400
