"""docintake gateway: the public door. Streams batch uploads into MinIO and publishes their events."""
