"""The ``server`` group of :class:`assistant.settings.Settings`: where and how ``assistant serve``
listens, who may embed it, and the limits of its requests."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.settings.groups import TextList


class ServerSettings(BaseModel):
    """Where and how ``assistant serve`` listens."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    host: str = Field(default="127.0.0.1", description="Address `assistant serve` binds to.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port `assistant serve` listens on (TCP port).")
    root_path: str = Field(
        default="",
        description="URL path prefix under which a reverse proxy serves the app, e.g. /assistant "
        "(empty: served at /). The proxy strips the prefix before forwarding.",
    )
    allowed_origins: TextList = Field(
        default_factory=list,
        description="Origins (scheme://host[:port], e.g. http://portal.intranet:8080) besides the server's own that may "
        "frame /widget (CSP frame-ancestors) and call /api from a browser (CORS); empty: only the server's own origin.",
    )
    max_concurrent_questions: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Questions the server answers at once per entry point (/api, chat, widget) (count); more wait their turn.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Processes answering POST /api/ask (count); 1: the server's own process. Each further one loads "
        "the model and the index again (about 400 MB).",
    )
    max_body_bytes: int = Field(
        default=1_000_000,
        ge=10_000,
        description="Largest request body the server reads (bytes); a larger one is refused with 413 before it is read.",
    )
    allowed_hosts: TextList = Field(
        default_factory=list,
        description="Host names (as in the Host header, without port) the server answers besides localhost, IP "
        "addresses, the bound host and, when bound beyond loopback, this machine's name; * turns the check off. "
        "Anything else is a 400 (a DNS-rebinding page cannot reach the server).",
    )

    auth_mode: Literal["none", "proxy", "token"] = Field(
        default="none",
        description="Who is asking: `none` (one user on loopback; every document readable), `proxy` (a signing-in "
        "reverse proxy at trusted_proxies passes the user and groups in user_header and groups_header) or `token` "
        "(Authorization: Bearer tokens made by `assistant token add`, each mapped to groups).",
    )
    trusted_proxies: TextList = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Addresses or networks (CIDR) of the reverse proxies whose identity headers are trusted in "
        "auth_mode proxy; a request from any other address is refused (403).",
    )
    user_header: str = Field(default="X-Forwarded-User", description="Header naming the signed-in user (auth_mode proxy).")
    groups_header: str = Field(
        default="X-Forwarded-Groups", description="Header listing the user's groups, comma-separated (auth_mode proxy)."
    )
    max_groups: int = Field(
        default=100, ge=1, le=10_000, description="Most groups one user may have (count); a longer groups header is refused (400)."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, values: list[str]) -> list[str]:
        import ipaddress

        for value in values:
            try:
                ipaddress.ip_network(value.strip(), strict=False)
            except ValueError:
                raise ValueError(f"a trusted proxy is an IP address or network such as 10.0.0.5 or 10.0.0.0/24, got {value!r}") from None
        return [v.strip() for v in values]

    @field_validator("user_header", "groups_header")
    @classmethod
    def _check_header(cls, value: str) -> str:
        value = value.strip()
        if not value or not all(c.isalnum() or c == "-" for c in value):
            raise ValueError(f"a header name is letters, digits and -, got {value!r}")
        return value

    @field_validator("root_path")
    @classmethod
    def _check_root_path(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (not value.startswith("/") or "//" in value or any(c in value for c in "?#")):
            raise ValueError(f"root_path must be a URL path like /assistant, got {value!r}")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            host = value.strip().lower().rstrip(".")
            if not host or any(c in host for c in "/?#@ ") or (host != "*" and "*" in host):
                raise ValueError(f"allowed host must be a host name such as assistant.intranet (or *), got {value!r}")
            out.append(host)
        return out

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            origin = value.strip().rstrip("/").lower()
            scheme, sep, host = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not host or any(c in host for c in "/?#* "):
                raise ValueError(f"allowed origin must look like http://host:port (no path, no wildcard), got {value!r}")
            out.append(origin)
        return out
