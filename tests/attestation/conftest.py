"""Fixtures of issue 20's explanations, WARN mode and promotion records: the promotion world
and a real SMTP server (the notifications tests' own)."""

from __future__ import annotations

from tests.notifications.conftest import fresh_link_key, mailbox, smtp_server
from tests.promotions.conftest import world

__all__ = ["fresh_link_key", "mailbox", "smtp_server", "world"]
