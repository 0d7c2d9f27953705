"""`docintake`: the administrator's command line for batch ingestion."""
