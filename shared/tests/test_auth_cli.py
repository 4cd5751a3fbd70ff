"""RS256 tokens from an identity provider's JWKS, and the operations commands on a real
service database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from salesflow import auth
from salesflow.api.errors import Problem
from salesflow.auth import verify
from salesflow.settings import ServiceSettings
from salesflow.testing.plugin import migrate


@pytest.fixture
def identity_provider() -> Iterator[tuple[rsa.RSAPrivateKey, str]]:
    """An identity provider's JWKS endpoint on loopback."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "idp-1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield key, f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()


def _rs256(key: rsa.RSAPrivateKey, **claims: object) -> str:
    body = {
        "sub": "carol",
        "roles": ["sales_manager"],
        "team": "west",
        "aud": "salesflow",
        "exp": int(time.time()) + 60,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "idp-1"})


def test_rs256_tokens_verified_against_the_jwks(identity_provider) -> None:
    key, url = identity_provider
    settings = ServiceSettings(jwks_url=url)
    principal = verify(_rs256(key), settings)
    assert (principal.sub, principal.team, principal.roles) == ("carol", "west", {"sales_manager"})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Problem) as refused:
        verify(_rs256(other), settings)
    assert refused.value.status == 401
    with pytest.raises(Problem) as nobody:  # ownership is by sub: an empty one is refused
        verify(_rs256(key, sub=""), settings)
    assert nobody.value.status == 401 and "sub" in str(nobody.value.detail)
    with pytest.raises(Problem) as endless:  # owners and actors are stored up to 128 chars
        verify(_rs256(key, sub="x" * 129), settings)
    assert endless.value.status == 401
    assert verify(_rs256(key, sub="x" * 128), settings).sub == "x" * 128
    with pytest.raises(Problem):  # an HS256 token signed with the dev secret is not accepted
        verify(
            jwt.encode(
                {"sub": "x", "aud": "salesflow", "exp": int(time.time()) + 60},
                settings.jwt_secret,
                algorithm="HS256",
            ),
            settings,
        )


def test_a_verified_token_is_reused_only_while_valid_and_for_the_same_keys(monkeypatch) -> None:
    settings = ServiceSettings()
    exp = int(time.time()) + 60
    token = jwt.encode(
        {"sub": "dora", "roles": ["analyst"], "aud": "salesflow", "exp": exp},
        settings.jwt_secret,
        algorithm="HS256",
    )
    decoded: list[str] = []
    decode = auth._decode

    def counting(token: str, settings: ServiceSettings):
        decoded.append(token)
        return decode(token, settings)

    monkeypatch.setattr(auth, "_decode", counting)
    assert verify(token, settings).sub == "dora"
    assert verify(token, settings).roles == {"analyst"}
    assert len(decoded) == 1  # the second answer came from the cache
    # a service with another secret does not accept it, whatever another one cached
    with pytest.raises(Problem) as foreign:
        verify(token, ServiceSettings(jwt_secret="another-secret-of-at-least-32-bytes!!"))
    assert foreign.value.status == 401
    # once past its exp, the cached principal is not handed out: the token is decoded again
    monkeypatch.setattr(auth.time, "time", lambda: exp + 1.0)
    assert verify(token, settings).sub == "dora"  # PyJWT's own clock: still valid here
    assert decoded.count(token) == 3


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("salesflow"))
    return subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env, "COLUMNS": "200"},
    )


async def test_token_outbox_and_dlq_commands(database_url: str) -> None:
    from controlling.main import SPEC

    await migrate(SPEC.migrations_dir, database_url)
    env = {"SALESFLOW_CONTROLLING_DATABASE_URL": database_url}

    token = _cli("token", "--sub", "alice", "--roles", "sales_rep", "--team", "north", env=env)
    assert token.returncode == 0, token.stderr
    claims = jwt.decode(token.stdout.strip(), options={"verify_signature": False})
    assert (claims["sub"], claims["roles"], claims["team"]) == ("alice", ["sales_rep"], "north")
    bad = _cli("token", "--sub", "x", "--roles", "wizard", env=env)
    assert bad.returncode != 0 and "wizard" in bad.stdout + bad.stderr
    for args, hint in ((("--sub", " "), "--sub"), (("--sub", "x", "--ttl", "-5"), "--ttl")):
        refused = _cli("token", *args, "--roles", "analyst", env=env)
        assert refused.returncode != 0 and hint in refused.stdout + refused.stderr

    status = _cli("outbox", "status", "--service", "controlling", env=env)
    assert status.returncode == 0, status.stderr
    assert "unpublished" in status.stdout
    replay = _cli(
        "outbox", "replay", "--service", "controlling", "--since", "2026-01-01T00:00:00Z", env=env
    )
    assert replay.returncode == 0 and "0 event(s)" in replay.stdout
    bad_since = _cli(
        "outbox", "replay", "--service", "controlling", "--since", "yesterday", env=env
    )
    assert bad_since.returncode != 0

    listed = _cli("dlq", "list", "--service", "controlling", env=env)
    assert listed.returncode == 0 and "dead letters (0)" in listed.stdout
    nothing = _cli("dlq", "replay", "--service", "controlling", env=env)
    assert nothing.returncode != 0  # neither --id nor --all
    missing = _cli("dlq", "replay", "--service", "controlling", "--id", "999999", env=env)
    assert missing.returncode == 1 and "no dead letter 999999" in missing.stdout + missing.stderr
    unknown = _cli("dlq", "list", "--service", "nowhere", env=env)
    assert unknown.returncode == 2 and "unknown service" in unknown.stdout + unknown.stderr


def test_service_commands_are_listed_and_mounted_only_when_asked_for() -> None:
    listed = _cli("--help", env={})
    assert listed.returncode == 0, listed.stderr
    for command in ("dev", "token", "outbox", "dlq", "controlling", "import", "simulate", "demo"):
        assert f" {command} " in listed.stdout, command
    importing = _cli("import", "companies", "--help", env={})
    assert importing.returncode == 0 and "FILE" in importing.stdout.upper(), importing.stderr
    # the platform's own commands start without importing any service or the HTTP stack
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from salesflow import cli\n"
            "try:\n"
            "    cli.main(['token', '--help'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(sorted(m for m in ('fastapi', 'controlling', 'leads') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1] == "[]"
