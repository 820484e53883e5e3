"""Fixtures the integration tests share: the clinic API's world of two clinics."""

from tests.integration.api_world import world

__all__ = ["world"]
