#!/usr/bin/env bash
# test_readme.sh — the README's "During an incident" walkthrough shows real output: every
# ```console block there that starts with "$ tlsdiag ..." is run (from the source tree, with
# this build's binary as `tlsdiag`) and its output must equal the lines quoted under it.
# Usage: bash test_readme.sh TLSDIAG SRCDIR [--update]
#   --update rewrites the quoted output in README.md from the program (after the bundled pcaps
#   or the output format changed on purpose); review the diff before committing it.
set -u
TLSDIAG=${1:?usage: test_readme.sh TLSDIAG SRCDIR [--update]}
SRCDIR=${2:?usage: test_readme.sh TLSDIAG SRCDIR [--update]}
MODE=${3:-check}
TLSDIAG=$(readlink -f "$TLSDIAG")

python3 - "$TLSDIAG" "$SRCDIR" "$MODE" <<'EOF'
import difflib, os, re, subprocess, sys

binary, srcdir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
path = os.path.join(srcdir, "README.md")
text = open(path, encoding="utf-8").read()
m = re.search(r"^## During an incident\n(.*?)(?=^## |\Z)", text, re.S | re.M)
if not m:
    print("FAIL - README.md has no '## During an incident' section")
    sys.exit(1)
section_start = m.start(1)
section = m.group(1)
blocks = list(re.finditer(r"^```console\n(.*?)^```\n", section, re.S | re.M))

def run(cmd):
    # `tlsdiag` in the quoted command is this build's binary; pipes (| head) work as typed.
    # Colour is off (not a terminal), and the environment is fixed so output cannot vary.
    script = f'tlsdiag() {{ "{binary}" "$@"; }}\n{cmd}\n'
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    r = subprocess.run(["bash", "-c", script], cwd=srcdir, capture_output=True, text=True, env=env)
    return r.stdout

passed = failed = 0
new_section = section
for b in reversed(blocks):     # reversed: replacing keeps earlier offsets valid
    lines = b.group(1).split("\n")[:-1]
    if not lines or not lines[0].startswith("$ tlsdiag "):
        continue
    cmd = lines[0][2:]
    quoted = "\n".join(lines[1:]) + ("\n" if len(lines) > 1 else "")
    got = run(cmd)
    if got == quoted:
        passed += 1
        print(f"ok   - README: {cmd}")
    elif mode == "--update":
        new_section = new_section[:b.start(1)] + f"$ {cmd}\n{got}" + new_section[b.end(1):]
        print(f"updated - README: {cmd}")
    else:
        failed += 1
        print(f"FAIL - README: the output of `{cmd}` differs from the quoted block:")
        sys.stdout.writelines(difflib.unified_diff(quoted.splitlines(True), got.splitlines(True),
                                                   "README.md", "tlsdiag", n=1))
        print("  (if the change is intended: bash tests/scripts/test_readme.sh TLSDIAG SRCDIR --update)")
if mode == "--update" and new_section != section:
    open(path, "w", encoding="utf-8").write(text[:section_start] + new_section + text[m.end(1):])
checked = sum(1 for b in blocks if b.group(1).startswith("$ tlsdiag "))
if checked < 2:
    print(f"FAIL - only {checked} '$ tlsdiag' console blocks in 'During an incident' (want >= 2)")
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
