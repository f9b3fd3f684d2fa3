"""Refuse http(s) sources on link-local addresses: the cloud metadata endpoints live there.

On GCE, Cloud Run and GKE, http://169.254.169.254 (metadata.google.internal) hands out the
service account's access tokens to any process that asks. A source URL pointing there, directly
or through a redirect, would make the daemon fetch them and load them into a table its caller can
read. Loopback and private addresses stay allowed: files served inside one's own network are a
legitimate source. Every hop is checked, the first request and each redirect's target, by
resolving the host; a name that does not resolve is left to fail on its own when fetched.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from domain.types.errors import InvalidSpec

_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.google.internal.", "metadata"})


def check_url(url: str) -> None:
    """InvalidSpec (a 4xx naming the URL) when its host is, or resolves to, a link-local address."""
    host = (urlsplit(url).hostname or "").lower()
    if host in _METADATA_HOSTS or any(_link_local(address) for address in _addresses(host)):
        raise InvalidSpec(f"{url}: refused, {host} is a link-local address (where cloud metadata servers hand out "
                          "credentials); serve the file from another host", {"field": "sources", "source": url})


def _addresses(host: str) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]
    except (socket.gaierror, UnicodeError):
        return []


def _link_local(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope id is not part of the address
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_link_local or bool(mapped and mapped.is_link_local)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


opener = urllib.request.build_opener(_CheckedRedirects)  # otherwise the same handlers as urlopen's
