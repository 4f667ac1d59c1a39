"""The bot's client for the LINE Messaging API, on top of the official v3 SDK.

What the SDK leaves to us (DESIGN.md §5): a time-out on every call, retries with back-off
on 429 / 5xx / network failures (and none on other 4xx), an `X-Line-Retry-Key` on every
push-type send so a retried send never arrives twice, multicast and bulk-link in chunks of
at most 500, and one reply token used once. Messages are plain LINE JSON dicts (the bot's
renderer makes them); they go through the SDK models, which check them before sending.

Logs carry operation names, statuses and LINE request ids only: never message text or user
ids (DESIGN.md §6). No Flask here: the scheduler and the CLI use this client too.
"""
from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    BroadcastRequest,
    Configuration,
    CreateRichMenuAliasRequest,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    NarrowcastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuBulkLinkRequest,
    RichMenuBulkUnlinkRequest,
    RichMenuRequest,
    ShowLoadingAnimationRequest,
    UpdateRichMenuAliasRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.messaging.rest import RESTResponse

from ledger.installation import send_key

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 500  # multicast `to` and bulk-link `userIds` per request
POOL_SIZE = 32  # kept-alive connections to LINE a process keeps: notice threads, bot workers, with room
# Keys of a client not tied to a database (tools, unit tests). Servers and staff commands give the
# client their database's installation id instead (`ledger.installation.namespace`).
RETRY_KEY_NAMESPACE = uuid.UUID("6f1c3f0e-5a43-4b7e-9a51-7d1f0c2b9e11")
_NEVER_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
T = TypeVar("T")


class LineApiError(Exception):
    """LINE refused a call, or did not answer after the last retry (status 0: no answer).

    `ambiguous` is True when an earlier attempt may have reached LINE (a time-out or a 5xx),
    so a final "already used" answer may mean our own first attempt succeeded.
    """

    def __init__(self, status: int, message: str, *, request_id: str | None = None,
                 details: list[dict[str, Any]] | None = None, ambiguous: bool = False) -> None:
        super().__init__(f"LINE API {status}: {message}")
        self.status = status
        self.message = message
        self.request_id = request_id
        self.details = details or []
        self.ambiguous = ambiguous

    @property
    def is_reply_token_error(self) -> bool:
        return self.status == 400 and "reply token" in self.message.lower()


@dataclass(frozen=True)
class SendResult:
    """How a chunked send went: `already_accepted` chunks were sent by an earlier run."""

    requests: int = 0
    accepted: int = 0
    already_accepted: int = 0
    retry_keys: tuple[str, ...] = ()
    request_ids: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Answer:
    status: int
    data: Any
    request_id: str | None


@dataclass(frozen=True)
class _Sent:
    """What `_call` reads of an answer, for calls made through the REST client directly."""

    status_code: int
    headers: Any
    data: Any = None


def retry_key_for(key: str, space: uuid.UUID = RETRY_KEY_NAMESPACE) -> str:
    """LINE wants a UUID; a domain key such as "grant-notice:123" maps to a stable one within the
    installation `space` (see `ledger.installation.send_key`, the one rule for these keys)."""
    return send_key(space, key)


def chunk_retry_key(prefix: str, index: int, space: uuid.UUID = RETRY_KEY_NAMESPACE) -> str:
    """The retry key of chunk `index` of a send: the same on every run with the same prefix."""
    return send_key(space, f"{prefix}#{index}")


