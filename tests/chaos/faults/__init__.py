"""The fault-injection harness: seeded scenarios against an in-process engine (see docs/recovery.md)."""
