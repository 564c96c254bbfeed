"""HTTP routes of the chat service."""

from fastapi import APIRouter
from workplace_roleplay.web.service_index import ServiceIndex, service_index

router = APIRouter(prefix="/api/v2/chat", tags=["chat"])


@router.get("", summary="What this service offers")
async def index() -> ServiceIndex:
    return service_index("chat")
