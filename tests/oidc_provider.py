"""A minimal OpenID Connect provider for the single sign-on tests, run on loopback by the test itself.

Standards it follows (what Streamlit's st.login, i.e. Authlib's client, relies on): the discovery
document (/.well-known/openid-configuration), a JWKS with one RSA key, the authorization code flow
with PKCE (S256), client authentication by HTTP Basic or form post, an RS256-signed id_token carrying
iss, sub, aud, exp, iat, nonce and the identity's claims, the userinfo endpoint, and an
end_session_endpoint that returns to the client's post-logout address. The authorization endpoint
shows a small sign-in form: the tester types a login name known to the provider; unknown names get
the form again. Built on Authlib's JOSE (the same library the client uses) and Starlette + uvicorn
(already installed with Streamlit).

    python -m tests.oidc_provider --port 9400     # by hand: prints its issuer and test identities
"""

from __future__ import annotations

import base64
import html
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "cockpit"
CLIENT_SECRET = "cockpit-test-secret"  # a test provider's client: not a credential of anything real
# the test identities: login name -> the claims the provider asserts about it
IDENTITIES: dict[str, dict[str, Any]] = {
    # mapped to the local account lishui_leader through its e-mail (set by the test)
    "lishui": {"email": "lishui.leader@lishui.gov.cn", "email_verified": True, "name": "丽水市领导"},
    # mapped to the local account officer_330102 through its user name (no e-mail claim)
    "officer_330102": {"preferred_username": "officer_330102", "name": "上城区数据专员"},
    # known to the provider, unknown to the cockpit: refused
    "stranger": {"email": "stranger@example.org", "email_verified": True, "name": "Stranger"},
}


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    login: str
    nonce: str | None
    challenge: str | None
    method: str | None
    scope: str
    issued: float = field(default_factory=time.time)


