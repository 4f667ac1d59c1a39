"""A local stand-in for the LINE platform: the Messaging API endpoints this project uses.

Served at LINE's real paths so `LINE_API_HOST` can point at whatever app mounts the blueprint
(DESIGN.md §3: one host for the API, its data host and ID-token verification). It behaves
like LINE where our code could get it wrong: bearer-token check, single-use reply tokens,
`X-Line-Retry-Key` de-duplication (409 + `x-line-accepted-request-id`), an
`x-line-request-id` on every answer, and a 400 with LINE-style details for any payload
LINE's spec refuses (`bot.line_check`: LINE's spec files, or the SDK's models; also recorded
in `store.violations` and logged as an error, so a test or a developer cannot miss it). Faults (500, 429, slow answers) can be
injected to exercise the client's retries.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from bot import line_check

log = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[UCR][0-9a-f]{32}$")
USER_ID_PATTERN = re.compile(r"^U[0-9a-f]{32}$")
RETRY_KEY_PATHS = ("/v2/bot/message/push", "/v2/bot/message/multicast",
                   "/v2/bot/message/narrowcast", "/v2/bot/message/broadcast")
MAX_IMAGE_BYTES = 1024 * 1024
ID_TOKEN_ISSUER = "https://access.line.me"
AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."


# --------------------------------------------------------------------------- records


@dataclass
class RecordedRequest:
    """One request as the fake received it (status filled in when answered)."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    data: bytes
    query: dict[str, str]
    request_id: str
    at: float
    status: int | None = None


@dataclass
class Delivery:
    """Messages LINE accepted for delivery: to users (reply/push/multicast) or an audience."""

    kind: str
    to: tuple[str, ...]
    messages: list[dict[str, Any]]
    request_id: str
    retry_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Violation:
    """A payload LINE would have refused: our code sent something off-spec."""

    method: str
    path: str
    errors: list[str]
    body: Any


@dataclass
class _Fault:
    path_prefix: str
    remaining: int
    status: int = 500
    after_processing: bool = False
    retry_after: float | None = None
    delay: float = 0.0


@dataclass
class _IdToken:
    claims: dict[str, Any]


# --------------------------------------------------------------------------- the store


