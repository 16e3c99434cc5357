"""fd_offset.py — for the tests that cut a capture file while tlsdiag reads it (test_cli.sh,
test_threads_stress.sh): how far into the file a process has read."""
import os


def fd_offset(pid, path):
    """The offset of pid's descriptor of path (None until the process has the file open)."""
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == os.path.realpath(path):
                with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                    return int(info.readline().split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return None
