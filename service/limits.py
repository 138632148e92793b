"""Body-size limit for requests that carry no Content-Length (chunked uploads).

Werkzeug stops reading such a body at the limit but does not say it was cut short, so a too-large chunked
body would look like truncated JSON (a 400). This WSGI middleware reads at most limit + 1 bytes first and
answers 413 in the API's error shape when there are more.
"""

from __future__ import annotations

import io
import json


class ChunkedBodyLimit:
    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        if not environ.get("CONTENT_LENGTH") and environ.get("REQUEST_METHOD") in ("POST", "PUT", "PATCH", "DELETE") \
                and (environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()):
            body = environ["wsgi.input"].read(self.limit + 1)
            if len(body) > self.limit:
                payload = json.dumps({"error": {"code": "payload_too_large",
                                                "message": f"the body is over the {self.limit}-byte limit"}}).encode()
                start_response("413 Request Entity Too Large", [("Content-Type", "application/json"),
                                                                 ("Content-Length", str(len(payload))),
                                                                 ("Connection", "close")])
                return [payload]
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.wsgi_app(environ, start_response)
