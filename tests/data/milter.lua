-- miltertest script for srsd's milter: negotiation variants, a signed
-- bounce reversed, a forged recipient refused, an abort in mid-transaction,
-- and an MTA that offers no steps to skip. SOCK and ALICE come from -D.
-- Prints "ok NAME" per case; any failure raises an error (exit non-zero).

local function check(cond, what)
  if not cond then error("failed: " .. what) end
end

local function open(version, actions, steps)
  local conn = mt.connect(SOCK, 20, 0.1)
  check(conn ~= nil, "connect")
  check(mt.negotiate(conn, version, actions, steps) == nil, "negotiate")
  return conn
end

-- Defaults: version 6, every action and step offered.
local conn = open(nil, nil, nil)
check(mt.test_action(conn, SMFIF_CHGFROM), "asks for CHGFROM")
check(mt.test_action(conn, SMFIF_DELRCPT), "asks for DELRCPT")
check(not mt.test_action(conn, SMFIF_ADDHDRS), "no header changes")
check(mt.test_option(conn, SMFIP_NOBODY), "declines the body")
check(mt.test_option(conn, SMFIP_NOHDRS), "declines the headers")
mt.echo("ok negotiate")

-- A bounce to a valid SRS address: the recipient is replaced.
check(mt.mailfrom(conn, "<>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "mail continues")
check(mt.rcptto(conn, "<" .. ALICE .. ">") == nil, "rcptto")
check(mt.getreply(conn) == SMFIR_CONTINUE, "valid SRS recipient continues")
check(mt.data(conn) == nil, "data")
check(mt.getreply(conn) == SMFIR_CONTINUE, "data continues")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "eom continues")
check(mt.eom_check(conn, MT_RCPTDELETE, "<" .. ALICE .. ">"), "SRS recipient deleted")
-- The original comes back with ADDRCPT_PAR, which miltertest does not
-- record; the version-2 case below checks a plain ADDRCPT.
mt.echo("ok reverse")

-- A forged SRS recipient is refused with a reply code.
check(mt.mailfrom(conn, "<>") == nil, "mailfrom")
check(mt.rcptto(conn, "<SRS0=AAAA=JM=origin.example=alice@fwd.example>") == nil, "rcptto")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "forged recipient refused")
check(mt.abort(conn) == nil, "abort")
mt.echo("ok forged")

-- An abort in mid-transaction forgets it: the next one starts clean.
check(mt.mailfrom(conn, "<>") == nil, "mailfrom")
check(mt.rcptto(conn, "<" .. ALICE .. ">") == nil, "rcptto")
check(mt.abort(conn) == nil, "abort")
check(mt.mailfrom(conn, "<bob@fwd.example>") == nil, "mailfrom again")
check(mt.rcptto(conn, "<carol@elsewhere.example>") == nil, "rcptto again")
check(mt.eom(conn) == nil, "eom")
check(not mt.eom_check(conn, MT_RCPTDELETE, "<" .. ALICE .. ">"),
      "nothing left from the aborted transaction")
check(mt.disconnect(conn) == nil, "disconnect")
mt.echo("ok abort")

-- An older MTA: version 2, only recipient actions, no step may be skipped,
-- so every step is answered and the recipient is added without parameters.
-- (miltertest 2.11 puts its third argument in the packet's protocol field
-- and its fourth in the actions field, whatever its manual says.)
conn = open(2, 0, SMFIF_ADDRCPT + SMFIF_DELRCPT)
check(not mt.test_action(conn, SMFIF_CHGFROM), "no CHGFROM where not offered")
check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil, "conninfo")
check(mt.getreply(conn) == SMFIR_CONTINUE, "connect answered")
check(mt.helo(conn, "client.example") == nil, "helo")
check(mt.getreply(conn) == SMFIR_CONTINUE, "helo answered")
check(mt.mailfrom(conn, "<>") == nil, "mailfrom")
check(mt.rcptto(conn, "<" .. ALICE .. ">") == nil, "rcptto")
check(mt.header(conn, "Subject", "bounce") == nil, "header")
check(mt.getreply(conn) == SMFIR_CONTINUE, "header answered")
check(mt.eoh(conn) == nil, "eoh")
check(mt.bodystring(conn, "body\r\n") == nil, "body")
check(mt.eom(conn) == nil, "eom")
check(mt.eom_check(conn, MT_RCPTADD, "<alice@origin.example>"), "original added")
check(mt.disconnect(conn) == nil, "disconnect")
mt.echo("ok version-2")
