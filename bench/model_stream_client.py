"""CPU of one streamed model reply on the client side: httpx2 (as before ADR 0030) against ``http1_stream``.

    .venv/bin/python -m bench.model_stream_client [--streams 40] [--rounds 3]

Both read the same fake Gemini (``tools.fake_gemini``, 18 chunks, 5 ms apart, in its own process) with
``--streams`` replies at once on uvloop, alternating ``--rounds`` times; the figure is this process's CPU per reply.
"httpx2" is the streaming path of ``gemini_stream`` before ADR 0030 (``aiter_lines``), "http1" is today's
``GeminiStreamer.stream``. Results: ``bench/results/model_stream_client.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2
import uvloop

from bench.turn_cpu import fake_gemini
from workplace_roleplay.adapters.gemini_stream import Endpoint, GeminiStreamer, parse_chunk, request_body
from workplace_roleplay.ports.model import ChatMessage, GenerationRequest, ModelTask

MODEL = "gemini-2.5-flash"
REQUEST = GenerationRequest(
    task=ModelTask.CONVERSATION_TURN, system="s", messages=[ChatMessage(role="user", text="こんにちは")]
)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def per_stream_ms(one: Callable[[], Awaitable[int]], streams: int) -> float:
    await one()  # a warm connection, as in a running service
    started = cpu_s()
    chunks = await asyncio.gather(*(one() for _ in range(streams)))
    assert all(n == chunks[0] > 10 for n in chunks), chunks
    return round(1000 * (cpu_s() - started) / streams, 2)


async def measure(url: str, streams: int, rounds: int) -> dict[str, list[float]]:
    endpoint = Endpoint(base_url=url, version="v1beta", prefix="")
    streamer = GeminiStreamer(endpoint, api_keys=["k"], vertex=None, connect_timeout_s=5, read_timeout_s=60)
    client = httpx2.AsyncClient(
        timeout=httpx2.Timeout(60, connect=5), limits=httpx2.Limits(max_keepalive_connections=100)
    )
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", "x-goog-api-key": "k"}

    async def http1() -> int:
        return len([chunk async for chunk in streamer.stream(MODEL, REQUEST, think=False)])

    async def before() -> int:
        body = json.dumps(request_body(REQUEST, think=False), ensure_ascii=False).encode()
        count, data = 0, []
        async with client.stream("POST", endpoint.url(MODEL), content=body, headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif not line and data:
                    parse_chunk(json.loads("\n".join(data)))
                    count, data = count + 1, []
        return count

    results: dict[str, list[float]] = {"httpx2": [], "http1": []}
    for _ in range(rounds):
        results["httpx2"].append(await per_stream_ms(before, streams))
        results["http1"].append(await per_stream_ms(http1, streams))
    await streamer.aclose()
    await client.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--streams", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with fake_gemini(10.0, 5.0, {}) as url:
        results = uvloop.run(measure(url, args.streams, args.rounds))
    out = {"cpu_ms_per_stream": results, "streams_at_once": args.streams, "chunks": 18}
    text = json.dumps(out, indent=2)
    (Path(__file__).parent / "results" / "model_stream_client.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
