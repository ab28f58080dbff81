"""Storage round trips, and that everything survives a restart on the same SQLite file."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from platform_kit import PASSWORD, Api, base_env, open_session, sqlite_url, unique_email, week_of_usage
from reference_platform.config import Settings
from reference_platform.domain import UsageRecord
from reference_platform.server import EmbeddedPlatform
from reference_platform.clock import utcnow
from reference_platform.storage import EmailTaken, Storage


def run(coro):
    return asyncio.run(coro)


async def open_store(url: str) -> Storage:
    store = Storage(url)
    await store.create_schema()
    return store


@pytest.fixture
def url(tmp_path) -> str:
    return sqlite_url(tmp_path / "store.db")


def record(**changes) -> UsageRecord:
    values = dict(timestamp=datetime(2026, 11, 1, 12, 30, tzinfo=timezone.utc), model="gpt-4o", input_tokens=1000,
                  output_tokens=200, task="classification", requests=10, shared_prefix_tokens=100, batchable=True,
                  latency_ms=123.5)
    values.update(changes)
    return UsageRecord(**values)


# ---- round trips -------------------------------------------------------------------------
def test_users(url):
    async def main():
        store = await open_store(url)
        try:
            user = await store.accounts.create_user("Ada@Example.com", "Ada", "$argon2id$hash", ["read", "chat"])
            assert user.email == "ada@example.com" and user.permissions == ["read", "chat"]
            assert user.created_at.tzinfo is not None and not user.oauth_simulated
            assert await store.accounts.user_by_email("ADA@example.COM") == user
            assert await store.accounts.user_by_id(user.id) == user
            assert await store.accounts.user_by_id("nobody") is None and await store.accounts.user_by_email("x@y.zz") is None
            with pytest.raises(EmailTaken):
                await store.accounts.create_user("ada@EXAMPLE.com", "Other", None, [])
            sim = await store.accounts.create_user("sim@example.com", "Sim", None, ["read"], oauth_simulated=True)
            assert sim.oauth_simulated and sim.password_hash is None
            assert "password_hash" not in sim.public()
        finally:
            await store.close()

    run(main())


def test_refresh_tokens_are_single_use_and_die_with_their_login(url):
    async def main():
        store = await open_store(url)
        try:
            user = await store.accounts.create_user("r@example.com", "R", None, [])
            login = await store.accounts.create_login(user.id)
            later = utcnow() + timedelta(days=1)
            await store.accounts.add_refresh_token("jti-1", user.id, login, later)
            used = await store.accounts.use_refresh_token("jti-1")
            assert used is not None and used.login_id == login and used.user_id == user.id
            assert await store.accounts.use_refresh_token("jti-1") is None
            assert await store.accounts.use_refresh_token("unknown") is None

            await store.accounts.add_refresh_token("jti-expired", user.id, login, utcnow() - timedelta(seconds=1))
            assert await store.accounts.use_refresh_token("jti-expired") is None

            await store.accounts.add_refresh_token("jti-2", user.id, login, later)
            other_login = await store.accounts.create_login(user.id)
            await store.accounts.add_refresh_token("jti-3", user.id, other_login, later)
            assert not await store.accounts.is_revoked("access-jti")
            await store.accounts.revoke_login(login, "access-jti", later)
            await store.accounts.revoke_login(login, "access-jti", later)  # twice is harmless
            assert await store.accounts.is_revoked("access-jti")
            assert await store.accounts.use_refresh_token("jti-2") is None
            assert await store.accounts.use_refresh_token("jti-3") is not None  # another login is untouched
        finally:
            await store.close()

    run(main())


def test_tickets_redeem_once_and_expire(url):
    async def main():
        store = await open_store(url)
        try:
            user = await store.accounts.create_user("t@example.com", "T", None, [])
            ticket = await store.tickets.create(user.id, utcnow() + timedelta(minutes=5))
            assert ticket.startswith("tkt_")
            assert await store.tickets.redeem(ticket) == user.id
            assert await store.tickets.redeem(ticket) is None
            stale = await store.tickets.create(user.id, utcnow() - timedelta(seconds=1))
            assert await store.tickets.redeem(stale) is None
            assert await store.tickets.redeem("tkt_unknown") is None
        finally:
            await store.close()

    run(main())


def test_threads_and_messages_are_scoped_by_owner(url):
    async def main():
        store = await open_store(url)
        try:
            owner = await store.accounts.create_user("o@example.com", "O", None, [])
            other = await store.accounts.create_user("x@example.com", "X", None, [])
            first = await store.threads.create(owner.id, "first", {"a": [1, 2]})
            second = await store.threads.create(owner.id, "second", {})
            assert first["metadata"] == {"a": [1, 2]} and first["message_count"] == 0
            assert first["created_at"].endswith("Z")

            threads, total = await store.threads.page(owner.id, 10, 0)
            assert total == 2 and [t["id"] for t in threads] == [second["id"], first["id"]]
            assert await store.threads.page(other.id, 10, 0) == ([], 0)
            assert await store.threads.get(other.id, first["id"]) is None
            assert await store.threads.update(other.id, first["id"], "stolen", None) is None
            assert await store.threads.delete(other.id, first["id"]) is False
            assert await store.threads.add_message(other.id, first["id"], "user", "hi") is None
            assert await store.threads.messages(other.id, first["id"], 10, 0) is None

            m1 = await store.threads.add_message(owner.id, first["id"], "user", "question", run_id="run_1",
                                         metadata={"agent": "supervisor"})
            m2 = await store.threads.add_message(owner.id, first["id"], "assistant", "answer", run_id="run_1",
                                         metadata={"result": {"summary": "answer", "n": 1.5}})
            m3 = await store.threads.add_message(owner.id, first["id"], "assistant", "no run")
            assert "run_id" not in m3 and m3["metadata"] == {}
            messages, count = await store.threads.messages(owner.id, first["id"], 10, 0)
            assert count == 3 and messages == [m1, m2, m3]
            assert (await store.threads.messages(owner.id, first["id"], 1, 1))[0] == [m2]
            assert (await store.threads.get(owner.id, first["id"]))["message_count"] == 3
            listed = (await store.threads.page(owner.id, 10, 0))[0]
            assert {t["id"]: t["message_count"] for t in listed} == {first["id"]: 3, second["id"]: 0}

            updated = await store.threads.update(owner.id, first["id"], "renamed", None)
            assert updated["title"] == "renamed" and updated["metadata"] == {"a": [1, 2]}
            assert updated["updated_at"] >= first["updated_at"]
            assert await store.threads.delete(owner.id, first["id"]) is True
            assert await store.threads.get(owner.id, first["id"]) is None
            assert await store.threads.messages(owner.id, first["id"], 10, 0) is None
        finally:
            await store.close()

    run(main())


def test_begin_run_makes_the_thread_or_checks_it_is_the_users(url):
    async def main():
        store = await open_store(url)
        try:
            owner = await store.accounts.create_user("b@example.com", "B", None, [])
            other = await store.accounts.create_user("c@example.com", "C", None, [])
            thread_id, message = await store.threads.begin_run(owner.id, None, "first sixty", "the request", "run_1",
                                                       {"agent": "supervisor"})
            thread = await store.threads.get(owner.id, thread_id)
            assert thread["title"] == "first sixty" and thread["message_count"] == 1
            assert message["content"] == "the request" and message["run_id"] == "run_1"
            assert message["metadata"] == {"agent": "supervisor"} and message["role"] == "user"
            assert (await store.threads.messages(owner.id, thread_id, 10, 0))[0] == [message]

            again = await store.threads.begin_run(owner.id, thread_id, "ignored", "second", "run_2", {})
            assert again[0] == thread_id
            assert (await store.threads.get(owner.id, thread_id))["title"] == "first sixty"
            assert await store.threads.begin_run(other.id, thread_id, "x", "intrusion", "run_3", {}) is None
            assert await store.threads.begin_run(owner.id, "thread_missing", "x", "lost", "run_4", {}) is None
            assert (await store.threads.get(owner.id, thread_id))["message_count"] == 2
        finally:
            await store.close()

    run(main())


def test_concurrent_messages_are_committed_together_and_a_bad_one_fails_alone(url):
    async def main():
        store = await open_store(url)
        try:
            users = [await store.accounts.create_user(f"g{i}@example.com", "G", None, []) for i in range(3)]
            threads = [await store.threads.create(u.id, "t", {}) for u in users]
            transactions = 0
            original = store.threads._transaction

            async def counting(messages):
                nonlocal transactions
                transactions += 1
                return await original(messages)

            store.threads._transaction = counting
            writes = [store.threads.add_message(u.id, t["id"], "assistant", f"answer {i}-{n}")
                      for n in range(50) for i, (u, t) in enumerate(zip(users, threads))]
            writes.append(store.threads.add_message(users[0].id, threads[1]["id"], "assistant", "not my thread"))
            writes += [store.threads.begin_run(u.id, None, "new", "start", f"run_{i}", {}) for i, u in enumerate(users)]
            results = await asyncio.gather(*writes)
            assert transactions <= 3  # 154 writes, a handful of commits
            assert results[150] is None
            assert all(r is not None for r in results[:150] + results[151:])
            for i, (u, t) in enumerate(zip(users, threads)):
                messages, total = await store.threads.messages(u.id, t["id"], 100, 0)
                assert total == 50
                assert [m["content"] for m in messages] == [f"answer {i}-{n}" for n in range(50)]

            # a batch whose shared transaction fails is retried message by message
            calls = []

            async def failing_once(messages):
                calls.append(len(messages))
                if len(calls) == 1:
                    raise RuntimeError("the database hiccupped")
                return await original(messages)

            store.threads._transaction = failing_once
            first = asyncio.ensure_future(store.threads.add_message(users[0].id, threads[0]["id"], "user", "a"))
            second = asyncio.ensure_future(store.threads.add_message(users[1].id, threads[1]["id"], "user", "b"))
            assert (await first)["content"] == "a" and (await second)["content"] == "b"
            assert calls == [2, 1, 1]
        finally:
            await store.close()

    run(main())


def test_token_subject(url):
    async def main():
        store = await open_store(url)
        try:
            user = await store.accounts.create_user("s@example.com", "S", None, [])
            assert await store.accounts.token_subject(user.id, "jti-live") == (False, user)
            assert await store.accounts.token_subject("nobody", "jti-live") == (False, None)
            await store.accounts.revoke_login("login", "jti-dead", utcnow() + timedelta(minutes=1))
            assert (await store.accounts.token_subject(user.id, "jti-dead"))[0] is True
        finally:
            await store.close()

    run(main())


def test_usage_round_trip_and_delete_only_mine(url):
    async def main():
        store = await open_store(url)
        try:
            me = await store.accounts.create_user("u@example.com", "U", None, [])
            them = await store.accounts.create_user("v@example.com", "V", None, [])
            mine = [record(), record(timestamp=datetime(2026, 10, 1, tzinfo=timezone.utc), task=None,
                                     latency_ms=None, batchable=False, shared_prefix_tokens=0, requests=1)]
            assert await store.usage.add(me.id, mine) == 2
            await store.usage.add(them.id, [record(model="claude-sonnet-4")])
            back = await store.usage.records(me.id)
            assert sorted(back, key=lambda r: r.timestamp) == sorted(mine, key=lambda r: r.timestamp)
            assert all(r.timestamp.tzinfo is not None for r in back)
            recent = await store.usage.records(me.id, since=datetime(2026, 10, 15, tzinfo=timezone.utc))
            assert recent == [mine[0]]
            assert await store.usage.delete(me.id) == 2
            assert await store.usage.records(me.id) == []
            assert [r.model for r in await store.usage.records(them.id)] == ["claude-sonnet-4"]
        finally:
            await store.close()

    run(main())


def test_the_health_ping(url):
    async def main():
        store = await open_store(url)
        await store.ping()  # the failing case is covered live: test_health_is_503_unhealthy_when_the_database_is_down
        await store.close()

    run(main())


# ---- restarts ----------------------------------------------------------------------------
def test_a_new_store_on_the_same_file_sees_everything(url):
    async def write():
        store = await open_store(url)
        user = await store.accounts.create_user("keep@example.com", "Keep", "$hash", ["read"])
        login = await store.accounts.create_login(user.id)
        await store.accounts.add_refresh_token("jti-used", user.id, login, utcnow() + timedelta(days=1))
        await store.accounts.add_refresh_token("jti-fresh", user.id, login, utcnow() + timedelta(days=1))
        await store.accounts.use_refresh_token("jti-used")
        await store.accounts.revoke_login("other-login", "revoked-access", utcnow() + timedelta(minutes=15))
        thread = await store.threads.create(user.id, "kept", {"k": "v"})
        await store.threads.add_message(user.id, thread["id"], "user", "still here", run_id="run_k")
        await store.usage.add(user.id, [record()])
        thread = await store.threads.get(user.id, thread["id"])
        await store.close()
        return user, thread

    async def read(user, thread):
        store = await open_store(url)  # create_schema on an existing database keeps its rows
        try:
            assert await store.accounts.user_by_email("keep@example.com") == user
            assert await store.accounts.is_revoked("revoked-access")
            assert await store.accounts.use_refresh_token("jti-used") is None
            assert await store.accounts.use_refresh_token("jti-fresh") is not None
            assert await store.threads.get(user.id, thread["id"]) == thread and thread["message_count"] == 1
            messages, _ = await store.threads.messages(user.id, thread["id"], 10, 0)
            assert [(m["content"], m["run_id"]) for m in messages] == [("still here", "run_k")]
            assert await store.usage.records(user.id) == [record()]
        finally:
            await store.close()

    user, thread = run(write())
    run(read(user, thread))


def test_the_platform_keeps_its_data_across_a_restart(tmp_path):
    settings = Settings.from_env(env=base_env(sqlite_url(tmp_path / "platform.db")))
    running = EmbeddedPlatform(settings).start()
    api = Api(running)
    try:
        email = unique_email("restart")
        user = api.register(email)
        revoked = api.http.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
        assert api.http.post("/auth/logout", headers={"Authorization": f"Bearer {revoked['access_token']}"}
                             ).status_code == 200
        rotated = api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token}).json()
        api.add_usage(user, week_of_usage())
        session = open_session(running, user.access_token)
        frames = session.run("remember this")
        session.close()
        thread_id = frames[0]["thread_id"]
        before = {
            "threads": api.get(user, "/api/threads").json(),
            "messages": api.get(user, f"/api/threads/{thread_id}/messages").json(),
            "summary": api.get(user, "/api/usage/summary").json(),
            "me": api.get(user, "/auth/me").json(),
        }
        port = running.port

        running.restart()
        api.close()
        api = Api(running)
        assert running.port == port
        after = {
            "threads": api.get(user, "/api/threads").json(),
            "messages": api.get(user, f"/api/threads/{thread_id}/messages").json(),
            "summary": api.get(user, "/api/usage/summary").json(),
            "me": api.get(user, "/auth/me").json(),
        }
        assert after == before
        assert api.http.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
        assert api.http.get("/auth/me", headers={"Authorization": f"Bearer {revoked['access_token']}"}
                            ).status_code == 401
        assert api.http.post("/auth/refresh", json={"refresh_token": revoked["refresh_token"]}).status_code == 401
        assert api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401
        assert api.http.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 200
    finally:
        api.close()
        running.stop()

    # a brand-new platform object on the same DATABASE_URL sees the same data
    with EmbeddedPlatform(settings) as again:
        fresh = Api(again)
        try:
            assert fresh.get(user, f"/api/threads/{thread_id}/messages").json() == before["messages"]
            assert fresh.get(user, "/api/usage/summary").json() == before["summary"]
        finally:
            fresh.close()
