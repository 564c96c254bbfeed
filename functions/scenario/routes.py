"""HTTP routes of the scenario service, and the home page."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workplace_roleplay.web.service_index import ServiceIndex, service_index
from workplace_roleplay.web.templating import render

router = APIRouter(tags=["scenario"])


@router.get("/api/v2/scenarios/about", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("scenario")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    return HTMLResponse(render(request, "home.html", {}))
