"""Request handler of the mirror: HTTP/1.1 keep-alive (the crawler's speed depends on it),
conditional GET, gzip when asked, and the streamed / stalled failure responses.
"""

from __future__ import annotations

import gzip
import hashlib
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .server import MirrorServer, Reply

_CHUNK = b"<p>" + b"x" * 65530 + b"</p>"


def make_handler(server: MirrorServer, name: str) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to one mirror site of `server`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One buffered write per response and no Nagle: otherwise delayed ACKs cap a keep-alive
        # connection at ~25 responses/s.
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def version_string(self) -> str:
            return "newsdedup-mirror/1.0"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: tests and the demo read `server.hits`, not an access log."""

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, head: bool) -> None:
            path = urlsplit(self.path).path or "/"
            url = server.origins[name] + self.path
            reply = server._route(name, path)
            kind = reply.headers[0][1] if reply.headers and reply.headers[0][0] == "X-Mirror-Failure" else ""
            try:
                if kind == "slow":
                    self._count(url, 200)
                    server._stopping.wait(server.slow_seconds)
                    if server._stopping.is_set():
                        return
                    self._send(reply, head, url=None)
                elif kind in ("huge", "huge-chunked"):
                    self._count(url, 200)
                    self._stream_huge(chunked=kind == "huge-chunked", head=head)
                else:
                    self._send(reply, head, url=url)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                self.close_connection = True

        def _count(self, url: str, status: int) -> None:
            with server._lock:
                server.hits[url] += 1
                server.statuses[(url, status)] += 1

        def _send(self, reply: Reply, head: bool, url: str | None) -> None:
            """Write the reply (304 when the client's validators still match); counts it first."""
            body = reply.body
            etag = '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"' if reply.validators else ""
            modified = format_datetime(reply.modified.astimezone(), usegmt=True) if reply.modified else ""
            if reply.validators and reply.modified is not None and self._not_modified(etag, reply):
                if url:
                    self._count(url, 304)
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            encoding = ""
            if body and reply.status == 200 and not reply.headers and "gzip" in self.headers.get("Accept-Encoding", "") \
                    and reply.ctype.startswith(("text/", "application/")):
                body = gzip.compress(body, compresslevel=1)
                encoding = "gzip"
            if url:
                self._count(url, reply.status)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in reply.headers:
                self.send_header(key, value)
            if encoding:
                self.send_header("Content-Encoding", encoding)
                self.send_header("Vary", "Accept-Encoding")
            if etag:
                self.send_header("ETag", etag)
            if modified:
                self.send_header("Last-Modified", modified)
            self.send_header("Cache-Control", "max-age=60")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _not_modified(self, etag: str, reply: Reply) -> bool:
            if_none = self.headers.get("If-None-Match")
            if if_none is not None:
                tags = {t.strip().removeprefix("W/") for t in if_none.split(",")}
                return "*" in tags or etag in tags
            since = self.headers.get("If-Modified-Since")
            if since and reply.modified is not None:
                try:
                    return reply.modified.replace(microsecond=0) <= parsedate_to_datetime(since)
                except (TypeError, ValueError):
                    return False
            return False

        def _stream_huge(self, chunked: bool, head: bool) -> None:
            """`server.huge_bytes` of HTML written in 64 KB pieces (never held in memory)."""
            total = server.huge_bytes
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if chunked:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(total))
            self.end_headers()
            if head:
                return
            sent = 0
            while sent < total and not server._stopping.is_set():
                piece = _CHUNK[: total - sent]
                self.wfile.write(piece)
                sent += len(piece)

    return Handler
