"""The store: tables, opening an engine, the fetch log, the one write path (`ingest`), reads
(`query`, `asof`, `changes`), the cross-process lock and the schema migrations."""
