"""The account admin console's pages, one module per job."""
