"""The append-only journal of every command and event; recovery is replay plus reconciliation."""
