"""Live feeds: the HTTP client, paging and authentication, one connector per feed, and the
refresh that pulls them into the store."""
