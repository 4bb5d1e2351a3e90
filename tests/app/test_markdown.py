"""Markdown → Qt rich text: structure, highlighting, copy links, and no HTML injection."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from seesay.app.markdown import copy_index, render, render_plain
from seesay.app.message_widget import MessageWidget

SAMPLE = """# Title

## Section

- apples
- pears

1. one
2. two

| Name | Qty |
|:-----|----:|
| tea  |   2 |

```python
def greet(name):
    return f"hi {name}"
```
"""


def test_headings_lists_and_tables() -> None:
    html = render(SAMPLE).html
    assert "<h1" in html and ">Title</h1>" in html and "<h2" in html
    assert html.count("<li>") == 4 and "<ul" in html and "<ol" in html
    assert '<table border="1"' in html and "<th" in html and ">tea</td>" in html
    assert "text-align:right" in html  # column alignment survives


def test_code_is_highlighted_inline_with_a_copy_link() -> None:
    rendered = render(SAMPLE)
    assert rendered.code_blocks == ('def greet(name):\n    return f"hi {name}"',)
    assert 'href="copy:0"' in rendered.html and ">Copy</a>" in rendered.html
    assert '<span style="color:' in rendered.html  # pygments noclasses: no stylesheet needed
    assert "class=" not in rendered.html.split("<pre", 1)[1]
    assert ">python<" in rendered.html


def test_several_blocks_are_numbered_and_unknown_languages_fall_back() -> None:
    rendered = render("```nosuchlang\na < b\n```\n\n    indented code\n\n```\nplain\n```")
    assert rendered.code_blocks == ("a < b", "indented code", "plain")
    assert all(f'href="copy:{i}"' in rendered.html for i in range(3))
    assert "a &lt; b" in rendered.html


def test_html_in_text_is_escaped_not_rendered() -> None:
    html = render('<script>alert(1)</script> <img src=x onerror=y> <a href="http://evil">x</a>').html
    assert "<script" not in html and "<img" not in html and 'href="http://evil"' not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in render("[click](javascript:alert(1))").html  # left as text
    plain = render_plain("<b>bold?</b>\nnext line")
    assert "<b>" not in plain and "&lt;b&gt;" in plain and "<br />" in plain


def test_a_half_streamed_fence_still_renders_as_code() -> None:
    rendered = render("Here:\n\n```python\nx = 1\n")
    assert rendered.code_blocks == ("x = 1",) and "<pre" in rendered.html


def test_huge_paste_is_shortened_for_display_only() -> None:
    html = render_plain("x" * 50_000, limit=1_000)
    assert html.count("x") < 1_100 and "49,000 more characters not shown" in html


def test_copy_index_parses_only_copy_links() -> None:
    assert copy_index("copy:3") == 3
    assert copy_index("https://example.com") is None and copy_index("copy:x") is None


def test_copy_link_puts_the_raw_code_on_the_clipboard(qtbot: Any) -> None:
    widget = MessageWidget("assistant", "Try:\n\n```sh\necho '<hi>'\n```\n\n```py\nprint(2)\n```")
    qtbot.addWidget(widget)
    widget.body.anchorClicked.emit(QUrl("copy:1"))
    assert QGuiApplication.clipboard().text() == "print(2)"
    widget.body.anchorClicked.emit(QUrl("copy:0"))
    assert QGuiApplication.clipboard().text() == "echo '<hi>'"
