"""Local stand-ins (127.0.0.1, ephemeral ports) for the services modules/ talks to."""
