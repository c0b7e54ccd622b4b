/* config.h - onestack.conf (INI, as OpenStack's own *.conf files) with
 * environment overrides: ONESTACK_<SECTION>_<KEY> (upper case, every
 * non-alphanumeric character as '_') wins over the file, so tests and
 * containers can change one setting without writing a file. */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* Loads path (a missing file is not an error: the defaults apply).
 * Returns 0, or -1 with a message on stderr for a malformed file. */
int cfg_load(const char *path);
/* Sets a value in memory (used by init and tests); copies both strings. */
void cfg_set(const char *section, const char *key, const char *value);
/* Value of section.key: environment, then file, then def. The returned
 * string is owned by the config and lives until exit. */
const char *cfg_get(const char *section, const char *key, const char *def);
int64_t cfg_int(const char *section, const char *key, int64_t def);
bool cfg_bool(const char *section, const char *key, bool def);

#endif
