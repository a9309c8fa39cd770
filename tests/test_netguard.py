"""The address guard of server-side fetches: resolved once, every address checked, the checked address
connected to; IPv6 forms that carry a private IPv4 address are refused."""

from __future__ import annotations

import ipaddress

import httpx
import httpx2
import pytest

from rejoinder import netguard

EMBEDS_A_PRIVATE_IPV4 = {
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped private": "::ffff:10.1.2.3",
    "IPv4-compatible loopback": "::127.0.0.1",
    "NAT64 of a private address": "64:ff9b::a00:1",
    "NAT64 of cloud metadata": "64:ff9b::a9fe:a9fe",
    "local-use NAT64": "64:ff9b:1::a00:1",
    "6to4 of a private address": "2002:a00:1::1",
    "6to4 of loopback": "2002:7f00:1::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
}


@pytest.mark.parametrize("form", list(EMBEDS_A_PRIVATE_IPV4), ids=list(EMBEDS_A_PRIVATE_IPV4))
def test_ipv6_forms_that_embed_a_private_ipv4_are_refused(form: str) -> None:
    assert netguard.refused_ip(ipaddress.ip_address(EMBEDS_A_PRIVATE_IPV4[form]))


def test_public_addresses_pass_in_every_form() -> None:
    for address in ("8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"):
        assert not netguard.refused_ip(ipaddress.ip_address(address)), address


async def test_dns_rebinding_cannot_move_a_checked_request(webhook_receiver) -> None:
    """The name answers a public address to the check and the receiver's loopback address to anyone who
    asks again: the request goes to the address that was checked, or nowhere, never to loopback."""
    port = webhook_receiver.port
    answers: list[str] = []

    async def rebinding(host: str, asked_port: int) -> list[str]:
        answers.append(host)
        return ["192.0.2.10"] if len(answers) == 1 else ["127.0.0.1"]  # 192.0.2.10: public-looking, unroutable

    httpx.post(f"{webhook_receiver.base}/_plan", json={"statuses": []})  # clears the calls
    async with httpx2.AsyncClient(timeout=1.5) as client:
        with pytest.raises((netguard.Refused, httpx2.HTTPError)) as failed:
            await netguard.request(client, "POST", f"http://rebind.example:{port}/hook", content=b"probe",
                                   resolver=rebinding)
    assert answers == ["rebind.example"]  # resolved once
    assert netguard.category(failed.value) in ("refused_address", "timeout", "connect_failed")
    assert httpx.get(f"{webhook_receiver.base}/_calls").json() == []


async def test_a_pinned_request_keeps_the_name_for_the_server(webhook_receiver) -> None:
    async def hooks_name(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    httpx.post(f"{webhook_receiver.base}/_plan", json={"statuses": []})
    async with httpx2.AsyncClient(timeout=5) as client:
        with pytest.raises(netguard.Refused) as refused:
            await netguard.request(client, "POST", f"http://hooks.example:{webhook_receiver.port}/hook",
                                   content=b"x", resolver=hooks_name)
        assert refused.value.category == "refused_address"
        r = await netguard.request(client, "POST", f"http://hooks.example:{webhook_receiver.port}/hook",
                                   content=b"x", resolver=hooks_name, policy=netguard.Policy(private_ok=True))
    assert r.status_code == 200
    (call,) = httpx.get(f"{webhook_receiver.base}/_calls").json()
    assert call["headers"]["host"] == f"hooks.example:{webhook_receiver.port}"


async def test_bad_urls_are_refused_before_any_lookup() -> None:
    for url in ("ftp://example.com/", "http://user:pw@example.com/", "http://example.com:99999/", "http:///x"):
        with pytest.raises(netguard.Refused) as refused:
            await netguard.pin(url)
        assert refused.value.category == "bad_url", url
