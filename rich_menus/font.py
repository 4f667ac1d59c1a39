"""The one Japanese font for every image we draw: IPAexGothic, shipped in `jafont` (see there why).

Kept under this name for the rich-menu drawing code that imports it.
"""
from __future__ import annotations

from jafont import FontNotFound, font, font_path

__all__ = ["FontNotFound", "font", "font_path"]
