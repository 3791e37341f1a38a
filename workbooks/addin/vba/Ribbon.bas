Attribute VB_Name = "Ribbon"
' Ribbon callbacks of the Medical A/R add-in (customUI onAction): each runs one macro of udfs/ribbon.py.
' RunPython passes ActiveWorkbook.Name, so a button pressed with no workbook open would fail with error 91.
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

Sub BuildReport(control As IRibbonControl)
    If HasWorkbook Then RunPython "import udfs.ribbon; udfs.ribbon.build_report()"
End Sub
