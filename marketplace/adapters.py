"""allauth adapter: how sign-in attempts are counted."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """allauth counts failed sign-ins per account (`login_failed`, "…/key"), wherever they come from:
        a stranger typing a member's address five times would lock the member out everywhere for the whole
        window. Count them per account *and* client address instead: the stranger's address is locked out
        of that account, the member's own address is not. Guessing across many addresses stays bounded by
        the per-address limits ("…/ip", behind the proxy: the real client address, TRUSTED_PROXY_COUNT).
        The same key is cleared after a password reset (allauth), for the address that reset it."""
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"
