"""Model answers as safe HTML.

Answers come from models that anyone can prompt, so they are untrusted input: markdown-it
renders them with raw HTML disabled, and nh3 then keeps only a small set of tags and
attributes. The sanitiser is the guarantee; markdown-it's own escaping and link validation
are a first layer, not the one we rely on.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping, Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

# No <img>: a remote image in an answer would let whoever controls the model's output learn
# the IP address of every voter who sees it. Images become plain links instead.
_TAGS = frozenset({
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = frozenset({"http", "https", "mailto"})
_ABSOLUTE = tuple(f"{scheme}:" for scheme in sorted(_SCHEMES))
_REL = "nofollow noopener noreferrer"

# linkify needs linkify-it-py, which is not a dependency; <https://...> autolinks still work.
_md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
    ["table", "strikethrough"])


def _image_as_link(renderer: RendererHTML, tokens: Sequence[Token], idx: int,
                   options: Any, env: MutableMapping[str, Any]) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt or src)}</a>'


_md.add_render_rule("image", _image_as_link)


def _absolute_links_only(tag: str, attribute: str, value: str) -> str | None:
    # nh3 lets relative URLs through; from an answer they could only point into this site
    # (e.g. at a vote URL), which no honest answer needs.
    if attribute == "href" and not value.lower().startswith(_ABSOLUTE):
        return None
    return value


# One line that starts with a letter, holds only letters, digits, spaces and this punctuation,
# and does not end in a space, has no markdown in it (no block starts with a letter, none of
# these characters opens inline markup without a bracket, backtick, star or underscore) and no
# character that HTML escapes: it renders as one paragraph of itself. Most typed prompts look
# like this; the full renderer and sanitiser cost ~0.4 ms each. tests/arena/test_render.py
# checks the shortcut against the full path.
_PLAIN_LINE = re.compile(r"[A-Za-z][A-Za-z0-9 ,.?!:;()/'-]*")


def render_markdown(text: str) -> str:
    """Render untrusted markdown to sanitised HTML (no scripts, handlers or unsafe URLs)."""
    if _PLAIN_LINE.fullmatch(text) and not text.endswith(" "):
        return f"<p>{text}</p>\n"
    return _render(text)


def _render(text: str) -> str:
    return nh3.clean(
        _md.render(text),
        tags=set(_TAGS),
        attributes={tag: set(attrs) for tag, attrs in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        link_rel=_REL,
        attribute_filter=_absolute_links_only,
        strip_comments=True,
    )
