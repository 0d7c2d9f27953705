"""The ingestor's Prometheus counters (FastStream's middleware counts the messages themselves)."""

from prometheus_client import Counter

DOCUMENTS = Counter("docintake_ingestor_documents_total", "Documents handled by outcome", ["outcome"])
RETRIES = Counter("docintake_ingestor_retries_total", "Transient failures that led to a retry", ["code"])
