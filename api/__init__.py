"""The WHMCS-compatible HTTP API (POST /includes/api.php); it calls the same actions/ as the admin.

Not built yet: see ../shared/reference/whmcs-api.md for the wire contract it will follow.
"""
