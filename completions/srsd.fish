complete -c srsd -s c -l config -d 'Read settings from FILE (key = value, keys named like the long options); options override it' -r -F
complete -c srsd -s d -l domain -d 'The SRS domain: forward rewrites senders into addresses at it' -r
complete -c srsd -s l -l listen -d 'A listener, PROTOCOL=unix:/PATH or PROTOCOL=inet:HOST:PORT; protocols socketmap, tcp-forward, tcp-reverse, line, milter, metrics (Prometheus, over HTTP), relay-pack, relay-unpack (see srsrelay) (repeatable) [default: socketmap=unix:/var/spool/postfix/srs]' -r
complete -c srsd -s k -l secret-file -d 'Keys file: one secret per line, the first signs, all verify' -r -F
complete -c srsd -l secret -d 'A secret on the command line (repeatable; visible in ps, prefer --secret-file)' -r
complete -c srsd -l separator -d 'Initial separator after SRS0/SRS1 in new addresses' -r -f -a "=\t''
+\t''
-\t''"
complete -c srsd -l hash-length -d 'Characters of hash in new addresses (1 to 27) [default: 4]' -r
complete -c srsd -l hash-min -d 'Fewest hash characters accepted on reverse [default: the hash length]' -r
complete -c srsd -l max-age -d 'Days an address stays valid (0 to 1023) [default: 21]' -r
complete -c srsd -l local-domain -d 'A domain whose senders are never rewritten; .example.com means its subdomains (repeatable)' -r
complete -c srsd -l local-domains-file -d 'File of local domains, one per line (# comments), added to --local-domain' -r -F
complete -c srsd -l hash-alphabet -d 'Alphabet of new hashes; both are accepted on reverse [default: standard]' -r -f -a "standard\t'Standard base64 (+ and /), as Mail::SRS, libsrs2 and postsrsd 1.x write'
url\t'base64url (- and _), for receivers that refuse / in addresses'"
complete -c srsd -l address-form -d 'Where new addresses carry the signature: the local part (SRS0=...@domain), the domain (local@SIG.host.srs0.domain), or the domain only when the local part would pass 64 characters; reverse reads both [default: local]' -r -f -a "local\t'SRS0=HHHH=TT=host=local@domain'
domain\t'local@SIGNATURE.host.srs0.domain (needs wildcard DNS records)'
auto\t'The domain form only for senders too long for the local form'"
complete -c srsd -l original-envelope -d 'Where the original sender goes: embedded in the SRS address, or stored in --database under a short key the address carries (postsrsd 2\'s layout) [default: embedded]' -r -f -a "embedded\t'In the SRS address itself'
database\t'In --database, under a key the SRS address carries'"
complete -c srsd -l database -d 'The address database: sqlite:/var/lib/mail-srs/srs.db or redis://127.0.0.1:6379/0; also read on reverse for postsrsd 2\'s KEY@1 addresses' -r
complete -c srsd -l database-when -d 'Which senders go to the database: always, or only those whose SRS address would pass 64 characters of local part [default: always]' -r -f -a "always\t'Every sender forward rewrites'
too-long\t'Only senders too long for the local form'"
complete -c srsd -l socket-mode -d 'Permissions of Unix sockets, in octal [default: 0666]' -r
complete -c srsd -l max-connections -d 'Connections served at once; more wait in the listen queue [default: 10240]' -r
complete -c srsd -l idle-timeout -d 'Seconds a connection may stay idle before it is closed [default: 300]' -r
complete -c srsd -l request-timeout -d 'Seconds a request may take from its first byte to its end before the connection is closed [default: 10]' -r
complete -c srsd -l drain-timeout -d 'Seconds connections get at shutdown to finish their replies before they are cut off [default: 5]' -r
complete -c srsd -l milter-rewrite -d 'Which senders the milter signs: every one the forward rules rewrite, or only mail with a recipient that is not local [default: always]' -r -f -a "always\t'Every sender the forward rules rewrite (the sendmail SRS guide\'s rule)'
forwarded\t'Only when at least one recipient is not local'"
complete -c srsd -l bounce-policy -d 'When the milter refuses a bounce (null sender) to a local address that carries no SRS signature; data and rcpt need --always-rewrite [default: off]' -r -f -a "off\t'Never refuse a bounce for want of a signature'
data\t'Refuse at DATA, so address probes (RCPT without DATA) still pass'
rcpt\t'Refuse at RCPT'"
complete -c srsd -l srs-domain-from -d 'Which domain the milter and the relay-pack service sign with: always --domain, or the domain of the local recipient that forwards the mail [default: fixed]' -r -f -a "fixed\t'Always --domain'
recipient\t'The domain of the first local recipient (milter), or of the first recipient\'s ORCPT (relay-pack), when it is --domain or a local domain'"
complete -c srsd -l bounce-exempt -d 'A local part that always takes bounces, as postmaster does (repeatable)' -r
complete -c srsd -l milter-reject-invalid -d 'The milter\'s reply to a forged, expired or malformed SRS recipient [default: 550 5.1.1 Invalid SRS address]' -r
complete -c srsd -l milter-reject-bounce -d 'The milter\'s reply to a forged bounce [default: 554 5.7.1 Bounce to an address this site never used as a sender]' -r
complete -c srsd -l upstream -d 'The server srsrelay\'s services relay to (relay-pack and relay-unpack listeners)' -r
complete -c srsd -l upstream-protocol -d 'The protocol the upstream server speaks [default: smtp]' -r -f -a "smtp\t'SMTP or ESMTP'
lmtp\t'LMTP: one reply per accepted recipient after the message'"
complete -c srsd -l upstream-connect-timeout -d 'Seconds connecting to the upstream server may take [default: 30]' -r
complete -c srsd -l upstream-timeout -d 'Seconds the upstream server may take to reply [default: 600]' -r
complete -c srsd -l relay-domain -d 'Another domain whose senders the relay-pack service leaves alone, besides --domain (repeatable)' -r
complete -c srsd -l user -d 'Run as this user once the sockets are bound (and its group, unless --group)' -r
complete -c srsd -l group -d 'Run with this group once the sockets are bound' -r
complete -c srsd -l chroot -d 'Change root to DIR once the sockets are bound; reloads then read files inside it' -r -F
complete -c srsd -l pid-file -d 'Write the process ID to FILE' -r -F
complete -c srsd -l socket-owner -d 'Owner of the Unix sockets srsd creates' -r
complete -c srsd -l socket-group -d 'Group of the Unix sockets srsd creates (with --socket-mode 0660, only that group may connect)' -r
complete -c srsd -l log -d 'Where log messages go: stderr (the journal under systemd) or syslog\'s mail facility' -r -f -a "stderr\t'Standard error, with journal priorities under systemd'
syslog\t'syslog, mail facility'"
complete -c srsd -l syslog-socket -d 'The syslog socket' -r -F
complete -c srsd -l log-level -d 'Least severe messages logged' -r -f -a "error\t'Only failures to serve'
warning\t'Also refused reverses and reload failures'
info\t'Also start, reload and stop'
debug\t'Also every connection'"
complete -c srsd -l now -d 'Use this Unix time (seconds) instead of the clock, to reproduce a result' -r
complete -c srsd -l always-rewrite -d 'Rewrite senders from the alias and local domains too'
complete -c srsd -l accept-perl-newline-keys -d 'Also accept addresses signed by Perl srs/srsd, which keep the newline in keys read from a file'
complete -c srsd -l allow-non-loopback -d 'Allow inet listeners on addresses other than loopback (anyone who reaches them can mint valid SRS addresses)'
complete -c srsd -l line-keep-alive -d 'Keep line-protocol connections open after each reply (Perl srsd and Exim close them)'
complete -c srsd -l milter-rewrite-to -d 'Also rewrite a reversed bounce recipient in the To: header, unless the message has a DKIM signature'
complete -c srsd -l background -d 'Detach and run in the background once ready (the default is the foreground, as systemd wants); use with --log syslog'
complete -c srsd -s t -l check-config -d 'Check the configuration, keys, local domains, listeners, users and groups without binding, then exit: 0 when all is well, 78 with every problem named'
complete -c srsd -s v -d 'Print the version (as postsrsd\'s -v does) and exit'
complete -c srsd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c srsd -s V -l version -d 'Print version'
