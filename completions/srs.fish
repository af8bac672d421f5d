# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_srs_global_optspecs
    string join \n k/secret-file= secret= separator= hash-length= hash-min= max-age= local-domain= local-domains-file= always-rewrite hash-alphabet= accept-perl-newline-keys address-form= original-envelope= database= database-when= now= h/help V/version
end

function __fish_srs_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_srs_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_srs_using_subcommand
    set -l cmd (__fish_srs_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c srs -n "__fish_srs_needs_command" -s k -l secret-file -d 'Keys file: one secret per line, the first signs, all verify' -r -F
complete -c srs -n "__fish_srs_needs_command" -l secret -d 'A secret on the command line (repeatable; visible in ps, prefer --secret-file)' -r
complete -c srs -n "__fish_srs_needs_command" -l separator -d 'Initial separator after SRS0/SRS1 in new addresses' -r -f -a "=\t''
+\t''
-\t''"
complete -c srs -n "__fish_srs_needs_command" -l hash-length -d 'Characters of hash in new addresses (1 to 27) [default: 4]' -r
complete -c srs -n "__fish_srs_needs_command" -l hash-min -d 'Fewest hash characters accepted on reverse [default: the hash length]' -r
complete -c srs -n "__fish_srs_needs_command" -l max-age -d 'Days an address stays valid (0 to 1023) [default: 21]' -r
complete -c srs -n "__fish_srs_needs_command" -l local-domain -d 'A domain whose senders are never rewritten; .example.com means its subdomains (repeatable)' -r
complete -c srs -n "__fish_srs_needs_command" -l local-domains-file -d 'File of local domains, one per line (# comments), added to --local-domain' -r -F
complete -c srs -n "__fish_srs_needs_command" -l hash-alphabet -d 'Alphabet of new hashes; both are accepted on reverse [default: standard]' -r -f -a "standard\t'Standard base64 (+ and /), as Mail::SRS, libsrs2 and postsrsd 1.x write'
url\t'base64url (- and _), for receivers that refuse / in addresses'"
complete -c srs -n "__fish_srs_needs_command" -l address-form -d 'Where new addresses carry the signature: the local part (SRS0=...@domain), the domain (local@SIG.host.srs0.domain), or the domain only when the local part would pass 64 characters; reverse reads both [default: local]' -r -f -a "local\t'SRS0=HHHH=TT=host=local@domain'
domain\t'local@SIGNATURE.host.srs0.domain (needs wildcard DNS records)'
auto\t'The domain form only for senders too long for the local form'"
complete -c srs -n "__fish_srs_needs_command" -l original-envelope -d 'Where the original sender goes: embedded in the SRS address, or stored in --database under a short key the address carries (postsrsd 2\'s layout) [default: embedded]' -r -f -a "embedded\t'In the SRS address itself'
database\t'In --database, under a key the SRS address carries'"
complete -c srs -n "__fish_srs_needs_command" -l database -d 'The address database: sqlite:/var/lib/mail-srs/srs.db or redis://127.0.0.1:6379/0; also read on reverse for postsrsd 2\'s KEY@1 addresses' -r
complete -c srs -n "__fish_srs_needs_command" -l database-when -d 'Which senders go to the database: always, or only those whose SRS address would pass 64 characters of local part [default: always]' -r -f -a "always\t'Every sender forward rewrites'
too-long\t'Only senders too long for the local form'"
complete -c srs -n "__fish_srs_needs_command" -l now -d 'Use this Unix time (seconds) instead of the clock, to reproduce a result' -r
complete -c srs -n "__fish_srs_needs_command" -l always-rewrite -d 'Rewrite senders from the alias and local domains too'
complete -c srs -n "__fish_srs_needs_command" -l accept-perl-newline-keys -d 'Also accept addresses signed by Perl srs/srsd, which keep the newline in keys read from a file'
complete -c srs -n "__fish_srs_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c srs -n "__fish_srs_needs_command" -s V -l version -d 'Print version'
complete -c srs -n "__fish_srs_needs_command" -f -a "forward" -d 'Rewrite each sender into an SRS address at the alias domain'
complete -c srs -n "__fish_srs_needs_command" -f -a "reverse" -d 'Check each SRS address and print the address it stands for'
complete -c srs -n "__fish_srs_needs_command" -f -a "keygen" -d 'Print a new random secret, or put one on top of a keys file'
complete -c srs -n "__fish_srs_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c srs -n "__fish_srs_using_subcommand forward" -s a -l alias -d 'Your forwarding domain, or an address at it (only its domain is used)' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -s k -l secret-file -d 'Keys file: one secret per line, the first signs, all verify' -r -F
complete -c srs -n "__fish_srs_using_subcommand forward" -l secret -d 'A secret on the command line (repeatable; visible in ps, prefer --secret-file)' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -l separator -d 'Initial separator after SRS0/SRS1 in new addresses' -r -f -a "=\t''
+\t''
-\t''"
complete -c srs -n "__fish_srs_using_subcommand forward" -l hash-length -d 'Characters of hash in new addresses (1 to 27) [default: 4]' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -l hash-min -d 'Fewest hash characters accepted on reverse [default: the hash length]' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -l max-age -d 'Days an address stays valid (0 to 1023) [default: 21]' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -l local-domain -d 'A domain whose senders are never rewritten; .example.com means its subdomains (repeatable)' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -l local-domains-file -d 'File of local domains, one per line (# comments), added to --local-domain' -r -F
complete -c srs -n "__fish_srs_using_subcommand forward" -l hash-alphabet -d 'Alphabet of new hashes; both are accepted on reverse [default: standard]' -r -f -a "standard\t'Standard base64 (+ and /), as Mail::SRS, libsrs2 and postsrsd 1.x write'
url\t'base64url (- and _), for receivers that refuse / in addresses'"
complete -c srs -n "__fish_srs_using_subcommand forward" -l address-form -d 'Where new addresses carry the signature: the local part (SRS0=...@domain), the domain (local@SIG.host.srs0.domain), or the domain only when the local part would pass 64 characters; reverse reads both [default: local]' -r -f -a "local\t'SRS0=HHHH=TT=host=local@domain'
domain\t'local@SIGNATURE.host.srs0.domain (needs wildcard DNS records)'
auto\t'The domain form only for senders too long for the local form'"
complete -c srs -n "__fish_srs_using_subcommand forward" -l original-envelope -d 'Where the original sender goes: embedded in the SRS address, or stored in --database under a short key the address carries (postsrsd 2\'s layout) [default: embedded]' -r -f -a "embedded\t'In the SRS address itself'
database\t'In --database, under a key the SRS address carries'"
complete -c srs -n "__fish_srs_using_subcommand forward" -l database -d 'The address database: sqlite:/var/lib/mail-srs/srs.db or redis://127.0.0.1:6379/0; also read on reverse for postsrsd 2\'s KEY@1 addresses' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -l database-when -d 'Which senders go to the database: always, or only those whose SRS address would pass 64 characters of local part [default: always]' -r -f -a "always\t'Every sender forward rewrites'
too-long\t'Only senders too long for the local form'"
complete -c srs -n "__fish_srs_using_subcommand forward" -l now -d 'Use this Unix time (seconds) instead of the clock, to reproduce a result' -r
complete -c srs -n "__fish_srs_using_subcommand forward" -l json -d 'Write one JSON object per address (input, status, output or error)'
complete -c srs -n "__fish_srs_using_subcommand forward" -l always-rewrite -d 'Rewrite senders from the alias and local domains too'
complete -c srs -n "__fish_srs_using_subcommand forward" -l accept-perl-newline-keys -d 'Also accept addresses signed by Perl srs/srsd, which keep the newline in keys read from a file'
complete -c srs -n "__fish_srs_using_subcommand forward" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c srs -n "__fish_srs_using_subcommand reverse" -s a -l alias -d 'Your forwarding domain: results at it are reversed again' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -s k -l secret-file -d 'Keys file: one secret per line, the first signs, all verify' -r -F
complete -c srs -n "__fish_srs_using_subcommand reverse" -l secret -d 'A secret on the command line (repeatable; visible in ps, prefer --secret-file)' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -l separator -d 'Initial separator after SRS0/SRS1 in new addresses' -r -f -a "=\t''
+\t''
-\t''"
complete -c srs -n "__fish_srs_using_subcommand reverse" -l hash-length -d 'Characters of hash in new addresses (1 to 27) [default: 4]' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -l hash-min -d 'Fewest hash characters accepted on reverse [default: the hash length]' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -l max-age -d 'Days an address stays valid (0 to 1023) [default: 21]' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -l local-domain -d 'A domain whose senders are never rewritten; .example.com means its subdomains (repeatable)' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -l local-domains-file -d 'File of local domains, one per line (# comments), added to --local-domain' -r -F
complete -c srs -n "__fish_srs_using_subcommand reverse" -l hash-alphabet -d 'Alphabet of new hashes; both are accepted on reverse [default: standard]' -r -f -a "standard\t'Standard base64 (+ and /), as Mail::SRS, libsrs2 and postsrsd 1.x write'
url\t'base64url (- and _), for receivers that refuse / in addresses'"
complete -c srs -n "__fish_srs_using_subcommand reverse" -l address-form -d 'Where new addresses carry the signature: the local part (SRS0=...@domain), the domain (local@SIG.host.srs0.domain), or the domain only when the local part would pass 64 characters; reverse reads both [default: local]' -r -f -a "local\t'SRS0=HHHH=TT=host=local@domain'
domain\t'local@SIGNATURE.host.srs0.domain (needs wildcard DNS records)'
auto\t'The domain form only for senders too long for the local form'"
complete -c srs -n "__fish_srs_using_subcommand reverse" -l original-envelope -d 'Where the original sender goes: embedded in the SRS address, or stored in --database under a short key the address carries (postsrsd 2\'s layout) [default: embedded]' -r -f -a "embedded\t'In the SRS address itself'
database\t'In --database, under a key the SRS address carries'"
complete -c srs -n "__fish_srs_using_subcommand reverse" -l database -d 'The address database: sqlite:/var/lib/mail-srs/srs.db or redis://127.0.0.1:6379/0; also read on reverse for postsrsd 2\'s KEY@1 addresses' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -l database-when -d 'Which senders go to the database: always, or only those whose SRS address would pass 64 characters of local part [default: always]' -r -f -a "always\t'Every sender forward rewrites'
too-long\t'Only senders too long for the local form'"
complete -c srs -n "__fish_srs_using_subcommand reverse" -l now -d 'Use this Unix time (seconds) instead of the clock, to reproduce a result' -r
complete -c srs -n "__fish_srs_using_subcommand reverse" -l explain -d 'Also say which secret matched (by position), the hash length, the age and the days left'
complete -c srs -n "__fish_srs_using_subcommand reverse" -l json -d 'Write one JSON object per address (input, status, output or error)'
complete -c srs -n "__fish_srs_using_subcommand reverse" -l always-rewrite -d 'Rewrite senders from the alias and local domains too'
complete -c srs -n "__fish_srs_using_subcommand reverse" -l accept-perl-newline-keys -d 'Also accept addresses signed by Perl srs/srsd, which keep the newline in keys read from a file'
complete -c srs -n "__fish_srs_using_subcommand reverse" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c srs -n "__fish_srs_using_subcommand keygen" -l rotate -d 'Put the new secret on top of FILE (created if missing), keeping the old ones' -r -F
complete -c srs -n "__fish_srs_using_subcommand keygen" -s k -l secret-file -d 'Keys file: one secret per line, the first signs, all verify' -r -F
complete -c srs -n "__fish_srs_using_subcommand keygen" -l secret -d 'A secret on the command line (repeatable; visible in ps, prefer --secret-file)' -r
complete -c srs -n "__fish_srs_using_subcommand keygen" -l separator -d 'Initial separator after SRS0/SRS1 in new addresses' -r -f -a "=\t''
+\t''
-\t''"
complete -c srs -n "__fish_srs_using_subcommand keygen" -l hash-length -d 'Characters of hash in new addresses (1 to 27) [default: 4]' -r
complete -c srs -n "__fish_srs_using_subcommand keygen" -l hash-min -d 'Fewest hash characters accepted on reverse [default: the hash length]' -r
complete -c srs -n "__fish_srs_using_subcommand keygen" -l max-age -d 'Days an address stays valid (0 to 1023) [default: 21]' -r
complete -c srs -n "__fish_srs_using_subcommand keygen" -l local-domain -d 'A domain whose senders are never rewritten; .example.com means its subdomains (repeatable)' -r
complete -c srs -n "__fish_srs_using_subcommand keygen" -l local-domains-file -d 'File of local domains, one per line (# comments), added to --local-domain' -r -F
complete -c srs -n "__fish_srs_using_subcommand keygen" -l hash-alphabet -d 'Alphabet of new hashes; both are accepted on reverse [default: standard]' -r -f -a "standard\t'Standard base64 (+ and /), as Mail::SRS, libsrs2 and postsrsd 1.x write'
url\t'base64url (- and _), for receivers that refuse / in addresses'"
complete -c srs -n "__fish_srs_using_subcommand keygen" -l address-form -d 'Where new addresses carry the signature: the local part (SRS0=...@domain), the domain (local@SIG.host.srs0.domain), or the domain only when the local part would pass 64 characters; reverse reads both [default: local]' -r -f -a "local\t'SRS0=HHHH=TT=host=local@domain'
domain\t'local@SIGNATURE.host.srs0.domain (needs wildcard DNS records)'
auto\t'The domain form only for senders too long for the local form'"
complete -c srs -n "__fish_srs_using_subcommand keygen" -l original-envelope -d 'Where the original sender goes: embedded in the SRS address, or stored in --database under a short key the address carries (postsrsd 2\'s layout) [default: embedded]' -r -f -a "embedded\t'In the SRS address itself'
database\t'In --database, under a key the SRS address carries'"
complete -c srs -n "__fish_srs_using_subcommand keygen" -l database -d 'The address database: sqlite:/var/lib/mail-srs/srs.db or redis://127.0.0.1:6379/0; also read on reverse for postsrsd 2\'s KEY@1 addresses' -r
complete -c srs -n "__fish_srs_using_subcommand keygen" -l database-when -d 'Which senders go to the database: always, or only those whose SRS address would pass 64 characters of local part [default: always]' -r -f -a "always\t'Every sender forward rewrites'
too-long\t'Only senders too long for the local form'"
complete -c srs -n "__fish_srs_using_subcommand keygen" -l now -d 'Use this Unix time (seconds) instead of the clock, to reproduce a result' -r
complete -c srs -n "__fish_srs_using_subcommand keygen" -l always-rewrite -d 'Rewrite senders from the alias and local domains too'
complete -c srs -n "__fish_srs_using_subcommand keygen" -l accept-perl-newline-keys -d 'Also accept addresses signed by Perl srs/srsd, which keep the newline in keys read from a file'
complete -c srs -n "__fish_srs_using_subcommand keygen" -s h -l help -d 'Print help'
complete -c srs -n "__fish_srs_using_subcommand help; and not __fish_seen_subcommand_from forward reverse keygen help" -f -a "forward" -d 'Rewrite each sender into an SRS address at the alias domain'
complete -c srs -n "__fish_srs_using_subcommand help; and not __fish_seen_subcommand_from forward reverse keygen help" -f -a "reverse" -d 'Check each SRS address and print the address it stands for'
complete -c srs -n "__fish_srs_using_subcommand help; and not __fish_seen_subcommand_from forward reverse keygen help" -f -a "keygen" -d 'Print a new random secret, or put one on top of a keys file'
complete -c srs -n "__fish_srs_using_subcommand help; and not __fish_seen_subcommand_from forward reverse keygen help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
