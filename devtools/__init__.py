"""Development tools that tests and benchmarks both use: the replay server for recorded feed
payloads, a throwaway PostgreSQL, Streamlit sessions without a browser, and the generator of
benchmark data."""
