"""Overhead of the model gateway per streamed call, against the fake Gemini server.

Three clients stream the same reply from the same fake (its time to first token 0 ms, then 300 ms):

- ``raw_http``: httpx streaming the SSE body (what the network and the fake cost by themselves);
- ``sdk``: google-genai's ``generate_content_stream`` (one client, no retries);
- ``gateway``: our ``ResilientModel`` over ``GeminiBackend`` (routing, breaker, timeouts, metrics).

For each it reports the median and p95 of wall time to the first delta and to the end of the stream,
and the client process's CPU time per call. Overhead of the adapter = gateway minus sdk.

    .venv/bin/python -m bench.model_adapter [--calls 40] [--out bench/results/model_adapter.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from google import genai
from google.genai import types

from tests.support.fakes import FakeCache
from workplace_roleplay.adapters.resilient_model import ResilientModel
from workplace_roleplay.bootstrap import build_language_model
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.ports.model import ChatMessage, GenerationRequest, ModelTask, TextDelta
from workplace_roleplay.settings import ChatSettings

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gemini-2.5-flash"
REPLY = "承知しました。では、結論から先にお伝えしますね。資料は金曜日の午前中までにお送りします。"
PROMPT = "お疲れさまです。来週の会議資料について相談してもよろしいですか。"

# One call: returns (seconds to first delta, seconds to end).
Call = Callable[[], Awaitable[tuple[float, float]]]


async def _timed(events: AsyncIterator[Any], is_text: Callable[[Any], bool]) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    async for event in events:
        if not first and is_text(event):
            first = time.perf_counter() - started
    return first, time.perf_counter() - started


def raw_http_call(client: httpx.AsyncClient) -> Call:
    body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}

    async def call() -> tuple[float, float]:
        async def lines() -> AsyncIterator[dict[str, Any]]:
            path = f"/v1/models/{MODEL}:streamGenerateContent?alt=sse"
            async with client.stream("POST", path, json=body, headers={"x-goog-api-key": "k"}) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        yield json.loads(line[6:])

        return await _timed(lines(), lambda chunk: bool(chunk.get("candidates")))

    return call


def sdk_call(client: genai.Client) -> Call:
    async def call() -> tuple[float, float]:
        async def chunks() -> AsyncIterator[types.GenerateContentResponse]:
            stream = await client.aio.models.generate_content_stream(model=MODEL, contents=PROMPT)
            async for chunk in stream:
                yield chunk

        return await _timed(chunks(), lambda chunk: bool(chunk.text))

    return call


def gateway_call(model: ResilientModel) -> Call:
    request = GenerationRequest(
        task=ModelTask.CONVERSATION_TURN, system="あなたは職場の先輩です。", messages=[ChatMessage("user", PROMPT)]
    )

    async def call() -> tuple[float, float]:
        return await _timed(model.stream(request), lambda event: isinstance(event, TextDelta))

    return call


async def measure(call: Call, calls: int) -> dict[str, float]:
    for _ in range(3):  # warm-up: connections, imports, first-use caches
        await call()
    firsts, totals, cpus = [], [], []
    for _ in range(calls):
        cpu = time.process_time()
        first, total = await call()
        cpus.append(time.process_time() - cpu)
        firsts.append(first)
        totals.append(total)

    def ms(values: list[float], q: float) -> float:
        return round(statistics.quantiles(values, n=100)[int(q) - 1] * 1000, 2) if q < 100 else 0.0

    return {
        "ttft_p50_ms": round(statistics.median(firsts) * 1000, 2),
        "ttft_p95_ms": ms(firsts, 95),
        "total_p50_ms": round(statistics.median(totals) * 1000, 2),
        "total_p95_ms": ms(totals, 95),
        "cpu_per_call_ms": round(statistics.mean(cpus) * 1000, 3),
    }


async def run(url: str, calls: int) -> dict[str, dict[str, dict[str, float]]]:
    control = httpx.AsyncClient(base_url=url)
    settings = ChatSettings(GEMINI_API_KEY="k", GEMINI_BASE_URL=url, MODEL_FLASH=MODEL, MODEL_BREAKER_FAILURES=100)
    gateway = build_language_model(settings, FakeCache(), SystemClock())
    assert isinstance(gateway, ResilientModel)
    sdk = genai.Client(
        api_key="k", http_options=types.HttpOptions(base_url=url, retry_options=types.HttpRetryOptions(attempts=1))
    )
    raw = httpx.AsyncClient(base_url=url, timeout=30)
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        for ttft in (0, 300):
            await control.post("/_control/config", json={"text": REPLY, "ttft_ms": ttft, "chunk_chars": 8})
            row = {
                "raw_http": await measure(raw_http_call(raw), calls),
                "sdk": await measure(sdk_call(sdk), calls),
                "gateway": await measure(gateway_call(gateway), calls),
            }
            row["gateway_minus_sdk"] = {key: round(row["gateway"][key] - row["sdk"][key], 3) for key in row["gateway"]}
            results[f"fake_ttft_{ttft}ms"] = row
    finally:
        await gateway.close()
        await sdk.aio.aclose()
        await raw.aclose()
        await control.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Adapter overhead per streamed call")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "model_adapter.json")
    args = parser.parse_args()
    fake = subprocess.Popen(
        [sys.executable, "-m", "tools.fake_gemini", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert fake.stdout is not None
        url = fake.stdout.readline().decode().strip().removeprefix("fake_gemini listening on ")
        results = asyncio.run(run(url, args.calls))
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    report = {
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # the box is shared: read figures with it
        "calls_per_cell": args.calls,
        "reply_chars": len(REPLY),
        "chunk_chars": 8,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    for cell, row in results.items():
        print(cell)
        for client, figures in row.items():
            print(f"  {client:18} " + "  ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
