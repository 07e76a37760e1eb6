"""render_markdown: normal markdown renders, an XSS corpus never survives."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from arena.render import render_markdown

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<svg onload="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x](https://x.example/a.png" onerror="alert(1))',
    '[x](https://ok.example "title" onmouseover=alert(1))',
    "<iframe src=javascript:alert(1)></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<body onload=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "<details open ontoggle=alert(1)>",
    "[a](<javascript:alert(1)>)",
    "<https://ok.example/\" onmouseover=\"alert(1)>",
    "<javascript:alert(1)>",
    '<form action="javascript:alert(1)"><input type=submit></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
]

ALLOWED_TAGS = {"a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
                "h6", "hr", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td",
                "th", "thead", "tr", "ul"}


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.tags


@pytest.mark.parametrize("payload", XSS)
def test_xss_payload_is_neutralised(payload: str) -> None:
    html = render_markdown(payload)
    assert "<script" not in html.lower()
    markup = " ".join(re.findall(r"<[^>]*>", html))  # only tags; escaped text is inert
    assert not re.search(r"\bon\w+\s*=", markup, re.I)
    assert "javascript:" not in markup.lower() and "vbscript:" not in markup.lower()
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert not name.startswith("on") and name in {"href", "title", "rel", "start"}
            if name == "href":
                assert re.match(r"(https?|mailto):", value or ""), value


def test_headers_lists_bold_and_code_render() -> None:
    html = render_markdown("# Title\n\n## Sub\n\n- **bold** item\n- *em*\n\n1. one\n"
                           "\n`inline`\n\n```python\nx = 1 < 2\n```\n")
    for fragment in ("<h1>Title</h1>", "<h2>Sub</h2>", "<ul>", "<strong>bold</strong>",
                     "<em>em</em>", "<ol>", "<code>inline</code>", "<pre><code>x = 1 &lt; 2"):
        assert fragment in html


def test_links_get_rel_and_keep_http_https_mailto() -> None:
    html = render_markdown("[a](https://a.example/x) [b](http://b.example) [c](mailto:c@d.e) "
                           "<https://auto.example>")
    hrefs = [dict(attrs) for tag, attrs in elements(html) if tag == "a"]
    assert [h["href"] for h in hrefs] == ["https://a.example/x", "http://b.example",
                                          "mailto:c@d.e", "https://auto.example"]
    assert all(h["rel"] == "nofollow noopener noreferrer" for h in hrefs)


def test_relative_links_lose_their_href() -> None:
    html = render_markdown("[vote](/api/battles/x/vote) [up](../admin)")
    assert "href" not in html and "vote" in html


def test_tables_render() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<table>" in html and "<th>a</th>" in html and "<td>2</td>" in html


def test_images_become_links_not_img() -> None:
    html = render_markdown("![a chart](https://img.example/c.png)")
    assert "<img" not in html and 'href="https://img.example/c.png"' in html and "a chart" in html


def test_raw_html_is_shown_as_text() -> None:
    assert render_markdown("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_plain_one_line_prompts_render_as_the_full_renderer_would() -> None:
    """The shortcut for plain lines (one paragraph of the text itself) gives exactly what
    markdown-it and the sanitiser give, on random lines of its alphabet and on near misses."""
    import random

    from arena.render import _PLAIN_LINE, _render

    rng = random.Random(10)
    alphabet = "abcXYZ019 ,.?!:;()/'-"
    lines = ["Explain, briefly, why the sky is blue. Variant 12", "a", "Who wrote Hamlet?",
             "Is 1/3 (one third) less than 0.5? Yes: it's 0.333...; right!"]
    lines += [rng.choice("aZ") + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
              for _ in range(3000)]
    shortcut = 0
    for line in lines:
        assert render_markdown(line) == _render(line), line
        shortcut += bool(_PLAIN_LINE.fullmatch(line)) and not line.endswith(" ")
    assert shortcut > 2000  # the comparison above exercised the shortcut
    # Lines outside it still take the full path: markup, escapes, blocks, other scripts.
    for line in ["a *b*", "a <b>", "a & b", "1. item", "# head", "a\nb", "a  ", "é", "a `b`",
                 'say "hi"', "    code", "- item", "a_b_", "a [b](https://x.example)"]:
        assert render_markdown(line) == _render(line), line
