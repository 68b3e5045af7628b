"""Situation Room's data layer, one folder per layer: `feeds` (live sources over HTTP),
`formats` (files: HXL CSV, UCDP, UNHCR, reported figures, exports), `model` (metrics, the
observation's rules, places, countries), `store` (tables, ingest, reads, migrations) and
`snapshot` (the bundled real data). `sources.py` declares each source once, `cli.py` is the
command line, `settings.py` reads settings, `roles.py` says who may do what."""
