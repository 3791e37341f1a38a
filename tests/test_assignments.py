"""Splitting the worklist among specialists (`xl_ar.assignments`): by payer, by alphabet, round-robin, off."""

import pandas as pd
import pytest

from tests import claims_builder
from xl_ar import assignments
from xl_ar.errors import SettingsError
from xl_ar.policy import Policy


def worklist(payers: list[str | None], claims: list[str | None] | None = None, kinds: list[str] | None = None,
             expected: list[int] | None = None, variance: list[int] | None = None) -> pd.DataFrame:
    """A ranked worklist: row i has rank i + 1, in the order given."""
    n = len(payers)
    return pd.DataFrame({
        "rank": range(1, n + 1), "kind": kinds or ["denied"] * n,
        "claim_id": claims or [f"C{i + 1:03d}" for i in range(n)], "payer_id": payers,
        "expected": expected or [10000] * n, "variance": variance or [0] * n,
        "priority": [float(1000 - i) for i in range(n)]})


def claims(names: list[str | None]) -> pd.DataFrame:
    return claims_builder.claims(len(names), patient_name=names)


def policy(assign_by: str, specialists: str) -> Policy:
    return Policy(assign_by=assign_by, specialists=specialists)


# -- payer ----------------------------------------------------------------------------------------------------------

def test_by_payer_each_listed_payer_goes_to_its_specialist():
    work = worklist(["MCR", "ACME", "MCD", "BLUE"])
    out = assignments.assign(work, None, policy("payer", "ana=MCR,MCD; ben=ACME,BLUE"))
    assert out.assigned_to.tolist() == ["ana", "ben", "ana", "ben"]


def test_by_payer_unlisted_payers_are_shared_one_payer_to_one_person_among_those_without_a_list():
    # MCR is ana's; the others, in payer-id order ACME, BLUE, CIGNA, go to ben, carla, ben (ben and carla list none)
    work = worklist(["CIGNA", "MCR", "ACME", "BLUE", "ACME"])
    out = assignments.assign(work, None, policy("payer", "ana=MCR; ben; carla"))
    assert out.assigned_to.tolist() == ["ben", "ana", "ben", "carla", "ben"]


def test_by_payer_payer_ids_match_whatever_their_case():
    out = assignments.assign(worklist(["mcr"]), None, policy("payer", "ana=MCR; ben"))
    assert out.assigned_to.tolist() == ["ana"]


def test_by_payer_rows_without_a_payer_go_round_robin_by_rank():
    # ranks 1 and 2 have no payer: first to ben, then to carla
    out = assignments.assign(worklist([None, None, "MCR"]), None, policy("payer", "ana=MCR; ben; carla"))
    assert out.assigned_to.tolist() == ["ben", "carla", "ana"]


def test_by_payer_when_everyone_has_a_list_the_unlisted_payers_are_shared_among_all():
    # unlisted ACME, BLUE in id order: ACME to ana (first), BLUE to ben
    out = assignments.assign(worklist(["BLUE", "ACME"]), None, policy("payer", "ana=MCR; ben=MCD"))
    assert out.assigned_to.tolist() == ["ben", "ana"]


# -- alphabet -------------------------------------------------------------------------------------------------------

def test_by_alphabet_the_initial_of_the_last_name_picks_the_range():
    work = worklist(["ACME"] * 3)
    names = claims(["Baker, Ann", "Miller, Tom", "lopez, Eva"])  # B: ana (A-L); M: ben (M-Z); l is L: ana
    out = assignments.assign(work, names, policy("alphabet", "ana=A-L; ben=M-Z"))
    assert out.assigned_to.tolist() == ["ana", "ben", "ana"]


def test_by_alphabet_single_letters_and_several_ranges():
    work = worklist(["ACME"] * 3)
    names = claims(["Quinn, Al", "Adams, Bo", "Xu, Li"])  # Q: ben's single letter; A: ana; X: ben's X-Z
    out = assignments.assign(work, names, policy("alphabet", "ana=A-P; ben=Q, X-Z"))
    assert out.assigned_to.tolist() == ["ben", "ana", "ben"]


