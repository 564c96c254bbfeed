"""The local stack's nginx: a config rendered from the service catalog and the traffic file.

It mirrors the load balancer: path routing without prefix stripping (longest prefix wins, like the
URL map), a weighted split of each service between its stable and candidate revision (Cloud Run's
traffic split) and towards the legacy app (the URL map's weighted backends), the legacy app as the
default backend, and the whole site on legacy when ``legacy_fallback`` is on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tools.ops.traffic import OpsError, OpsFailed, TrafficState
from workplace_roleplay.catalog import Catalog

LEGACY_UPSTREAM = "legacy"
GENERATION_PATH = "/__stack/generation"


@dataclass(frozen=True, slots=True)
class NginxPaths:
    """Where one nginx instance keeps its config, pid, logs and temp files (all under the run dir)."""

    prefix: Path

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def pid(self) -> Path:
        return self.prefix / "nginx.pid"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    @property
    def temp(self) -> Path:
        return self.prefix / "tmp"

    def base_command(self, binary: str) -> list[str]:
        # -e: the early error log, so nginx never opens /var/log/nginx before reading the config.
        return [binary, "-p", f"{self.prefix}/", "-c", str(self.conf), "-e", str(self.error_log)]


def upstream_name(service: str, revision: str) -> str:
    """A stable nginx upstream name for one revision of one service."""
    return "rev_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{service}__{revision}")


def _percent(value: float) -> str:
    # split_clients accepts up to two decimals; 90 % x 15 % = 13.5 % must not be rounded to 14.
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def split_weights(state: TrafficState, service: str) -> list[tuple[str, float]]:
    """(upstream, percent of the service's requests) with zero shares left out; sums to 100."""
    t = state.service(service)
    if state.legacy_fallback:
        return [(LEGACY_UPSTREAM, 100.0)]
    served = 100.0 - t.legacy_percent
    shares = [
        (LEGACY_UPSTREAM, float(t.legacy_percent)),
        (upstream_name(service, t.stable_revision), served * t.stable_percent / 100),
    ]
    if t.candidate_revision is not None:
        shares.append((upstream_name(service, t.candidate_revision), served * t.candidate_percent / 100))
    return [(name, share) for name, share in shares if share > 0]


def render(
    catalog: Catalog,
    state: TrafficState,
    revisions: dict[str, dict[str, int]],
    legacy_port: int,
    listen_port: int,
    paths: NginxPaths,
    host: str = "127.0.0.1",
    generation: str = "initial",
) -> str:
    """The whole nginx.conf. ``revisions`` maps service -> revision name -> local port."""
    for entry in catalog.services:
        t = state.service(entry.name)
        running = revisions.get(entry.name, {})
        for revision in filter(None, (t.stable_revision, t.candidate_revision)):
            if revision not in running:
                raise OpsError(
                    f"{entry.name}: revision {revision!r} has no running process in the local stack "
                    f"(running: {', '.join(sorted(running)) or 'none'})"
                )
    upstreams = [_upstream(LEGACY_UPSTREAM, legacy_port)]
    splits: list[str] = []
    locations: list[str] = []
    for entry in catalog.services:
        for revision, port in sorted(revisions.get(entry.name, {}).items()):
            upstreams.append(_upstream(upstream_name(entry.name, revision), port))
        variable = f"$route_{entry.name}"
        weights = split_weights(state, entry.name)
        lines = [f"        {_percent(share)} {name};" for name, share in weights[:-1]]
        lines.append(f"        * {weights[-1][0]};")
        # $request_id is random per request, so the split is a per-request draw like Cloud Run's.
        splits.append('    split_clients "${request_id}" ' + variable + " {\n" + "\n".join(lines) + "\n    }")
        # "= /p" and "^~ /p/" together match exactly the catalog's "equals or continues after /".
        for prefix in entry.prefixes:
            locations.append(_location(f"= {prefix}", variable))
            locations.append(_location(f"^~ {prefix}/", variable))
        for exact in entry.exact:
            locations.append(_location(f"= {exact}", variable))
    temp = paths.temp
    return _TEMPLATE.format(
        pid=paths.pid,
        error_log=paths.error_log,
        access_log=paths.prefix / "access.log",
        temp=temp,
        upstreams="\n".join(upstreams),
        splits="\n".join(splits),
        listen=f"{host}:{listen_port}",
        generation_path=GENERATION_PATH,
        locations="\n".join(locations),
        generation=generation,
    )


def _upstream(name: str, port: int) -> str:
    return f"    upstream {name} {{\n        server 127.0.0.1:{port};\n        keepalive 32;\n    }}"


def _location(match: str, variable: str) -> str:
    return f"        location {match} {{\n            proxy_pass http://{variable};\n        }}"


_TEMPLATE = """\
# Rendered by tools/ops from services.yaml and the stack's traffic.json; do not edit by hand.
worker_processes 2;
pid {pid};
error_log {error_log} warn;
events {{
    worker_connections 1024;
}}
http {{
    # The load balancer's part in a trace (ADR 0028): a request without trace context gets one whose trace id
    # is nginx's $request_id and whose parent span id is its first 16 hex digits, so every span of the request
    # hangs under this entry; a caller's own traceparent passes through untouched.
    map $request_id $entry_span_id {{
        "~^(?<head>[0-9a-f]{{16}})" $head;
    }}
    map $http_traceparent $entry_traceparent {{
        "" "00-$request_id-$entry_span_id-01";
        default $http_traceparent;
    }}
    log_format traced '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                      '"$http_referer" "$http_user_agent" request_id=$request_id traceparent=$entry_traceparent';
    access_log {access_log} traced buffer=64k flush=1s;
    client_body_temp_path {temp}/client_body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    client_max_body_size 10m;

    # WebSocket upgrade for watch; an empty Connection header otherwise keeps upstream keepalive.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' '';
    }}

{upstreams}

{splits}

    server {{
        listen {listen};
        server_name _;
        # A reload retires the old workers, which close their idle keep-alive connections; a request
        # sent on one at that instant is lost (the LB has no such gap). One connection per request
        # closes the gap, so rollbacks lose nothing; streams are unaffected.
        keepalive_timeout 0;

        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header traceparent $entry_traceparent;
        # SSE and streamed replies: pass every chunk on at once, and let a stream run as long as
        # Cloud Run's request timeout allows (3600 s) instead of nginx's 60 s default.
        proxy_buffering off;
        proxy_request_buffering off;
        proxy_cache off;
        gzip off;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        proxy_connect_timeout 5s;
        # Which local process answered (the LB has no such header; this is for tests and humans).
        add_header X-Stack-Upstream $upstream_addr always;

{locations}

        # Local only (the LB has no such path): which config generation the workers run, so a
        # reload can wait until it has really taken effect.
        location = {generation_path} {{
            default_type text/plain;
            return 200 "{generation}";
        }}

        location / {{
            proxy_pass http://legacy;
        }}
    }}
}}
"""


def find_binary() -> str | None:
    """The nginx binary on PATH or in Debian's location (sbin is not on every PATH)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).is_file()), None)


def ensure_installed() -> str:
    """Find nginx, installing Debian's package when it is missing."""
    found = find_binary()
    if found:
        return found
    print("nginx not found; installing Debian's nginx package (apt-get) ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True)
    found = find_binary()
    if not found:
        raise OpsError("nginx is still missing after apt-get install nginx")
    return found


def write_config(paths: NginxPaths, text: str) -> None:
    """Write the config atomically (nginx may re-read it at any moment on HUP)."""
    paths.prefix.mkdir(parents=True, exist_ok=True)
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (paths.temp / sub).mkdir(parents=True, exist_ok=True)
    tmp = paths.conf.with_suffix(".conf.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(paths.conf)


def check_config(binary: str, paths: NginxPaths) -> None:
    """``nginx -t``: refuse to reload a config nginx would reject."""
    result = subprocess.run([*paths.base_command(binary), "-t", "-q"], capture_output=True, text=True)
    if result.returncode != 0:
        raise OpsError(f"nginx rejected the rendered config: {result.stderr.strip()}")


def reload(binary: str, paths: NginxPaths) -> None:
    """Graceful reload: new workers take new requests, old ones finish theirs (HUP to the master)."""
    result = subprocess.run([*paths.base_command(binary), "-s", "reload"], capture_output=True, text=True)
    if result.returncode != 0:
        raise OpsFailed(f"nginx reload failed: {result.stderr.strip()}")


def wait_for_generation(port: int, generation: str, *, timeout: float = 10.0, streak: int = 5) -> None:
    """Wait until fresh connections see ``generation`` several times in a row (every worker is new)."""
    url = f"http://127.0.0.1:{port}{GENERATION_PATH}"
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                current = response.read().decode()
        except OSError:
            current = ""
        seen = seen + 1 if current == generation else 0
        if seen >= streak:
            return
        time.sleep(0.01)
    raise OpsFailed(f"nginx did not switch to the new config within {timeout:.0f} s (see its error.log)")
