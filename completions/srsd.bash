_srsd() {
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
                cmd="srsd"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        srsd)
            opts="-c -d -l -k -t -v -h -V --config --domain --listen --secret-file --secret --separator --hash-length --hash-min --max-age --local-domain --local-domains-file --always-rewrite --hash-alphabet --accept-perl-newline-keys --address-form --original-envelope --database --database-when --socket-mode --max-connections --idle-timeout --request-timeout --drain-timeout --allow-non-loopback --line-keep-alive --milter-rewrite --bounce-policy --srs-domain-from --milter-rewrite-to --bounce-exempt --milter-reject-invalid --milter-reject-bounce --upstream --upstream-protocol --upstream-connect-timeout --upstream-timeout --relay-domain --user --group --chroot --pid-file --socket-owner --socket-group --log --syslog-socket --background --log-level --now --check-config --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -c)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --domain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -d)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -l)
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
                --socket-mode)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-connections)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --idle-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --request-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --drain-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --milter-rewrite)
                    COMPREPLY=($(compgen -W "always forwarded" -- "${cur}"))
                    return 0
                    ;;
                --bounce-policy)
                    COMPREPLY=($(compgen -W "off data rcpt" -- "${cur}"))
                    return 0
                    ;;
                --srs-domain-from)
                    COMPREPLY=($(compgen -W "fixed recipient" -- "${cur}"))
                    return 0
                    ;;
                --bounce-exempt)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --milter-reject-invalid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --milter-reject-bounce)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --upstream)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --upstream-protocol)
                    COMPREPLY=($(compgen -W "smtp lmtp" -- "${cur}"))
                    return 0
                    ;;
                --upstream-connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --upstream-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --relay-domain)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --group)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --chroot)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pid-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --socket-owner)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --socket-group)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log)
                    COMPREPLY=($(compgen -W "stderr syslog" -- "${cur}"))
                    return 0
                    ;;
                --syslog-socket)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log-level)
                    COMPREPLY=($(compgen -W "error warning info debug" -- "${cur}"))
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
    complete -F _srsd -o nosort -o bashdefault -o default srsd
else
    complete -F _srsd -o bashdefault -o default srsd
fi
