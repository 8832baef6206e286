"""XML parsed without loading, fetching or expanding anything (feeds, OPML, NFO files)."""

from __future__ import annotations

from typing import Any

# lxml ships no type stubs; `lxml-stubs` would make the ignore unused, hence unused-ignore.
from lxml import etree  # type: ignore[import-untyped,unused-ignore]


def safe_xml(data: bytes) -> tuple[Any, int]:
    """Parse XML without loading, fetching or expanding anything; return the root and entities dropped."""
    parser = etree.XMLParser(
        resolve_entities=False,  # declared entities stay unexpanded references: no entity bombs
        no_network=True,
        load_dtd=False,
        huge_tree=False,  # keeps libxml2's depth and text-size limits
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError, LookupError) as exc:
        reason = " ".join(str(getattr(exc, "msg", None) or exc).split())  # one line: messages may hold "\n"
        raise ValueError(reason or type(exc).__name__) from exc
    if root is None:
        raise ValueError("it holds no XML element")
    found = list(root.iter(etree.Entity))
    for ent in found:
        # Removing a node removes its tail too; hand the tail to the previous node or the parent.
        parent, prev, tail = ent.getparent(), ent.getprevious(), ent.tail or ""
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
        parent.remove(ent)
    return root, len(found)
