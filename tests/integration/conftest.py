"""Fixtures the integration tests share: the clinic API's world of two clinics."""

from tests.integration.test_api import world

__all__ = ["world"]
