"""The cloud ``TaskQueue``: HTTP tasks on Cloud Tasks, reaching the private worker with an OIDC token.

Each task POSTs its JSON payload to ``<worker>/api/v2/migrate/tasks/<kind>`` with a Google-signed OIDC
token of the invoker service account (audience = the worker URL, which the worker verifies). The task
name is derived from the caller's name (the session's migration key), so Cloud Tasks refuses a duplicate
(``AlreadyExists``) for about an hour after the first one. Trace context travels in the task headers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.protobuf import duration_pb2

from workplace_roleplay import tracing
from workplace_roleplay.errors import DependencyUnavailable
from workplace_roleplay.ports.tasks import Task

WORKER_PATH = "/api/v2/migrate/tasks/"
_NAME = re.compile(r"[^A-Za-z0-9_-]")


def build_task(task: Task, *, queue: str, worker_url: str, invoker_email: str, deadline_s: int = 300) -> tasks_v2.Task:
    """The Cloud Tasks task for ``task`` (pure: tested without a queue)."""
    url = worker_url.rstrip("/") + WORKER_PATH + task.kind
    # With tracing on, the enqueuer's current span is the task's parent (the worker continues it; ADR 0028).
    headers = dict(task.headers)
    tracing.inject(headers)
    return tasks_v2.Task(
        name=f"{queue}/tasks/{_NAME.sub('-', task.name)[:500]}",
        http_request=tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url=url,
            headers={"Content-Type": "application/json", **headers},
            body=json.dumps(dict(task.payload)).encode(),
            oidc_token=tasks_v2.OidcToken(service_account_email=invoker_email, audience=worker_url.rstrip("/")),
        ),
        dispatch_deadline=duration_pb2.Duration(seconds=deadline_s),
    )


class CloudTasksQueue:
    def __init__(self, client: Any, *, queue: str, worker_url: str, invoker_email: str) -> None:
        self.client = client
        self.queue = queue
        self.worker_url = worker_url
        self.invoker_email = invoker_email

    @classmethod
    def build(cls, *, queue: str, worker_url: str, invoker_email: str) -> CloudTasksQueue:
        return cls(tasks_v2.CloudTasksAsyncClient(), queue=queue, worker_url=worker_url, invoker_email=invoker_email)

    async def enqueue(self, task: Task) -> bool:
        request = build_task(task, queue=self.queue, worker_url=self.worker_url, invoker_email=self.invoker_email)
        try:
            await self.client.create_task(parent=self.queue, task=request)
        except gexc.AlreadyExists:
            return False
        except gexc.GoogleAPICallError as exc:
            raise DependencyUnavailable(f"Cloud Tasks: {type(exc).__name__}") from None
        return True

    async def close(self) -> None:
        transport = getattr(self.client, "transport", None)
        if transport is not None:
            await transport.close()
