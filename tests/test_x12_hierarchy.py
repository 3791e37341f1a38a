"""HL hierarchies (837, 270/271, 276/277) on corpus files: parents, levels, depths, which HL a
segment belongs to, ancestors, and the findings of a broken tree."""

from __future__ import annotations

import numpy as np

from tests.conftest import CORPUS
from xl_ar.x12 import TransactionSet, read_document, read_hierarchy

ELIGIBILITY = TransactionSet("271", "271 eligibility response", (
    "BHT", "HL", "NM1", "TRN", "N3", "N4", "DMG", "DTP", "EB", "LS", "LE", "AAA", "REF", "PRV", "INS", "HSD", "MSG"))
CLAIM_STATUS = TransactionSet("277", "277 claim status", (
    "BHT", "HL", "NM1", "TRN", "STC", "REF", "DTP", "SVC", "QTY", "AMT"))
CLAIMS = TransactionSet("837", "837 claim", (
    "BHT", "NM1", "N3", "N4", "REF", "PER", "HL", "PRV", "SBR", "PAT", "DMG", "CLM", "DTP", "HI", "LX", "SV1", "SV2",
    "CUR", "PWK", "CN1", "AMT", "K3", "NTE", "CR1", "CR2", "CRC", "HCP", "LIN", "CTP", "SVD", "CAS", "OI", "MOA",
    "MIA", "QTY", "MEA", "PS1", "TOO", "HSD", "CL1", "FRM", "LQ"))


def test_a_271_subscriber_tree():
    doc = read_document((CORPUS / "LinuxForHealth__x12/subscriber-health-benefit-check.271").read_bytes(), "f",
                        ELIGIBILITY)
    tree = read_hierarchy(doc)
    assert tree.level.tolist() == ["20", "21", "22"]  # payer, provider, subscriber
    assert tree.parent.tolist() == [-1, 0, 1]
    assert tree.depth.tolist() == [0, 1, 2]
    eb = doc.rows("EB")
    assert (tree.hl_of[eb] == 2).all() and len(eb) == 5  # every benefit line is the subscriber's
    assert tree.ancestor(tree.hl_of[eb], "20").tolist() == [0] * 5  # the payer at the top
    assert doc.findings.result() == []


def test_a_277_tree_with_two_providers_and_a_dependent():
    # HL 1 payer (20) > 2 receiver (21) > 3 provider (19) > 4, 5 subscribers (22);
    #                                   > 6 provider (19) > 7 subscriber (22) > 8 dependent (23)
    doc = read_document((CORPUS / "LinuxForHealth__x12/claim-level-status.277").read_bytes(), "f", CLAIM_STATUS)
    tree = read_hierarchy(doc)
    assert tree.id.tolist() == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert tree.parent.tolist() == [-1, 0, 1, 2, 2, 1, 5, 6]
    assert tree.depth.tolist() == [0, 1, 2, 3, 3, 2, 3, 4]
    assert tree.children(np.arange(8)).tolist() == [1, 2, 2, 0, 0, 1, 1, 0]
    stc = doc.rows("STC")  # segments 14, 22 (subscribers 4 and 5), 34 and 38 (dependent 8)
    assert (stc + 1).tolist() == [14, 22, 34, 38]
    assert tree.hl_of[stc].tolist() == [3, 4, 7, 7]
    assert tree.ancestor(tree.hl_of[stc], "19").tolist() == [2, 2, 5, 5]  # the provider of each claim
    assert tree.ancestor(tree.hl_of[stc], "23").tolist() == [-1, -1, 7, 7]  # only the last two are a dependent's
    assert doc.findings.result() == []


def test_segments_before_the_first_hl_belong_to_none():
    doc = read_document((CORPUS / "LinuxForHealth__x12/claim-level-status.277").read_bytes(), "f", CLAIM_STATUS)
    tree = read_hierarchy(doc)
    assert tree.hl_of[doc.rows("BHT")].tolist() == [-1]


def test_a_broken_tree_is_reported_and_read_as_far_as_it_goes():
    # each of the two transactions: HL*1**20*1, HL*2*1*22*1, HL*2*3*22*1 (id 2 again, parent 3 unknown)
    doc = read_document((CORPUS / "imsweb__x12-parser/x12_multiple_st.txt").read_bytes(), "f", CLAIMS)
    tree = read_hierarchy(doc)
    assert tree.parent.tolist() == [-1, 0, -1, -1, 3, -1]  # indexes into the file's HLs; an unknown parent: a root
    found = [(f.where.segment, f.severity, f.message) for f in doc.findings.result() if f.code == "hierarchy"]
    first, second = tree.rows[[1, 2]] + 1, tree.rows[[4, 5]] + 1
    expected = []
    for hl2, hl3 in (first, second):
        expected += [
            (hl2, "warning", "HL04 says 1 (has children) but none follows"),
            (hl3, "error", "HL01 repeats an earlier HL's id in the transaction"),
            (hl3, "error", "HL02 names no earlier HL of the transaction; read as a top level"),
            (hl3, "warning", "HL04 says 1 (has children) but none follows"),
        ]
    assert sorted(found) == sorted(expected)


def test_hl_ids_that_do_not_count_up_are_a_warning():
    text = ("ST*277*0001~BHT*0010*08*X*20050916*0810*DG~HL*1**20*1~HL*3*1*21*0~SE*5*0001~")
    doc = read_document(text, "f", CLAIM_STATUS)
    tree = read_hierarchy(doc)
    assert tree.parent.tolist() == [-1, 0]
    assert [f.message for f in doc.findings.result() if f.code == "hierarchy"] == [
        "HL01 does not count up from 1 in the transaction"]
