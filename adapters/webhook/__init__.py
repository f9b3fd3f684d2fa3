"""Webhook action: HTTP POST of a signal, signed with HMAC-SHA256."""
