-- t/lib-mt-send.lua: for miltertest scripts of the split PPAP tests
-- (6200, 6202, 6203): check() and send(), which hands a message file
-- (LF or CRLF) to the milter at sock, a folded header as one field.
function check(cond, msg)
	if not cond then
		mt.echo("FAIL: " .. msg)
		error(msg, 2)
	end
end

-- send FILE as a message from FROM to RCPT; returns the connection
function send(file, qid, from, rcpt)
	local conn = mt.connect(sock, 40, 0.25)
	check(conn ~= nil, "connect")
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
