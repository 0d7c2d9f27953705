"""docintake ingestor: parses, chunks and writes documents into the Neo4j knowledge graph."""
