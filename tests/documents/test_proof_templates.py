"""services.proof_templates: the printable employer proofs."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest

from services.proof_templates import PROOF_TITLES, render_employer_proof


class Collector(HTMLParser):
    """Collects start tags, text and the title; checks that tags nest properly."""

    VOID = frozenset({"meta", "br", "link", "img", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        self.text.append(data)


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    assert collector.stack == []
    return collector


def render(kind: str = "FIRST_EMPLOYER_PROOF", **overrides: object) -> str:
    values: dict[str, object] = {
        "name": "张三",
        "id_type_name": "居民身份证",
        "id_number": "330102199001011234",
        "unit_name": "杭州某某财务咨询有限公司",
        "issued_on": date(2026, 11, 26),
    }
    values.update(overrides)
    return render_employer_proof(kind, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "title", "other"),
    [
        ("FIRST_EMPLOYER_PROOF", "开始会计工作单位证明", "现会计工作单位证明"),
        ("CURRENT_EMPLOYER_PROOF", "现会计工作单位证明", "开始会计工作单位证明"),
    ],
)
def test_titles_and_prefilled_values(kind: str, title: str, other: str) -> None:
    html = render(kind)
    page = parse(html)
    assert PROOF_TITLES[kind] == title
    assert page.title == title
    text = "".join(page.text)
    assert f"{title}" in text and other not in text
    for value in ("张三", "居民身份证", "330102199001011234", "杭州某某财务咨询有限公司"):
        assert value in text
    assert "单位盖章" in text
    assert "单位负责人（签字）" in text
    assert "2026年11月26日" in text  # when the template was made, not the proof's date


def test_dates_are_left_blank_for_the_unit() -> None:
    html = render()
    assert html.count('<span class="blank short"></span>年') == 2  # work start, signing date
    assert "日期：" in html


def test_a4_print_css() -> None:
    html = render("CURRENT_EMPLOYER_PROOF")
    assert "@page { size: A4 portrait;" in html
    assert "@media print" in html
    assert '<meta charset="utf-8">' in html
    tags = parse(html).tags
    assert "script" not in tags and "link" not in tags and "img" not in tags


def test_every_value_is_escaped() -> None:
    hostile = {
        "name": '<script>alert("x")</script>',
        "id_type_name": "护照<b>",
        "id_number": 'E1234567" onmouseover="alert(1)',
        "unit_name": "A&B <img src=x onerror=alert(1)> 公司",
    }
    html = render(**hostile)
    page = parse(html)
    assert "script" not in page.tags
    assert "img" not in page.tags
    assert "b" not in page.tags
    assert 'onmouseover="alert' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "A&amp;B &lt;img src=x onerror=alert(1)&gt; 公司" in html
    text = "".join(page.text)
    for value in hostile.values():
        assert value in text  # shown as text, exactly


@pytest.mark.parametrize("unit_name", [None, "", "   "])
def test_missing_unit_leaves_a_blank(unit_name: str | None) -> None:
    html = render(unit_name=unit_name)
    assert '起在我单位<span class="blank"></span>从事会计工作' in html
    assert '单位名称（盖章）：<span class="blank"></span>' in html


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        render("DIPLOMA")
