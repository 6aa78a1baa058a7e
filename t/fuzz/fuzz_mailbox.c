/*
 * fuzz_mailbox.c: libFuzzer target for the mailbox reader (the front
 * of `lurewall learn import`).  Any bytes are an mbox or a message in
 * memory after the first byte, which picks how much of one message is
 * kept (16 bytes to 64 KiB) and how many messages at most, so the
 * truncation and count limits are reached too.  Checks the reader's promises:
 * every kept message fits the limit and is NUL-terminated, no more
 * bytes come out than went in (From_ lines and the quoting '>' only
 * ever shrink it), and the count limit holds.  Each message then goes
 * the way `learn import` takes it: its header block (mailbox_header_len)
 * through mime_parse, its Date: and its first line through
 * mailbox_date.
 *
 *   make fuzz FUZZ_TARGETS=mailbox FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailbox.h"
#include "mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What learn import reads of a message: its headers and its date. */
static void
import_path(const struct mailbox_msg *mm)
{
	struct findings	 fs = { 0 };
	struct message	*m;
	struct limits	 lim;
	size_t		 hl = mailbox_header_len(mm->data, mm->len);

	if (hl > mm->len)
		abort();
	(void)mailbox_date((const char *)mm->data);
	limits_default(&lim);
	if (mime_parse(mm->data, hl, &lim, &fs, &m) == LW_OK) {
		(void)mailbox_date(mime_header(m, "Date"));
		mime_free(m);
	}
	findings_free(&fs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailbox_limits	 lim;
	struct mailbox_msg	 m;
	struct mailbox		*mb;
	uint64_t		 out = 0, n = 0, done, total;
	enum lw_err		 e;

	if (size == 0)
		return 0;
	mailbox_limits_default(&lim);
	lim.message_bytes = (uint64_t)16 << (data[0] & 0x0f) % 13;
	lim.messages = data[0] & 0x80 ? 1u + (data[0] >> 4 & 0x03u) :
	    MAILBOX_MESSAGES_DEFAULT;
	data++;
	size--;
	if (mailbox_open_mem(data, size, "fuzz", &lim, &mb) != LW_OK)
		return 0;
	while ((e = mailbox_next(mb, &m)) == LW_OK) {
		n++;
		if (m.where == NULL || strlen(m.where) == 0)
			abort();
		if (m.skip != MAILBOX_SKIP_NONE) {
			if (m.data != NULL)
				abort();
			continue;
		}
		if (m.data == NULL || m.len > lim.message_bytes ||
		    m.data[m.len] != '\0' || m.len > m.bytes ||
		    m.truncated != (m.len < m.bytes))
			abort();
		out += m.bytes;
		import_path(&m);
	}
	if ((e != LW_ENOTFOUND && e != LW_ELIMIT) || out > size ||
	    n > lim.messages)
		abort();
	mailbox_progress(mb, &done, &total);
	if (done > total)
		abort();
	mailbox_close(mb);
	return 0;
}
