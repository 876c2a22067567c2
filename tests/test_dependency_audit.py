"""Issue 17, dependency audit (.ci/audit, `make audit`): it reads every pinned requirement, passes
the acknowledged vulnerabilities to pip-audit, and an unreachable vulnerability service is a plain
"not run" in this project's CI and a failure anywhere else. (Whether a pinned package has a known
vulnerability needs the service itself: a deployer's CI runs `make audit` with internet.)"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / ".ci" / "audit"
BIN = Path(sys.executable).parent
UNREACHABLE = "vulnerability-service.invalid"  # .invalid never resolves (RFC 2606)


def _audit(*args, **env):
    return subprocess.run(["bash", str(AUDIT), *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "BIN": str(BIN), **env})


def _pinned() -> set[str]:
    names = set()
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                names.add(line.split("==")[0].strip().lower().replace("_", "-").replace(".", "-"))
    return names


def test_every_pinned_requirement_is_audited():
    result = _audit("--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"would have audited {len(_pinned())} packages" in result.stderr


def test_an_unreachable_service_fails_the_strict_audit():
    result = _audit(AUDIT_SERVICE_HOST=UNREACHABLE)
    assert result.returncode == 1
    assert "dependency audit failed: vulnerability service unreachable" in result.stderr


def test_in_this_projects_ci_an_unreachable_service_is_said_plainly_and_ci_goes_on():
    result = _audit(AUDIT_SERVICE_HOST=UNREACHABLE, AUDIT_IF_REACHABLE="1")
    assert result.returncode == 0
    assert result.stdout.strip() == "dependency audit not run: vulnerability service unreachable"


def test_acknowledged_vulnerabilities_are_passed_on_and_comments_are_not(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python").symlink_to(sys.executable)
    # A stand-in for pip-audit that shows the arguments it was given (no network needed).
    (fake_bin / "pip-audit").write_text('#!/bin/sh\necho "$@"\n')
    (fake_bin / "pip-audit").chmod(0o755)
    acknowledged = tmp_path / "acknowledged.txt"
    acknowledged.write_text("# header comment\nGHSA-aaaa-bbbb-cccc  # unused code; ops\n\n"
                            "PYSEC-2026-1\n")
    result = _audit("--dry-run", BIN=str(fake_bin), AUDIT_ACKNOWLEDGED=str(acknowledged))
    assert result.returncode == 0, result.stderr
    args = result.stdout.split()
    assert args.count("--ignore-vuln") == 2
    assert "GHSA-aaaa-bbbb-cccc" in args and "PYSEC-2026-1" in args and "--strict" in args
    assert "header" not in args
    # The project's own file acknowledges nothing today.
    result = _audit("--dry-run", BIN=str(fake_bin))
    assert "--ignore-vuln" not in result.stdout.split()
