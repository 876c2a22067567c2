"""How an API call is refused: result=error with WHMCS's message, and the HTTP status WHMCS uses
(200 for business and validation errors, 403 for authentication and permission failures)."""


class ApiError(Exception):
    def __init__(self, message: str, status: int = 200):
        super().__init__(message)
        self.message = message
        self.http_status = status


class AuthError(ApiError):
    """Authentication, IP or permission refusal: HTTP 403 (whmcspy raises MissingPermission)."""

    def __init__(self, message: str):
        super().__init__(message, 403)


AUTHENTICATION_FAILED = "Authentication Failed"
INVALID_CREDENTIALS = "Invalid or missing credentials"


def invalid_ip(ip: str) -> str:
    return f"Invalid IP {ip}"


def not_permitted(action: str) -> str:
    return f'Invalid Permissions: API action "{action}" is not allowed'


def unknown_action(action: str) -> str:
    return f'Invalid API Action: "{action}" is not a valid API action'
