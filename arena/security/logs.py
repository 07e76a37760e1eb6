"""Gunicorn logging without client addresses (the privacy page promises none are kept).

The access log format (``gunicorn.conf.py``) has no address, referrer or user agent. Gunicorn's
error log names the client in some warnings ("Invalid request from ip=…"); :class:`PrivateLogger`
replaces every IPv4/IPv6 address in error-log messages with ``[address]``, except the addresses
the server itself listens on (a client address is nobody's business; the bind address is the
operator's).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

from gunicorn.glogging import Logger

REDACTED = "[address]"

# Candidates only; each match is confirmed with the ipaddress module before it is replaced.
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_CANDIDATE = re.compile(rf"(?<![\w.:])(?:[0-9A-Fa-f]{{0,4}}(?::[0-9A-Fa-f]{{0,4}}){{2,7}}"
                        rf"(?:(?<=:){_IPV4})?|{_IPV4})(?![\w]|\.\d)")


def redact_addresses(text: str, keep: frozenset[str] = frozenset()) -> str:
    """``text`` with every IP address not in ``keep`` replaced by ``[address]``."""
    def replace(match: re.Match[str]) -> str:
        candidate = match.group(0)
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return candidate
        return candidate if candidate in keep else REDACTED
    return _CANDIDATE.sub(replace, text)


class _RedactFilter(logging.Filter):
    def __init__(self, keep: frozenset[str]) -> None:
        super().__init__()
        self.keep = keep

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_addresses(message, self.keep)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Tracebacks may quote an address too; format them here so they are redacted.
            record.exc_text = redact_addresses(
                logging.Formatter().formatException(record.exc_info), self.keep)
        return True


def _bind_hosts(binds: list[str]) -> frozenset[str]:
    hosts = set()
    for bind in binds:
        host = bind.rsplit(":", 1)[0] if not bind.startswith("unix:") else ""
        hosts.add(host.strip("[]"))
    return frozenset(h for h in hosts if h)


class PrivateLogger(Logger):
    """Gunicorn's logger with client addresses redacted from the error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.addFilter(_RedactFilter(_bind_hosts(list(cfg.bind))))
