"""What xmltv.dtd says about a <programme>: its children's order, its attributes, where `lang` goes."""

from __future__ import annotations

DTD_ORDER = (
    "title", "sub-title", "desc", "credits", "date", "category", "keyword", "language", "orig-language",
    "length", "icon", "url", "country", "episode-num", "video", "audio", "previously-shown", "premiere",
    "last-chance", "new", "subtitles", "rating", "star-rating", "review", "image",
)  # fmt: skip
RANK = {tag: index for index, tag in enumerate(DTD_ORDER)}
PROGRAMME_ATTRS = frozenset(
    {"start", "stop", "pdc-start", "vps-start", "showview", "videoplus", "channel", "clumpidx"}
)
LANG_TAGS = frozenset({"title", "sub-title", "desc", "category", "keyword"})
# Elements xmltv.dtd allows at most once in a programme: a second one is dropped.
SINGLE = frozenset(
    {"credits", "date", "language", "orig-language", "length", "video", "audio", "previously-shown",
     "premiere", "last-chance", "new"}
)  # fmt: skip
EPISODE_SYSTEMS = frozenset({"xmltv_ns", "onscreen", "original-air-date"})
