complete -c srs-forwarder -s a -l alias -d 'The SRS domain [default: the configuration\'s domain, then $HOST]' -r
complete -c srs-forwarder -s c -l config -d 'Read keys and codec options from srsd\'s configuration file (its domain is the alias)' -r -F
complete -c srs-forwarder -l sendmail -d 'The sendmail program that re-injects the message' -r -F
complete -c srs-forwarder -l sendmail-option -d 'An argument for sendmail before -i -f SENDER -- RECIPIENT... (repeatable)' -r
complete -c srs-forwarder -l timeout -d 'Seconds sendmail may take before it is killed and the message deferred' -r
complete -c srs-forwarder -l sender -d 'The envelope sender [default: $SENDER, then the message\'s Return-Path: or mbox From line]' -r
complete -c srs-forwarder -s k -l secret-file -d 'Keys file: one secret per line, the first signs, all verify' -r -F
complete -c srs-forwarder -l secret -d 'A secret on the command line (repeatable; visible in ps, prefer --secret-file)' -r
complete -c srs-forwarder -l separator -d 'Initial separator after SRS0/SRS1 in new addresses' -r -f -a "=\t''
+\t''
-\t''"
complete -c srs-forwarder -l hash-length -d 'Characters of hash in new addresses (1 to 27) [default: 4]' -r
complete -c srs-forwarder -l hash-min -d 'Fewest hash characters accepted on reverse [default: the hash length]' -r
complete -c srs-forwarder -l max-age -d 'Days an address stays valid (0 to 1023) [default: 21]' -r
complete -c srs-forwarder -l local-domain -d 'A domain whose senders are never rewritten; .example.com means its subdomains (repeatable)' -r
complete -c srs-forwarder -l local-domains-file -d 'File of local domains, one per line (# comments), added to --local-domain' -r -F
complete -c srs-forwarder -l hash-alphabet -d 'Alphabet of new hashes; both are accepted on reverse [default: standard]' -r -f -a "standard\t'Standard base64 (+ and /), as Mail::SRS, libsrs2 and postsrsd 1.x write'
url\t'base64url (- and _), for receivers that refuse / in addresses'"
complete -c srs-forwarder -l address-form -d 'Where new addresses carry the signature: the local part (SRS0=...@domain), the domain (local@SIG.host.srs0.domain), or the domain only when the local part would pass 64 characters; reverse reads both [default: local]' -r -f -a "local\t'SRS0=HHHH=TT=host=local@domain'
domain\t'local@SIGNATURE.host.srs0.domain (needs wildcard DNS records)'
auto\t'The domain form only for senders too long for the local form'"
complete -c srs-forwarder -l original-envelope -d 'Where the original sender goes: embedded in the SRS address, or stored in --database under a short key the address carries (postsrsd 2\'s layout) [default: embedded]' -r -f -a "embedded\t'In the SRS address itself'
database\t'In --database, under a key the SRS address carries'"
complete -c srs-forwarder -l database -d 'The address database: sqlite:/var/lib/mail-srs/srs.db or redis://127.0.0.1:6379/0; also read on reverse for postsrsd 2\'s KEY@1 addresses' -r
complete -c srs-forwarder -l database-when -d 'Which senders go to the database: always, or only those whose SRS address would pass 64 characters of local part [default: always]' -r -f -a "always\t'Every sender forward rewrites'
too-long\t'Only senders too long for the local form'"
complete -c srs-forwarder -s t -l check-config -d 'Check the configuration, the keys and sendmail, print every problem, and exit 0 or 78; no message is read'
complete -c srs-forwarder -l always-rewrite -d 'Rewrite senders from the alias and local domains too'
complete -c srs-forwarder -l accept-perl-newline-keys -d 'Also accept addresses signed by Perl srs/srsd, which keep the newline in keys read from a file'
complete -c srs-forwarder -s h -l help -d 'Print help (see more with \'--help\')'
complete -c srs-forwarder -s V -l version -d 'Print version'
