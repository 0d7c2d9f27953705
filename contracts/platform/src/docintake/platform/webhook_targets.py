"""Which URLs a webhook may call: http(s) URLs whose host resolves to public addresses only, unless the host
(or a network holding its addresses) is on the allow-list (DOCINTAKE_WEBHOOK_ALLOWED_HOSTS). Private,
loopback, link-local, multicast, reserved and unspecified addresses are refused otherwise, so that a
tenant cannot make the services call into their own network.

`refusal` is the pure rule (a URL and the addresses its host resolved to); `check` resolves and applies
it. The gateway checks a batch's callback when it is given, the status service again before each
delivery (what a name resolves to may have changed since).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_LENGTH = 2000


class TargetRefused(ValueError):
    """A callback URL the allow-list does not let the services call; the message says why."""


@dataclass(frozen=True)
class AllowList:
    """Hosts (by name, compared case-insensitively) and networks that may be called though not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: str | Iterable[str]) -> "AllowList":
        """From a comma-separated list (or the entries): host names, addresses and CIDR networks."""
        items = entries.split(",") if isinstance(entries, str) else entries
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for item in (entry.strip() for entry in items):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == network.version and address in network for network in self.networks)


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet: none of the private, loopback, link-local, multicast,
    reserved or unspecified ranges (an IPv4 address mapped into IPv6 is judged as the IPv4 one)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified or not address.is_global)


def host_of(url: str) -> str:
    """The host a URL names; raises TargetRefused for a URL that is not an absolute http(s) URL."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"The callback URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError as exc:
        raise TargetRefused(f"The callback URL does not read as a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("The callback URL must be http or https")
    if not parts.hostname:
        raise TargetRefused("The callback URL names no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The callback URL must not carry credentials")
    return parts.hostname


def refusal(url: str, addresses: Sequence[IPAddress], allowed: AllowList) -> str | None:
    """Why the URL may not be called, its host having resolved to `addresses`; None if it may."""
    try:
        host = host_of(url)
    except TargetRefused as exc:
        return str(exc)
    if allowed.allows_host(host):
        return None
    if not addresses:
        return f"The callback host {host} does not resolve"
    for address in addresses:
        if not is_public(address) and not allowed.allows_address(address):
            return f"The callback host {host} resolves to {address}, which is not public and not allow-listed"
    return None


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


async def resolve(host: str) -> list[IPAddress]:
    """Every address the host resolves to (the host itself when it is an address); none when it does not."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = literal_address(str(sockaddr[0]))
        if address is not None and address not in found:
            found.append(address)
    return found


async def check(url: str, allowed: AllowList) -> None:
    """Raises TargetRefused, saying why, unless the URL may be called now."""
    host = host_of(url)
    addresses = [] if allowed.allows_host(host) else await resolve(host)
    reason = refusal(url, addresses, allowed)
    if reason is not None:
        raise TargetRefused(reason)
