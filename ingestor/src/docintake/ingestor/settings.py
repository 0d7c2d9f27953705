import os
from pathlib import Path
from typing import Literal

from pydantic import field_validator

from docintake.ingestor.adapters.parsers.ocr import OcrOptions
from docintake.platform.settings import Settings

MiB = 1024 * 1024


class IngestorSettings(Settings):
    # What this ingestor takes: "text" the lanes' queued documents (a text pass, handing those that need OCR to
    # the queue docintake.ingestor.ocr), "ocr" that queue only, "all" both, each with its own parser processes.
    ingestor_role: Literal["all", "text", "ocr"] = "all"
    workers: int = os.cpu_count() or 2
    # 0: twice the workers plus 20, so that the pool never waits on the broker and the documents whose parse ends
    # while a graph write is under way can go together in the next
    prefetch: int = 0
    # Documents parsed at the same time are written to the graph together: a lone one at once, and those whose
    # parse ends while a write is under way in the next transaction, this many at the most.
    write_batch_size: int = 50
    # A parser process is replaced by a fresh one after this many documents (0: never), giving back what its
    # parsing libraries kept. Since each worker collects what every parse left, that is little: the ingestor with
    # its workers peaked at 312 MiB at 20 against 316-317 MiB never (docs/performance.md); each replacement costs a
    # fork of the forkserver.
    parser_max_documents: int = 0
    chunk_size: int = 1000
    chunk_overlap: int = 150
    # Comma-separated metadata fields every document must have, e.g. "author,department".
    required_metadata: str = ""
    parse_timeout_seconds: float = 120.0
    max_expanded_bytes: int = 256 * MiB
    # OCR (Debian's tesseract) of images and of PDF pages without a text layer. Languages: tesseract codes
    # joined by "+" or ",", e.g. "eng+deu", each from Debian's package tesseract-ocr-<code> (installed by `make up`).
    ocr_languages: str = "eng"
    # A page whose OCR takes longer fails its document with OCR_TIMEOUT.
    ocr_page_timeout_seconds: float = 60.0
    # Pages OCR'd per document (the files of an archive together); more fail it with OCR_PAGE_LIMIT. The parse
    # timeout bounds the whole document too: at about 1.5 s a page, 120 s hold some 70 pages.
    ocr_max_pages: int = 50
    # Parser processes that OCR, a document each at a time (on an ingestor of the role "all" or "ocr").
    ocr_workers: int = 1
    # OCR messages taken ahead; 0: as many as the OCR workers, so that a long scan waits for the next idle
    # worker of any ingestor rather than behind this one's jobs.
    ocr_prefetch: int = 0
    # How often a running OCR job publishes its progress (DocumentProgressed), when it moved.
    ocr_progress_interval_seconds: float = 2.0
    # A document whose text passes this many bytes (a TXT, Markdown, CSV, TSV or JSON file: whose file does) is
    # chunked in its parser process (the text formats read as a stream) into a spool file, and written into the
    # graph staged: in transactions of at most staged_transaction_bytes of chunk text, then made current in one.
    large_document_bytes: int = 16 * MiB
    staged_transaction_bytes: int = 8 * MiB
    # A staged copy (or a retired version being removed) untouched this long is taken as abandoned by its writer.
    staged_lease_seconds: float = 300.0
    retry_backoff_max_seconds: float = 30.0
    # /healthz, /readyz and Prometheus /metrics; port 0: none. Each ingestor on a machine needs its
    # own port: one whose port is taken runs on without them.
    ingestor_host: str = "127.0.0.1"
    ingestor_metrics_port: int = 8001
    work_dir: Path = Path(os.environ.get("TMPDIR", "/tmp")) / "docintake-ingestor"

    @field_validator("ocr_languages")
    @classmethod
    def _tesseract_codes(cls, value: str) -> str:
        OcrOptions(value).codes  # noqa: B018  # raises ValueError naming a code that is none
        return value

    @property
    def ocr(self) -> OcrOptions:
        return OcrOptions(self.ocr_languages, self.ocr_page_timeout_seconds, self.ocr_max_pages)

    @property
    def ocr_parse_timeout_seconds(self) -> float:
        """What the OCR pass of one document may take: the parse timeout plus every page's own budget."""
        return self.parse_timeout_seconds + self.ocr_max_pages * self.ocr_page_timeout_seconds

    @property
    def runs_text(self) -> bool:
        return self.ingestor_role in ("all", "text")

    @property
    def runs_ocr(self) -> bool:
        return self.ingestor_role in ("all", "ocr")

    @property
    def effective_ocr_prefetch(self) -> int:
        return self.ocr_prefetch or self.ocr_workers

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(field.strip() for field in self.required_metadata.split(",") if field.strip())

    @property
    def effective_prefetch(self) -> int:
        return self.prefetch or self.workers * 2 + 20
