/* router-internal.h — what the router's files share; not for other modules. */
#pragma once

#include "router/router.h"

struct router {
	const config_t *config;
	store_t *store;
	parser_t *parser;       /* NULL for a router that only acts on tickets */
	catalogue_t *catalogue;
};

/* "2026年11月27日" for Japanese, "27 November 2026" otherwise, in the
 * policy's time zone.  Caller frees. */
char *router_format_date(const config_t *config, GDateTime *when, const char *lang);
