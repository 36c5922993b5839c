"""The order manager: command -> sizing -> risk -> journal -> venue; reports -> events -> state."""
