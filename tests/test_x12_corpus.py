"""The 835 reader against the public X12 corpus (tests/corpus/x12, copied byte for byte with its licences).

1. Every 835 in EXPECTED.json gives exactly its 13 expected figures.
2. Variants made from corpus files give the same figures: other segment terminators, an
   unpadded ISA, other element/component separators, no envelope, several files concatenated,
   several transactions in one group. The variants are rebuilt from segments split with the
   delimiters EXPECTED.json states, not with the reader's tokenizer.
3. pyx12 as an oracle: on the 5010 files it validates, it finds the same claims and lines.
"""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from xl_ar.x12.era import read_835
from xl_ar.x12.summary import SUMMARY_KEYS, summarize

CORPUS = Path(__file__).resolve().parent / "corpus" / "x12"
EXPECTED: dict = json.loads((CORPUS / "EXPECTED.json").read_text()) if (CORPUS / "EXPECTED.json").exists() else {}
FILES = sorted(k for k in EXPECTED if not k.startswith("_"))


def figures(key: str) -> dict:
    return {k: EXPECTED[key][k] for k in SUMMARY_KEYS}


def has_envelope(key: str) -> bool:
    return "no ISA/GS envelope" not in EXPECTED[key]["envelope_errors"]


def segments(corpus: Path, key: str) -> list[list[str]]:
    """The file's segments as element lists, split with the delimiters EXPECTED.json gives."""
    d = EXPECTED[key]["delimiters"]
    text = (corpus / key).read_bytes().decode("latin-1")
    parts = text.split(d["segment"])
    return [p.strip(" \r\n\t").split(d["element"]) for p in parts if p.strip(" \r\n\t")]


def build(segs: list[list[str]], key: str, *, element: str = "*", component: str | None = None,
          terminator: str = "~\n", repetition: str | None = None, pad: bool = True) -> str:
    """Write segments back with other delimiters, rewriting the ISA consistently."""
    old = EXPECTED[key]["delimiters"]
    component = component or old["component"]
    out = []
    for seg in segs:
        if seg[0] == "ISA":
            isa = list(seg)
            isa[16] = component
            if old["repetition"] is not None and repetition is not None:
                isa[11] = repetition
            if not pad:
                isa = [e.strip() or " " for e in isa]
            out.append(element.join(isa))
        else:
            out.append(element.join(e.replace(old["component"], component) for e in seg))
    return terminator.join(out) + terminator


def data_chars(segs: list[list[str]]) -> set[str]:
    """Characters used inside elements (not in ISA11/ISA16, which are delimiters)."""
    chars: set[str] = set()
    for seg in segs:
        elements = [e for i, e in enumerate(seg) if not (seg[0] == "ISA" and i in (11, 16))]
        for e in elements:
            chars.update(e)
    return chars


def combine(keys: list[str]) -> dict:
    """Figures of several files read as one, from their expected figures (decimal sums)."""
    def total(values) -> str:
        return str(sum((Decimal(v) for v in values), Decimal(0)))

    def merge(dicts) -> dict:
        keys_in_order = list(dict.fromkeys(k for d in dicts for k in d))
        return {k: total(d[k] for d in dicts if k in d) for k in keys_in_order}

    rows = [EXPECTED[k] for k in keys]
    status: Counter[str] = Counter()
    for r in rows:
        status.update(r["clp02_status_counts"])
    return {
        "transactions_835": sum(r["transactions_835"] for r in rows),
        "claims": sum(r["claims"] for r in rows),
        "service_lines": sum(r["service_lines"] for r in rows),
        **{k: total(r[k] for r in rows) for k in ("sum_bpr02", "sum_clp03", "sum_clp04", "sum_plb")},
        "plb_by_code": merge([r["plb_by_code"] for r in rows]),
        "cas_by_group": merge([r["cas_by_group"] for r in rows]),
        "clp02_status_counts": dict(status),
        **{k: all(r[k] for r in rows) for k in ("balanced_transactions", "balanced_claims",
                                                 "balanced_service_lines")},
    }


