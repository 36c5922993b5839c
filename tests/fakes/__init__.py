"""Protocol peers for tests: fakes that speak a real counterparty's wire protocol."""
