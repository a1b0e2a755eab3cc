"""A local OIDC signing-key server: JWKS over a real socket on 127.0.0.1, with rotation."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://idp.test.local"
AUDIENCE = "orgtwin-api"


class Jwks:
    """Holds signing keys by kid; ``rotate`` adds one, ``token`` signs with one."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def add_rsa(self, kid: str) -> None:
        self.keys[kid] = ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def add_ec(self, kid: str) -> None:
        self.keys[kid] = ("ES256", ec.generate_private_key(ec.SECP256R1()))

    def document(self) -> dict[str, Any]:
        out = []
        for kid, (alg, key) in self.keys.items():
            algo = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
            jwk = json.loads(algo.to_jwk(key.public_key()))
            jwk.update({"kid": kid, "alg": alg, "use": "sig"})
            out.append(jwk)
        return {"keys": out}

    def token(
        self, kid: str, employee_id: str, role: str | list[str] = "user", **overrides: Any
    ) -> str:
        alg, key = self.keys[kid]
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"idp|{employee_id}",
            "employee_id": employee_id,
            "orgtwin_role": role,
            "iat": now,
            "exp": now + 600,
            **overrides,
        }
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                body = json.dumps(jwks.document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
