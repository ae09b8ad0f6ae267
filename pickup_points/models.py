"""Tenant models of this app come with their own issue; the app is installed per collective schema."""
