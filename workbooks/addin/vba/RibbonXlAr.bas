Attribute VB_Name = "RibbonXlAr"
' Ribbon callbacks of the Medical A/R add-in (customUI/customUI.xml onAction = "RibbonXlAr.<Sub>").
' Each button runs one macro of udfs/ribbon.py through xlwings' RunPython.
' RunPython passes ActiveWorkbook.Name, so a button pressed with no workbook open would fail with error 91:
' every Sub checks for an open workbook first.
Option Explicit

Private Function HasWorkbook() As Boolean
    HasWorkbook = Not ActiveWorkbook Is Nothing
    If Not HasWorkbook Then MsgBox "Open the A/R workbook first.", vbExclamation, "Medical A/R"
End Function

Sub ImportRemittances(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.import_remittances()"
End Sub

Sub Reconcile(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.reconcile()"
End Sub

Sub Worklist(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.worklist()"
End Sub

Sub AddNote(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.add_note()"
End Sub

Sub ImportNotes(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.import_notes()"
End Sub

Sub MarkAppealed(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.mark_appealed()"
End Sub

Sub TakeClaim(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.take_claim()"
End Sub

Sub BuildReport(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.build_report()"
End Sub

Sub PatientStatements(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.patient_statements()"
End Sub

Sub VerifyEligibility(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.verify_eligibility()"
End Sub

Sub ScrubClaims(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.scrub_claims()"
End Sub

Sub ShowSettings(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.settings()"
End Sub

Sub ShowHelp(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.help()"
End Sub
