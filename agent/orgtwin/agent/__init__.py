"""Agent side: the mesh MCP extension and the goose entrypoint."""
