"""The chat WebSocket (CONTRACT section 4): handshake credentials, frames, errors, delivery."""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from . import netra2025
from .rest.principal import bearer_token
from .strict_json import strict_json
from .clock import iso, utcnow
from .frames import error, frame, message_id
from .ids import new_id
from .variations import Variations, plain_money

log = logging.getLogger("reference_platform.ws")
router = APIRouter()

ENVELOPE_KEYS = ("run_id", "thread_id", "agent_name", "tool_name")
CLIENT_TYPES = ("ping", "start_agent", "user_message", "stop_agent", "resume_run", "get_thread")
CLOSE_POLICY, CLOSE_TOO_BIG = 1008, 1009


def render(canonical: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The frame as the configured dialect puts it on the wire."""
    if dialect == netra2025.NAME:
        return netra2025.render(canonical)
    if dialect != "netra":
        return canonical
    out = {k: v for k, v in canonical.items() if k != "data"}
    if canonical["type"] == "connection_established":
        return {"type": "system_message", "message_id": canonical["message_id"], "timestamp": canonical["timestamp"],
                "data": {"event": "connection_established", **canonical["data"]}}
    out["payload"] = canonical["data"]
    return out


def vary(canonical: dict[str, Any], variations: Variations) -> dict[str, Any]:
    """The frame after the frame variations that are switched on (the default platform: unchanged)."""
    if not variations:
        return canonical
    out, data = dict(canonical), dict(canonical.get("data") or {})
    for key, holder in (("timestamp", out), ("server_time", data)):
        stamp = holder.get(key)
        if isinstance(stamp, str) and stamp.endswith("Z"):
            if variations.active("timestamps_whole_seconds") and holder is out:
                stamp = stamp.split(".")[0].rstrip("Z") + "Z"
            if variations.active("timestamps_offset"):
                stamp = stamp[:-1] + "+00:00"
            holder[key] = stamp
    if out["type"] == "error":
        sent = [str(data[k]) for k in ("thread_id", "run_id") if isinstance(data.get(k), str)]
        if variations.active("errors_reworded"):
            data["message"] = f"Sorry, that did not work: {str(data.get('message', '')).lower()}"
        if variations.active("errors_echo_input") and sent:
            data["message"] = f"{data.get('message')} (you sent {', '.join(sent)})"
        if variations.active("error_extra_fields"):
            data["help"] = "https://docs.example.com/errors#" + str(data.get("code", "")).lower()
    if variations.active("money_plain_numbers"):
        data = plain_money(data)
    if variations.active("extra_frame_fields"):
        out["x_server"] = "reference-platform"
        data["x_region"] = "eu-west-1"
    if "data" in canonical:  # a frame without details (netra-2025's handshake frames) gets none
        out["data"] = data
    return out


class Connection:
    """One open socket: a send queue drained by one writer task, so frames never interleave."""

    def __init__(self, hub: "Hub", ws: WebSocket, user_id: str, claims: dict[str, Any] | None, dialect: str,
                 variations: Variations | None = None):
        self.variations = variations or Variations.none()
        self.id = new_id("conn", self.variations.active("uuid_ids"), digits=16)
        self.hub, self.ws, self.user_id, self.claims, self.dialect = hub, ws, user_id, claims, dialect
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.delivered: dict[str, int] = {}  # run id -> index of the last frame queued for this socket
        self.open = True
        self.last_sent = time.monotonic()
        self.offer: netra2025.Offer | None = None  # netra-2025: what the handshake offered

    def send(self, canonical: dict[str, Any]) -> None:
        if self.open:
            self.queue.put_nowait(canonical)

    def deliver(self, run, index: int) -> None:
        """Queues frame ``index`` of ``run`` unless this socket already has it (never twice)."""
        if self.open and index > self.delivered.get(run.id, -1):
            self.delivered[run.id] = index
            self.queue.put_nowait(run.frames[index])

    def replay(self, run, start: int) -> None:
        """Queues the frames of ``run`` from index ``start`` on, but those this socket already has."""
        self.delivered[run.id] = max(self.delivered.get(run.id, -1), start - 1)
        for index in range(start, len(run.frames)):
            self.deliver(run, index)

    async def writer(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                if item is None:
                    return
                await self.ws.send_text(json.dumps(render(vary(item, self.variations), self.dialect)))
                self.last_sent = time.monotonic()
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.open = False

    async def heartbeat(self, interval: float) -> None:
        while self.open:
            await asyncio.sleep(max(0.05, interval - (time.monotonic() - self.last_sent)))
            if self.open and time.monotonic() - self.last_sent >= interval and self.queue.empty():
                self.send(frame("heartbeat", {"server_time": iso(utcnow())}))
                self.last_sent = time.monotonic()

    async def close(self, code: int, reason: str = "") -> None:
        self.open = False
        self.queue.put_nowait(None)
        if self.ws.application_state == WebSocketState.CONNECTED:
            try:
                await self.ws.close(code=code, reason=reason)
            except (RuntimeError, OSError):
                pass


class Hub:
    """Open connections by user."""

    def __init__(self):
        self.by_user: dict[str, set[Connection]] = {}

    def add(self, conn: Connection) -> None:
        self.by_user.setdefault(conn.user_id, set()).add(conn)

    def remove(self, conn: Connection) -> None:
        conns = self.by_user.get(conn.user_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                self.by_user.pop(conn.user_id, None)

    def everyone(self) -> list[Connection]:
        return [c for conns in self.by_user.values() for c in conns if c.open]

    def of(self, user_id: str) -> list[Connection]:
        return [c for c in self.by_user.get(user_id, ()) if c.open]

    async def close_all(self) -> None:
        for conns in list(self.by_user.values()):
            for conn in list(conns):
                await conn.close(1001, "server shutting down")


# ---- handshake ----------------------------------------------------------------------------
def _subprotocol_token(ws: WebSocket, dialect: str,
                       variations: Variations | None = None) -> tuple[str | None, str | None]:
    """(entry, jwt) of the first ``jwt.<base64url>`` subprotocol entry; (None, None) when absent."""
    if dialect == netra2025.NAME:
        last = variations is not None and variations.active("subprotocol_echo_last")
        return netra2025.subprotocol_token(list(ws.scope.get("subprotocols") or []), last=last)
    for entry in ws.scope.get("subprotocols") or []:
        if entry.startswith("jwt."):
            encoded = entry[4:]
            try:
                token = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
            except (binascii.Error, ValueError):
                return entry, ""
            return entry, token
    return None, None


async def authenticate(state, ws: WebSocket) -> tuple[Any, dict | None, str | None] | str:
    """((user, claims, subprotocol) or a refusal reason. The first credential form present decides."""
    token = bearer_token(ws.headers)
    subprotocol = None
    if token is None:
        subprotocol, token = _subprotocol_token(ws, state.settings.dialect, state.settings.variations)
    if token is None:
        token = ws.query_params.get("token")
    if token is None and "ticket" in ws.query_params:
        user_id = await state.store.tickets.redeem(ws.query_params["ticket"])
        if user_id is None:
            return "ticket is unknown, expired or already used"
        user = await state.store.accounts.user_by_id(user_id)
        return (user, None, None) if user else "ticket's user no longer exists"
    if token is None:
        return "no credentials"
    if not token:
        return "malformed credentials"
    result = await state.check_token(token, "access")
    if isinstance(result, str):
        return result
    user, claims = result
    return user, claims, subprotocol


async def refuse(ws: WebSocket, dialect: str, reason: str) -> None:
    if dialect in ("netra", netra2025.NAME):
        await ws.accept()
        await ws.send_text(json.dumps({"type": "error_message", "error_code": "AUTH_FAILED",
                                       "error": "Authentication failed", "details": reason,
                                       "timestamp": iso(utcnow())}))
        await ws.close(code=CLOSE_POLICY, reason="Authentication failed")
    else:
        await ws.close(code=CLOSE_POLICY)  # before accept: the server answers the handshake with HTTP 403


@router.websocket("/ws")
@router.websocket("/api/v1/websocket")
async def websocket_endpoint(ws: WebSocket):
    state = ws.app.state.platform
    settings = state.settings
    auth = await authenticate(state, ws)
    if isinstance(auth, str):
        await refuse(ws, settings.dialect, auth)
        return
    user, claims, subprotocol = auth
    await ws.accept(subprotocol=subprotocol)
    conn = Connection(state.hub, ws, user.id, claims, settings.dialect, settings.variations)
    heartbeat_s = 1 if settings.variations.active("heartbeat_1s") else settings.heartbeat_interval_s
    writer = asyncio.create_task(conn.writer())
    beat = asyncio.create_task(conn.heartbeat(heartbeat_s))
    state.hub.add(conn)
    conn.send(frame("connection_established", {
        "connection_id": conn.id, "user_id": user.id, "server_time": iso(utcnow()),
        "heartbeat_interval_s": heartbeat_s, "max_message_bytes": settings.max_message_bytes}))
    if settings.dialect == netra2025.NAME:
        conn.offer = netra2025.Offer(plain_uuids=settings.variations.active("uuid_ids"))
        if settings.variations.active("offered_thread_created_early"):
            await state.store.threads.create(user.id, "New thread", {}, thread_id=conn.offer.thread_id)
            conn.offer.thread_created = True
        conn.send({**conn.offer.response(iso(utcnow())), "message_id": message_id()})
    try:
        await receive_loop(state, conn, user)
    finally:
        conn.open = False
        state.hub.remove(conn)
        beat.cancel()
        conn.queue.put_nowait(None)
        try:
            await asyncio.wait_for(writer, timeout=5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            writer.cancel()


async def receive_loop(state, conn: Connection, user) -> None:
    settings = state.settings
    while True:
        message = await conn.ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        text, raw = message.get("text"), message.get("bytes")
        size = len(text.encode("utf-8", "surrogatepass")) if text is not None else len(raw or b"")
        if size > settings.max_message_bytes and not settings.faults.active("oversize_frames_accepted"):
            await conn.close(CLOSE_TOO_BIG, "message too big")
            return
        if conn.claims is not None and conn.claims["exp"] <= time.time():
            await conn.close(CLOSE_POLICY, "token expired")
            return
        if text is None:
            try:
                text = (raw or b"").decode("utf-8")
            except UnicodeDecodeError:
                conn.send(error("INVALID_JSON", "frame is not UTF-8 text"))
                continue
        await handle_frame(state, conn, user, text)


async def handle_frame(state, conn: Connection, user, text: str) -> None:
    try:
        body = strict_json(text)
    except ValueError:
        if state.settings.faults.active("invalid_json_closes_socket"):
            await conn.close(1007, "invalid JSON")
            return
        conn.send(error("INVALID_JSON", "frame is not valid JSON"))
        return
    if not isinstance(body, dict):
        conn.send(error("INVALID_JSON", "frame must be a JSON object"))
        return
    kind = body.get("type")
    if kind == netra2025.HANDSHAKE_ACK and conn.offer is not None:
        await on_handshake_ack(conn, {k: v for k, v in body.items() if k != "type"})
        return
    if kind not in CLIENT_TYPES:
        conn.send(error("UNKNOWN_MESSAGE_TYPE", f"unknown message type {str(kind)[:64]!r}",
                        supported=list(CLIENT_TYPES)))
        return
    if "payload" in body:
        payload = body["payload"]
        if not isinstance(payload, dict):
            conn.send(error("INVALID_PAYLOAD", "payload must be an object", request_type=kind))
            return
    else:
        payload = {k: v for k, v in body.items() if k != "type"}
    await DISPATCH[kind](state, conn, user, payload)


async def on_ping(state, conn, user, payload) -> None:
    data: dict[str, Any] = {"server_time": iso(utcnow())}
    if "nonce" in payload:
        nonce = payload["nonce"]
        if not isinstance(nonce, (str, int, float)) or isinstance(nonce, bool) or len(str(nonce)) > 256:
            conn.send(error("INVALID_PAYLOAD", "nonce must be a string or number up to 256 characters",
                            request_type="ping"))
            return
        data["nonce"] = nonce
    conn.send(frame("pong", data))


async def on_start(state, conn, user, payload) -> None:
    refusal = await state.runs.start(user, payload, default_agent=None, offer=conn.offer)
    if refusal:
        conn.send(refusal)


async def on_user_message(state, conn, user, payload) -> None:
    content = payload.get("content")
    translated = {"user_request": content, "agent": "supervisor"}
    if "thread_id" in payload:
        translated["thread_id"] = payload["thread_id"]
    client_run_id = None
    if conn.offer is not None and state.settings.variations.active("client_run_id_adopted"):
        client_run_id = payload.get("run_id")  # netra-2025: Netra's client labels its message (N25-7)
    refusal = await state.runs.start(user, translated, default_agent="supervisor", field_name="content",
                                     request_type="user_message", offer=conn.offer, client_run_id=client_run_id)
    if refusal:
        conn.send(refusal)


async def on_handshake_ack(conn: Connection, body: dict[str, Any]) -> None:
    """netra-2025: the client echoes the offered thread id; the server confirms with handshake_complete."""
    if body.get("thread_id") != conn.offer.thread_id:
        conn.send(error("INVALID_PAYLOAD", "handshake_acknowledged must echo the offered thread_id",
                        request_type=netra2025.HANDSHAKE_ACK))
        return
    conn.offer.acknowledged = True
    conn.send({"type": "handshake_complete", "message_id": message_id(), "timestamp": iso(utcnow()),
               "thread_id": conn.offer.thread_id})


async def on_stop(state, conn, user, payload) -> None:
    run_id = payload.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        conn.send(error("INVALID_PAYLOAD", "run_id must be a non-empty string", request_type="stop_agent"))
        return
    if not state.runs.stop(user.id, run_id):
        conn.send(error("RUN_NOT_FOUND", "no such run", run_id=run_id))


async def on_resume(state, conn, user, payload) -> None:
    run_id, last = payload.get("run_id"), payload.get("last_message_id")
    if not isinstance(run_id, str) or not run_id or (last is not None and not isinstance(last, str)):
        conn.send(error("INVALID_PAYLOAD", "run_id must be a string and last_message_id a string",
                        request_type="resume_run"))
        return
    if not state.runs.resume(conn, user.id, run_id, last):
        conn.send(error("RUN_NOT_FOUND", "no such run", run_id=run_id))


async def on_get_thread(state, conn, user, payload) -> None:
    thread_id = payload.get("thread_id")
    if not isinstance(thread_id, str) or not thread_id:
        conn.send(error("INVALID_PAYLOAD", "thread_id must be a non-empty string", request_type="get_thread"))
        return
    owner = user.id
    if state.settings.faults.active("chat_thread_unscoped"):
        owner = await state.store.threads.owner(thread_id) or user.id
    thread = await state.store.threads.get(owner, thread_id)
    if thread is None:
        conn.send(error("THREAD_NOT_FOUND", "thread not found", thread_id=thread_id))
        return
    page = await state.store.threads.messages(owner, thread_id, 100, 0)
    conn.send(frame("thread_data", {"thread": thread, "messages": page[0] if page else []}))


DISPATCH = {"ping": on_ping, "start_agent": on_start, "user_message": on_user_message, "stop_agent": on_stop,
            "resume_run": on_resume, "get_thread": on_get_thread}