@dataclass
class Provider:
    issuer: str
    identities: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(IDENTITIES))
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_uris: tuple[str, ...] = ()  # empty: any loopback address
    key: Any = field(default_factory=lambda: JsonWebKey.generate_key("RSA", 2048, is_private=True,
                                                                     options={"kid": "test-key-1"}))
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, str] = field(default_factory=dict)  # access token -> login
    log: list[str] = field(default_factory=list)  # what happened, for the test's messages

    # -- helpers -------------------------------------------------------------------------------
    def claims(self, login: str) -> dict[str, Any]:
        return {"sub": f"sub-{login}", **self.identities[login]}

    def _redirect_ok(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        return uri.startswith(("http://127.0.0.1:", "http://localhost:"))

    @staticmethod
    def _error(status: int, error: str, description: str) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description}, status_code=status)

    def _client_ok(self, request: Request, form: Any) -> bool:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return False
        else:
            cid, secret = form.get("client_id", ""), form.get("client_secret", "")
        return secrets.compare_digest(unquote(cid), self.client_id) and \
            secrets.compare_digest(unquote(secret), self.client_secret)

    # -- endpoints -----------------------------------------------------------------------------
    async def discovery(self, request: Request) -> JSONResponse:
        i = self.issuer
        return JSONResponse({
            "issuer": i, "authorization_endpoint": f"{i}/authorize", "token_endpoint": f"{i}/token",
            "userinfo_endpoint": f"{i}/userinfo", "jwks_uri": f"{i}/jwks", "end_session_endpoint": f"{i}/logout",
            "response_types_supported": ["code"], "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified",
                                 "name", "preferred_username"],
        })

    async def jwks(self, request: Request) -> JSONResponse:
        return JSONResponse({"keys": [self.key.as_dict(is_private=False) | {"use": "sig", "alg": "RS256"}]})

    def _form(self, params: dict[str, str], message: str = "") -> HTMLResponse:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items())
        msg = f'<p class="error">{html.escape(message)}</p>' if message else ""
        return HTMLResponse(
            "<!doctype html><html><head><meta charset='utf-8'><title>Test identity provider</title></head>"
            f"<body><h1>Test identity provider</h1>{msg}<form method='post' action='{self.issuer}/authorize'>"
            f"{hidden}<label>Login <input name='login' autofocus></label>"
            "<button type='submit'>Sign in</button></form></body></html>")

    async def authorize(self, request: Request) -> Response:
        params = dict(await request.form()) if request.method == "POST" else dict(request.query_params)
        params = {k: str(v) for k, v in params.items()}
        if params.get("client_id") != self.client_id:
            return self._error(400, "invalid_request", "unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_ok(redirect_uri):
            return self._error(400, "invalid_request", "redirect_uri not registered")
        state = params.get("state")

        def back(**q: str) -> RedirectResponse:
            q = q | ({"state": state} if state else {})
            return RedirectResponse(f"{redirect_uri}?{urlencode(q)}", status_code=302)

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in params.get("scope", "").split():
            return back(error="invalid_scope", error_description="openid scope required")
        login = params.pop("login", None)
        if request.method != "POST" or login is None:
            return self._form(params)
        if login not in self.identities:
            return self._form(params, f"unknown login {login!r}")
        code = secrets.token_urlsafe(24)
        self.codes[code] = Grant(self.client_id, redirect_uri, login, params.get("nonce"),
                                 params.get("code_challenge"), params.get("code_challenge_method"),
                                 params.get("scope", ""))
        self.log.append(f"authorize {login}")
        return back(code=code)

    async def token(self, request: Request) -> JSONResponse:
        form = await request.form()
        if not self._client_ok(request, form):
            return self._error(401, "invalid_client", "client authentication failed")
        if form.get("grant_type") != "authorization_code":
            return self._error(400, "unsupported_grant_type", "authorization_code only")
        grant = self.codes.pop(str(form.get("code", "")), None)  # a code is used once
        if grant is None or time.time() - grant.issued > 120:
            return self._error(400, "invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._error(400, "invalid_grant", "redirect_uri does not match")
        if grant.challenge:
            verifier = str(form.get("code_verifier", ""))
            if grant.method != "S256" or create_s256_code_challenge(verifier) != grant.challenge:
                return self._error(400, "invalid_grant", "PKCE verification failed")
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": grant.client_id, "iat": now, "exp": now + 300, "auth_time": now,
                  **self.claims(grant.login)}
        if grant.nonce:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.as_dict()["kid"]}, claims, self.key).decode()
        access = secrets.token_urlsafe(24)
        self.access[access] = grant.login
        self.log.append(f"token {grant.login}")
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token, "scope": grant.scope},
                            headers={"Cache-Control": "no-store"})

    async def userinfo(self, request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        login = self.access.get(auth[7:]) if auth.lower().startswith("bearer ") else None
        if login is None:
            return self._error(401, "invalid_token", "unknown access token")
        return JSONResponse(self.claims(login))

    async def logout(self, request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri", "")
        self.log.append("logout")
        if target and self._redirect_ok(target):
            return RedirectResponse(target, status_code=302)
        return HTMLResponse("<p>Signed out</p>")

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route("/logout", self.logout),
        ])


class Running:
    """The provider served by uvicorn in a daemon thread on 127.0.0.1:port (stop() ends it)."""

    def __init__(self, port: int) -> None:
        import uvicorn

        self.provider = Provider(issuer=f"http://127.0.0.1:{port}")
        self.server = uvicorn.Server(uvicorn.Config(self.provider.app(), host="127.0.0.1", port=port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 20.0) -> Running:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test OpenID provider did not start")
            time.sleep(0.05)
        return self

    @property
    def metadata_url(self) -> str:
        return f"{self.provider.issuer}/.well-known/openid-configuration"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def secrets_toml(provider: Running, app_port: int, cookie_secret: str) -> str:
    """The [auth] section of .streamlit/secrets.toml pointing the app at this provider."""
    return (f'[auth]\nredirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
            f'cookie_secret = "{cookie_secret}"\nclient_id = "{provider.provider.client_id}"\n'
            f'client_secret = "{provider.provider.client_secret}"\n'
            f'server_metadata_url = "{provider.metadata_url}"\n')


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9400)
    args = ap.parse_args()
    run = Running(args.port).start()
    print(f"issuer {run.provider.issuer}\nclient_id {CLIENT_ID}  client_secret {CLIENT_SECRET}\n"
          f"identities: {', '.join(IDENTITIES)}")
    try:
        run.thread.join()
    except KeyboardInterrupt:
        run.stop()
