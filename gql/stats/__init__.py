"""Statistics for the dashboards (``registrationStats``) and the CSV export link."""
