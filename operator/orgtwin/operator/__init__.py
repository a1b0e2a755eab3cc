"""The kopf operator that reconciles AgentProfile, OrgUser and AgentSession."""
