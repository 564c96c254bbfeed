"""The Cloud Tasks adapter over real gRPC: a local CreateTask server records what the SDK sends.

There is no Cloud Tasks emulator for the current API (the PyPI one pins google-cloud-tasks<3), so this
stand-in speaks the one RPC the adapter uses, with the SDK's own protobuf messages on the wire.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport

from workplace_roleplay.adapters.cloud_tasks import CloudTasksQueue, build_task
from workplace_roleplay.ports.tasks import Task

QUEUE = "projects/demo/locations/asia-northeast1/queues/background"
WORKER = "https://migrate-session-worker-abc.a.run.app"
INVOKER = "tasks-invoker@demo.iam.gserviceaccount.com"


class TasksServer:
    def __init__(self) -> None:
        self.created: list[tasks_v2.CreateTaskRequest] = []
        self.names: set[str] = set()

    async def create_task(
        self, request: tasks_v2.CreateTaskRequest, context: grpc.aio.ServicerContext
    ) -> tasks_v2.Task:
        if request.task.name in self.names:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "task exists")
        self.names.add(request.task.name)
        self.created.append(request)
        return request.task

    def handler(self) -> grpc.GenericRpcHandler:
        method = grpc.unary_unary_rpc_method_handler(
            self.create_task,
            request_deserializer=tasks_v2.CreateTaskRequest.deserialize,
            response_serializer=tasks_v2.Task.serialize,
        )
        return grpc.method_handlers_generic_handler("google.cloud.tasks.v2.CloudTasks", {"CreateTask": method})


@pytest.fixture
async def tasks_server() -> AsyncIterator[tuple[TasksServer, str]]:
    state = TasksServer()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((state.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield state, f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


def task(name: str = "legacy-" + "ab" * 32) -> Task:
    return Task(
        name=name,
        kind="session",
        payload={"ref": "ab" * 32},
        headers={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    )


def test_the_built_task_targets_the_worker_with_an_oidc_token() -> None:
    built = build_task(task(), queue=QUEUE, worker_url=WORKER + "/", invoker_email=INVOKER)
    assert built.name == f"{QUEUE}/tasks/legacy-{'ab' * 32}"
    request = built.http_request
    assert request.url == f"{WORKER}/api/v2/migrate/tasks/session"
    assert request.http_method == tasks_v2.HttpMethod.POST
    assert request.oidc_token.service_account_email == INVOKER
    assert request.oidc_token.audience == WORKER
    assert request.headers["traceparent"].startswith("00-1111")
    assert json.loads(request.body) == {"ref": "ab" * 32}


async def test_enqueue_over_grpc_and_duplicates_by_name(tasks_server: tuple[TasksServer, str]) -> None:
    state, address = tasks_server
    transport = CloudTasksGrpcAsyncIOTransport(channel=grpc.aio.insecure_channel(address))
    queue = CloudTasksQueue(
        tasks_v2.CloudTasksAsyncClient(transport=transport), queue=QUEUE, worker_url=WORKER, invoker_email=INVOKER
    )
    try:
        assert await queue.enqueue(task()) is True
        assert await queue.enqueue(task()) is False  # the same session again: Cloud Tasks de-duplicates by name
        assert await queue.enqueue(task("legacy-" + "cd" * 32)) is True
    finally:
        await queue.close()
    assert [r.parent for r in state.created] == [QUEUE, QUEUE]
    sent = state.created[0].task
    assert sent.http_request.oidc_token.audience == WORKER
    assert sent.http_request.headers["traceparent"].startswith("00-1111")
