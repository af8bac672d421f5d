# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_srsc_global_optspecs
    string join \n s/socket= c/connect= p/protocol= timeout= json h/help V/version
end

function __fish_srsc_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_srsc_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_srsc_using_subcommand
    set -l cmd (__fish_srsc_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c srsc -n "__fish_srsc_needs_command" -s s -l socket -d 'srsd\'s Unix socket [default: /var/spool/postfix/srs]' -r -F
complete -c srsc -n "__fish_srsc_needs_command" -s c -l connect -d 'srsd\'s TCP address (for tcp-table, the port of the direction asked) [default for tcp-table: 127.0.0.1:10001 to forward, 127.0.0.1:10002 to reverse]' -r
complete -c srsc -n "__fish_srsc_needs_command" -s p -l protocol -d 'Protocol to speak' -r -f -a "socketmap\t'Postfix/sendmail socketmap'
tcp-table\t'Postfix tcp_table (postsrsd 1.x)'
line\t'Perl Mail::SRS srsd line protocol'"
complete -c srsc -n "__fish_srsc_needs_command" -l timeout -d 'Seconds to wait for the daemon' -r
complete -c srsc -n "__fish_srsc_needs_command" -l json -d 'Write one JSON object per request (input, direction, status, output or reason)'
complete -c srsc -n "__fish_srsc_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c srsc -n "__fish_srsc_needs_command" -s V -l version -d 'Print version'
complete -c srsc -n "__fish_srsc_needs_command" -f -a "forward" -d 'Rewrite a sender into an SRS address'
complete -c srsc -n "__fish_srsc_needs_command" -f -a "reverse" -d 'Turn an SRS address back into the address it stands for'
complete -c srsc -n "__fish_srsc_needs_command" -f -a "stats" -d 'Print srsd\'s counters, read from its metrics listener (-c HOST:PORT or -s PATH)'
complete -c srsc -n "__fish_srsc_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c srsc -n "__fish_srsc_using_subcommand forward" -l json -d 'Write one JSON object per request (input, direction, status, output or reason)'
complete -c srsc -n "__fish_srsc_using_subcommand forward" -s h -l help -d 'Print help'
complete -c srsc -n "__fish_srsc_using_subcommand reverse" -l json -d 'Write one JSON object per request (input, direction, status, output or reason)'
complete -c srsc -n "__fish_srsc_using_subcommand reverse" -s h -l help -d 'Print help'
complete -c srsc -n "__fish_srsc_using_subcommand stats" -l json -d 'Write one JSON object per request (input, direction, status, output or reason)'
complete -c srsc -n "__fish_srsc_using_subcommand stats" -s h -l help -d 'Print help'
complete -c srsc -n "__fish_srsc_using_subcommand help; and not __fish_seen_subcommand_from forward reverse stats help" -f -a "forward" -d 'Rewrite a sender into an SRS address'
complete -c srsc -n "__fish_srsc_using_subcommand help; and not __fish_seen_subcommand_from forward reverse stats help" -f -a "reverse" -d 'Turn an SRS address back into the address it stands for'
complete -c srsc -n "__fish_srsc_using_subcommand help; and not __fish_seen_subcommand_from forward reverse stats help" -f -a "stats" -d 'Print srsd\'s counters, read from its metrics listener (-c HOST:PORT or -s PATH)'
complete -c srsc -n "__fish_srsc_using_subcommand help; and not __fish_seen_subcommand_from forward reverse stats help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
