"""uvicorn's HTTP/1.1 protocol as we serve it: llhttp (httptools) in its strict default mode,
a bound on the request head, and uvicorn's own refusals as problem+json with our headers.

Why httptools and not h11 (both ship with uvicorn 0.54): h11 0.16 accepts what RFC 9112
lets a server refuse and a proxy in front may read differently, so h11 offers no option to
refuse them: a request with both ``Content-Length`` and ``Transfer-Encoding`` (section 6.3:
h11 lets ``Transfer-Encoding`` win and keeps the connection open), obsolete line folding
(section 5.2) and bare LF line ends (section 2.2). llhttp refuses all three by default (its
"lenient" flags stay off); uvicorn then answers 400 and closes the connection. Checked with a
raw socket in tests/reliability/test_smuggling.py.
"""

from __future__ import annotations

from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from currency_api.problems import PROBLEM_JSON, problem_body

#: The protocol class for uvicorn's ``http`` option, as an import string (workers import it).
PROTOCOL: Final = "currency_api.http_protocol:StrictHttpToolsProtocol"
#: Largest request head (request line and header fields), in bytes: an Application Load
#: Balancer's limit for all request headers (Elastic Load Balancing user guide, "HTTP
#: headers and Application Load Balancers": 64 KB). uvicorn with httptools has none.
MAX_HEAD_BYTES: Final = 65_536


class StrictHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :data:`MAX_HEAD_BYTES` and problem+json refusals.

    uvicorn answers a request llhttp cannot parse with ``400 text/plain`` and closes the
    connection (``send_400_response``); here the answer is a problem+json with
    ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store`` instead, and a head
    longer than :data:`MAX_HEAD_BYTES` is answered 431 the same way.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = True
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._head_open:
            self._head_bytes += len(data)
        super().data_received(data)
        too_large = self._head_open and self._head_bytes > MAX_HEAD_BYTES
        if too_large and not self.transport.is_closing():
            self.logger.warning("Request head too large.")
            detail = f"The request line and header fields exceed {MAX_HEAD_BYTES} bytes."
            self._refuse(431, "Request Header Fields Too Large", detail)

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_open = True
        self._head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "Bad Request", "The request is not valid HTTP/1.1 (RFC 9112).")

    def _refuse(self, status: int, title: str, detail: str) -> None:
        body = problem_body(status, title, detail)
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head += [
            b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"x-content-type-options: nosniff\r\n",
            b"cache-control: no-store\r\n",
            b"connection: close\r\n",
            b"\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
