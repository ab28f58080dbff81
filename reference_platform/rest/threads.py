"""Threads and their messages (CONTRACT section 3). A foreign thread answers exactly like a missing one."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from .bodies import Body, Metadata, json_body
from .errors import ApiError, not_found
from .principal import Caller

router = APIRouter(prefix="/api/threads")

UNTITLED = "New thread"
MAX_LIMIT = 100

Title = Annotated[str, Field(min_length=1, max_length=200)]
Offset = Annotated[int, Query(ge=0, le=10**9)]


class ThreadChange(Body):
    """The body of creating (``POST``) and of changing (``PUT``) a thread: what is absent stays as is."""

    title: Title | None = None
    metadata: Metadata | None = None


@router.post("", status_code=201)
async def create_thread(request: Request, principal: Caller, body: ThreadChange = json_body(ThreadChange)):
    return await request.app.state.platform.store.threads.create(principal.user.id, body.title or UNTITLED,
                                                                 body.metadata or {})


@router.get("")
async def list_threads(request: Request, principal: Caller,
                       limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20, offset: Offset = 0):
    threads, total = await request.app.state.platform.store.threads.page(principal.user.id, limit, offset)
    return {"threads": threads, "total": total, "limit": limit, "offset": offset}


@router.get("/{thread_id}")
async def get_thread(thread_id: str, request: Request, principal: Caller):
    state = request.app.state.platform
    thread = await state.store.threads.get(principal.user.id, thread_id)
    if thread is None and state.settings.faults:
        owner = await state.store.threads.owner(thread_id)
        if owner is not None and state.settings.faults.active("foreign_thread_403"):
            raise ApiError(403, "This thread belongs to another user", "FORBIDDEN")
        if owner is not None and state.settings.faults.active("rest_thread_unscoped"):
            thread = await state.store.threads.get(owner, thread_id)
    if thread is None:
        raise not_found("Thread")
    return thread


@router.put("/{thread_id}")
async def update_thread(thread_id: str, request: Request, principal: Caller,
                        body: ThreadChange = json_body(ThreadChange)):
    thread = await request.app.state.platform.store.threads.update(principal.user.id, thread_id, body.title,
                                                                   body.metadata)
    if thread is None:
        raise not_found("Thread")
    return thread


@router.delete("/{thread_id}")
async def delete_thread(thread_id: str, request: Request, principal: Caller):
    if not await request.app.state.platform.store.threads.delete(principal.user.id, thread_id):
        raise not_found("Thread")
    return Response(status_code=204)


@router.get("/{thread_id}/messages")
async def list_messages(thread_id: str, request: Request, principal: Caller,
                        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50, offset: Offset = 0):
    page = await request.app.state.platform.store.threads.messages(principal.user.id, thread_id, limit, offset)
    if page is None:
        raise not_found("Thread")
    messages, total = page
    return {"thread_id": thread_id, "messages": messages, "total": total, "limit": limit, "offset": offset}
