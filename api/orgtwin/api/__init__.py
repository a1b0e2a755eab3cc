"""The control API: org import, profiles, sessions, agent mesh and audit."""