def test_corpus_has_835_files(corpus):
    assert len(FILES) >= 30
    assert all((corpus / k).is_file() for k in FILES)


# ---- 1. expected figures


@pytest.mark.parametrize("key", FILES)
def test_expected_figures(corpus, key):
    rem = read_835((corpus / key).read_bytes(), Path(key).name)
    assert summarize(rem) == figures(key)


@pytest.mark.parametrize("key", FILES)
def test_expected_delimiters(corpus, key):
    rem = read_835((corpus / key).read_bytes(), Path(key).name)
    d = EXPECTED[key]["delimiters"]
    first = rem.delimiters[0]
    assert (first.element, first.component, first.segment, first.repetition) == (
        d["element"], d["component"], d["segment"], d["repetition"])


@pytest.mark.parametrize("key", [k for k in FILES if EXPECTED[k]["other_transactions"]])
def test_other_transaction_sets_are_counted(corpus, key):
    rem = read_835((corpus / key).read_bytes(), Path(key).name)
    assert rem.other_transactions == EXPECTED[key]["other_transactions"]


@pytest.mark.parametrize("key", [k for k in FILES if EXPECTED[k]["envelope_errors"]])
def test_envelope_errors_are_findings(corpus, key):
    messages = " | ".join(f.message for f in read_835((corpus / key).read_bytes(), Path(key).name).findings)
    for error in EXPECTED[key]["envelope_errors"]:
        if error.startswith("SE01="):  # 'SE01=39 but 72 segments (ST 0001)'
            said, count = error[5:].split(" but ")[0], error.split(" but ")[1].split(" ")[0]
            assert f"SE01 says {said} segments but the transaction has {count}" in messages
        elif error.startswith("GE01="):
            assert "GE01 says" in messages
        else:
            assert "no ISA/GS envelope" in messages


# ---- 2. variants


TERMINATORS = {"tilde": "~", "tilde-lf": "~\n", "tilde-crlf": "~\r\n", "newline": "\n", "underscore": "_"}


def _chars(key: str) -> set[str]:
    return data_chars(segments(CORPUS, key)) if CORPUS.is_dir() else set()


# A variant is made only where its new delimiter does not occur in the file's data (where it
# does, the variant would be a different file, not the same file written another way).
TERMINATOR_CASES = [(key, name) for key in FILES for name, t in TERMINATORS.items()
                    if not (t.strip() and t.strip() in _chars(key))]


@pytest.mark.parametrize(("key", "name"), TERMINATOR_CASES)
def test_same_figures_with_other_segment_terminators(corpus, key, name):
    segs = segments(corpus, key)
    terminator = TERMINATORS[name]
    old = EXPECTED[key]["delimiters"]
    text = build(segs, key, element=old["element"], terminator=terminator)
    assert summarize(read_835(text, "variant.835")) == figures(key)


@pytest.mark.parametrize("key", [k for k in FILES if has_envelope(k)])
def test_same_figures_with_an_unpadded_isa(corpus, key):
    segs = segments(corpus, key)
    text = build(segs, key, element=EXPECTED[key]["delimiters"]["element"], pad=False)
    assert len(text.split("~")[0]) < 106  # a padded ISA is 106 characters
    assert summarize(read_835(text, "variant.835")) == figures(key)


@pytest.mark.parametrize("key", [k for k in FILES if has_envelope(k) and not _chars(k) & set("|^{")])
def test_same_figures_with_pipe_and_caret_separators(corpus, key):
    segs = segments(corpus, key)
    text = build(segs, key, element="|", component="^", repetition="{")
    rem = read_835(text, "variant.835")
    assert (rem.delimiters[0].element, rem.delimiters[0].component) == ("|", "^")
    assert summarize(rem) == figures(key)


def _no_envelope_applies(key: str) -> bool:
    if not has_envelope(key) or ":" in _chars(key) - {EXPECTED[key]["delimiters"]["component"]}:
        return False
    return any(s[0] not in ("ISA", "GS", "GE", "IEA") for s in segments(CORPUS, key))


