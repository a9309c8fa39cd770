"""Identity: who makes a request, sessions, and (later) social login providers."""
