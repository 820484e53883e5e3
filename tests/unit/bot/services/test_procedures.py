"""Procedure helpers: the invite's QR code is large enough to print."""

from __future__ import annotations

import io

from PIL import Image

from bot.services.procedures import qr_png

LINK = "https://t.me/vertebrobot_test_bot?start="


def test_the_invite_qr_code_is_at_least_600_pixels_wide_in_whole_modules() -> None:
    for link in (LINK + "x" * 32, "https://t.me/a_rather_long_bot_username_bot?start=" + "y" * 43):
        image = Image.open(io.BytesIO(qr_png(link)))
        width, height = image.size
        assert width == height >= 600
        assert width < 1200, "not needlessly large"
