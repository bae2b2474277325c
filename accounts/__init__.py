"""Accounts: tenants, their members and contacts, and the permission-scoped base model."""
