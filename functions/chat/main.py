"""Wiring of the chat service (Cloud Run: ``uvicorn --factory functions.chat.main:create``)."""

from fastapi import FastAPI
from workplace_roleplay.settings import ChatSettings
from workplace_roleplay.web.app import create_app

from functions.chat.routes import router


def create() -> FastAPI:
    """Build the chat app from the environment's settings."""
    return create_app(ChatSettings(), service="chat", routers=[router])
