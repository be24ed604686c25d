"""Users, organisations, memberships and roles; signup, login, confirmation, join requests."""
