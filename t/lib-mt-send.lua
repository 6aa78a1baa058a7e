-- t/lib-mt-send.lua: miltertest helpers shared by the end-to-end tests.
-- A test's script is this file followed by its own lines (cat), run as
--	miltertest -D sock=unix:PATH -s SCRIPT
--
-- check(cond, msg): fail the script (exit non-zero) saying msg.
-- send(file, qid, from, rcpt[, daemon]): send the message in FILE
--	(headers, a blank line, body; LF or CRLF) from FROM to RCPT with
--	queue id QID; DAEMON sets {daemon_name} (Postfix's, e.g.
--	"ORIGINATING" for outbound mail).  Returns the connection after
--	end of message: the caller reads mt.getreply(conn).
-- reply(conn, want, what): the reply is want, then disconnect.

function check(cond, msg)
	if not cond then
		mt.echo("FAIL: " .. msg)
		error(msg, 2)
	end
end

function send(file, qid, from, rcpt, daemon)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
	if daemon ~= nil then
		mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", daemon)
	end
	check(mt.conninfo(conn, "client.example", "192.0.2.1") == nil,
	    "conninfo")
	check(mt.helo(conn, "client.example") == nil, "helo")
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	check(mt.mailfrom(conn, "<" .. from .. ">") == nil, "mailfrom")
	check(mt.rcptto(conn, "<" .. rcpt .. ">") == nil, "rcptto")
	local f = assert(io.open(file, "rb"))
	local data = f:read("*a")
	f:close()
	data = data:gsub("\r\n", "\n")
	local hend = data:find("\n\n", 1, true)
	local head, body = data:sub(1, hend), data:sub(hend + 2)
	local name, value = nil, nil
	for line in head:gmatch("([^\n]*)\n") do
		if line:match("^[ \t]") and name ~= nil then
			value = value .. "\r\n" .. line
		else
			if name ~= nil then
				check(mt.header(conn, name, value) == nil,
				    "header " .. name)
			end
			name, value = line:match("^([^:]+):(.*)$")
		end
	end
	if name ~= nil then
		check(mt.header(conn, name, value) == nil, "header " .. name)
	end
	check(mt.eoh(conn) == nil, "eoh")
	check(mt.bodystring(conn, (body:gsub("\n", "\r\n"))) == nil, "body")
	check(mt.eom(conn) == nil, "eom")
	return conn
end

function reply(conn, want, what)
	check(mt.getreply(conn) == want, what)
	mt.disconnect(conn)
end
