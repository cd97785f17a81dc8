/* sender-internal.h — what the sender's own files share, and what its unit
 * tests check directly.  Not part of the module's contract (sender.h is).
 * Everything here is pure: no I/O, no global state.
 */
#pragma once

#include "sender/sender.h"

/* ---- encode.c: ISO-2022-JP and RFC 2047 ---------------------------------- */

/* A copy of UTF8 where the characters Windows (CP932) users type and whose
 * Unicode code point differs from the JIS X 0208 mapping of the same JIS
 * character (～ U+FF5E, ∥ U+2225, － U+FF0D, ￠ ￡ ￢, — U+2014) are replaced by
 * that mapping (〜 U+301C, ‖ U+2016, − U+2212, ¢ £ ¬, ― U+2015): the same
 * JIS code, so the recipient sees the same character.  Caller frees with g_free(). */
char *sender_jis_normalize(const char *utf8);

/* TEXT (LEN bytes of UTF-8) as ISO-2022-JP (RFC 1468) ending in ASCII, or
 * NULL when TEXT holds a character ISO-2022-JP cannot (①, ㈱, 髙, emoji,
 * half-width kana…), an escape/shift control, or anything that does not
 * convert back to exactly TEXT.  Caller frees with g_bytes_unref(). */
GBytes *sender_jis_encode(const char *text, gsize len);

/* The raw header value (leading space, folded at 76 columns, ending in "\n",
 * ready for g_mime_header_set_raw_value()) of an unstructured header FIELD
 * ("Subject") holding TEXT (UTF-8, no controls).  ASCII words stay as they
 * are; runs of words with non-ASCII become RFC 2047 "B" encoded words in
 * UTF-8, or in ISO-2022-JP when JIS, each at most 67 characters and split
 * only between characters.  NULL only when JIS and ISO-2022-JP cannot hold
 * TEXT.  Caller frees with g_free(). */
char *sender_header_encode_text(const char *field, const char *text, gboolean jis);

/* The same for an address header: "NAME <ADDR>" with NAME (non-empty UTF-8)
 * encoded as a whole.  NULL only when JIS and ISO-2022-JP cannot hold NAME. */
char *sender_header_encode_mailbox(const char *field, const char *name, const char *addr,
                                   gboolean jis);

/* ---- sender.c ------------------------------------------------------------ */

/* Is ADDR a plain addr-spec we are willing to put in a header and in
 * MAIL FROM / RCPT TO (local@domain, no spaces, controls or <>()[],;:"\)? */
gboolean sender_address_is_valid(const char *addr);

/* The display name (NULL when none) and address of FROM ("Name <a@b>" or a@b).
 * FALSE with PI_ERROR_FATAL when FROM is missing or not one valid mailbox. */
gboolean sender_parse_from(const char *from, char **name_out, char **addr_out, GError **error);

/* ---- smtp.c -------------------------------------------------------------- */

/* The graded code (common.h) for a failed transfer: curl's result and the
 * code of the server's last reply (0 when none). */
pi_error_code_t sender_classify_failure(CURLcode result, guint reply_code);
