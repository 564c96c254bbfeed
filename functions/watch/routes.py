"""HTTP routes of the watch service."""

from fastapi import APIRouter

from workplace_roleplay.web.service_index import ServiceIndex, service_index

router = APIRouter(prefix="/api/v2/watch", tags=["watch"])


@router.get("", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("watch")
