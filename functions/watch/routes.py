"""HTTP routes of the watch service."""

from fastapi import APIRouter

from workplace_roleplay.web.service_index import ServiceIndex, service_index

# Mounted under the service's api_prefix from services.yaml (web.app.create_app).
router = APIRouter(tags=["watch"])


@router.get("", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("watch")
