"""Generic tenancy machinery: host parsing, the two-level cache, abstract models, context."""
