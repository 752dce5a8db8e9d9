/* api_files.c - placeholder while the log reader lands. */
#include "api.h"

void
api_container_logs (api_request *req)
{
  api_reply_errorf (req, 501, "logs: not yet");
}
