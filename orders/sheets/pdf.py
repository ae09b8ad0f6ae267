"""Merging the parts of a sheet into one PDF (pypdf) and numbering its pages « page X / Y » across them.

Parts are rendered without the footer (their page count is only known once all are done), so the merged
file gets the footer that a sheet rendered whole has: the same words, DejaVu Sans 8 pt, centred in the
bottom margin. Its glyphs come from one tiny WeasyPrint document rendered once per process; the font is
added once to the merged file and every page points to it (no font subsetting per page, no second layout).
"""

from __future__ import annotations

import gc
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from marketplace.guards import slow_work_outside_transactions

FOOTER_FONT = NameObject("/EtalPageNumber")
FOOTER_SIZE = 8.0  # pt, as @bottom-center in templates/orders/sheets/_base.html
FOOTER_BASELINE = 19.91  # pt above the page's bottom edge: where WeasyPrint centres it in the 16 mm margin
_GLYPHS = "page 0123456789/"
# Young-generation collections while a PDF is made: one per 10 000 new container objects instead of 700.
RENDER_GC_THRESHOLDS = (10_000, 10, 10)


@contextmanager
def few_collections() -> Iterator[None]:
    """WeasyPrint makes hundreds of thousands of small objects per sheet (elements, styles, boxes, text
    layouts) that all live until the PDF is written, so with Python's default thresholds the cyclic
    collector runs thousands of times per render and finds almost nothing to free, each older-generation
    pass also walking the whole Django process: about a fifth of a sheet's CPU time (measured). Fewer
    collections during the render, the usual thresholds after it; what it leaves is freed by the next
    collections as before (peak RSS of a rendering process unchanged in close_load.py)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*RENDER_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@cache
def font_config() -> FontConfiguration:
    """One font configuration for every render of this process (WeasyPrint makes one per render
    otherwise; the sheets load no web fonts, so there is nothing in it to go stale)."""
    return FontConfiguration()


@dataclass(frozen=True)
class _FooterFont:
    """The footer's font (a PDF font dictionary), and per character its glyph id and width (1/1000 em)."""

    font: DictionaryObject
    glyphs: dict[str, tuple[int, float]]

    def text(self, words: str) -> tuple[bytes, float]:
        """The hex string of glyph ids for `words`, and its width in points."""
        ids = "".join(f"{self.glyphs[char][0]:04x}" for char in words)
        width = sum(self.glyphs[char][1] for char in words) * FOOTER_SIZE / 1000
        return f"<{ids}>".encode(), width


def _widths(cid_font: DictionaryObject) -> dict[int, float]:
    """Glyph widths from a CID font's /W array: `c [w1 w2 …]` or `c_first c_last w`."""
    entries, widths, index = list(cid_font.get("/W", [])), {}, 0
    while index < len(entries):
        first = int(entries[index])
        following = entries[index + 1]
        if isinstance(following, ArrayObject):
            for offset, width in enumerate(following):
                widths[first + offset] = float(width)
            index += 2
        else:
            for glyph in range(first, int(following) + 1):
                widths[glyph] = float(entries[index + 2])
            index += 3
    return widths


@cache
def _footer_font() -> _FooterFont:
    html = f"<p style=\"font-family: 'DejaVu Sans', sans-serif; font-size: {FOOTER_SIZE}pt\">{_GLYPHS}</p>"
    page = PdfReader(io.BytesIO(HTML(string=html).write_pdf())).pages[0]
    ((_name, font),) = page["/Resources"]["/Font"].items()
    font = font.get_object()
    contents = page.get_contents().get_data().decode("latin-1")
    # WeasyPrint writes the glyph ids as hex strings (<0053…>), in the order of the characters.
    hex_ids = "".join(re.findall(r"<([0-9a-fA-F]+)>", contents))
    ids = [int(hex_ids[i : i + 4], 16) for i in range(0, len(hex_ids), 4)]
    if len(ids) != len(_GLYPHS):
        raise RuntimeError("the footer's glyphs could not be read back")
    widths = _widths(font["/DescendantFonts"][0].get_object())
    default = float(font["/DescendantFonts"][0].get_object().get("/DW", 1000))
    return _FooterFont(
        font, {char: (gid, widths.get(gid, default)) for char, gid in zip(_GLYPHS, ids, strict=True)}
    )


def _number(writer: PdfWriter, page, font_ref, words: str, footer: _FooterFont) -> None:
    text, width = footer.text(words)
    left = (float(page.mediabox.width) - width) / 2
    resources = page["/Resources"].get_object()
    if "/Font" not in resources:
        resources[NameObject("/Font")] = DictionaryObject()
    resources["/Font"].get_object()[FOOTER_FONT] = font_ref
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(
        b"Q\nq 0 g BT %s %.2f Tf 1 0 0 1 %.2f %.2f Tm %s Tj ET Q\n"
        % (FOOTER_FONT.encode(), FOOTER_SIZE, left, FOOTER_BASELINE, text)
    )
    contents = page["/Contents"]
    old = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *old, writer._add_object(after)]  # noqa: SLF001 - pypdf's way to add one
    )


def pdf_merge(parts: list[bytes]) -> tuple[bytes, int]:
    """One PDF of the parts in this order, its pages numbered « page X / Y »; (bytes, number of pages)."""
    slow_work_outside_transactions("PDF merge")
    with few_collections():
        return _merged(parts)


def _merged(parts: list[bytes]) -> tuple[bytes, int]:
    writer = PdfWriter()
    for content in parts:
        writer.append(PdfReader(io.BytesIO(content)))
    footer = _footer_font()
    font_ref = writer._add_object(footer.font.clone(writer, force_duplicate=True))  # noqa: SLF001
    total = len(writer.pages)
    for number, page in enumerate(writer.pages, start=1):
        _number(writer, page, font_ref, f"page {number} / {total}", footer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), total
