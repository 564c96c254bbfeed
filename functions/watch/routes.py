"""HTTP routes of the watch service."""

from fastapi import APIRouter

from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.web.service_index import ServiceIndex, service_index

# The prefix is the service's api_prefix in services.yaml (the one catalog of who serves which path).
router = APIRouter(prefix=load_catalog().get("watch").api_prefix, tags=["watch"])


@router.get("", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("watch")
