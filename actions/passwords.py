"""What an admin's login password must be: long enough, hard to guess (zxcvbn's estimate, which
knows common passwords, names, dates, keyboard walks and the admin's own email), never the email.

    password_problem(password, email, name="") -> str | None    why it is refused, None if fine
"""

import re

from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# zxcvbn's scores run 0-4; 3 is "safely unguessable: moderate protection from offline attacks".
MIN_STRENGTH = 3
_ANALYSED = 72  # zxcvbn refuses longer input; the first 72 characters already decide


def password_problem(password: str, email: str, name: str = "") -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters"
    email = (email or "").strip().lower()
    local_part = email.split("@")[0]
    if password.strip().lower() in {email, local_part}:
        return "Password must not be the email address"
    # The email's words too ("ops", "example"): "opsexample2024" is not a strong password for it.
    words = re.split(r"[^a-z0-9]+", f"{email} {name.lower()}")
    verdict = zxcvbn(password[:_ANALYSED], user_inputs=[w for w in {email, local_part, *words} if w])
    if verdict["score"] < MIN_STRENGTH:
        advice = " ".join(filter(None, [verdict["feedback"]["warning"], *verdict["feedback"]["suggestions"]]))
        return "Password is too easy to guess" + (f": {advice}" if advice else "")
    return None
