"""A small local HTTP server that imitates a provider API for tests (stdlib only).

Tests register routes (regex over the path) returning JSON, queue faults (a 429 with Retry-After,
a 403), and read the request log afterwards. Every URL a handler builds must use ``req.base_url``:
SDKs such as PyGithub refuse URLs pointing at another host.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

Response = tuple[int, dict[str, Any], Any]
HANG = -1  # a fault status: answer nothing (see Stub.hang)
Handler = Callable[..., Any]


@dataclass
class Request:
    method: str
    path: str
    raw_path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    status: int
    headers: dict[str, Any] | Callable[[], dict[str, Any]]
    body: Any


@dataclass
class Stub:
    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)  # set on stop: hanging requests end

    def route(self, method: str, pattern: str, handler: Handler) -> Stub:
        """handler(req, **named_groups) returns (status, headers, body) or a JSON-able body (200)."""
        self.routes.append((method, re.compile(pattern + r"$"), handler))
        return self

    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        times: int = 1,
        headers: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
        body: Any = None,
    ) -> None:
        """The next ``times`` requests matching method and path get ``status`` instead."""
        self.faults.append(Fault(method, re.compile(pattern + r"$"), times, status, headers or {}, body))

    def hang(self, method: str, pattern: str, seconds: float = 10.0, times: int = 1_000_000) -> None:
        """The next ``times`` matching requests get no answer for ``seconds``, then a closed connection:
        what a client with a shorter read timeout sees as a timeout."""
        self.faults.append(Fault(method, re.compile(pattern + r"$"), times, HANG, {"seconds": seconds}, None))

    def count(self, method: str | None = None, pattern: str | None = None) -> int:
        rx = re.compile(pattern + r"$") if pattern else None
        return sum(1 for r in self.log if (method is None or r.method == method) and (rx is None or rx.match(r.path)))

    def _dispatch(self, req: Request) -> Response:
        with self.lock:
            self.log.append(req)
            for fault in self.faults:
                if fault.remaining > 0 and fault.method == req.method and fault.pattern.match(req.path):
                    fault.remaining -= 1
                    headers = fault.headers() if callable(fault.headers) else fault.headers
                    body = fault.body if fault.body is not None else {"message": "fault injected"}
                    return fault.status, dict(headers), body
        for method, rx, handler in self.routes:
            match = rx.match(req.path)
            if method == req.method and match:
                out = handler(req, **match.groupdict())
                return out if isinstance(out, tuple) else (200, {}, out)
        return 404, {}, {"message": "Not Found", "path": req.path}

    def start(self, tls: tuple[str, str] | None = None) -> str:
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without this, Nagle's algorithm and delayed
                # ACKs add ~40 ms to every keep-alive request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(
                    method=self.command,
                    path=parts.path,
                    raw_path=self.path,
                    query={k: v[0] if len(v) == 1 else v for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    base_url=stub.base_url,
                )
                status, headers, body = stub._dispatch(req)
                if status == HANG:
                    stub.released.wait(float(headers["seconds"]))
                    self.close_connection = True
                    return
                self._send(status, headers, body)

            def _send(self, status: int, headers: dict[str, Any], body: Any) -> None:
                if not isinstance(body, bytes | str):
                    body = json.dumps(body)
                    headers = {"Content-Type": "application/json", **headers}
                raw = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                for key, value in headers.items():
                    for one in value if isinstance(value, list) else [value]:
                        self.send_header(key, str(one))
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.base_url = f"{scheme}://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def link_paginate(
    req: Request, items: list[Any], page_param: str = "page", size_param: str = "per_page", default: int = 30
) -> Response:
    """GitHub-style ``page``/``per_page`` pagination with an RFC 8288 ``Link`` header."""
    page = int(req.query.get(page_param, 1))
    size = int(req.query.get(size_param, default))
    chunk = items[(page - 1) * size : page * size]
    last = max(1, -(-len(items) // size))

    def url(p: int) -> str:
        query = {k: v for k, v in req.query.items()}
        query[page_param] = str(p)
        return f"<{req.base_url}{req.path}?{urlencode(query, doseq=True)}>"

    links = []
    if page < last:
        links += [f'{url(page + 1)}; rel="next"', f'{url(last)}; rel="last"']
    if page > 1:
        links += [f'{url(1)}; rel="first"', f'{url(page - 1)}; rel="prev"']
    return 200, ({"Link": ", ".join(links)} if links else {}), chunk


def self_signed_cert(directory: Path) -> tuple[str, str]:
    """A throwaway certificate for 127.0.0.1/localhost: (certfile, keyfile)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "stub-cert.pem", directory / "stub-key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(certfile), str(keyfile)
