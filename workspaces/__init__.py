"""Example product app: workspaces, addressed as the first label of a tenant host."""