@pytest.mark.parametrize("key", [k for k in FILES if _no_envelope_applies(k)])
def test_same_figures_without_envelope(corpus, key):
    segs = segments(corpus, key)
    body = [s for s in segs if s[0] not in ("ISA", "GS", "GE", "IEA")]
    text = build(body, key, component=":")  # without an ISA the reader assumes ':'
    rem = read_835(text, "variant.835")
    assert "no ISA/GS envelope" in rem.findings[0].message
    assert summarize(rem) == figures(key)


def test_concatenated_files_with_different_delimiters(corpus):
    keys = [k for k in FILES if has_envelope(k)]
    assert {EXPECTED[k]["delimiters"]["element"] for k in keys} == {"*", "|"}
    text = b"\n".join((corpus / k).read_bytes() for k in keys)
    rem = read_835(text, "all.835")
    assert len(rem.delimiters) > 2  # several blocks, one per change of delimiters
    assert summarize(rem) == combine(keys)


def test_the_same_file_twice_gives_double_figures_and_distinct_payment_ids(corpus):
    key = "tastypackets__x12-parser/profee.edi"
    data = (corpus / key).read_bytes()
    rem = read_835(data + data, "twice.835")
    assert summarize(rem) == combine([key, key])
    assert rem.payments.payment_id.is_unique


def test_several_transactions_in_one_group(corpus):
    keys = [k for k in FILES if has_envelope(k) and EXPECTED[k]["delimiters"]["element"] == "*"
            and EXPECTED[k]["delimiters"]["component"] == ":" and "835_mult_loops" not in k
            and "004010" not in (corpus / k).read_text(errors="replace")]
    transactions: list[list[str]] = []
    for key in keys:
        inside = False
        for seg in segments(corpus, key):
            inside = inside or seg[0] == "ST"
            if inside:
                transactions.append(seg)
            inside = inside and seg[0] != "SE"
    count = sum(1 for s in transactions if s[0] == "ST")
    isa = "ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*000000001*0*P*:"
    segs = [isa.split("*"), ["GS", "HP", "A", "B", "20240101", "1200", "1", "X", "005010X221A1"], *transactions,
            ["GE", str(count), "1"], ["IEA", "1", "000000001"]]
    text = "~\n".join("*".join(s) for s in segs) + "~\n"
    rem = read_835(text, "group.835")
    assert not [f for f in rem.findings if "GE01" in f.message or "IEA01" in f.message]
    assert summarize(rem) == combine(keys)


# ---- 3. pyx12 as an oracle


def _pyx12_loops(path: Path) -> tuple[bool, int, int]:
    """(valid, 2100 loops, 2110 loops) as pyx12 reads the file."""
    import pyx12.params as params
    import pyx12.x12n_document as pyx12_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    html, xml = io.StringIO(), io.StringIO()
    try:
        valid = pyx12_document.x12n_document(param=params.params(), src_file=str(path), fd_997=None,
                                             fd_html=html, fd_xmldoc=xml)
    except Exception:  # pyx12 crashes on some malformed files; those are not oracle material
        return False, 0, 0
    text = xml.getvalue()
    return bool(valid), text.count("<loop id='2100'>"), text.count("<loop id='2110'>")


PYX12_FILES = [k for k in FILES if has_envelope(k) and "005010X221" in (CORPUS / k).read_text(errors="replace")]


def test_pyx12_finds_the_same_claims_and_lines_where_it_validates(corpus):
    validated = 0
    for key in PYX12_FILES:
        valid, claims, lines = _pyx12_loops(corpus / key)
        if not valid:  # pyx12 drops or rejects loops of this file: not oracle material
            continue
        validated += 1
        s = summarize(read_835((corpus / key).read_bytes(), Path(key).name))
        assert (s["claims"], s["service_lines"]) == (claims, lines), key
    assert validated >= 8
