"""Threads and their messages (CONTRACT section 3). A foreign thread answers exactly like a missing one."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from .api import ApiError, current, field_object, field_str, json_object, not_found, query_int

router = APIRouter(prefix="/api/threads")

UNTITLED = "New thread"
MAX_LIMIT = 100


@router.post("")
async def create_thread(request: Request):
    principal = await current(request)
    body = await json_object(request)
    title = field_str(body, "title", required=False, min_len=1, max_len=200, default=None) or UNTITLED
    metadata = field_object(body, "metadata", default={})
    thread = await request.app.state.platform.store.threads.create(principal.user.id, title, metadata)
    return request.app.state.json_response(thread, status_code=201)


@router.get("")
async def list_threads(request: Request):
    principal = await current(request)
    limit = query_int(request, "limit", 20, 1, MAX_LIMIT)
    offset = query_int(request, "offset", 0, 0, 10**9)
    threads, total = await request.app.state.platform.store.threads.page(principal.user.id, limit, offset)
    return {"threads": threads, "total": total, "limit": limit, "offset": offset}


@router.get("/{thread_id}")
async def get_thread(thread_id: str, request: Request):
    principal = await current(request)
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
async def update_thread(thread_id: str, request: Request):
    principal = await current(request)
    body = await json_object(request)
    title = field_str(body, "title", required=False, min_len=1, max_len=200, default=None)
    metadata = field_object(body, "metadata", default=None)
    thread = await request.app.state.platform.store.threads.update(principal.user.id, thread_id, title, metadata)
    if thread is None:
        raise not_found("Thread")
    return thread


@router.delete("/{thread_id}")
async def delete_thread(thread_id: str, request: Request):
    principal = await current(request)
    if not await request.app.state.platform.store.threads.delete(principal.user.id, thread_id):
        raise not_found("Thread")
    return Response(status_code=204)


@router.get("/{thread_id}/messages")
async def list_messages(thread_id: str, request: Request):
    principal = await current(request)
    limit = query_int(request, "limit", 50, 1, MAX_LIMIT)
    offset = query_int(request, "offset", 0, 0, 10**9)
    page = await request.app.state.platform.store.threads.messages(principal.user.id, thread_id, limit, offset)
    if page is None:
        raise not_found("Thread")
    messages, total = page
    return {"thread_id": thread_id, "messages": messages, "total": total, "limit": limit, "offset": offset}
