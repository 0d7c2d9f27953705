from prometheus_client import Counter, Histogram

BATCHES = Counter("docintake_gateway_batches_total", "Batch uploads by outcome", ["outcome"])
DOCUMENTS = Counter("docintake_gateway_documents_total", "Documents accepted")
BYTES = Counter("docintake_gateway_bytes_total", "Bytes of accepted documents")
UPLOAD_SECONDS = Histogram("docintake_gateway_upload_seconds", "Time from request to 202")
