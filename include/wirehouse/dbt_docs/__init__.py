"""The dbt project's documentation, published beside the briefing (`published/docs/`).

`dbt docs generate --static` writes one self-contained page (manifest and catalog inlined),
which opens from disk with no server and no network; the manifest and catalog are kept
beside it for tools that read them (lineage viewers, data catalogues).
"""

from wirehouse.dbt_docs.generate import DOCS_FILES, docs_command, generate_docs

__all__ = ["DOCS_FILES", "docs_command", "generate_docs"]
