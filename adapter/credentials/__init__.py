"""Integration users, their passwords and roles, and WS-Security UsernameToken."""
