_srs__reverser() {
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
                cmd="srs__reverser"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        srs__reverser)
            opts="-r -a -c -t -k -h -V --recipient --alias --drop-invalid --config --sendmail --sendmail-option --timeout --sender --check-config --secret-file --secret --hash-min --max-age --local-domain --local-domains-file --accept-perl-newline-keys --address-form --original-envelope --database --database-when --separator --hash-length --hash-alphabet --always-rewrite --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --recipient)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --alias)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -a)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -c)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sendmail)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sendmail-option)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sender)
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
                --separator)
                    COMPREPLY=($(compgen -W "= + -" -- "${cur}"))
                    return 0
                    ;;
                --hash-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hash-alphabet)
                    COMPREPLY=($(compgen -W "standard url" -- "${cur}"))
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
    complete -F _srs__reverser -o nosort -o bashdefault -o default srs-reverser
else
    complete -F _srs__reverser -o bashdefault -o default srs-reverser
fi
