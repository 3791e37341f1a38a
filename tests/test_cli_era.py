"""`xl-ar era summary`: the figures of every corpus 835, exactly as EXPECTED.json states them."""

import json

from xl_ar.cli import main
from xl_ar.x12.summary import SUMMARY_KEYS


def test_era_summary_json_reproduces_expected_for_the_whole_corpus(corpus, capsys, monkeypatch):
    expected = json.loads((corpus / "EXPECTED.json").read_text())
    keys = sorted(k for k in expected if not k.startswith("_"))
    monkeypatch.chdir(corpus)
    assert main(["era", "summary", "--json", *keys]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == keys
    for key in keys:
        assert printed[key] == {k: expected[key][k] for k in SUMMARY_KEYS}, key


def test_era_summary_table_for_people(corpus, capsys):
    path = corpus / "azoner__pyx12" / "835_simple.txt"
    assert main(["era", "summary", str(path)]) == 0
    out = capsys.readouterr().out
    # 835_simple: 1 ST, 3 claims, 3 lines; BPR02 5950.21; payment does not balance, claims and lines do
    assert "5950.21" in out and "-CL" in out


def test_era_summary_of_a_file_that_is_not_x12(tmp_path, capsys):
    bad = tmp_path / "photo.835"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["era", "summary", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("error: photo.835:")
