"""Which hosts an http(s) source may be fetched from, and connections pinned to the address checked.

Any API caller names the URLs, so the daemon must not become their way into places they cannot
reach themselves: the cloud metadata server (link-local 169.254.169.254 hands out the service
account's tokens; always refused), and, unless MLPLANE_INGEST_HTTP_PRIVATE_HOSTS allows them, the
daemon's own loopback ports and the private network around it. Every hop is checked, the first
request and each redirect's target. The host is resolved once, every address it resolves to is
checked, and the connection goes to one of those addresses: a second lookup could be answered
differently by a hostile DNS server (DNS rebinding). TLS still sends the host name (SNI) and checks
the certificate against it. Through a proxy (http_proxy / https_proxy) the proxy connects, so the
name is checked where it resolves here but the connection cannot be pinned.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import socket
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError
from urllib.parse import unquote, urlsplit

from domain.types.errors import InvalidSpec

SETTING = "MLPLANE_INGEST_HTTP_PRIVATE_HOSTS"
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.google.internal.", "metadata"})
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: neither private nor global
# Where an IPv6 address carries an IPv4 one in its last 32 bits: well-known and local-use NAT64
# prefixes (the /96 layout operators use inside 64:ff9b:1::/48), and the old IPv4-compatible ::a.b.c.d.
_LAST_32_BITS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"),
                 ipaddress.ip_network("::/96"))
# Metadata servers that answer outside link-local: AWS and GCP over IPv6, Alibaba Cloud over IPv4.
_METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("fd00:ec2::254", "fd20:ce::254", "100.100.100.200"))
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class HostPolicy:
    """Picklable and small: it travels to staging processes with each partition (in RemoteConfig)."""

    private_hosts: bool = False  # loopback, private and other non-global addresses; link-local never

    def addresses(self, url: str) -> tuple[str, ...]:
        """The addresses the URL's host resolves to, every one allowed (connect only to these).
        InvalidSpec naming the URL when one is refused; URLError when the host does not resolve."""
        host = url_host(url)
        if host in _METADATA_HOSTS:
            raise _link_local(url, host)
        found = _resolve(host)
        for address in found:
            self.check(url, host, address)
        return found

    def check(self, url: str, host: str, address: str) -> None:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope id is not part of the address
        if any(a.is_link_local or a in _METADATA_ADDRESSES for a in (ip, *_embedded_ipv4(ip))):
            raise _link_local(url, host)
        reason = None if self.private_hosts else _not_public(ip)
        if reason:
            shown = host if host == address else f"{host} ({address})"
            raise InvalidSpec(f"{url}: refused, {shown} is {reason} address; http(s) sources must be on public "
                              f"addresses unless {SETTING}=true allows the daemon's own and private networks",
                              {"field": "sources", "source": url, "address": address, "setting": SETTING})


PUBLIC_ONLY = HostPolicy()  # the default, and what a process given no policy applies


def url_host(url: str) -> str:
    """The host of a well-formed URL, lowercased; InvalidSpec naming the URL when it does not parse."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsed for its ValueError: a port out of range)
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535"
        raise InvalidSpec(f"{url} is not a valid URL: {exc}", {"field": "sources", "source": url}) from exc
    return unquote(parts.hostname or "").lower()  # in [fe80::1%25eth0], %25 is the scope id's %


def _link_local(url: str, host: str) -> InvalidSpec:
    return InvalidSpec(f"{url}: refused, {host} is a link-local or cloud metadata address (where metadata servers "
                       "hand out credentials); serve the file from another host", {"field": "sources", "source": url})


def _resolve(host: str) -> tuple[str, ...]:
    if not host:
        raise URLError("no host given")
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise URLError(exc) from exc
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 one reaches: mapped (::ffff:a.b.c.d, the same socket), 6to4, NAT64 and
    IPv4-compatible forms."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    last = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if any(ip in n for n in _LAST_32_BITS) else None
    return [a for a in (ip.ipv4_mapped, ip.sixtofour, last) if a is not None]


def _not_public(ip: IPAddress) -> str | None:
    """Why the address is not a public one (None: it is). A mapped address is its IPv4 address."""
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    for address in [mapped] if mapped else [ip, *_embedded_ipv4(ip)]:
        reason = _kind(address)
        if reason:
            return reason
    return None


def _kind(ip: IPAddress) -> str | None:
    checks = [(ip.is_unspecified, "an unspecified"), (ip.is_loopback, "a loopback"),
              (ip.is_multicast, "a multicast"), (ip in _SHARED, "a shared (carrier-grade NAT)"),
              (ip.is_reserved, "a reserved"), (ip.is_private, "a private"),
              (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local"),
              (not ip.is_global, "a non-global")]
    return next((reason for refused, reason in checks if refused), None)


def connect_to(addresses: Sequence[str], port: int, timeout: Any, source: tuple[str, int] | None) -> socket.socket:
    """A socket to the first of `addresses` (IP literals, checked already) that accepts: what
    socket.create_connection does for a name, with nothing left to resolve."""
    for address in addresses[:-1]:
        try:
            return socket.create_connection((address, port), timeout, source)
        except OSError:
            continue
    return socket.create_connection((addresses[-1], port), timeout, source)


class _Pinned:
    """An http.client connection whose socket goes to checked addresses, whatever its host name now
    resolves to. Only the socket is replaced (http.client's own hook for it): the Host header, TLS
    with SNI and the certificate checked against the host name, and proxy tunnels stay http.client's."""

    def __init__(self, *args: Any, pinned: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pinned = pinned
        self._create_connection = self._pinned_socket

    def _pinned_socket(self, address: tuple[str, int], timeout: Any, source: Any = None) -> socket.socket:
        return connect_to(self._pinned, address[1], timeout, source)


class PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    pass


class PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    pass


class _CheckedHTTP(urllib.request.HTTPHandler):
    def __init__(self, policy: HostPolicy) -> None:
        super().__init__()
        self._policy = policy

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_connection(self._policy, req, http.client.HTTPConnection, PinnedHTTPConnection),
                            req)


class _CheckedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, policy: HostPolicy) -> None:
        super().__init__()
        self._policy = policy

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_connection(self._policy, req, http.client.HTTPSConnection, PinnedHTTPSConnection),
                            req)


def _connection(policy: HostPolicy, req: urllib.request.Request, plain: type, pinned: type) -> Any:
    """The connection class for one hop (each redirect is a new request, so it comes through here too)."""
    if req.host != unquote(urlsplit(req.full_url).netloc):  # set to the proxy's: the proxy connects
        with contextlib.suppress(URLError):  # and it may resolve names this host cannot
            policy.addresses(req.full_url)
        return plain
    return functools.partial(pinned, pinned=policy.addresses(req.full_url))


def opener(policy: HostPolicy) -> urllib.request.OpenerDirector:
    """urlopen's handlers for http(s) only (no ftp:, file: or data: redirect targets), every hop
    checked and pinned. Built per request (cheap next to one): the proxy variables are read then."""
    director = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), _CheckedHTTP(policy),
                    _CheckedHTTPS(policy), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPRedirectHandler(), urllib.request.HTTPErrorProcessor()):
        director.add_handler(handler)
    return director
