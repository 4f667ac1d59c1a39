"""The QR drawing lives in `town.qr` (cards and posters print it too, and town may not import a face);
the LIFF pages keep their name for it."""
from town.qr import matrix, png, svg

__all__ = ["matrix", "png", "svg"]
