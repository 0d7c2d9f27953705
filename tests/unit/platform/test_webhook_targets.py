"""The allow-list of webhook targets: only public addresses, unless a host or network is listed."""

from ipaddress import ip_address

import pytest

from docintake.platform.webhook_targets import AllowList, TargetRefused, check, refusal

PUBLIC = [ip_address("93.184.215.14")]

CASES = [
    # (url, the addresses its host resolves to, allow-list, allowed?)
    ("https://hooks.example.com/in", PUBLIC, "", True),
    ("http://hooks.example.com:8080/in?x=1", PUBLIC, "", True),
    ("https://hooks.example.com/in", [ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c")], "", True),
    ("http://127.0.0.1:9000/hook", [ip_address("127.0.0.1")], "", False),
    ("http://localhost/hook", [ip_address("127.0.0.1"), ip_address("::1")], "", False),
    ("http://[::1]/hook", [ip_address("::1")], "", False),
    ("http://10.1.2.3/hook", [ip_address("10.1.2.3")], "", False),
    ("http://172.16.0.1/hook", [ip_address("172.16.0.1")], "", False),
    ("http://192.168.1.1/hook", [ip_address("192.168.1.1")], "", False),
    ("http://100.64.0.1/hook", [ip_address("100.64.0.1")], "", False),  # carrier-grade NAT
    ("http://169.254.169.254/latest/meta-data", [ip_address("169.254.169.254")], "", False),  # cloud metadata
    ("http://[fe80::1]/hook", [ip_address("fe80::1")], "", False),
    ("http://[fd00::1]/hook", [ip_address("fd00::1")], "", False),
    ("http://[::ffff:127.0.0.1]/hook", [ip_address("::ffff:127.0.0.1")], "", False),  # IPv4-mapped loopback
    ("http://224.0.0.1/hook", [ip_address("224.0.0.1")], "", False),  # multicast
    ("http://240.0.0.1/hook", [ip_address("240.0.0.1")], "", False),  # reserved
    ("http://0.0.0.0/hook", [ip_address("0.0.0.0")], "", False),  # unspecified
    # a name that resolves to a public and a private address is refused
    ("https://mixed.example.com/", [ip_address("93.184.215.14"), ip_address("10.0.0.5")], "", False),
    ("https://nowhere.example/", [], "", False),  # does not resolve
    # allow-listed by network or by name
    ("http://127.0.0.1:9000/hook", [ip_address("127.0.0.1")], "127.0.0.0/8", True),
    ("http://127.0.0.1:9000/hook", [ip_address("127.0.0.1")], "127.0.0.1", True),
    ("http://10.1.2.3/hook", [ip_address("10.1.2.3")], "hooks.internal, 10.1.0.0/16", True),
    ("http://10.2.0.1/hook", [ip_address("10.2.0.1")], "10.1.0.0/16", False),
    ("http://Hooks.Internal./hook", [ip_address("10.9.9.9")], "hooks.internal", True),
    ("http://other.internal/hook", [ip_address("10.9.9.9")], "hooks.internal", False),
    ("http://[::1]/hook", [ip_address("::1")], "127.0.0.0/8", False),  # a network of the other version
    # not URLs a webhook may have
    ("ftp://hooks.example.com/", PUBLIC, "", False),
    ("file:///etc/passwd", [], "", False),
    ("hooks.example.com/in", PUBLIC, "", False),
    ("https://user:secret@hooks.example.com/", PUBLIC, "", False),
    ("https://hooks.example.com:99999/", PUBLIC, "", False),
    ("https:///no-host", [], "", False),
    ("https://hooks.example.com/" + "a" * 2001, PUBLIC, "", False),
]


@pytest.mark.parametrize(("url", "addresses", "allowed", "expected"), CASES)
def test_only_public_addresses_are_called_unless_allow_listed(url, addresses, allowed, expected):
    reason = refusal(url, addresses, AllowList.parse(allowed))
    assert (reason is None) == expected, reason


async def test_the_check_resolves_the_host_and_says_why_it_refuses():
    with pytest.raises(TargetRefused, match="127.0.0.1.*not public"):
        await check("http://127.0.0.1:1/hook", AllowList())
    with pytest.raises(TargetRefused, match="localhost"):
        await check("http://localhost:1/hook", AllowList())
    await check("http://localhost:1/hook", AllowList.parse("localhost"))
    await check("http://127.0.0.1:1/hook", AllowList.parse("127.0.0.0/8"))
    with pytest.raises(TargetRefused, match="http or https"):
        await check("gopher://127.0.0.1/", AllowList.parse("127.0.0.0/8"))
