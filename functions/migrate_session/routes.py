"""HTTP routes of the identity and migration service."""

from fastapi import APIRouter
from workplace_roleplay.web.service_index import ServiceIndex, service_index

router = APIRouter(tags=["auth", "migrate"])


@router.get("/api/v2/auth", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("migrate_session")
