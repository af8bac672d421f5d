_srs() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="srs"
                ;;
            srs,forward)
                cmd="srs__subcmd__forward"
                ;;
            srs,help)
                cmd="srs__subcmd__help"
                ;;
            srs,keygen)
                cmd="srs__subcmd__keygen"
                ;;
            srs,reverse)
                cmd="srs__subcmd__reverse"
                ;;
            srs__subcmd__help,forward)
                cmd="srs__subcmd__help__subcmd__forward"
                ;;
            srs__subcmd__help,help)
                cmd="srs__subcmd__help__subcmd__help"
                ;;
            srs__subcmd__help,keygen)
                cmd="srs__subcmd__help__subcmd__keygen"
                ;;
            srs__subcmd__help,reverse)
                cmd="srs__subcmd__help__subcmd__reverse"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        srs)
            opts="-k -h -V --secret-file --secret --separator --hash-length --hash-min --max-age --local-domain --local-domains-file --always-rewrite --hash-alphabet --accept-perl-newline-keys --address-form --original-envelope --database --database-when --now --help --version forward reverse keygen help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -k)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --separator)
                    COMPREPLY=($(compgen -W "= + -" -- "${cur}"))
                    return 0
                    ;;
                --hash-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-min)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domains-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-alphabet)
                    COMPREPLY=($(compgen -W "standard url" -- "${cur}"))
                    return 0
                    ;;
                --address-form)
                    COMPREPLY=($(compgen -W "local domain auto" -- "${cur}"))
                    return 0
                    ;;
                --original-envelope)
                    COMPREPLY=($(compgen -W "embedded database" -- "${cur}"))
                    return 0
                    ;;
                --database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --database-when)
                    COMPREPLY=($(compgen -W "always too-long" -- "${cur}"))
                    return 0
                    ;;
                --now)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__forward)
            opts="-a -k -h --alias --json --secret-file --secret --separator --hash-length --hash-min --max-age --local-domain --local-domains-file --always-rewrite --hash-alphabet --accept-perl-newline-keys --address-form --original-envelope --database --database-when --now --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --alias)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -a)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -k)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --separator)
                    COMPREPLY=($(compgen -W "= + -" -- "${cur}"))
                    return 0
                    ;;
                --hash-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-min)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domains-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-alphabet)
                    COMPREPLY=($(compgen -W "standard url" -- "${cur}"))
                    return 0
                    ;;
                --address-form)
                    COMPREPLY=($(compgen -W "local domain auto" -- "${cur}"))
                    return 0
                    ;;
                --original-envelope)
                    COMPREPLY=($(compgen -W "embedded database" -- "${cur}"))
                    return 0
                    ;;
                --database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --database-when)
                    COMPREPLY=($(compgen -W "always too-long" -- "${cur}"))
                    return 0
                    ;;
                --now)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__help)
            opts="forward reverse keygen help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__help__subcmd__forward)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__help__subcmd__keygen)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__help__subcmd__reverse)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__keygen)
            opts="-k -h --rotate --secret-file --secret --separator --hash-length --hash-min --max-age --local-domain --local-domains-file --always-rewrite --hash-alphabet --accept-perl-newline-keys --address-form --original-envelope --database --database-when --now --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --rotate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -k)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --separator)
                    COMPREPLY=($(compgen -W "= + -" -- "${cur}"))
                    return 0
                    ;;
                --hash-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-min)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domains-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-alphabet)
                    COMPREPLY=($(compgen -W "standard url" -- "${cur}"))
                    return 0
                    ;;
                --address-form)
                    COMPREPLY=($(compgen -W "local domain auto" -- "${cur}"))
                    return 0
                    ;;
                --original-envelope)
                    COMPREPLY=($(compgen -W "embedded database" -- "${cur}"))
                    return 0
                    ;;
                --database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --database-when)
                    COMPREPLY=($(compgen -W "always too-long" -- "${cur}"))
                    return 0
                    ;;
                --now)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        srs__subcmd__reverse)
            opts="-a -k -h --alias --explain --json --secret-file --secret --separator --hash-length --hash-min --max-age --local-domain --local-domains-file --always-rewrite --hash-alphabet --accept-perl-newline-keys --address-form --original-envelope --database --database-when --now --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --alias)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -a)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -k)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --secret)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --separator)
                    COMPREPLY=($(compgen -W "= + -" -- "${cur}"))
                    return 0
                    ;;
                --hash-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-min)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --local-domains-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-alphabet)
                    COMPREPLY=($(compgen -W "standard url" -- "${cur}"))
                    return 0
                    ;;
                --address-form)
                    COMPREPLY=($(compgen -W "local domain auto" -- "${cur}"))
                    return 0
                    ;;
                --original-envelope)
                    COMPREPLY=($(compgen -W "embedded database" -- "${cur}"))
                    return 0
                    ;;
                --database)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --database-when)
                    COMPREPLY=($(compgen -W "always too-long" -- "${cur}"))
                    return 0
                    ;;
                --now)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _srs -o nosort -o bashdefault -o default srs
else
    complete -F _srs -o bashdefault -o default srs
fi
