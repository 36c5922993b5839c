"""Pre-trade risk: one pure function per check, the gate that runs them, and the kill switch state."""
