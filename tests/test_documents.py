"""Letters from templates: sandboxed rendering, the layout language, .docx output."""

from __future__ import annotations

import datetime as dt

import pytest

from xl_ar import documents
from xl_ar.documents import Template, TemplateError


def _t(text: str) -> Template:
    return Template("t.txt", text, "letters/t.txt")


def test_money_filter_writes_cents_as_dollars():
    # 123456 cents = $1,234.56; -5 cents = -$0.05
    out = documents.render(_t("{{ a | dollars }} {{ b | dollars }}"), {"a": 123456, "b": -5})
    assert documents.blocks(out)[0].lines == (("$1,234.56 -$0.05",),)


def test_date_filter_writes_us_dates():
    assert documents.render(_t("{{ d | date }}"), {"d": dt.date(2026, 3, 7)}) == "03/07/2026"


def test_a_misspelled_field_names_the_template_and_line():
    with pytest.raises(TemplateError, match=r"letters/t.txt line 2: 'payr' is undefined"):
        documents.render(_t("Dear\n{{ payr }}"), {"payer": "Acme"})


def test_a_syntax_error_names_the_template_and_line():
    with pytest.raises(TemplateError, match=r"letters/t.txt line 3"):
        documents.compile_template(_t("a\nb\n{% if %}"))


def test_the_sandbox_refuses_reaching_outside_the_facts():
    with pytest.raises(TemplateError, match=r"not allowed|undefined"):
        documents.render(_t("{{ x.__class__.__mro__[1].__subclasses__() }}"), {"x": "a"})


def test_layout_reads_headings_bullets_tables_and_paragraphs():
    text = "# Appeal\n\nLine one\nLine two\n\n- first\n| code | amount\n| 99213 | $10.00\nafter"
    blocks = documents.blocks(text)
    assert [b.kind for b in blocks] == ["heading1", "paragraph", "bullet", "table", "paragraph"]
    assert blocks[1].lines == (("Line one",), ("Line two",))
    assert blocks[3].lines == (("code", "amount"), ("99213", "$10.00"))


def test_values_from_data_never_become_layout():
    # a payer named "# Acme | Co" stays one paragraph line with its characters
    text = documents.render(_t("{{ payer }}\n| a | {{ payer }}"), {"payer": "# Acme | Co\nx"})
    blocks = documents.blocks(text)
    assert [b.kind for b in blocks] == ["paragraph", "table"]
    assert blocks[0].lines == (("# Acme | Co x",),)
    assert blocks[1].lines == (("a", "# Acme | Co x"),)


def test_a_practice_template_replaces_the_shipped_one(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "x.txt").write_text("ours", encoding="utf-8")
    found = documents.find("x.txt", tmp_path)
    assert (found.text, found.source) == ("ours", "letters/x.txt")


def test_an_unknown_template_is_an_error(tmp_path):
    with pytest.raises(TemplateError, match=r"no template named nope\.txt"):
        documents.find("nope.txt", tmp_path)


def test_docx_holds_the_letter_in_order():
    text = "# Appeal\nDear reviewer,\n\n| code | billed\n| 99213 | $150.00\n- medical records"
    back = documents.docx_text(documents.docx_bytes(text, "appeal"))
    assert [line for line in back if line] == ["Appeal", "Dear reviewer,", "code | billed", "99213 | $150.00",
                                               "medical records"]
