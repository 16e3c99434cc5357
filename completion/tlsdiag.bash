# tlsdiag.bash — bash completion for tlsdiag: commands, options, interfaces (-i) and files.
#
# Installed as /usr/share/bash-completion/completions/tlsdiag (loaded on first Tab by
# bash-completion), or `source` it. It needs nothing from bash-completion: only compgen.
# Options are read from `tlsdiag --list-options COMMAND` (the binary's one option table, so
# completion never goes stale), else from `tlsdiag COMMAND --help` (an older binary); the static
# list below is only used when the binary cannot be run.

_tlsdiag_commands='analyze dissect capture probe report doctor'
_tlsdiag_fallback_options='-r --read -f --filter -c --count -n --no-resolve --json -q --quiet
  -v --verbose --color --colour --wireshark --ca-file --ca-path --ranges --profile --now
  --max-flows --max-flow-bytes --max-total-bytes -h --help'
declare -gA _tlsdiag_option_cache 2>/dev/null || true

# _tlsdiag_help_options BINARY COMMAND: the options `BINARY COMMAND --help` lists, one per line.
# Option lines start with blanks and a dash (or "FILE, " then a dash): "  -f, --filter EXPR";
# every dash word before the two blanks that start the description is an option.
_tlsdiag_help_options() {
    "$1" "$2" --help 2>/dev/null | awk '
        /^[[:space:]]+([A-Z]+(\[[^]]*\])?, )?-/ {
            sub(/^[[:space:]]+/, "")
            i = index($0, "  ")     # the option column ends at two blanks
            col = i ? substr($0, 1, i - 1) : $0
            n = split(col, w, /[ ,=|\[]+/)
            for (i = 1; i <= n; i++) {
                if (w[i] ~ /^--?[A-Za-z0-9][A-Za-z0-9-]*$/) print w[i]
            }
        }' | sort -u
}

# _tlsdiag_options BINARY COMMAND: the options of COMMAND, one per line.
_tlsdiag_options() {
    local key="$1 $2"
    if [[ -z "${_tlsdiag_option_cache[$key]+set}" ]]; then
        local opts
        opts=$("$1" --list-options "$2" 2>/dev/null | sort -u)
        [[ -n "$opts" ]] || opts=$(_tlsdiag_help_options "$1" "$2")
        [[ -n "$opts" ]] || opts=$_tlsdiag_fallback_options
        _tlsdiag_option_cache[$key]=$opts
    fi
    printf '%s\n' "${_tlsdiag_option_cache[$key]}"
}

# _tlsdiag_interfaces: capture interfaces (Linux), and "any".
_tlsdiag_interfaces() {
    local i
    echo any
    for i in /sys/class/net/*; do
        [[ -e "$i" ]] && echo "${i##*/}"
    done
}

_tlsdiag_files() {
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_tlsdiag() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]}
    local bin=${COMP_WORDS[0]}
    COMPREPLY=()

    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_tlsdiag_commands help --help --version" -- "$cur")
        return 0
    fi
    local cmd=${COMP_WORDS[1]}
    [[ "$cmd" == analyse ]] && cmd=analyze

    # --opt=value forms. Options whose value is optional (--color[=WHEN]) take it only this way.
    local joined=0
    if [[ "$cur" == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
        joined=1
    fi
    if ((!joined)) && [[ "$prev" == --color || "$prev" == --colour || "$prev" == --probe-origin ]]; then
        prev=''
    fi
    case "$prev" in
        -r | --read | -w | --write | -o | --output | --ca-file | --ranges | --cert-file | \
            --key-file | --save-chain | --nginx | --apache | --haproxy | --doctor)
            _tlsdiag_files "$cur"
            return 0
            ;;
        --ca-path)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
            ;;
        -i | --interface)
            mapfile -t COMPREPLY < <(compgen -W "$(_tlsdiag_interfaces)" -- "$cur")
            return 0
            ;;
        --color | --colour)
            mapfile -t COMPREPLY < <(compgen -W 'auto always never' -- "$cur")
            return 0
            ;;
        --profile)
            mapfile -t COMPREPLY < <(compgen -W 'cloudfront generic' -- "$cur")
            return 0
            ;;
        -Z | --user)
            mapfile -t COMPREPLY < <(compgen -u -- "$cur")
            return 0
            ;;
        --origin-protocols)
            mapfile -t COMPREPLY < <(compgen -W 'SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1,TLSv1.1,TLSv1.2 TLSv1.1,TLSv1.2' -- "$cur")
            return 0
            ;;
        --probe | --connect | --sni)
            mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur")
            return 0
            ;;
        -f | --filter | -c | --count | --now | --max-* | -p | --port | --duration | -C | \
            --file-size | -W | --file-count | --anonymize-key | --probe-origin | --threads | \
            --timeout | --connect-timeout | -B | --buffer-size | -s | --snaplen | --max-connections)
            return 0  # a value with nothing to offer
            ;;
    esac

    if [[ "$cur" == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_tlsdiag_options "$bin" "$cmd")" -- "$cur")
        return 0
    fi
    case "$cmd" in
        probe)
            mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur")
            ;;
        analyze | dissect | report)
            _tlsdiag_files "$cur"
            ;;
    esac
    return 0
}

complete -F _tlsdiag tlsdiag
