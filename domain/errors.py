"""The domain's own small set of exceptions; the API maps each to one status code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidField(DomainError):
    """A request field is wrong; `field` names it in the client's spelling."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class UnsupportedOrderType(InvalidField):
    """A known order type that this version cannot take yet."""


class InvalidTransition(DomainError):
    """The order's current status does not allow the command (HTTP 409)."""

    def __init__(self, status: str, command: str) -> None:
        super().__init__(f"{command} is not allowed while the order is {status}")
        self.status = status
        self.command = command
