"""The shell that wires the core to the world: settings, the engine node, crash probes."""