def test_by_alphabet_a_row_without_a_patient_goes_by_its_payers_name():
    work = worklist(["MCR", "ACME"], claims=[None, None], kinds=["deposit_without_era"] * 2)
    # MCR is "Medicare Part B": M is ben's; ACME is "Acme Health": A is ana's
    out = assignments.assign(work, claims(["Zed, Al"]), policy("alphabet", "ana=A-L; ben=M-Z"),
                             claims_builder.payers())
    assert out.assigned_to.tolist() == ["ben", "ana"]


def test_by_alphabet_a_letter_no_range_covers_goes_round_robin_among_those_without_a_range():
    work = worklist(["ACME"] * 4)
    names = claims(["Young, A", "Abel, B", "Zane, C", "Ortiz, D"])  # A is ana's; Y, Z, O are nobody's
    out = assignments.assign(work, names, policy("alphabet", "ana=A-L; ben; carla"))
    # uncovered rows in rank order (1, 3, 4): ben, carla, ben
    assert out.assigned_to.tolist() == ["ben", "ana", "carla", "ben"]


def test_by_alphabet_the_patient_name_never_appears_in_the_result():
    work = worklist(["ACME"])
    out = assignments.assign(work, claims(["Baker, Ann"]), policy("alphabet", "ana=A-Z"))
    assert list(out.columns) == [*work.columns, "assigned_to"]
    assert "Baker" not in out.astype(str).to_string()


# -- round robin and off --------------------------------------------------------------------------------------------

def test_round_robin_goes_by_rank_whatever_the_row_order():
    work = worklist(["ACME"] * 5).iloc[[4, 2, 0, 3, 1]]  # ranks 5, 3, 1, 4, 2
    out = assignments.assign(work, None, policy("round_robin", "ana; ben"))
    # rank 1 ana, 2 ben, 3 ana, 4 ben, 5 ana
    assert out["rank"].tolist() == [5, 3, 1, 4, 2]
    assert out.assigned_to.tolist() == ["ana", "ana", "ana", "ben", "ben"]


def test_round_robin_without_ranks_follows_the_priority():
    work = worklist(["ACME"] * 3).drop(columns="rank").assign(priority=[1.0, 3.0, 2.0])
    out = assignments.assign(work, None, policy("round_robin", "ana; ben; carla"))
    assert out.assigned_to.tolist() == ["carla", "ana", "ben"]  # priority order: row 2, row 3, row 1


def test_off_leaves_the_worklist_as_it_is():
    work = worklist(["ACME"])
    assert assignments.assign(work, None, policy("off", "ana")) is work


def test_the_same_input_gives_the_same_assignment():
    work = worklist(["CIGNA", "MCR", "ACME", "BLUE", None, "ZZ"])
    first = assignments.assign(work, None, policy("payer", "ana=MCR; ben; carla"))
    again = assignments.assign(work.copy(), None, policy("payer", "ana=MCR; ben; carla"))
    assert first.assigned_to.tolist() == again.assigned_to.tolist()


# -- the setting ----------------------------------------------------------------------------------------------------

def test_the_setting_reads_names_payers_and_letter_ranges():
    assert assignments.specialists("ana=MCR,MCD; ben; ", "payer") == (
        assignments.Specialist("ana", ("MCR", "MCD")), assignments.Specialist("ben"))
    assert assignments.specialists("ben=a-l, q", "alphabet") == (
        assignments.Specialist("ben", letters=(("A", "L"), ("Q", "Q"))),)


