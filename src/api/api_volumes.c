/* api_volumes.c - /volumes: list, create, inspect, remove, prune. */
#include "api.h"

#include <stdlib.h>

#include "base/cleanup.h"
#include "base/pjson.h"

static void
reply (api_request *req, int status, json_t *j, polis_error **err)
{
  if (j == NULL)
    api_reply_error (req, err);
  else
    api_reply_json (req, status, j);
}

void
api_volume_list (api_request *req)
{
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  polis_error *err = NULL;
  reply (req, 200, engine_volume_list (api_context_of (req)->eng, filters, &err), &err);
}

void
api_volume_create (api_request *req)
{
  polis_error *err = NULL;
  cleanup_json json_t *body = api_body_json (req, true, &err);
  if (body == NULL && err)
    {
      api_reply_error (req, &err);
      return;
    }
  reply (req, 201, engine_volume_create (api_context_of (req)->eng, body, &err), &err);
}

void
api_volume_inspect (api_request *req)
{
  polis_error *err = NULL;
  reply (req, 200,
         engine_volume_inspect (api_context_of (req)->eng, api_param (req), &err),
         &err);
}

void
api_volume_remove (api_request *req)
{
  polis_error *err = NULL;
  if (engine_volume_remove (api_context_of (req)->eng, api_param (req),
                            api_query_bool (req, "force"), &err)
      < 0)
    api_reply_error (req, &err);
  else
    api_reply_empty (req, 204);
}

void
api_volume_prune (api_request *req)
{
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  polis_error *err = NULL;
  reply (req, 200,
         engine_volume_prune (api_context_of (req)->eng, filters,
                              api_version (req), &err),
         &err);
}
