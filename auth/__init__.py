"""Sign-in, roles, scopes and the audit log. No Streamlit here: the app, the CLI and the
tests share it, and every permission decision is made by `auth.policy`."""
