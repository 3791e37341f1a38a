"""Patient identifiers: masked in messages, tokenized or dropped in manager outputs."""

import pandas as pd

from xl_ar import privacy


def test_identifier_values_are_masked_and_others_quoted():
    assert privacy.shown("member_id", "1EG4TE5MK73") == "(value hidden: patient identifier)"
    assert privacy.shown("charge", "12.5") == "'12.5'"


def test_tokens_are_stable_per_key_and_differ_across_keys():
    a = privacy.token("CL0000001", b"k1")
    assert a == privacy.token("CL0000001", b"k1")
    assert a != privacy.token("CL0000001", b"k2") and a != privacy.token("CL0000002", b"k1")
    assert "CL0000001" not in a


def test_deidentify_drops_names_and_tokenizes_ids():
    frame = pd.DataFrame({"claim_id": ["CL1", "CL1"], "account_id": ["PA9", "PA9"],
                          "patient_name": ["Doe, J", "Doe, J"], "balance": [100, 200]})
    out = privacy.deidentify(frame, b"key")
    assert list(out.columns) == ["claim_id", "account_id", "balance"]
    assert out.claim_id.nunique() == 1 and out.claim_id.iloc[0].startswith("C-")
    assert "CL1" not in out.to_string() and "PA9" not in out.to_string()


def test_the_key_comes_from_the_environment_or_a_file_outside_the_workbook(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    path = tmp_path / "token.key"
    key = privacy.load_key(path)
    assert path.exists() and privacy.load_key(path) == key  # created once, then reused
    monkeypatch.setenv(privacy.KEY_ENV, "00" * 32)
    assert privacy.load_key(path) == bytes(32)
