"""Reports for town staff and policy work: KPIs, the unused-balance figure the Payment Services Act asks
for, pseudonymised exports. Aggregation happens in SQL; Python only shapes the small results."""
