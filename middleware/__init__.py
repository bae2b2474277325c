"""The request edge: request ids, outage pages, host to tenant, membership."""
