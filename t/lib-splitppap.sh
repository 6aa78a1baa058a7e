# t/lib-splitppap.sh: the mails of the split PPAP tests (6200, 6202,
# 6203): a zip mail from billing@partner.example to alice@example.com,
# and its password mail, which names the zip mail in In-Reply-To.
mk_zipmail() {	# mk_zipmail OUT MSGID ZIP [SUBJECT]
	{
		printf 'From: Partner <billing@partner.example>\n'
		printf 'To: alice@example.com\n'
		printf 'Date: Tue, 22 Nov 2022 10:00:00 +0900\n'
		printf 'Message-ID: <%s>\n' "$2"
		printf 'Subject: %s\nMIME-Version: 1.0\n' "${4:-Documents}"
		printf 'Content-Type: multipart/mixed; boundary="b1"\n\n'
		printf -- '--b1\nContent-Type: text/plain; charset=us-ascii\n\n'
		printf 'Please find the documents attached.\n'
		printf 'The key follows in a separate mail.\n\n'
		printf -- '--b1\nContent-Type: application/zip; name="docs.zip"\n'
		printf 'Content-Transfer-Encoding: base64\n'
		printf 'Content-Disposition: attachment; filename="docs.zip"\n\n'
		base64 "$3"
		printf -- '--b1--\n'
	} >"$1"
}
mk_pwmail() {	# mk_pwmail OUT MSGID REF PASSWORD
	{
		printf 'From: Partner <billing@partner.example>\n'
		printf 'To: alice@example.com\n'
		printf 'Date: Tue, 22 Nov 2022 10:05:00 +0900\n'
		printf 'Message-ID: <%s>\nIn-Reply-To: <%s>\n' "$2" "$3"
		printf 'Subject: key\n\nPassword: %s\n' "$4"
	} >"$1"
}