@pytest.mark.parametrize(("text", "assign_by", "words"), [
    ("ana=MCR; =MCD", "payer", "entry '=MCD'"),
    ("ana; ANA", "round_robin", "ANA is listed twice"),
    ("ana=MCR; ben=MCR", "payer", "payer MCR is already ana's"),
    ("ana=A-L; ben=K-Z", "alphabet", "the letter K is already ana's"),
    ("ben=A-L1", "alphabet", "'A-L1' is not a letter"),
    ("ben=Z-A", "alphabet", "runs backwards"),
    ("ana=MCR,,MCD", "payer", "an empty item"),
    ("ana=M C R", "payer", "'M C R' is not a payer id"),
    ("ana smith", "round_robin", "entry 'ana smith'"),
])
def test_a_bad_specialists_setting_names_the_entry(text, assign_by, words):
    with pytest.raises(SettingsError, match=words) as caught:
        assignments.specialists(text, assign_by)
    assert "setting specialists" in str(caught.value)


def test_splitting_the_worklist_without_specialists_is_an_error():
    with pytest.raises(SettingsError, match="no specialist is listed"):
        assignments.assign(worklist(["ACME"]), None, policy("round_robin", " ; "))


def test_find_knows_a_configured_specialist_whatever_the_case():
    assert assignments.find(policy("round_robin", "Ana; ben"), "ana") == "Ana"
    assert assignments.find(policy("round_robin", "Ana; ben"), "dave") is None


# -- summary --------------------------------------------------------------------------------------------------------

def test_summary_counts_rows_and_dollars_at_stake_per_specialist():
    work = worklist(["ACME", "ACME", "ACME"], kinds=["denied", "underpaid", "denied"],
                    expected=[10000, 20000, 5000], variance=[0, -1500, 0])
    out = assignments.summary(assignments.assign(work, None, policy("round_robin", "ana; ben")))
    # ana: ranks 1 and 3, both denied (expected counts): 100.00 + 50.00 = 150.00; ben: underpaid, |variance| 15.00
    assert out.to_dict("records") == [{"assigned_to": "ana", "rows": 2, "dollars": 15000},
                                      {"assigned_to": "ben", "rows": 1, "dollars": 1500}]


# -- stored assignments over the computed split (`with_stored`) ------------------------------------------------

def stored(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """Stored assignments as `Store.assignments` reads them: (claim, taker, version)."""
    return pd.DataFrame({"claim_id": [c for c, _, _ in rows], "assigned_to": [t for _, t, _ in rows],
                         "assigned_at": ["2026-11-30T09:00:00Z"] * len(rows),
                         "assigned_by": [t for _, t, _ in rows], "version": [v for _, _, v in rows]})


def test_a_taken_claim_shows_its_taker_over_the_computed_split():
    # round robin gives C001 ana, C002 ben, C003 ana; carla took C002 (version 1), ben was handed C003 (version 2)
    split = assignments.assign(worklist(["P1", "P2", "P3"]), None, policy("round_robin", "ana; ben"))
    out = assignments.with_stored(split, stored([("C002", "carla", 1), ("C003", "ben", 2)]))
    assert out.assigned_to.tolist() == ["ana", "carla", "ben"]


def test_the_version_column_is_the_stored_version_and_0_for_a_claim_nobody_took():
    out = assignments.with_stored(worklist(["P1", "P2"]), stored([("C002", "carla", 3)]))
    assert out.assignment_version.tolist() == [0, 3]


def test_without_a_split_only_taken_claims_show_a_name():
    # assign_by off: no computed assigned_to; C001 taken by ana, C002 nobody's
    out = assignments.with_stored(worklist(["P1", "P2"]), stored([("C001", "ana", 1)]))
    assert out.assigned_to.tolist() == ["ana", None]


def test_a_row_without_a_claim_keeps_the_split_and_version_0():
    # a bank item (no claim id) goes round-robin to ben; nothing stored can name it
    split = assignments.assign(worklist(["P1", None], claims=["C001", None]), None, policy("round_robin", "ana; ben"))
    out = assignments.with_stored(split, stored([("C001", "carla", 1)]))
    assert out[["assigned_to", "assignment_version"]].values.tolist() == [["carla", 1], ["ben", 0]]


def test_stored_assignments_of_claims_not_on_the_worklist_add_no_rows():
    out = assignments.with_stored(worklist(["P1"]), stored([("C999", "ana", 1)]))
    assert (len(out), out.assigned_to.tolist()) == (1, [None])
