"""Typed application keys shared by the API modules."""

from __future__ import annotations

import weakref

from aiohttp import web

from entrypoints.container import Container
from entrypoints.settings import Settings

CONTAINER = web.AppKey("container", Container)
SETTINGS = web.AppKey("settings", Settings)
SOCKETS = web.AppKey("sockets", weakref.WeakSet[web.WebSocketResponse])
API_TOKEN = web.AppKey("api_token", object)  # domain Secret or None
