"""uvicorn's fast HTTP/1.1 protocol (httptools), except for one thing: a request that offers an upgrade
the server does not take is served as the plain HTTP/1.1 request it also is, body and all.

Java's java.net.http client (and so our generated Java client and the official Java SDK), curl
--http2 and others send their first request on a cleartext connection with `Connection: Upgrade,
HTTP2-Settings` and `Upgrade: h2c`. A server may ignore the offer (RFC 9110 §7.8). httptools, though,
stops at the end of the headers of any upgrade request and never reads the body, and uvicorn's
protocol then hands the app an empty body (uvicorn issue #2722, open): every such /run or /validate
would be a 400 "body is empty". Here the parser is not told to skip: when the headers of an offer end,
the request is parsed again by a fresh parser with the offer's headers removed, from the bytes after
the headers on, so the body is read by its own framing (Content-Length or chunked) and a pipelined
request after it is parsed as usual. The h11 protocol has no such bug, but serves a third as many
requests a second here.

It also sends each answer in one write: uvicorn writes an answer's headers and its body with a
system call each, and on these machines that second call was the largest single cost of a small answer.

`gradergen serve` uses it; with uvicorn of your own:
`uvicorn.run(app, http="gradergen.server.protocol:IgnoresUpgradeOffers")`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

OFFER_HEADERS = frozenset({b"upgrade", b"http2-settings"})
OFFER_TOKENS = frozenset({b"upgrade", b"http2-settings"})


def without_offer(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]] | None:
    """The headers without the upgrade offer (its headers, its Connection tokens), or None when they
    make no offer to remove (a CONNECT request)."""
    if not any(name == b"upgrade" for name, _ in headers):
        return None
    kept = []
    for name, value in headers:
        if name in OFFER_HEADERS:
            continue
        if name == b"connection":
            tokens = [t.strip() for t in value.split(b",")]
            value = b", ".join(t for t in tokens if t and t.lower() not in OFFER_TOKENS)
            if not value:
                continue
        kept.append((name, value))
    return kept


class OneWrite:
    """The connection's transport, holding a write back until the next one, to send both in one: the
    headers of an answer wait for its body, written in the same step. A write nothing follows in
    that step is sent at the loop's next turn, and before the connection closes."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            held, self._held = self._held, None
            self._transport.write(held + data)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading…
        return getattr(self._transport, name)


class IgnoresUpgradeOffers(HttpToolsProtocol):
    _declined = False
    """The headers of an upgrade offer we do not take were parsed: the request is to be parsed again."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = OneWrite(transport, self.loop)  # type: ignore[assignment]

    def on_headers_complete(self) -> None:
        if self.parser.should_upgrade() and not self._should_upgrade():
            self._declined = True  # no request cycle for it: data_received parses it again
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._declined:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._declined:
            super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._refuse("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade as upgrade:
            if self._declined:
                self._parse_again(data[upgrade.args[0] :])
            elif self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _parse_again(self, rest: bytes) -> None:
        self._declined = False
        headers = without_offer(self.headers)
        if headers is None:
            self._refuse("Unsupported upgrade request.")
            return
        method, version = self.parser.get_method(), self.parser.get_http_version().encode("ascii")
        head = [method, b" ", self.url, b" HTTP/", version, b"\r\n"]
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        self.parser = httptools.HttpRequestParser(self)
        try:
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        except AttributeError:  # httptools < 0.6.3
            pass
        self.data_received(b"".join(head) + rest)

    def _refuse(self, message: str) -> None:
        self.logger.warning(message)
        self.send_400_response(message)
