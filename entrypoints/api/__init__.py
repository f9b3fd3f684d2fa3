"""aiohttp REST + WebSocket API."""
