"""Printable employer-proof templates (开始会计工作单位证明 / 现会计工作单位证明).

The portal offers a "模板下载" for both employer proofs; these are the same as one A4 HTML
page each, pre-filled with what the registration already knows (name, ID type and number,
unit name) and with blanks for what the unit must write by hand: the dates, the post, the
signature of the person in charge, and room for the unit's seal (单位盖章). The applicant
prints it, has it signed and sealed, photographs it and uploads the JPEG.

Every value is HTML-escaped; the page has no scripts and no external resources.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Final, Literal

ProofKind = Literal["FIRST_EMPLOYER_PROOF", "CURRENT_EMPLOYER_PROOF"]

PROOF_TITLES: Final[dict[str, str]] = {
    "FIRST_EMPLOYER_PROOF": "开始会计工作单位证明",
    "CURRENT_EMPLOYER_PROOF": "现会计工作单位证明",
}

_DATE_BLANK: Final = (
    '<span class="blank short"></span>年<span class="blank tiny"></span>月'
    '<span class="blank tiny"></span>日'
)

_STYLE: Final = """
@page { size: A4 portrait; margin: 25mm 22mm 20mm 22mm; }
* { box-sizing: border-box; }
html { background: #f2f2f2; }
body {
  width: 210mm; min-height: 297mm; margin: 0 auto; padding: 25mm 22mm 20mm 22mm;
  background: #fff; color: #000;
  font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", serif;
  font-size: 15pt; line-height: 2.1;
}
h1 {
  margin: 0 0 14mm; text-align: center; font-size: 22pt; letter-spacing: 0.3em;
  font-family: "SimHei", "Heiti SC", "Noto Sans CJK SC", sans-serif;
}
p { margin: 0 0 4mm; text-indent: 2em; text-align: justify; }
.value { font-weight: bold; border-bottom: 1px solid #000; padding: 0 0.3em; }
.blank {
  display: inline-block; min-width: 9em; border-bottom: 1px solid #000;
  height: 1.3em; vertical-align: bottom;
}
.blank.short { min-width: 4em; }
.blank.tiny { min-width: 2.2em; }
.sign { margin-top: 16mm; display: flex; justify-content: space-between; align-items: flex-end; }
.sign .lines { line-height: 2.6; }
.seal {
  width: 45mm; height: 45mm; border: 1px dashed #999; border-radius: 50%;
  display: flex; align-items: center; justify-content: center;
  color: #999; font-size: 12pt; text-align: center; line-height: 1.5;
}
.notes {
  margin-top: 18mm; padding-top: 3mm; border-top: 1px solid #999;
  font-size: 10.5pt; line-height: 1.7; color: #333;
}
.notes p { text-indent: 0; margin: 0; }
@media print {
  html { background: none; }
  body { width: auto; min-height: auto; margin: 0; padding: 0; }
  .seal { border-color: #bbb; color: #bbb; }
}
"""


def _value(text: str | None, blank: str = "blank") -> str:
    if text is None or not text.strip():
        return f'<span class="{blank}"></span>'
    return f'<span class="value">{escape(text.strip(), quote=True)}</span>'


def _body(kind: ProofKind, person: str, unit: str) -> str:
    if kind == "FIRST_EMPLOYER_PROOF":
        return (
            f"<p>兹证明{person}于{_DATE_BLANK}起在我单位{unit}"
            "从事会计工作，这是其开始从事会计工作的单位。</p>"
            '<p>从事会计工作岗位：<span class="blank"></span>。</p>'
            "<p>特此证明。</p>"
        )
    return (
        f"<p>兹证明{person}自{_DATE_BLANK}起在我单位{unit}"
        "从事会计工作，至今仍在我单位工作。</p>"
        '<p>现从事会计工作岗位：<span class="blank"></span>。</p>'
        "<p>特此证明。</p>"
    )


def proof_unit_name(
    kind: ProofKind, unit_name: str | None, is_first_employer: bool | None
) -> str | None:
    """The unit a proof names: the current unit, except on the first-employer proof (开始会计
    工作单位证明), which is left blank unless the applicant says the current unit is where
    their accounting work began (``workUnit.isFirstEmployer``)."""
    if kind == "FIRST_EMPLOYER_PROOF" and is_first_employer is not True:
        return None
    return unit_name


def render_employer_proof(
    kind: ProofKind,
    *,
    name: str,
    id_type_name: str,
    id_number: str,
    unit_name: str | None,
    issued_on: date,
) -> str:
    """The printable HTML page (A4) of one employer proof, pre-filled and escaped.

    ``issued_on`` is the day the template was produced (shown in the notes, not as the
    proof's date: the unit writes that by hand). ``unit_name`` None leaves a blank.
    """
    if kind not in PROOF_TITLES:
        raise ValueError(f"unknown proof kind {kind!r}")
    title = PROOF_TITLES[kind]
    person = f"{_value(name)}（{escape(id_type_name.strip(), quote=True)}：{_value(id_number)}）"
    unit = _value(unit_name)
    produced = f"{issued_on.year}年{issued_on.month}月{issued_on.day}日"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{title}</h1>
{_body(kind, person, unit)}
<div class="sign">
  <div class="lines">
    <div>单位名称（盖章）：{unit}</div>
    <div>单位负责人（签字）：<span class="blank"></span></div>
    <div>经办人（签字）：<span class="blank"></span></div>
    <div>联系电话：<span class="blank"></span></div>
    <div>日期：{_DATE_BLANK}</div>
  </div>
  <div class="seal">单位盖章<br>（公章）</div>
</div>
<div class="notes">
  <p>说明：1. 本证明用于浙江省会计人员信息登记，须由单位负责人签字并加盖单位公章，涂改无效。</p>
  <p>2. 请将盖章后的证明完整、清晰地拍照或扫描为JPG图片后上传。</p>
  <p>3. 本模板生成于{produced}，申请人信息来自登录账号。</p>
</div>
</body>
</html>
"""
