"""Escaping helpers for the page, in one place: HTML (map popups, tooltips, labels) and
Markdown (Streamlit labels, captions and messages render Markdown).

Text from data or uploads is untrusted. :func:`esc` makes it inert inside HTML and inside the
JS template strings folium writes; :func:`md_escape` makes Streamlit show it literally (no
links, no images, no formatting, no HTML).
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'^])")


def esc(value: Any) -> str:
    """``value`` as HTML-escaped text, safe in HTML and JS template strings ("" for None/NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def md_escape(text: Any) -> str:
    """Text safe for st.markdown/st.caption/widget labels: every Markdown/HTML special char is
    backslash-escaped and line breaks become spaces, so it shows literally."""
    flat = " ".join(str(text).splitlines())
    return _MD_SPECIAL.sub(r"\\\1", flat)
