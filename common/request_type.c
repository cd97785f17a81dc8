/* request_type.c — request type identifiers and their names in words. */
#include "common/request_type.h"

#include <string.h>

typedef struct {
	const char *id;
	const char *ja;
	const char *en;
} request_type_row_t;

static const request_type_row_t rows[] = {
	{"notification_of_purpose", "利用目的の通知", "notification of the purpose of use"},
	{"disclosure", "保有個人データの開示", "disclosure of retained personal data"},
	{"third_party_records", "第三者提供記録の開示",
	 "disclosure of records of provision to third parties"},
	{"correction", "訂正・追加・削除", "correction, addition or deletion"},
	{"stop_use", "利用停止・消去", "stop of use or erasure"},
	{"stop_third_party", "第三者提供の停止", "stop of provision to third parties"},
	{"inquiry", "お問い合わせ", "inquiry"},
};

const char *const request_type_ids[] = {
	"notification_of_purpose", "disclosure", "third_party_records", "correction",
	"stop_use", "stop_third_party", "inquiry", NULL,
};

gboolean
request_type_is_valid(const char *id)
{
	return id != NULL && g_strv_contains(request_type_ids, id);
}

const char *
request_type_label(const char *id, const char *lang)
{
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (g_strcmp0(rows[i].id, id) == 0)
			return g_strcmp0(lang, "en") == 0 ? rows[i].en : rows[i].ja;
	}
	return id;
}
