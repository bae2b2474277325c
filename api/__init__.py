"""The versioned JSON API (/api/v1/) of the API host and every tenant host."""
