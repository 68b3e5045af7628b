"""The test suite: real SQLite and PostgreSQL, the replay server, an OpenID Connect provider and headless Chromium, all on 127.0.0.1."""
