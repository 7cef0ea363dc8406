"""Escaping helpers: HTML for the map, Markdown for Streamlit labels/captions/messages."""

import re

from hypothesis import given
from hypothesis import strategies as st

from dashboard.escape import esc, md_escape

HOSTILE = ["![x](http://198.51.100.7/t.png)", "[update](https://evil.example/login)",
           "<img src=x onerror=alert(1)>", "**bold** _it_ `code` # head", "a\nb\r\nc"]


def test_esc_neutralises_html_and_js_template_syntax():
    out = esc("<img src=x onerror=alert(1)> ${alert(2)} `x` \\")
    for bad in ("<", ">", "`", "$", "\\"):
        assert bad not in out
    assert esc(None) == "" and esc(float("nan")) == ""


def test_md_escape_breaks_links_images_and_markup():
    for text in HOSTILE:
        out = md_escape(text)
        bare = re.sub(r"\\.", "", out, flags=re.S)  # what is left outside escaped pairs
        assert not set("[]()!<>*_`#") & set(bare), bare
        assert "\n" not in out and "\r" not in out


@given(st.text(max_size=200))
def test_md_escape_only_adds_backslashes(text):
    """Removing the added backslashes gives back the text (line breaks become spaces)."""
    out = md_escape(text)
    flat = " ".join(text.splitlines())
    assert re.sub(r"\\(.)", r"\1", out, flags=re.S) == flat


@given(st.text(max_size=200))
def test_esc_output_has_no_raw_markup(text):
    out = esc(text)
    assert not set("<>`$\\\"'") & set(out)
