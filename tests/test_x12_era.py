"""The 835 reader on small hand-written remittances: one behaviour per test.

Segment positions in findings count the non-empty segments of the file from 1: with `envelope`
the ISA is 1, GS 2, ST 3 and the first body segment 4.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from xl_ar.errors import InputError
from xl_ar.findings import FINDING_LIMIT
from xl_ar.x12 import X12Error
from xl_ar.x12.era import read_835
from xl_ar.x12.summary import SUMMARY_KEYS, format_amount, format_summaries, summarize

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*:"
GS = "GS*HP*SENDER*RECEIVER*20240101*1200*1*X*005010X221A1"
PATIENT_ID = "PCN-SECRET-1"
PATIENT_NAME = "ZEBEDEE"
MEMBER_ID = "MEMBER987"

HEADER = [
    "BPR*I*80*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20240105",
    "TRN*1*TRACE123*1512345678",
    "N1*PR*ACME HEALTH PLAN*XV*PLANID",
    "REF*2U*PAYER01",
    "N1*PE*GOOD CLINIC*XX*1234567893",
]
CLAIM = [
    "LX*1",
    f"CLP*{PATIENT_ID}*1*100*80*20*12*PAYERCLM1",
    f"NM1*QC*1*{PATIENT_NAME}*JANE****MI*{MEMBER_ID}",
    "DTM*232*20240102",
    "SVC*HC:99213:25*100*80**1",
    "DTM*472*20240102",
    "CAS*PR*1*20",
    "REF*6R*LINE1",
    "AMT*B6*100",
    "LQ*HE*N130",
]


def envelope(*bodies: list[str], sep: str = "~\n") -> str:
    """An ISA/GS envelope around one ST*835 per body, with right SE01, GE01 and IEA01 counts."""
    segs = [ISA, GS]
    for i, body in enumerate(bodies, start=1):
        st02 = f"{i:04d}"
        tx = [f"ST*835*{st02}", *body]
        segs += [*tx, f"SE*{len(tx) + 1}*{st02}"]
    segs += [f"GE*{len(bodies)}*1", "IEA*1*000000001"]
    return sep.join(segs) + sep


def read(*bodies: list[str]):
    return read_835(envelope(*bodies), "era_001.835")


def messages(rem) -> list[str]:
    return [f.message for f in rem.findings]


def only(rem, text: str):
    found = [f for f in rem.findings if text in f.message]
    assert len(found) == 1, [str(f) for f in rem.findings]
    return found[0]


# ---- a clean remittance


def test_clean_remittance_has_no_findings():
    assert read(HEADER + CLAIM).findings == []


def test_payment_row():
    pay = read(HEADER + CLAIM).payments.iloc[0]
    assert (pay.payer_name, pay.payer_ref, pay.payee_npi) == ("ACME HEALTH PLAN", "PAYER01", "1234567893")
    assert (pay.method, pay.amount, pay.trace_number) == ("ACH", 8000, "TRACE123")  # BPR02 80 = 8000 cents
    assert pay.payment_date == pd.Timestamp(2024, 1, 5)
    assert pay.source_file == "era_001.835"
    assert pd.isna(pay.payer_id)  # the practice's payer mapping is done elsewhere


def test_tables_have_exactly_the_canonical_columns():
    from xl_ar.tables import REMITTANCE_TABLES, TABLES

    rem = read(HEADER + CLAIM)
    for name in REMITTANCE_TABLES:
        assert list(getattr(rem, name).columns) == TABLES[name].column_names


def test_payer_ref_falls_back_to_n1_pr04():
    header = [s for s in HEADER if not s.startswith("REF*2U")]
    assert read(header + CLAIM).payments.payer_ref[0] == "PLANID"


def test_payer_ref_falls_back_to_trn03():
    header = ["N1*PR*ACME HEALTH PLAN" if s.startswith("N1*PR") else s for s in HEADER if not s.startswith("REF*2U")]
    assert read(header + CLAIM).payments.payer_ref[0] == "1512345678"


def test_payee_npi_only_from_an_xx_qualifier():
    header = ["N1*PE*GOOD CLINIC*FI*999999999" if s.startswith("N1*PE") else s for s in HEADER]
    assert pd.isna(read(header + CLAIM).payments.payee_npi[0])


def test_source_file_drops_the_folder():
    rem = read_835(envelope(HEADER + CLAIM), "/data/inbox/era_001.835")
    assert rem.payments.source_file[0] == "era_001.835"
    assert rem.source == "era_001.835"


def test_payment_id_is_trace_control_and_content_hash():
    payment_id = read(HEADER + CLAIM).payments.payment_id[0]
    trace, st02, digest = payment_id.split("-")
    assert (trace, st02, len(digest)) == ("TRACE123", "0001", 8)


def test_payment_id_is_stable_for_the_same_content_under_another_name():
    text = envelope(HEADER + CLAIM)
    assert read_835(text, "a.835").payments.payment_id[0] == read_835(text, "b.835").payments.payment_id[0]


def test_payment_id_changes_with_the_transaction_content():
    other = [s.replace("*100*80*20*", "*100*80*21*") for s in CLAIM]
    assert read(HEADER + CLAIM).payments.payment_id[0] != read(HEADER + other).payments.payment_id[0]


def test_identical_transactions_in_one_file_get_distinct_payment_ids():
    ids = read_835(envelope(HEADER + CLAIM) + envelope(HEADER + CLAIM), "f").payments.payment_id.tolist()
    assert ids[1] == ids[0] + "-2"


def test_claim_row():
    claim = read(HEADER + CLAIM).claim_payments.iloc[0]
    assert (claim.claim_seq, claim.claim_id, claim.status_code) == (1, PATIENT_ID, "1")
    assert (claim.charge, claim.paid, claim.patient_resp) == (10000, 8000, 2000)
    assert claim.payer_claim_id == "PAYERCLM1"
    assert claim.service_date == pd.Timestamp(2024, 1, 2)  # DTM*232


def test_claim_service_date_falls_back_to_first_line_date():
    claim = [s for s in CLAIM if not s.startswith("DTM*232")]
    claim = [s.replace("DTM*472*20240102", "DTM*472*20240103") for s in claim]
    assert read(HEADER + claim).claim_payments.service_date[0] == pd.Timestamp(2024, 1, 3)


def test_line_row():
    line = read(HEADER + CLAIM).line_payments.iloc[0]
    assert (line.claim_seq, line.line_seq, line.procedure_code, line.modifiers) == (1, 1, "99213", "25")
    assert (line.charge, line.paid, line.units, line.allowed) == (10000, 8000, 1.0, 10000)
    assert line.line_control == "LINE1"  # REF*6R
    assert line.service_date == pd.Timestamp(2024, 1, 2)  # DTM*472


def test_line_date_from_dtm_150_when_no_472():
    claim = [s.replace("DTM*472", "DTM*150") for s in CLAIM] + ["DTM*151*20240109"]
    assert read(HEADER + claim).line_payments.service_date[0] == pd.Timestamp(2024, 1, 2)


def test_units_default_to_one_when_svc05_is_absent():
    claim = [s.replace("SVC*HC:99213:25*100*80**1", "SVC*HC:99213*100*80") for s in CLAIM]
    assert read(HEADER + claim).line_payments.units[0] == 1.0


def test_fractional_units():
    claim = [s.replace("SVC*HC:99213:25*100*80**1", "SVC*HC:99213*100*80**2.5") for s in CLAIM]
    assert read(HEADER + claim).line_payments.units[0] == 2.5


def test_modifiers_are_colon_separated_in_order():
    claim = [s.replace("HC:99213:25", "HC:99213:25:59:XU") for s in CLAIM]
    assert read(HEADER + claim).line_payments.modifiers[0] == "25:59:XU"


def test_svc01_written_with_gt_while_isa16_is_colon_keeps_the_procedure():
    claim = [s.replace("HC:99213:25", "HC>99213>26") for s in CLAIM]
    line = read(HEADER + claim).line_payments.iloc[0]
    assert (line.procedure_code, line.modifiers) == ("99213", "26")


def test_svc06_original_procedure_does_not_disturb_the_line():
    claim = [s.replace("SVC*HC:99213:25*100*80**1", "SVC*HC:99214*100*80**1*HC:99213") for s in CLAIM]
    line = read(HEADER + claim).line_payments.iloc[0]
    assert (line.procedure_code, line.charge, line.paid) == ("99214", 10000, 8000)


def test_amt_b6_is_the_allowed_amount_and_other_amt_are_not():
    claim = [s for s in CLAIM if not s.startswith("AMT*B6")] + ["AMT*KH*5"]
    assert pd.isna(read(HEADER + claim).line_payments.allowed[0])


# ---- adjustments, remarks, provider adjustments


def test_six_cas_triplets_become_six_adjustments_in_order():
    # charge 100 - (10 + 2 + 3 + 4 + 5 + 6 = 30) = 70 paid
    body = [s.replace("*80*20*12*", "*70*0*12*").replace("*100*80**1", "*100*70**1") for s in HEADER + CLAIM]
    body = [s.replace("BPR*I*80*", "BPR*I*70*") for s in body]
    body = ["CAS*CO*45*10*1*253*2*2*59*3**94*4**A2*5**B10*6" if s.startswith("CAS") else s for s in body]
    adj = read(body).adjustments
    assert adj.reason_code.tolist() == ["45", "253", "59", "94", "A2", "B10"]
    assert adj.amount.tolist() == [1000, 200, 300, 400, 500, 600]
    assert adj.quantity.tolist()[:2] == [1.0, 2.0]
    assert adj.quantity.isna().tolist()[2:] == [True] * 4
    assert set(adj.group_code) == {"CO"}


def test_claim_level_adjustment_has_no_line_seq():
    # claim: 100 - (claim CAS 5 + line CAS 20) = 75 paid; line: 100 - 20 = 80
    body = [s.replace("*100*80*20*12*", "*100*75*20*12*").replace("BPR*I*80*", "BPR*I*75*") for s in HEADER + CLAIM]
    body.insert(body.index(f"CLP*{PATIENT_ID}*1*100*75*20*12*PAYERCLM1") + 1, "CAS*OA*23*5")
    rem = read(body)
    assert rem.findings == []
    adj = rem.adjustments
    assert adj.line_seq.isna().tolist() == [True, False]
    assert adj.group_code.tolist() == ["OA", "PR"]


def test_cas_group_cr_from_4010_is_kept():
    body = [s.replace("CAS*PR*1*20", "CAS*CR*1*20") for s in HEADER + CLAIM]
    assert read(body).adjustments.group_code.tolist() == ["CR"]


def test_remark_codes_from_lq_mia_and_moa():
    body = HEADER + CLAIM[:3] + ["MIA*0***138018.40*MA01", "MOA***MA02*N362"] + CLAIM[3:]
    rem = read(body).remarks
    assert rem.code.tolist() == ["MA01", "MA02", "N362", "N130"]
    assert rem.line_seq.isna().tolist() == [True, True, True, False]


def test_plb_repeats_and_pairs_and_composite_codes():
    # claims 80 - PLB (WO 10 + L6 -2.50 + CS 5) = 80 - 12.50 = 67.50 = BPR02
    body = [s.replace("BPR*I*80*", "BPR*I*67.50*") for s in HEADER + CLAIM]
    body += ["PLB*1234567893*20241231*WO:PAYERCLM0*10*L6*-2.50", "PLB*1234567893*20241231*CS*5"]
    rem = read(body)
    plb = rem.provider_adjustments
    assert plb.reason_code.tolist() == ["WO", "L6", "CS"]
    assert plb.reference.tolist()[0] == "PAYERCLM0"
    assert plb.reference.isna().tolist()[1:] == [True, True]
    assert plb.amount.tolist() == [1000, -250, 500]
    assert plb.fiscal_date[0] == pd.Timestamp(2024, 12, 31)
    assert rem.findings == []


def test_reversal_with_negative_amounts_balances():
    # reversal: -100 - (-20) = -80; correction 100 - 20 = 80; payment 0
    reversal = [s.replace(f"CLP*{PATIENT_ID}*1*100*80*20*", f"CLP*{PATIENT_ID}*22*-100*-80*-20*")
                .replace("*100*80**1", "*-100*-80**-1").replace("CAS*PR*1*20", "CAS*PR*1*-20") for s in CLAIM]
    body = [s.replace("BPR*I*80*", "BPR*I*0*") for s in HEADER] + reversal + CLAIM
    rem = read(body)
    assert rem.findings == []
    assert rem.claim_payments.status_code.tolist() == ["22", "1"]
    assert rem.claim_payments.paid.tolist() == [-8000, 8000]
    assert summarize(rem)["clp02_status_counts"] == {"22": 1, "1": 1}


def test_denied_claim_status_4_with_zero_paid():
    claim = [s.replace(f"CLP*{PATIENT_ID}*1*100*80*20*", f"CLP*{PATIENT_ID}*4*100*0*0*")
             .replace("*100*80**1", "*100*0**1").replace("CAS*PR*1*20", "CAS*CO*50*100") for s in CLAIM]
    rem = read([s.replace("BPR*I*80*", "BPR*I*0*") for s in HEADER] + claim)
    assert rem.findings == []
    assert rem.claim_payments.status_code[0] == "4"


def test_more_than_999_service_lines_keep_their_sequence():
    lines = []
    for _ in range(1005):
        lines += ["SVC*HC:99213*1*1**1", "DTM*472*20240102"]
    body = [s.replace("BPR*I*80*", "BPR*I*1005*") for s in HEADER]
    body += ["LX*1", f"CLP*{PATIENT_ID}*1*1005*1005**12*PAYERCLM1", *lines]
    rem = read(body)
    assert rem.findings == []
    assert rem.line_payments.line_seq.tolist() == list(range(1, 1006))


def test_claim_seq_counts_claims_within_each_payment():
    rem = read(HEADER + CLAIM + CLAIM, HEADER + CLAIM)
    assert rem.claim_payments.claim_seq.tolist() == [1, 2, 1]
    assert rem.payments.amount.tolist() == [8000, 8000]  # first ST does not balance (160 paid)


def test_other_transaction_sets_are_counted_and_skipped():
    text = envelope(HEADER + CLAIM).replace(
        "GE*1*1", "GE*1*1~\nGS*HC*A*B*20240101*1200*2*X*005010X222A1~\nST*837*0001~\nCAS*CO*45*99~\n"
                  "SE*3*0001~\nGE*1*2").replace("IEA*1*", "IEA*2*")
    rem = read_835(text, "f")
    assert rem.other_transactions == {"837": 1}
    assert len(rem.adjustments) == 1  # the 837's CAS is not read
    assert rem.findings == []


# ---- findings: balancing


def test_unbalanced_line_names_the_svc_segment():
    # line: charge 100 - adjustments 20 = 80, paid 75 (claim 100 - 20 = 80 = CLP04, still balanced)
    body = [s.replace("*100*80**1", "*100*75**1") for s in HEADER + CLAIM]
    f = only(read(body), "service line does not balance")
    assert (f.severity, f.source) == ("error", "era_001.835")
    assert f.location == "ST 0001, segment 13 (SVC)"  # ISA GS ST + 5 header + LX CLP NM1 DTM = 12, SVC 13
    assert f.message == "service line does not balance: charge 100.00 - adjustments 20.00 = 80.00, paid 75.00"


def test_unbalanced_claim_names_the_clp_segment():
    # claim: charge 100 - adjustments 20 = 80, paid 75; BPR02 75 so the payment balances
    body = [s.replace("*100*80*20*12*", "*100*75*20*12*").replace("BPR*I*80*", "BPR*I*75*") for s in HEADER + CLAIM]
    f = only(read(body), "claim does not balance")
    assert f.location == "ST 0001, segment 10 (CLP)"  # ISA GS ST + 5 header + LX = 9, CLP 10
    assert f.message == "claim does not balance: charge 100.00 - adjustments 20.00 = 80.00, paid 75.00"


def test_unbalanced_payment_names_the_bpr_segment():
    # payment: claims 80 - PLB 0 = 80, BPR02 90
    body = [s.replace("BPR*I*80*", "BPR*I*90*") for s in HEADER + CLAIM]
    f = only(read(body), "payment does not balance")
    assert f.location == "ST 0001, segment 4 (BPR)"
    assert f.message == ("payment does not balance: claim payments 80.00 - provider adjustments 0.00 = 80.00, "
                         "BPR02 90.00")


def test_unbalanced_flags_in_the_summary():
    body = [s.replace("BPR*I*80*", "BPR*I*90*") for s in HEADER + CLAIM]
    s = summarize(read(body))
    assert (s["balanced_transactions"], s["balanced_claims"], s["balanced_service_lines"]) == (False, True, True)


# ---- findings: envelope and structure


def test_wrong_se_count_is_reported_at_the_se():
    text = envelope(HEADER + CLAIM).replace("SE*17*0001", "SE*15*0001")
    f = only(read_835(text, "era_001.835"), "SE01")
    assert f.location == "ST 0001, segment 19 (SE)"  # 2 + ST + 15 body + SE = 19
    assert f.message == "SE01 says 15 segments but the transaction has 17"


def test_se02_must_match_st02():
    text = envelope(HEADER + CLAIM).replace("SE*17*0001", "SE*17*0002")
    assert only(read_835(text, "f"), "SE02").location == "ST 0001, segment 19 (SE)"


def test_ge01_counts_transactions():
    text = envelope(HEADER + CLAIM, HEADER + CLAIM).replace("GE*2*1", "GE*1*1")
    assert only(read_835(text, "f"), "GE01").message == "GE01 says 1 transactions but the group has 2"


def test_ge02_must_match_gs06():
    text = envelope(HEADER + CLAIM).replace("GE*1*1", "GE*1*7")
    assert "GS06" in only(read_835(text, "f"), "GE02").message


def test_iea01_counts_groups():
    text = envelope(HEADER + CLAIM).replace("IEA*1*", "IEA*2*")
    assert only(read_835(text, "f"), "IEA01").message == "IEA01 says 2 groups but the interchange has 1"


def test_iea02_must_match_isa13():
    text = envelope(HEADER + CLAIM).replace("IEA*1*000000001", "IEA*1*000000002")
    assert only(read_835(text, "f"), "IEA02").location == "segment 21 (IEA)"


def test_transaction_without_se_is_reported_and_still_read():
    text = envelope(HEADER + CLAIM).replace("SE*17*0001~\n", "")
    rem = read_835(text, "f")
    assert "no SE trailer" in only(rem, "no SE").message
    assert len(rem.claim_payments) == 1


def test_payment_id_of_a_transaction_without_se_ignores_what_follows():
    text = envelope(HEADER + CLAIM).replace("SE*17*0001~\n", "")
    same_start = text.replace("GE*1*1", "GE*1*1~\nGS*HP*X*Y*20240101*1200*2*X*005010X221A1~\nGE*0*2").replace(
        "IEA*1*", "IEA*2*")
    assert read_835(text, "f").payments.payment_id[0] == read_835(same_start, "f").payments.payment_id[0]


def test_unknown_segment_is_reported_and_skipped():
    rem = read(HEADER + CLAIM + ["ZZZ*1*2"])
    f = only(rem, "unknown segment")
    assert f.location == "ST 0001, segment 19 (ZZZ)"
    assert rem.findings[0].severity == "warning"


def test_header_segment_after_claims_is_misplaced():
    rem = read(HEADER + CLAIM + ["N1*PR*LATE PAYER"])
    assert only(rem, "out of order").location == "ST 0001, segment 19 (N1)"


def test_svc_before_any_clp_is_reported_and_ignored():
    rem = read([*HEADER, "LX*1", "SVC*HC:99213*10*10", *CLAIM[1:]])
    assert only(rem, "outside a claim").location == "ST 0001, segment 10 (SVC)"
    assert len(rem.line_payments) == 1


def test_bad_amount_is_reported_without_its_value_and_read_as_zero():
    body = [s.replace("*100*80*20*12*", "*1OO*80*20*12*") for s in HEADER + CLAIM]
    rem = read(body)
    f = only(rem, "CLP03")
    assert f.message == "CLP03 (claim charge) is not a valid amount; read as 0"
    assert rem.claim_payments.charge[0] == 0


def test_missing_required_element_is_reported():
    body = [s.replace("*100*80*20*12*", "*100**20*12*") for s in HEADER + CLAIM]
    assert only(read(body), "CLP04").message == "CLP04 (claim payment) is missing; read as 0"


def test_transaction_without_bpr_is_reported():
    body = [s for s in HEADER if not s.startswith("BPR")] + CLAIM
    assert only(read(body), "no BPR").location == "ST 0001, segment 3 (ST)"


def test_file_without_envelope_is_read_with_a_warning():
    text = "~\n".join(["ST*835*0001", *HEADER, *CLAIM, f"SE*{len(HEADER) + len(CLAIM) + 2}*0001"]) + "~\n"
    rem = read_835(text, "bare.835")
    assert [f.severity for f in rem.findings] == ["warning"]
    assert len(rem.claim_payments) == 1
    assert not rem.envelope


def test_findings_of_one_kind_are_capped_and_counted():
    lines = ["SVC*HC:99213*2*1**1"] * (FINDING_LIMIT + 5)  # each line: 2 - 0 = 2, paid 1
    body = [s.replace("BPR*I*80*", f"BPR*I*{FINDING_LIMIT + 5}*") for s in HEADER]
    body += ["LX*1", f"CLP*{PATIENT_ID}*1*{FINDING_LIMIT + 5}*{FINDING_LIMIT + 5}**12*X", *lines]
    rem = read(body)
    unbalanced = [f for f in rem.findings if "service line does not balance" in f.message]
    assert len(unbalanced) == FINDING_LIMIT
    assert rem.findings[-1].message == "5 more findings of the kind 'unbalanced line' not listed"


def test_no_patient_data_in_any_finding():
    bad_claim = [
        "LX*1",
        f"CLP*{PATIENT_ID}*1*1OO*75*20*12*PAYERCLM1",
        f"NM1*QC*1*{PATIENT_NAME}*JANE****MI*{MEMBER_ID}",
        "DTM*232*2024XX02",
        f"SVC*HC:{PATIENT_NAME}*100*70**1",
        "CAS*PR*1*2O",
        f"MIA*{PATIENT_NAME}",
        f"NM1*QC*1*{PATIENT_NAME}*JANE****MI*{MEMBER_ID}",
        f"{PATIENT_NAME}*{MEMBER_ID}",
        f"CAS*{PATIENT_NAME}*1*20",
    ]
    text = envelope(HEADER + bad_claim).replace("SE*", "SE*9").replace("ST*835*0001", f"ST*835*{PATIENT_ID}")
    rem = read_835(text, "era_001.835")
    assert len(rem.findings) >= 8
    for f in rem.findings:
        for secret in (PATIENT_ID, PATIENT_NAME, MEMBER_ID, "JANE"):
            assert secret not in f"{f.location} {f.message}", str(f)


# ---- unreadable input


@pytest.mark.parametrize("data", [b"", b" \n ", b"\x89PNG\r\n\x1a\n\x00\x00", b"Dear customer, ..."])
def test_unreadable_input_raises_x12_error_naming_the_file(data):
    with pytest.raises(X12Error, match=r"^scan\.pdf: "):
        read_835(data, "scan.pdf")


def test_x12_error_is_an_input_error():
    assert issubclass(X12Error, InputError)


def test_text_input_reads_like_bytes():
    text = envelope(HEADER + CLAIM)
    assert summarize(read_835(text, "f")) == summarize(read_835(text.encode(), "f"))


def test_a_file_with_only_an_837_has_no_payment_and_says_so():
    text = envelope(HEADER + CLAIM).replace("ST*835*", "ST*837*")
    rem = read_835(text, "f")
    assert len(rem.payments) == 0
    assert rem.other_transactions == {"837": 1}
    assert "no 835 transaction" in only(rem, "no 835").message


# ---- summary


def test_summary_has_exactly_the_expected_keys():
    assert tuple(summarize(read(HEADER + CLAIM))) == SUMMARY_KEYS


def test_summary_figures_of_the_clean_remittance():
    s = summarize(read(HEADER + CLAIM))
    assert (s["transactions_835"], s["claims"], s["service_lines"]) == (1, 1, 1)
    assert (s["sum_bpr02"], s["sum_clp03"], s["sum_clp04"], s["sum_plb"]) == ("80", "100", "80", "0")
    assert s["cas_by_group"] == {"PR": "20"}
    assert s["plb_by_code"] == {}


@pytest.mark.parametrize(("cents", "decimals", "text"), [
    (0, 0, "0"), (0, 2, "0.00"), (-97794, 2, "-977.94"), (3460, 1, "34.6"), (-530, 1, "-5.3"),
    (1250, 3, "12.500"), (15000000, 0, "150000"), (5, 0, "0.05"),
])
def test_format_amount(cents, decimals, text):
    assert format_amount(cents, decimals) == text


def test_format_summaries_lists_each_file():
    table = format_summaries({"a.835": summarize(read(HEADER + CLAIM))})
    assert table.splitlines()[2].split()[:6] == ["a.835", "1", "1", "1", "80", "80"]


def test_dates_are_midnight_datetimes():
    value = read(HEADER + CLAIM).payments.payment_date[0]
    assert value.to_pydatetime().date() == dt.date(2024, 1, 5)
