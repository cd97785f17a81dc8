/* gmime-floor.c — the library floor for the parser benchmark: parse each
 * message with GMime and decode every leaf part (transfer encoding undone)
 * into a null stream, nothing else.  What privacy-inbox parse does on top
 * (charsets, classification, hashing, libmagic, JSON) is measured against it.
 *
 *   gmime-floor [--mmap] FILE...
 *
 * --mmap reads through GMimeStreamMmap instead of GMimeStreamFs (read(2)).
 * Built by bench/parser/run; not part of the project's build.
 */
#include <fcntl.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static guint64 decoded_bytes;

static void
decode_part(GMimeObject *parent, GMimeObject *part, gpointer user_data)
{
	GMimeDataWrapper *content;
	GMimeStream *null;

	(void)parent, (void)user_data;
	if (!GMIME_IS_PART(part))
		return;
	content = g_mime_part_get_content(GMIME_PART(part));
	if (content == NULL)
		return;
	null = g_mime_stream_null_new();
	g_mime_data_wrapper_write_to_stream(content, null);
	decoded_bytes += (guint64)GMIME_STREAM_NULL(null)->written;
	g_object_unref(null);
}

int
main(int argc, char **argv)
{
	gboolean use_mmap = FALSE;
	int first = 1, parsed = 0;

	if (argc > 1 && strcmp(argv[1], "--mmap") == 0) {
		use_mmap = TRUE;
		first = 2;
	}
	g_mime_init();
	for (int i = first; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		GMimeStream *stream;
		GMimeParser *parser;
		GMimeMessage *message;

		if (fd < 0) {
			perror(argv[i]);
			continue;
		}
		stream = use_mmap ? g_mime_stream_mmap_new(fd, PROT_READ, MAP_PRIVATE)
		                  : g_mime_stream_fs_new(fd);
		if (stream == NULL) {
			close(fd);
			continue;
		}
		parser = g_mime_parser_new_with_stream(stream);
		g_mime_parser_set_persist_stream(parser, TRUE);
		message = g_mime_parser_construct_message(parser, NULL);
		if (message != NULL) {
			g_mime_message_foreach(message, decode_part, NULL);
			parsed++;
			g_object_unref(message);
		}
		g_object_unref(parser);
		g_object_unref(stream);
	}
	fprintf(stderr, "gmime-floor: %d messages, %" G_GUINT64_FORMAT " decoded bytes\n", parsed,
	        decoded_bytes);
	g_mime_shutdown();
	return 0;
}
