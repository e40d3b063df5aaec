"""A moto server wrapped in a WSGI middleware that logs every AWS operation and injects faults.

moto has no fault injection of its own; this wraps its WSGI app (same process, same backends as the
shared ``moto_server`` fixture) so tests can throttle an operation, deny it in one region, answer
a bare 404 as an imitation lacking the endpoint would, and assert which operations the collector sent.
Fault operations are shell patterns (``GET /*?logging``), matched case-sensitively.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs

PLAIN_404 = "(plain 404)"
HANG = "(hang)"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Call:
    operation: str  # "ListUsers" (query/json protocols) or "GET /detector" (rest protocols)
    protocol: str  # query | json | rest
    method: str
    region: str
    service: str


@dataclass
class Fault:
    operation: str
    times: int
    code: str
    status: int
    region: str | None = None
    seconds: float = 0.0  # HANG: how long the request goes unanswered


@dataclass
class FaultInjector:
    app: Callable[..., Any]
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _call(self, environ: dict[str, Any]) -> Call:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = scope.groups() if scope else ("?", "?")
        method = environ.get("REQUEST_METHOD", "GET")
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return Call(target.split(".")[-1], "json", method, region, service)
        if method == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            action = parse_qs(body.decode()).get("Action", ["?"])[0]
            return Call(action, "query", method, region, service)
        query = "&".join(sorted(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)))
        path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        return Call(f"{method} {path}", "rest", method, region, service)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = self._call(environ)
        fault = None
        with self.lock:
            self.calls.append(call)
            for f in self.faults:
                if f.times > 0 and fnmatchcase(call.operation, f.operation) and f.region in (None, call.region):
                    f.times -= 1
                    fault = f
                    break
        if fault is None:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if fault.code == HANG:
            time.sleep(fault.seconds)  # a client with a shorter read timeout has given up by now
            fault = Fault(fault.operation, 0, "InternalError", 500)
        if "Throttl" in fault.code:
            message = "Rate exceeded"
        elif fault.code == "InternalError":
            message = "We encountered an internal error. Please try again."
        else:
            message = f"not authorized to perform {call.operation}"
        if fault.code == PLAIN_404:
            # What an API imitation without this endpoint answers: no AWS error document at all.
            body, headers = b"Not Found", [("Content-Type", "text/plain")]
        elif call.service == "s3":  # rest-xml: S3's own error document
            body = f"<Error><Code>{fault.code}</Code><Message>{message}</Message></Error>".encode()
            headers = [("Content-Type", "application/xml")]
        elif call.protocol == "query":
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code><Message>{message}</Message>"
                "</Error><RequestId>fault</RequestId></ErrorResponse>"
            ).encode()
            headers = [("Content-Type", "text/xml")]
        else:
            body = json.dumps({"__type": fault.code, "message": message}).encode()
            headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", fault.code)]
        start_response(f"{fault.status} Fault", [*headers, ("Content-Length", str(len(body)))])
        return [body]


class FaultyMoto:
    """A second HTTP front door to moto's (process-wide) backends, with the injector in front."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        self.injector = FaultInjector(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", 0, self.injector, threaded=True, request_handler=MotoRequestHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"))
        with self.injector.lock:
            self.injector.calls.clear()
            self.injector.faults.clear()

    def throttle(self, operation: str, times: int, region: str | None = None) -> None:
        code = "Throttling" if operation[:1].isupper() and " " not in operation else "ThrottlingException"
        self.injector.faults.append(Fault(operation, times, code, 400, region))

    def throttle_json(self, operation: str, times: int) -> None:
        self.injector.faults.append(Fault(operation, times, "ThrottlingException", 400))

    def deny(self, operation: str, region: str | None = None, times: int = 1000) -> None:
        code = "AccessDeniedException" if " " in operation else "AccessDenied"
        self.injector.faults.append(Fault(operation, times, code, 403, region))

    def not_found(self, operation: str, region: str | None = None) -> None:
        """Answer a bare 404 (an endpoint the server does not implement); ``*`` matches any text."""
        self.injector.faults.append(Fault(operation, 1000, PLAIN_404, 404, region))

    def server_error(self, operation: str, times: int = 1_000_000) -> None:
        """Answer 500 InternalError (what AWS returns for a fault on its side)."""
        self.injector.faults.append(Fault(operation, times, "InternalError", 500))

    def hang(self, operation: str, seconds: float, times: int = 1_000_000) -> None:
        """Leave the request unanswered for ``seconds`` (then a 500 nobody reads)."""
        self.injector.faults.append(Fault(operation, times, HANG, 0, seconds=seconds))

    def clear_faults(self) -> None:
        with self.injector.lock:
            self.injector.faults.clear()

    def calls(self) -> list[Call]:
        with self.injector.lock:
            return list(self.injector.calls)

    def clear_calls(self) -> None:
        with self.injector.lock:
            self.injector.calls.clear()

    def stop(self) -> None:
        self.server.shutdown()
