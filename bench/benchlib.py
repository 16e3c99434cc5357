"""benchlib.py — what bench/report.py and bench/live_report.py share."""
import subprocess


def sh(cmd):
    """A shell command's stdout, stripped; "" when it fails or takes over 30 s (for version
    strings and machine facts, which are nice to have, never required)."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except Exception:
        return ""
