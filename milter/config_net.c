/*
 * config_net.c: the client networks of the configuration: CIDR
 * parsing (internal_networks) and matching a client address as the MTA
 * writes it ("IPv6:...", "[...]", IPv4-mapped IPv6) against them.
 * Split from config.c by role; see config.h.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

bool
config_cidr_parse(const char *s, struct lw_cidr *out)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long	 bits;
	unsigned	 max, i;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->af = AF_INET6;
		max = 128;
	} else
		return false;
	if (slash == NULL)
		bits = max;
	else {
		if (*slash < '0' || *slash > '9')
			return false;
		errno = 0;
		bits = strtoul(slash, &end, 10);
		if (errno != 0 || *end != '\0' || bits > max)
			return false;
	}
	out->bits = (unsigned)bits;
	/* Clear the host bits so that matching compares whole bytes. */
	for (i = 0; i < 16; i++) {
		if (i * 8 >= bits)
			out->addr[i] = 0;
		else if (i * 8 + 8 > bits)
			out->addr[i] &= (unsigned char)(0xff << (8 - (bits - i * 8)));
	}
	return true;
}

static bool
cidr_match(const struct lw_cidr *n, int af, const unsigned char *a)
{
	unsigned	full = n->bits / 8, rest = n->bits % 8;

	if (n->af != af)
		return false;
	if (memcmp(n->addr, a, full) != 0)
		return false;
	return rest == 0 ||
	    (a[full] & (unsigned char)(0xff << (8 - rest))) == n->addr[full];
}

/* A client address as the MTA writes it -> family and bytes. */
static bool
client_addr_parse(const char *addr, int *af, unsigned char a[16])
{
	char		 buf[INET6_ADDRSTRLEN + 1];
	size_t		 len;

	if (strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	len = strlen(addr);
	if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
		addr++;
		len -= 2;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, addr, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		*af = AF_INET;
	else if (inet_pton(AF_INET6, buf, a) == 1) {
		*af = AF_INET6;
		/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)(void *)a)) {
			memmove(a, a + 12, 4);
			*af = AF_INET;
		}
	} else
		return false;
	return true;
}

bool
config_cidr_contains(const struct lw_cidr *n, const char *addr)
{
	unsigned char	a[16];
	int		af;

	return addr != NULL && client_addr_parse(addr, &af, a) &&
	    cidr_match(n, af, a);
}

bool
config_internal_addr(const struct config *c, const char *addr)
{
	unsigned char	 a[16];
	size_t		 i;
	int		 af;

	if (c == NULL || addr == NULL || c->ninternal_networks == 0)
		return false;
	if (!client_addr_parse(addr, &af, a))
		return false;
	for (i = 0; i < c->ninternal_networks; i++)
		if (cidr_match(&c->internal_networks[i], af, a))
			return true;
	return false;
}