class FakeLineStore:
    """Everything the fake LINE platform knows and everything it was asked, thread-safe."""

    def __init__(self, *, reply_token_ttl: float = 60.0, strict_ids: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.reply_token_ttl = reply_token_ttl
        self.strict_ids = strict_ids  # LINE refuses ids that are not U/C/R + 32 hex digits
        self.clock = clock
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self.personas: dict[str, dict[str, Any]] = {}
        self.clear()

    def clear(self) -> None:
        """Forget requests, deliveries, state and faults (personas are kept)."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.deliveries: list[Delivery] = []
            self.violations: list[Violation] = []
            self.rich_menus: dict[str, dict[str, Any]] = {}
            self.images: dict[str, tuple[bytes, str]] = {}
            self.aliases: dict[str, str] = {}
            self.default_menu: str | None = None
            self.links: dict[str, str] = {}
            self.loading: dict[str, int] = {}
            self.contents: dict[str, tuple[bytes, str]] = {}
            self.id_tokens: dict[str, _IdToken] = {}
            self._reply_tokens: dict[str, tuple[str | None, float]] = {}
            self._retry_keys: dict[str, tuple[str, list[dict[str, str]]]] = {}
            self._faults: list[_Fault] = []

    # ---- people

    def add_persona(self, user_id: str, display_name: str, *, language: str = "ja",
                    picture_url: str | None = None, status_message: str | None = None) -> None:
        """A LINE user the fake can describe (`GET /v2/bot/profile/{userId}`)."""
        profile = {"userId": user_id, "displayName": display_name, "language": language}
        if picture_url:
            profile["pictureUrl"] = picture_url
        if status_message:
            profile["statusMessage"] = status_message
        with self._lock:
            self.personas[user_id] = profile

    def new_reply_token(self, user_id: str | None = None) -> str:
        """A reply token as a webhook event would carry it: usable once, for `reply_token_ttl`."""
        token = secrets.token_hex(16)
        with self._lock:
            self._reply_tokens[token] = (user_id, self.clock())
        return token

    def consume_reply_token(self, token: str) -> tuple[bool, str | None]:
        """(valid, user id); a token is spent by its first use, valid or not afterwards."""
        with self._lock:
            entry = self._reply_tokens.pop(token, None)
        if entry is None or self.clock() - entry[1] > self.reply_token_ttl:
            return False, None
        return True, entry[0]

    def issue_id_token(self, user_id: str, client_id: str, ttl: int = 3600, *, nonce: str | None = None) -> str:
        """A LIFF ID token that `POST /oauth2/v2.1/verify` will accept for `client_id`."""
        now = int(self.clock())
        persona = self.personas.get(user_id, {})
        claims: dict[str, Any] = {"iss": ID_TOKEN_ISSUER, "sub": user_id, "aud": client_id,
                                  "exp": now + ttl, "iat": now, "amr": ["linesso"],
                                  "name": persona.get("displayName", ""),
                                  "picture": persona.get("pictureUrl", "")}
        if nonce:
            claims["nonce"] = nonce
        token = ".".join(_b64(json.dumps(part).encode()) for part in
                         ({"typ": "JWT", "alg": "ES256", "kid": "fake-line"}, claims)) + "." + _b64(secrets.token_bytes(32))
        with self._lock:
            self.id_tokens[token] = _IdToken(claims)
        return token

    def put_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Content a user 'sent' (image, audio...), served at `/v2/bot/message/{id}/content`."""
        with self._lock:
            self.contents[message_id] = (data, content_type)

    # ---- faults

    def fail_next(self, path_prefix: str, status: int = 500, count: int = 1, *,
                  after_processing: bool = False, retry_after: float | None = None) -> None:
        """Answer the next `count` calls under `path_prefix` with `status`.

        `after_processing=True` does the work first and then fails, like a response lost on
        the way back: the case `X-Line-Retry-Key` exists for.
        """
        with self._lock:
            self._faults.append(_Fault(path_prefix, count, status, after_processing, retry_after))

    def delay_next(self, path_prefix: str, seconds: float, count: int = 1) -> None:
        """Make the next `count` calls under `path_prefix` answer `seconds` late."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, count, status=0, delay=seconds))

    def take_fault(self, path: str, *, delay: bool) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and path.startswith(fault.path_prefix) and (fault.delay > 0) == delay:
                    fault.remaining -= 1
                    return fault
        return None

    # ---- retry keys

    def accept_retry_key(self, key: str, request_id: str) -> tuple[str, list[dict[str, str]]] | None:
        """Reserve `key` for this request, or return (request id, sent messages) of its first use."""
        with self._lock:
            if key in self._retry_keys:
                return self._retry_keys[key]
            self._retry_keys[key] = (request_id, [])
            return None

    def complete_retry_key(self, key: str, sent: list[dict[str, str]]) -> None:
        with self._lock:
            request_id, _ = self._retry_keys[key]
            self._retry_keys[key] = (request_id, sent)

    def release_retry_key(self, key: str) -> None:
        with self._lock:
            self._retry_keys.pop(key, None)

    # ---- recording

    def record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    def deliver(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)

    def violation(self, violation: Violation) -> None:
        log.error("LINE payload violation: %s %s: %s", violation.method, violation.path,
                  "; ".join(violation.errors))
        with self._lock:
            self.violations.append(violation)

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. one the client gave up waiting for)."""
        with self._lock:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # ---- queries for tests

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Requests whose path starts with `path` (optionally of one method), in order."""
        with self._lock:
            return [r for r in self.requests
                    if r.path.startswith(path) and (method is None or r.method == method.upper())]

    def deliveries_to(self, user_id: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if user_id in d.to]

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """Every message delivered to this user by reply, push or multicast, in order."""
        return [m for d in self.deliveries_to(user_id) for m in d.messages]

    def menu_for(self, user_id: str) -> str | None:
        """The rich menu this user sees: their own link, else the default."""
        with self._lock:
            return self.links.get(user_id) or self.default_menu


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --------------------------------------------------------------------------- responses


def _error(status: int, message: str, details: list[dict[str, str]] | None = None,
           headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"message": message, **extra}
    if details:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _ok(body: dict[str, Any] | None = None, status: int = 200) -> Response:
    response = jsonify(body or {})
    response.status_code = status
    return response


def _details(errors: list[str]) -> list[dict[str, str]]:
    out = []
    for err in errors:
        prop, sep, msg = err.partition(": ")
        out.append({"message": msg, "property": prop} if sep else {"message": err})
    return out


def _sent(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"id": str(secrets.randbelow(10**18)), "quoteToken": secrets.token_urlsafe(24)} for _ in messages]


# --------------------------------------------------------------------------- the blueprint


def create_fake_line_blueprint(store: FakeLineStore, *, channel_access_token: str | None = None) -> Blueprint:
    """The fake Messaging API, to mount at url_prefix "" (paths start with /v2/bot/...)."""
    line_check.preload()
    bp = Blueprint("fake_line", __name__)
    _install_hooks(bp, store, channel_access_token)
    _messaging_routes(bp, store)
    _profile_routes(bp, store)
    _rich_menu_routes(bp, store)
    _rich_menu_link_routes(bp, store)
    _alias_routes(bp, store)
    _oauth_routes(bp, store)
    return bp


def _install_hooks(bp: Blueprint, store: FakeLineStore, token: str | None) -> None:
    """What every endpoint shares: recording, auth, faults, spec validation, request ids."""

    @bp.before_request
    def _before() -> Response | None:
        g.line_request_id = str(uuid.uuid4())
        store.begin()
        g.line_begun = True
        g.line_record = _record(store)
        if token is not None and not request.path.startswith("/oauth2/"):
            failure = _check_auth(token)
            if failure is not None:
                return failure
        slow = store.take_fault(request.path, delay=True)
        if slow is not None:
            time.sleep(slow.delay)
        fault = store.take_fault(request.path, delay=False)
        if fault is not None and not fault.after_processing:
            return _fault_response(fault)
        g.line_after_fault = fault
        return _validate(store)

    @bp.after_request
    def _after(response: Response) -> Response:
        fault: _Fault | None = g.pop("line_after_fault", None)
        if fault is not None and response.status_code < 400:
            response = _fault_response(fault)
        response.headers.setdefault("x-line-request-id", g.line_request_id)
        g.line_record.status = response.status_code
        return response

    @bp.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        if g.pop("line_begun", False):
            store.end()


def _record(store: FakeLineStore) -> RecordedRequest:
    data = request.get_data(cache=True)
    body = request.get_json(silent=True, cache=True) if request.is_json else None
    entry = RecordedRequest(method=request.method, path=request.path, headers=dict(request.headers),
                            json=body, data=data, query=request.args.to_dict(),
                            request_id=g.line_request_id, at=time.time())
    store.record(entry)
    return entry


def _check_auth(token: str) -> Response | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _error(401, "Authorization header required. Must follow the scheme, "
                           "'Authorization: Bearer <ACCESS TOKEN>'")
    if header.removeprefix("Bearer ") != token:
        return _error(401, AUTH_FAILED)
    return None


def _fault_response(fault: _Fault) -> Response:
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    message = "The API rate limit has been exceeded. Try again later." if fault.status == 429 else "Internal server error"
    return _error(fault.status, message, headers=headers)


def _validate(store: FakeLineStore) -> Response | None:
    """400 with LINE-style details for a body the official spec refuses; record it loudly."""
    if request.path.startswith("/oauth2/"):
        return None
    op = line_check.find_operation(request.method, request.path)
    if op is None or not op.json_body:
        return None
    body = request.get_json(silent=True, cache=True)
    if body is None and request.get_data():
        errors = ["the request body is not valid JSON"]
    else:
        errors = line_check.validate_request(request.method, request.path, body)
    if request.path in ("/v2/bot/message/push", "/v2/bot/message/multicast"):
        errors += _id_errors(store, body)
    if not errors:
        return None
    store.violation(Violation(request.method, request.path, errors, body))
    return _error(400, f"The request body has {len(errors)} error(s)", _details(errors))


def _id_errors(store: FakeLineStore, body: Any) -> list[str]:
    """LINE refuses recipients that are not real ids (a display name, an internal number...)."""
    if not store.strict_ids or not isinstance(body, dict):
        return []
    to = body.get("to")
    if isinstance(to, str) and not ID_PATTERN.match(to):
        return ["to: is not a valid user, group or room id"]
    if isinstance(to, list):
        return [f"to[{i}]: is not a valid user id" for i, uid in enumerate(to)
                if not isinstance(uid, str) or not USER_ID_PATTERN.match(uid)][:5]
    return []


def _retry_key() -> tuple[str | None, Response | None]:
    key = request.headers.get("X-Line-Retry-Key")
    if key is None:
        return None, None
    try:
        uuid.UUID(key)
    except ValueError:
        return None, _error(400, "The value for the 'X-Line-Retry-Key' header is invalid")
    return key, None


def _send_once(store: FakeLineStore, deliver: Callable[[str | None], Response],
               with_sent: bool = False) -> Response:
    """Run `deliver` unless this retry key was already accepted (then 409, as LINE does)."""
    key, bad = _retry_key()
    if bad is not None:
        return bad
    if key is None:
        return deliver(None)
    first = store.accept_retry_key(key, g.line_request_id)
    if first is not None:
        extra = {"sentMessages": first[1]} if with_sent and first[1] else {}
        return _error(409, "The retry key is already accepted",
                      headers={"x-line-accepted-request-id": first[0]}, **extra)
    try:
        response = deliver(key)
    except Exception:
        store.release_retry_key(key)
        raise
    if response.status_code >= 400:
        store.release_retry_key(key)
    else:
        store.complete_retry_key(key, (response.get_json(silent=True) or {}).get("sentMessages", []))
    return response


def _messaging_routes(bp: Blueprint, store: FakeLineStore) -> None:
    """reply, push, multicast, narrowcast, broadcast, loading animation, message content."""

    @bp.post("/v2/bot/message/reply")
    def reply() -> Response:
        body = request.get_json()
        valid, user_id = store.consume_reply_token(body["replyToken"])
        if not valid:
            return _error(400, "Invalid reply token")
        sent = _sent(body["messages"])
        store.deliver(Delivery("reply", (user_id,) if user_id else (), body["messages"], g.line_request_id,
                               extra={"replyToken": body["replyToken"]}))
        return _ok({"sentMessages": sent})

    @bp.post("/v2/bot/message/push")
    def push() -> Response:
        body = request.get_json()

        def deliver(key: str | None) -> Response:
            store.deliver(Delivery("push", (body["to"],), body["messages"], g.line_request_id, key))
            return _ok({"sentMessages": _sent(body["messages"])})
        return _send_once(store, deliver, with_sent=True)

    @bp.post("/v2/bot/message/multicast")
    def multicast() -> Response:
        body = request.get_json()

        def deliver(key: str | None) -> Response:
            store.deliver(Delivery("multicast", tuple(dict.fromkeys(body["to"])), body["messages"],
                                   g.line_request_id, key))
            return _ok()
        return _send_once(store, deliver)

    @bp.post("/v2/bot/message/narrowcast")
    def narrowcast() -> Response:
        body = request.get_json()

        def deliver(key: str | None) -> Response:
            extra = {k: body[k] for k in ("recipient", "filter", "limit") if k in body}
            store.deliver(Delivery("narrowcast", (), body["messages"], g.line_request_id, key, extra))
            return _ok(status=202)
        return _send_once(store, deliver)

    @bp.post("/v2/bot/message/broadcast")
    def broadcast() -> Response:
        body = request.get_json()

        def deliver(key: str | None) -> Response:
            store.deliver(Delivery("broadcast", (), body["messages"], g.line_request_id, key))
            return _ok()
        return _send_once(store, deliver)

    @bp.get("/v2/bot/message/progress/narrowcast")
    def narrowcast_progress() -> Response:
        request_id = request.args.get("requestId", "")
        if not any(d.kind == "narrowcast" and d.request_id == request_id for d in store.deliveries):
            return _error(404, "Not found")
        return _ok({"phase": "succeeded", "successCount": 0, "failureCount": 0, "targetCount": 0})

    for kind in ("reply", "push", "multicast", "narrowcast", "broadcast"):
        bp.add_url_rule(f"/v2/bot/message/validate/{kind}", f"validate_{kind}",
                        lambda: _ok(), methods=["POST"])

    @bp.post("/v2/bot/chat/loading/start")
    def loading() -> Response:
        body = request.get_json()
        seconds = int(body.get("loadingSeconds", 20))
        if seconds % 5:
            return _error(400, "The request body has 1 error(s)",
                          [{"message": "Must be a multiple of 5", "property": "loadingSeconds"}])
        with store._lock:
            store.loading[body["chatId"]] = seconds
        return _ok(status=202)

    @bp.get("/v2/bot/message/<message_id>/content")
    def message_content(message_id: str) -> Response:
        found = store.contents.get(message_id)
        if found is None:
            return _error(404, "Not found")
        return Response(found[0], mimetype=found[1])


def _profile_routes(bp: Blueprint, store: FakeLineStore) -> None:
    @bp.get("/v2/bot/profile/<user_id>")
    def profile(user_id: str) -> Response:
        persona = store.personas.get(user_id)
        if persona is None:
            return _error(404, "Not found")
        return _ok(persona)


def _rich_menu_routes(bp: Blueprint, store: FakeLineStore) -> None:
    """Create, validate, list, get, delete rich menus and their images."""

    @bp.post("/v2/bot/richmenu")
    def create() -> Response:
        menu_id = "richmenu-" + secrets.token_hex(16)
        menu = {"selected": False, "name": "", "chatBarText": "", "areas": [], **request.get_json()}
        with store._lock:
            store.rich_menus[menu_id] = {"richMenuId": menu_id, **menu}
        return _ok({"richMenuId": menu_id})

    @bp.post("/v2/bot/richmenu/validate")
    def validate() -> Response:
        return _ok()

    @bp.get("/v2/bot/richmenu/list")
    def list_menus() -> Response:
        with store._lock:
            return _ok({"richmenus": list(store.rich_menus.values())})

    @bp.get("/v2/bot/richmenu/<menu_id>")
    def get(menu_id: str) -> Response:
        menu = store.rich_menus.get(menu_id)
        return _ok(menu) if menu else _error(404, "Not found")

    @bp.delete("/v2/bot/richmenu/<menu_id>")
    def delete(menu_id: str) -> Response:
        with store._lock:
            if store.rich_menus.pop(menu_id, None) is None:
                return _error(404, "Not found")
            store.images.pop(menu_id, None)
            store.links = {u: m for u, m in store.links.items() if m != menu_id}
            if store.default_menu == menu_id:
                store.default_menu = None
        return _ok()

    @bp.post("/v2/bot/richmenu/<menu_id>/content")
    def upload(menu_id: str) -> Response:
        return _upload_image(store, menu_id)

    @bp.get("/v2/bot/richmenu/<menu_id>/content")
    def download(menu_id: str) -> Response:
        found = store.images.get(menu_id)
        return Response(found[0], mimetype=found[1]) if found else _error(404, "Not found")


def _upload_image(store: FakeLineStore, menu_id: str) -> Response:
    """LINE's rules: PNG or JPEG, at most 1 MB, once per menu, the menu's exact size."""
    menu = store.rich_menus.get(menu_id)
    if menu is None:
        return _error(404, "Not found")
    if request.mimetype not in ("image/png", "image/jpeg"):
        return _error(415, "Unsupported Media Type")
    data = request.get_data()
    if len(data) > MAX_IMAGE_BYTES:
        return _error(413, "Request Entity Too Large")
    if menu_id in store.images:
        return _error(400, "An image has already been uploaded to the richmenu")
    size = _image_size(data)
    expected = (menu["size"]["width"], menu["size"]["height"])
    if size is None:
        return _error(400, "The image could not be read")
    if size != expected:
        return _error(400, f"The image size {size[0]}x{size[1]} does not match the rich menu size "
                           f"{expected[0]}x{expected[1]}")
    with store._lock:
        store.images[menu_id] = (data, request.mimetype)
    return _ok()


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image  # Pillow is a project dependency; imported here to keep start-up light
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # noqa: BLE001 - any unreadable image is the caller's 400
        return None


def _rich_menu_link_routes(bp: Blueprint, store: FakeLineStore) -> None:
    """Per-user links, bulk link/unlink and the default menu."""

    @bp.post("/v2/bot/user/all/richmenu/<menu_id>")
    def set_default(menu_id: str) -> Response:
        failure = _linkable(store, menu_id)
        if failure is None:
            with store._lock:
                store.default_menu = menu_id
        return failure or _ok()

    @bp.get("/v2/bot/user/all/richmenu")
    def get_default() -> Response:
        menu_id = store.default_menu
        return _ok({"richMenuId": menu_id}) if menu_id else _error(404, "no default richmenu")

    @bp.delete("/v2/bot/user/all/richmenu")
    def cancel_default() -> Response:
        with store._lock:
            store.default_menu = None
        return _ok()

    @bp.post("/v2/bot/user/<user_id>/richmenu/<menu_id>")
    def link(user_id: str, menu_id: str) -> Response:
        failure = _linkable(store, menu_id)
        if failure is None:
            with store._lock:
                store.links[user_id] = menu_id
        return failure or _ok()

    @bp.get("/v2/bot/user/<user_id>/richmenu")
    def linked(user_id: str) -> Response:
        menu_id = store.links.get(user_id)
        return _ok({"richMenuId": menu_id}) if menu_id else _error(404, "the user has no richmenu")

    @bp.delete("/v2/bot/user/<user_id>/richmenu")
    def unlink(user_id: str) -> Response:
        with store._lock:
            store.links.pop(user_id, None)
        return _ok()

    @bp.post("/v2/bot/richmenu/bulk/link")
    def bulk_link() -> Response:
        body = request.get_json()
        failure = _linkable(store, body["richMenuId"])
        if failure is None:
            with store._lock:
                store.links.update(dict.fromkeys(body["userIds"], body["richMenuId"]))
        return failure or _ok(status=202)

    @bp.post("/v2/bot/richmenu/bulk/unlink")
    def bulk_unlink() -> Response:
        with store._lock:
            for user_id in request.get_json()["userIds"]:
                store.links.pop(user_id, None)
        return _ok(status=202)


def _linkable(store: FakeLineStore, menu_id: str) -> Response | None:
    """LINE refuses to show a menu that does not exist or has no image yet."""
    if menu_id not in store.rich_menus:
        return _error(404, "richmenu not found")
    if menu_id not in store.images:
        return _error(400, "must upload richmenu image before applying it to user")
    return None


def _alias_routes(bp: Blueprint, store: FakeLineStore) -> None:
    @bp.post("/v2/bot/richmenu/alias")
    def create_alias() -> Response:
        body = request.get_json()
        with store._lock:
            if body["richMenuAliasId"] in store.aliases:
                return _error(400, "conflict richmenu alias id")
            if body["richMenuId"] not in store.rich_menus:
                return _error(400, "richmenu not found")
            store.aliases[body["richMenuAliasId"]] = body["richMenuId"]
        return _ok()

    @bp.post("/v2/bot/richmenu/alias/<alias_id>")
    def update_alias(alias_id: str) -> Response:
        body = request.get_json()
        with store._lock:
            if alias_id not in store.aliases:
                return _error(400, "richmenu alias not found")
            if body["richMenuId"] not in store.rich_menus:
                return _error(400, "richmenu not found")
            store.aliases[alias_id] = body["richMenuId"]
        return _ok()

    @bp.get("/v2/bot/richmenu/alias/list")
    def list_aliases() -> Response:
        with store._lock:
            return _ok({"aliases": [{"richMenuAliasId": a, "richMenuId": m} for a, m in store.aliases.items()]})

    @bp.get("/v2/bot/richmenu/alias/<alias_id>")
    def get_alias(alias_id: str) -> Response:
        menu_id = store.aliases.get(alias_id)
        return _ok({"richMenuAliasId": alias_id, "richMenuId": menu_id}) if menu_id else _error(404, "Not found")

    @bp.delete("/v2/bot/richmenu/alias/<alias_id>")
    def delete_alias(alias_id: str) -> Response:
        with store._lock:
            if store.aliases.pop(alias_id, None) is None:
                return _error(400, "richmenu alias not found")
        return _ok()


def _oauth_routes(bp: Blueprint, store: FakeLineStore) -> None:
    @bp.post("/oauth2/v2.1/verify")
    def verify_id_token() -> Response:
        """LINE Login's ID-token check, as the LIFF API uses it (form fields, not JSON)."""
        token = request.form.get("id_token", "")
        client_id = request.form.get("client_id", "")
        if not token or not client_id:
            return _oauth_error("id_token and client_id are required")
        found = store.id_tokens.get(token)
        if found is None:
            return _oauth_error("Invalid IdToken.")
        claims = found.claims
        if claims["exp"] < store.clock():
            return _oauth_error("IdToken expired.")
        if claims["aud"] != client_id:
            return _oauth_error("Invalid IdToken Audience.")
        nonce = request.form.get("nonce")
        if nonce is not None and claims.get("nonce") != nonce:
            return _oauth_error("Invalid IdToken Nonce.")
        user_id = request.form.get("user_id")
        if user_id is not None and claims["sub"] != user_id:
            return _oauth_error("Invalid IdToken Subject Identifier.")
        return _ok(dict(claims))


def _oauth_error(description: str) -> Response:
    response = jsonify({"error": "invalid_request", "error_description": description})
    response.status_code = 400
    return response
