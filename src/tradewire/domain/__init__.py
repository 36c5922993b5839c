"""The pure core: values, instruments, signals, orders, fills, positions. Imports nothing from the shell."""