def chunks(items: Sequence[T], size: int = MAX_RECIPIENTS) -> list[Sequence[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class LineClient:
    """Messaging API calls with time-outs, retries and idempotent sends."""

    def __init__(self, api_host: str, access_token: str, timeout: float = 5.0, max_retries: int = 3,
                 backoff: float = 0.2, *, max_backoff: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, retry_namespace: uuid.UUID | None = None) -> None:
        config = Configuration(host=api_host.rstrip("/"), access_token=access_token)
        config.retries = False  # urllib3 must not retry behind our back (POSTs, retry keys)
        config.connection_pool_maxsize = POOL_SIZE
        self._api_client = ApiClient(config)
        self._api = MessagingApi(self._api_client)
        self._blob = MessagingApiBlob(self._api_client)  # same host: LINE_API_HOST serves data calls too
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.retry_namespace = retry_namespace or RETRY_KEY_NAMESPACE  # this installation's (see retry_key_for)

    def close(self) -> None:
        self._api_client.close()
        self._api_client.rest_client.pool_manager.clear()

    def __enter__(self) -> LineClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ messages

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> bool:
        """True when delivered; False when LINE refused the reply token (stale or used)."""
        body = _encode_checked(ReplyMessageRequest, {"replyToken": reply_token, "messages": messages})
        try:
            self._call("reply", self._post, "/v2/bot/message/reply", body, expected=(400,))
        except LineApiError as exc:
            if not exc.is_reply_token_error:
                raise
            if exc.ambiguous:
                # An earlier attempt timed out or got a 5xx and the token is now spent: that
                # attempt most likely delivered. Pushing as well would say it twice.
                log.warning("LINE reply: token spent after an unanswered attempt; assuming delivered")
                return True
            return False
        return True

    def push(self, to: str, messages: list[dict[str, Any]], retry_key: str | None = None, *,
             notification_disabled: bool = False) -> str | None:
        """Send to one user/group/room; one retry key for all attempts. Returns LINE's request id."""
        key = retry_key_for(retry_key, self.retry_namespace) if retry_key else str(uuid.uuid4())
        body = _encode_checked(PushMessageRequest, {"to": to, "messages": messages,
                                                    "notificationDisabled": notification_disabled})
        answer = self._call("push", self._post, "/v2/bot/message/push", body,
                            x_line_retry_key=key, conflict_is_success=True)
        return answer.request_id

    def reply_or_push(self, reply_token: str | None, user_id: str,
                      messages: list[dict[str, Any]]) -> Literal["reply", "push"]:
        """Reply while the token is good (free of charge), else push the same messages."""
        if reply_token and self.reply(reply_token, messages):
            return "reply"
        log.info("LINE reply token unusable; falling back to push")
        self.push(user_id, messages)
        return "push"

    def multicast(self, user_ids: Iterable[str], messages: list[dict[str, Any]],
                  retry_key_prefix: str | None = None, *, notification_disabled: bool = False) -> SendResult:
        """Send to many users, ≤500 per request, each chunk with a key derived from the prefix.

        Run again with the same prefix and the same ids (in the same order) after a failure:
        chunks LINE already accepted answer 409 and are counted, not re-sent.
        """
        ids = list(dict.fromkeys(user_ids))
        prefix = retry_key_prefix or str(uuid.uuid4())
        answers: list[tuple[str, _Answer]] = []
        for index, chunk in enumerate(chunks(ids)):
            key = chunk_retry_key(prefix, index, self.retry_namespace)
            request = _model(MulticastRequest, {"to": list(chunk), "messages": messages,
                                                "notificationDisabled": notification_disabled})
            answers.append((key, self._call("multicast", self._api.multicast_with_http_info, request,
                                            x_line_retry_key=key, conflict_is_success=True)))
        return _send_result(answers)

    def narrowcast(self, messages: list[dict[str, Any]], *, recipient: dict[str, Any] | None = None,
                   filter: dict[str, Any] | None = None, limit: dict[str, Any] | None = None,  # noqa: A002
                   retry_key: str | None = None, notification_disabled: bool = False) -> str | None:
        """Send to an audience/demographic; returns the request id to follow its progress."""
        body: dict[str, Any] = {"messages": messages, "notificationDisabled": notification_disabled}
        body.update({k: v for k, v in (("recipient", recipient), ("filter", filter), ("limit", limit)) if v})
        key = retry_key_for(retry_key, self.retry_namespace) if retry_key else str(uuid.uuid4())
        answer = self._call("narrowcast", self._api.narrowcast_with_http_info, _model(NarrowcastRequest, body),
                            x_line_retry_key=key, conflict_is_success=True)
        return answer.request_id

    def broadcast(self, messages: list[dict[str, Any]], *, retry_key: str | None = None,
                  notification_disabled: bool = False) -> str | None:
        """Send to every friend of the account."""
        request = _model(BroadcastRequest, {"messages": messages, "notificationDisabled": notification_disabled})
        key = retry_key_for(retry_key, self.retry_namespace) if retry_key else str(uuid.uuid4())
        answer = self._call("broadcast", self._api.broadcast_with_http_info, request,
                            x_line_retry_key=key, conflict_is_success=True)
        return answer.request_id

    def get_profile(self, user_id: str) -> dict[str, Any] | None:
        """displayName, language (when the user consented), pictureUrl...; None if LINE knows no such friend."""
        try:
            answer = self._call("get_profile", self._api.get_profile_with_http_info, user_id, expected=(404,))
        except LineApiError as exc:
            if exc.status == 404:
                return None
            raise
        return answer.data.to_dict()

    def show_loading(self, user_id: str, seconds: int = 5) -> bool:
        """Best effort, no retries: a loading indicator that arrives late is worse than none."""
        seconds = min(60, max(5, -(-seconds // 5) * 5))
        request = _model(ShowLoadingAnimationRequest, {"chatId": user_id, "loadingSeconds": seconds})
        try:
            self._call("show_loading", self._api.show_loading_animation_with_http_info, request, retries=0)
        except LineApiError as exc:
            log.warning("LINE show_loading failed: status=%s", exc.status)
            return False
        return True

    def get_message_content(self, message_id: str) -> bytes:
        """The bytes of an image/video/audio/file a user sent (data host)."""
        answer = self._call("get_message_content", self._blob.get_message_content_with_http_info, message_id)
        return bytes(answer.data)

    # ------------------------------------------------------------------ rich menus

    def create_rich_menu(self, menu: dict[str, Any]) -> str:
        answer = self._call("create_rich_menu", self._api.create_rich_menu_with_http_info,
                            _model(RichMenuRequest, menu))
        return str(answer.data.rich_menu_id)

    def validate_rich_menu(self, menu: dict[str, Any]) -> None:
        """Raises LineApiError (400 with details) when LINE would refuse the menu."""
        self._call("validate_rich_menu", self._api.validate_rich_menu_object_with_http_info,
                   _model(RichMenuRequest, menu))

    def upload_rich_menu_image(self, rich_menu_id: str, image: bytes, content_type: str = "image/png") -> None:
        try:
            self._call("upload_rich_menu_image", self._blob.set_rich_menu_image_with_http_info,
                       rich_menu_id, bytes(image), _headers={"Content-Type": content_type})
        except LineApiError as exc:
            if not (exc.ambiguous and exc.status == 400 and "already" in exc.message.lower()):
                raise
            log.info("LINE upload_rich_menu_image: an unanswered attempt had already uploaded it")

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        self._call("set_default_rich_menu", self._api.set_default_rich_menu_with_http_info, rich_menu_id)

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        self._call("link_rich_menu", self._api.link_rich_menu_id_to_user_with_http_info, user_id, rich_menu_id)

    def unlink_rich_menu(self, user_id: str) -> None:
        self._call("unlink_rich_menu", self._api.unlink_rich_menu_id_from_user_with_http_info, user_id)

    def bulk_link(self, user_ids: Iterable[str], rich_menu_id: str) -> int:
        """Link many users, ≤500 per request (linking is idempotent); returns the request count."""
        parts = chunks(list(dict.fromkeys(user_ids)))
        for part in parts:
            request = _model(RichMenuBulkLinkRequest, {"richMenuId": rich_menu_id, "userIds": list(part)})
            self._call("bulk_link", self._api.link_rich_menu_id_to_users_with_http_info, request)
        return len(parts)

    def bulk_unlink(self, user_ids: Iterable[str]) -> int:
        parts = chunks(list(dict.fromkeys(user_ids)))
        for part in parts:
            request = _model(RichMenuBulkUnlinkRequest, {"userIds": list(part)})
            self._call("bulk_unlink", self._api.unlink_rich_menu_id_from_users_with_http_info, request)
        return len(parts)

    def create_or_update_alias(self, alias_id: str, rich_menu_id: str) -> None:
        """Point `alias_id` at the menu, creating the alias on first deploy."""
        update = _model(UpdateRichMenuAliasRequest, {"richMenuId": rich_menu_id})
        try:
            self._call("update_alias", self._api.update_rich_menu_alias_with_http_info, alias_id, update,
                       expected=(400, 404))
            return
        except LineApiError as exc:
            if exc.status not in (400, 404):
                raise
        create = _model(CreateRichMenuAliasRequest, {"richMenuAliasId": alias_id, "richMenuId": rich_menu_id})
        self._call("create_alias", self._api.create_rich_menu_alias_with_http_info, create)

    def delete_rich_menu_alias(self, alias_id: str) -> None:
        self._call("delete_alias", self._api.delete_rich_menu_alias_with_http_info, alias_id)

    def list_rich_menu_aliases(self) -> list[dict[str, Any]]:
        answer = self._call("list_aliases", self._api.get_rich_menu_alias_list_with_http_info)
        return [alias.to_dict() for alias in answer.data.aliases or []]

    def list_rich_menus(self) -> list[dict[str, Any]]:
        answer = self._call("list_rich_menus", self._api.get_rich_menu_list_with_http_info)
        return [menu.to_dict() for menu in answer.data.richmenus or []]

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        self._call("delete_rich_menu", self._api.delete_rich_menu_with_http_info, rich_menu_id)

    # ------------------------------------------------------------------ the retry loop

    def _post(self, path: str, body: bytes, *, _request_timeout: float,
              x_line_retry_key: str | None = None) -> _Sent:
        """POST a checked, encoded body on the SDK client's own urllib3 pool, answering with the
        SDK's exceptions.

        Replies and pushes are the bot's most frequent calls (a receipt to the payer and to the
        shop for every payment). The generated `*_with_http_info` methods validate their
        arguments with pydantic, walk the body to "sanitize" it, encode it again and build a
        response model nobody reads: together more than half of what a receipt cost the server.
        `_encode_checked` has checked the body against the SDK's request model.
        """
        headers = dict(self._api_client.default_headers)
        headers["Content-Type"] = "application/json; charset=utf-8"
        if x_line_retry_key:
            headers["X-Line-Retry-Key"] = x_line_retry_key
        raw = self._api_client.rest_client.pool_manager.request(
            "POST", self._api_client.configuration.host + path, body=body, headers=headers,
            timeout=urllib3.Timeout(total=_request_timeout))
        if not 200 <= raw.status <= 299:
            raise ApiException(http_resp=RESTResponse(raw))
        return _Sent(raw.status, raw.headers)

    def _call(self, op: str, fn: Callable[..., Any], *args: Any, conflict_is_success: bool = False,
              retries: int | None = None, expected: tuple[int, ...] = (), **kwargs: Any) -> _Answer:
        """Call `fn` with a time-out; retry 429/5xx/network failures with back-off.

        `expected` statuses are answers the caller handles (a stale reply token): logged at INFO.
        """
        attempts = 1 + (self.max_retries if retries is None else retries)
        ambiguous = False
        for attempt in range(1, attempts + 1):
            try:
                response = fn(*args, _request_timeout=self.timeout, **kwargs)
            except ApiException as exc:
                error = _api_error(exc, ambiguous)
                if exc.status == 409 and conflict_is_success:
                    accepted = _header(exc.headers, "x-line-accepted-request-id")
                    log.info("LINE %s: retry key already accepted (request_id=%s)", op, accepted)
                    return _Answer(409, None, accepted)
                delay = self._delay_after(exc, attempt)
                if delay is None or attempt == attempts:
                    level = logging.INFO if error.status in expected else logging.WARNING
                    log.log(level, "LINE %s failed: status=%s request_id=%s attempt=%d",
                            op, error.status, error.request_id, attempt)
                    raise error from exc
                ambiguous = ambiguous or exc.status >= 500
            except urllib3.exceptions.HTTPError as exc:
                ambiguous = ambiguous or not isinstance(exc, _NEVER_SENT)
                if attempt == attempts:
                    log.warning("LINE %s failed: %s after %d attempts", op, type(exc).__name__, attempt)
                    raise LineApiError(0, f"no answer from LINE ({type(exc).__name__})",
                                       ambiguous=ambiguous) from exc
                delay = self._backoff(attempt)
            else:
                request_id = _header(response.headers, "x-line-request-id")
                log.info("LINE %s: status=%s request_id=%s attempt=%d", op, response.status_code, request_id, attempt)
                return _Answer(response.status_code, response.data, request_id)
            log.info("LINE %s: attempt %d failed; retrying in %.2fs", op, attempt, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay_after(self, exc: ApiException, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        status = exc.status or 0
        if status != 429 and not 500 <= status <= 599:
            return None
        retry_after = _retry_after(exc.headers)
        if retry_after is None:
            return self._backoff(attempt)
        # Waiting longer than max_backoff would hold a worker; let the caller reschedule.
        return retry_after if retry_after <= self.max_backoff else None

    def _backoff(self, attempt: int) -> float:
        """Exponential, with jitter so many workers do not retry in step."""
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return delay * random.uniform(0.5, 1.0)


# ---------------------------------------------------------------------- helpers


def _model(cls: type[T], body: dict[str, Any]) -> T:
    """Build an SDK request model; a malformed payload fails here, before any network call."""
    try:
        model = cls.from_dict(body)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as exc:
        raise LineApiError(0, f"invalid {cls.__name__}: {_payload_problem(exc)}") from None
    if model is None:
        raise LineApiError(0, f"invalid {cls.__name__}: empty")
    return model


# Fields the SDK types as a bare `StrictStr` wherever they occur in a send (no length, pattern or
# enum check): any string there is as valid as any other, so a body's validity depends only on
# its shape with these strings blanked. tests/line/test_line_client.py guards the list.
FREE_TEXT_KEYS = frozenset({"text", "altText", "label", "displayText", "replyToken", "to"})
_SHAPES_MAX = 2048
_valid_shapes: dict[tuple[str, str], None] = {}  # insertion-ordered: the oldest go first
_shapes_lock = threading.Lock()


_FREE_TEXT = re.compile('"(' + "|".join(sorted(FREE_TEXT_KEYS)) + r')":"(?:[^"\\]|\\.)*"')


def _encode_checked(cls: type[Any], body: dict[str, Any]) -> bytes:
    """`body` as JSON, checked with the SDK's model `cls` unless a body of the same shape has
    passed before. The shape is the JSON with the free-text strings blanked: a balance card for
    any resident, on any day, has the same shape, so the SDK's pydantic models (most of the CPU
    of a reply) check it once. In JSON a key's closing quote, and only a key's, is followed by a
    colon, so the pattern cannot match inside a string. A failure is never cached and fails
    exactly as `_model` does."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    key = (cls.__name__, _FREE_TEXT.sub(r'"\1":""', text))
    if key not in _valid_shapes:
        _model(cls, body)
        with _shapes_lock:
            if len(_valid_shapes) >= _SHAPES_MAX:
                _valid_shapes.pop(next(iter(_valid_shapes)), None)
            _valid_shapes[key] = None
    return text.encode()


def _payload_problem(exc: Exception) -> str:
    """Say what is wrong without quoting the payload (it may hold a resident's message)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(".".join(map(str, e.get("loc", ()))) + ": " + str(e.get("msg", "")) for e in errors())
    text = str(exc)
    if "discriminator" in text:
        return text.split(" failed to lookup", 1)[0] + ": unknown type"
    return type(exc).__name__


def _header(headers: Any, name: str) -> str | None:
    return headers.get(name) if headers is not None else None


def _retry_after(headers: Any) -> float | None:
    value = _header(headers, "Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off


def _api_error(exc: ApiException, ambiguous: bool) -> LineApiError:
    message, details = exc.reason or "", []
    try:
        body = json.loads(exc.body) if exc.body else {}
        message, details = body.get("message", message), body.get("details", [])
    except (ValueError, TypeError, AttributeError):
        pass
    return LineApiError(exc.status or 0, str(message), request_id=_header(exc.headers, "x-line-request-id"),
                        details=details, ambiguous=ambiguous)


def _send_result(answers: list[tuple[str, _Answer]]) -> SendResult:
    return SendResult(requests=len(answers),
                      accepted=sum(1 for _, a in answers if a.status != 409),
                      already_accepted=sum(1 for _, a in answers if a.status == 409),
                      retry_keys=tuple(key for key, _ in answers),
                      request_ids=tuple(a.request_id or "" for _, a in answers))
