"""Live updates: one event reader per node (hub.py) and the reader's websocket (socket.py)."""
