Function ar_aging(claims, as_of, Optional group_by, Optional basis, Optional buckets)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_aging = XLPy.CallUDF("udfs.functions", "ar_aging", Array(claims, as_of, group_by, basis, buckets), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_aging = XLPy.CallUDF("udfs.functions", "ar_aging", Array(claims, as_of, group_by, basis, buckets))
        Exit Function
    #End If
failed:
    ar_aging = Err.Description
End Function

Function ar_bucket(dates, as_of, Optional buckets)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_bucket = XLPy.CallUDF("udfs.functions", "ar_bucket", Array(dates, as_of, buckets), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_bucket = XLPy.CallUDF("udfs.functions", "ar_bucket", Array(dates, as_of, buckets))
        Exit Function
    #End If
failed:
    ar_bucket = Err.Description
End Function

Function ar_carc(code)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_carc = XLPy.CallUDF("udfs.functions", "ar_carc", Array(code), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_carc = XLPy.CallUDF("udfs.functions", "ar_carc", Array(code))
        Exit Function
    #End If
failed:
    ar_carc = Err.Description
End Function

Function ar_days_in_ar(claims, as_of, Optional lookback_months)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_days_in_ar = XLPy.CallUDF("udfs.functions", "ar_days_in_ar", Array(claims, as_of, lookback_months), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_days_in_ar = XLPy.CallUDF("udfs.functions", "ar_days_in_ar", Array(claims, as_of, lookback_months))
        Exit Function
    #End If
failed:
    ar_days_in_ar = Err.Description
End Function

Function ar_deadline(payer_id, from_date, Optional kind, Optional payers)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_deadline = XLPy.CallUDF("udfs.functions", "ar_deadline", Array(payer_id, from_date, kind, payers), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_deadline = XLPy.CallUDF("udfs.functions", "ar_deadline", Array(payer_id, from_date, kind, payers))
        Exit Function
    #End If
failed:
    ar_deadline = Err.Description
End Function

Function ar_denial_rate(claims, remittances, adjustments, start_date, end_date, Optional by)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_denial_rate = XLPy.CallUDF("udfs.functions", "ar_denial_rate", Array(claims, remittances, adjustments, start_date, end_date, by), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_denial_rate = XLPy.CallUDF("udfs.functions", "ar_denial_rate", Array(claims, remittances, adjustments, start_date, end_date, by))
        Exit Function
    #End If
failed:
    ar_denial_rate = Err.Description
End Function

Function ar_eligible(member_id, service_date, eligibility)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_eligible = XLPy.CallUDF("udfs.functions", "ar_eligible", Array(member_id, service_date, eligibility), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_eligible = XLPy.CallUDF("udfs.functions", "ar_eligible", Array(member_id, service_date, eligibility))
        Exit Function
    #End If
failed:
    ar_eligible = Err.Description
End Function

Function ar_expected(payer_id, procedure_code, Optional modifier, Optional units, Optional fee_schedule)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_expected = XLPy.CallUDF("udfs.functions", "ar_expected", Array(payer_id, procedure_code, modifier, units, fee_schedule), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_expected = XLPy.CallUDF("udfs.functions", "ar_expected", Array(payer_id, procedure_code, modifier, units, fee_schedule))
        Exit Function
    #End If
failed:
    ar_expected = Err.Description
End Function

Function ar_gcr(claims, start_date, end_date)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_gcr = XLPy.CallUDF("udfs.functions", "ar_gcr", Array(claims, start_date, end_date), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_gcr = XLPy.CallUDF("udfs.functions", "ar_gcr", Array(claims, start_date, end_date))
        Exit Function
    #End If
failed:
    ar_gcr = Err.Description
End Function

Function ar_kpis(claims, as_of)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_kpis = XLPy.CallUDF("udfs.functions", "ar_kpis", Array(claims, as_of), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_kpis = XLPy.CallUDF("udfs.functions", "ar_kpis", Array(claims, as_of))
        Exit Function
    #End If
failed:
    ar_kpis = Err.Description
End Function

Function ar_ncr(claims, start_date, end_date, Optional adjustments)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_ncr = XLPy.CallUDF("udfs.functions", "ar_ncr", Array(claims, start_date, end_date, adjustments), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_ncr = XLPy.CallUDF("udfs.functions", "ar_ncr", Array(claims, start_date, end_date, adjustments))
        Exit Function
    #End If
failed:
    ar_ncr = Err.Description
End Function

Function ar_next_followup(claim_id, notes)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_next_followup = XLPy.CallUDF("udfs.functions", "ar_next_followup", Array(claim_id, notes), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_next_followup = XLPy.CallUDF("udfs.functions", "ar_next_followup", Array(claim_id, notes))
        Exit Function
    #End If
failed:
    ar_next_followup = Err.Description
End Function

Function ar_pct_over(claims, as_of, days, Optional group_by)
    #If App = "Microsoft Excel" Then
        If TypeOf Application.Caller Is Range Then On Error GoTo failed
        ar_pct_over = XLPy.CallUDF("udfs.functions", "ar_pct_over", Array(claims, as_of, days, group_by), ActiveWorkbook, Application.Caller)
        Exit Function
    #Else
        ar_pct_over = XLPy.CallUDF("udfs.functions", "ar_pct_over", Array(claims, as_of, days, group_by))
        Exit Function
    #End If
failed:
    ar_pct_over = Err.Description
End Function

