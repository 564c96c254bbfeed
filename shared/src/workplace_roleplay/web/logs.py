"""JSON logs on stdout with the fields Cloud Logging understands."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from workplace_roleplay import tracing
from workplace_roleplay.web.context import request_id_var, service_var, trace_var

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class CloudJsonFormatter(logging.Formatter):
    """One JSON object per line: ``severity``, ``message``, trace correlation and any ``extra`` fields."""

    def __init__(self, service: str, project: str) -> None:
        super().__init__()
        self.service = service
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname if record.levelname != "WARNING" else "WARNING",
            "message": record.getMessage(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "logger": record.name,
            "service": service_var.get() or self.service,
            "logging.googleapis.com/sourceLocation": {
                "file": record.pathname,
                "line": record.lineno,
                "function": record.funcName,
            },
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
            entry["logging.googleapis.com/labels"] = {"request_id": request_id}
        # With tracing on, the span current at the log call (ADR 0028); otherwise the incoming header's.
        current = tracing.ids()
        if current is None:
            trace = trace_var.get()
            current = (trace.trace_id, trace.span_id, trace.sampled) if trace is not None else None
        if current is not None:
            prefix = f"projects/{self.project}/traces/" if self.project else ""
            entry["logging.googleapis.com/trace"] = prefix + current[0]
            entry["logging.googleapis.com/spanId"] = current[1]
            entry["logging.googleapis.com/trace_sampled"] = current[2]
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at emit time (test capture, reloaders)."""

    _workplace_roleplay = True

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure_logging(*, service: str, project: str, level: str, as_json: bool) -> None:
    """Install one stdout handler on the root logger (idempotent: replaces ours on reconfigure)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_workplace_roleplay", False):
            root.removeHandler(handler)
    handler = _StdoutHandler()
    if as_json:
        handler.setFormatter(CloudJsonFormatter(service, project))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own access log duplicates ours; its error log goes through the root handler.
    logging.getLogger("uvicorn.access").disabled = True
