/* api_networks.c - /networks: list, inspect, create, remove, prune,
 * connect, disconnect (engine/network.h does the work). */
#include "api.h"
#include "base/cleanup.h"
#include "engine/network.h"

void
api_network_list (api_request *req)
{
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  polis_error *err = NULL;
  json_t *r = engine_network_list (api_context_of (req)->eng, filters, &err);
  if (r == NULL)
    api_reply_error (req, &err);
  else
    api_reply_json (req, 200, r);
}

void
api_network_inspect (api_request *req)
{
  polis_error *err = NULL;
  json_t *r = engine_network_inspect (api_context_of (req)->eng, api_param (req), &err);
  if (r == NULL)
    api_reply_error (req, &err);
  else
    api_reply_json (req, 200, r);
}

void
api_network_create (api_request *req)
{
  polis_error *err = NULL;
  cleanup_json json_t *body = api_body_json (req, false, &err);
  cleanup_free char *id = NULL;
  if (body == NULL || engine_network_create (api_context_of (req)->eng, body, &id, &err) < 0)
    {
      api_reply_error (req, &err);
      return;
    }
  api_reply_json (req, 201, json_pack ("{s:s,s:s}", "Id", id, "Warning", ""));
}

void
api_network_remove (api_request *req)
{
  polis_error *err = NULL;
  if (engine_network_remove (api_context_of (req)->eng, api_param (req), &err) < 0)
    api_reply_error (req, &err);
  else
    api_reply_empty (req, 204);
}

void
api_network_prune (api_request *req)
{
  cleanup_json json_t *filters = NULL;
  if (api_filters (req, &filters) < 0)
    return;
  polis_error *err = NULL;
  json_t *r = engine_network_prune (api_context_of (req)->eng, filters, &err);
  if (r == NULL)
    api_reply_error (req, &err);
  else
    api_reply_json (req, 200, r);
}

static void
connect_or_disconnect (api_request *req, bool connect)
{
  polis_error *err = NULL;
  cleanup_json json_t *body = api_body_json (req, false, &err);
  engine *e = api_context_of (req)->eng;
  int r = body == NULL ? -1
          : connect    ? engine_network_connect (e, api_param (req), body, &err)
                       : engine_network_disconnect (e, api_param (req), body, &err);
  if (r < 0)
    api_reply_error (req, &err);
  else
    api_reply_empty (req, 200);
}

void
api_network_connect (api_request *req)
{
  connect_or_disconnect (req, true);
}

void
api_network_disconnect (api_request *req)
{
  connect_or_disconnect (req, false);
}
