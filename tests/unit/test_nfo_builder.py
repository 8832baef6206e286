"""The NFO builder writes its text itself: byte for byte what lxml's pretty printer makes of the elements."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from antenna.formats.nfo import _DECLARATION, NfoBuilder, xml_text

TAGS = st.sampled_from(["title", "plot", "uniqueid", "thumb", "genre", "season"])
ATTR_VALUES = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t\r&<>\"'"))
ELEMENTS = st.lists(
    st.tuples(
        TAGS,
        st.text(),
        st.booleans(),
        st.sampled_from(["", "fanart"]),
        st.dictionaries(st.sampled_from(["type", "aspect", "default"]), ATTR_VALUES, max_size=2),
    ),
    max_size=6,
)


Element = tuple[str, str, bool, str, dict[str, str]]


def lxml_render(root: str, elements: list[Element], kodi_safe: bool) -> bytes:
    """The builder's former lxml implementation: the reference."""
    top = etree.Element(root)
    for tag, value, required, inside, attrs in elements:
        text = xml_text(value, kodi_safe=kodi_safe)
        if text or required:
            parent = etree.SubElement(top, inside) if inside else top
            etree.SubElement(parent, tag, attrs).text = text
    body: bytes = etree.tostring(top, encoding="utf-8", pretty_print=True)
    return _DECLARATION + body


@settings(max_examples=400)
@given(st.sampled_from(["movie", "tvshow", "episodedetails"]), ELEMENTS, st.booleans())
def test_the_builder_writes_what_lxml_writes(root: str, elements: list[Element], kodi_safe: bool) -> None:
    builder = NfoBuilder(root, kodi_safe)
    for tag, value, required, inside, attrs in elements:
        builder.add(tag, value, required=required, inside=inside, **attrs)
    rendered = builder.render()
    assert rendered == lxml_render(root, elements, kodi_safe)
    etree.fromstring(rendered)  # and it is well-formed XML


def test_an_attribute_xml_cannot_carry_is_refused_as_lxml_refuses_it() -> None:
    builder = NfoBuilder("movie", False)
    with pytest.raises(ValueError, match="XML cannot carry"):
        builder.add("uniqueid", "1", type="tm\x00db")
