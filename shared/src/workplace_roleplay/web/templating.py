"""Jinja2 templates shared by every service (base layout, error page), autoescaped."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request

SHARED_TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment(extra_dirs: tuple[str, ...] = ()) -> Environment:
    """A Jinja environment over a service's own templates first, then the shared ones."""
    loaders = [FileSystemLoader(d) for d in extra_dirs] + [FileSystemLoader(SHARED_TEMPLATES)]
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True), enable_async=False)


def render(request: Request, name: str, context: dict[str, Any], *, dirs: Sequence[str] = ()) -> str:
    """Render ``name`` with the request's CSP nonce and request id available to the template."""
    state = request.scope.get("state", {})
    # create_app records the service's template folder on the app; a route may name others.
    app_dirs = getattr(request.app.state, "template_dirs", ()) if "app" in request.scope else ()
    template_dirs = tuple(dirs) or tuple(state.get("template_dirs", ())) or tuple(app_dirs)
    env = environment(template_dirs)
    values: dict[str, Any] = {
        "request": request,
        "csp_nonce": state.get("csp_nonce", ""),
        "csrf_token": state.get("csrf_token", ""),
        "request_id": state.get("request_id", ""),
    }
    values.update(context)
    return env.get_template(name).render(values)
