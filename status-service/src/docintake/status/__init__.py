"""docintake status service: projects batch and document events into progress records and serves them."""
