/* image_inspect.c - stored images in the JSON shapes of Docker's API. */
#include "image_inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/pjson.h"
#include "base/xalloc.h"
#include "manifest.h"
#include "reference.h"

long long
image_inspect_parse_time (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL)
    return 0;
  const char *end = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == NULL)
    return 0;
  return (long long) timegm (&tm);
}

static json_t *
load_config (image_store *s, const char *id, polis_error **err)
{
  size_t len = 0;
  cleanup_free char *buf
      = content_store_read_blob (s->cs, id, MANIFEST_CONFIG_MAX, &len, err);
  if (buf == NULL)
    return NULL;
  return pjson_parse (buf, len, "image config", err);
}

json_t *
image_inspect_json (image_store *s, const char *id, polis_error **err)
{
  cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
  if (rec == NULL)
    return NULL;
  cleanup_json json_t *cfg = load_config (s, id, err);
  if (cfg == NULL)
    return NULL;
  json_t *tags = json_array (), *digests = json_array ();
  for (char **n = rec->names; n && *n; n++)
    {
      cleanup_free char *fam = image_reference_familiarize (*n);
      json_array_append_new (strchr (*n, '@') ? digests : tags,
                             json_string (fam));
    }
  json_t *layers = json_array ();
  for (size_t i = 0; i < rec->n_layers; i++)
    json_array_append_new (layers, json_string (rec->layers[i].diff_id));
  json_t *lower = json_array ();
  for (size_t i = rec->n_layers; i > 0; i--)
    {
      cleanup_free char *p = snapshot_path (s->snaps, rec->layers[i - 1].chain_id);
      json_array_append_new (lower, json_string (p));
    }
  json_t *config = json_object_get (cfg, "config");
  const char *created = json_string_value (json_object_get (cfg, "created"));
  const char *author = json_string_value (json_object_get (cfg, "author"));
  json_t *o = json_pack (
      "{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I, s:{s:s, s:o},"
      " s:{s:s, s:o}, s:{s:s}}",
      "Id", id, "RepoTags", tags, "RepoDigests", digests, "Parent", "",
      "Comment", "", "Created", created ? created : "", "DockerVersion", "",
      "Author", author ? author : "", "Config",
      config ? config : json_null (), "Architecture",
      rec->architecture ? rec->architecture : "", "Os", rec->os ? rec->os : "",
      "Size", (json_int_t) rec->size, "GraphDriver", "Name", "overlay2",
      "Data", json_pack ("{s:o}", "LowerDir", lower), "RootFS", "Type",
      "layers", "Layers", layers, "Metadata", "LastTagTime", "");
  if (o == NULL)
    {
      error_set (err, ERROR_INTERNAL, EINVAL, "build inspect object");
      return NULL;
    }
  if (rec->variant)
    json_object_set_new (o, "Variant", json_string (rec->variant));
  /* The data the engine needs that Docker shows elsewhere. */
  json_object_set_new (o, "ManifestDigest", json_string (rec->manifest_digest));
  json_object_set_new (o, "ManifestMediaType",
                       json_string (rec->manifest_media_type));
  return o;
}

json_t *
image_inspect_history (image_store *s, const char *id, polis_error **err)
{
  cleanup_image_record image_record *rec = image_db_get_image (s->db, id, err);
  if (rec == NULL)
    return NULL;
  cleanup_json json_t *cfg = load_config (s, id, err);
  if (cfg == NULL)
    return NULL;
  json_t *hist = json_object_get (cfg, "history");
  json_t *out = json_array ();
  size_t layer = 0, n = json_array_size (hist);
  json_t *entries = json_array ();
  for (size_t i = 0; i < n; i++)
    {
      json_t *h = json_array_get (hist, i);
      bool empty = json_is_true (json_object_get (h, "empty_layer"));
      int64_t size = 0;
      if (!empty && layer < rec->n_layers)
        size = rec->layers[layer++].size;
      const char *by = json_string_value (json_object_get (h, "created_by"));
      const char *comment = json_string_value (json_object_get (h, "comment"));
      json_array_append_new (
          entries,
          json_pack ("{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>",
                     "Created",
                     (json_int_t) image_inspect_parse_time (json_string_value (
                         json_object_get (h, "created"))),
                     "CreatedBy", by ? by : "", "Tags", "Size",
                     (json_int_t) size, "Comment", comment ? comment : ""));
    }
  for (size_t i = json_array_size (entries); i > 0; i--)
    json_array_append (out, json_array_get (entries, i - 1));
  json_decref (entries);
  /* The newest entry is the image itself. */
  json_t *first = json_array_get (out, 0);
  if (first)
    {
      json_object_set_new (first, "Id", json_string (id));
      json_t *tags = json_array ();
      for (char **nm = rec->names; nm && *nm; nm++)
        if (!strchr (*nm, '@'))
          {
            cleanup_free char *fam = image_reference_familiarize (*nm);
            json_array_append_new (tags, json_string (fam));
          }
      json_object_set_new (first, "Tags", tags);
    }
  return out;
}
