/* routes.c - THE route table: every route of the Docker Engine API v1.51
 * swagger, its handler and how complete it is.  docs/api-compat.md is
 * generated from it (`polisd --api-compat`). */
#include "api.h"
#include "router.h"

#define R(m, p, h, c, f, n) { m, p, h, c, f, n }
#define IMPL COMPAT_IMPLEMENTED
#define PART COMPAT_PARTIAL
#define MISS COMPAT_MISSING
#define G API_ROUTE_GREEDY
#define BF API_ROUTE_BODY_FILE
#define SW API_ROUTE_SWARM

const api_route api_routes[] = {
  /* containers */
  R ("GET", "/containers/json", api_container_list, PART, 0,
     "filters id, name, label, status, exited, ancestor, before, since, health, volume; no network, publish, expose filters"),
  R ("POST", "/containers/create", api_container_create, PART, 0,
     "the everyday Config/HostConfig fields; Binds, Mounts (bind, volume, tmpfs), Tmpfs, Config.Volumes; networks: none-like (loopback) or host only; no links, port publishing, VolumesFrom"),
  R ("GET", "/containers/{id}/json", api_container_inspect, IMPL, 0,
     "Docker's shape; NetworkSettings has no networks"),
  R ("GET", "/containers/{id}/top", api_container_top, IMPL, 0, "host `ps` filtered by the container's cgroup, as Docker"),
  R ("GET", "/containers/{id}/logs", api_container_logs, IMPL, 0,
     "json-file logs: follow, since, until, tail, timestamps, stdout/stderr"),
  R ("GET", "/containers/{id}/changes", NULL, MISS, 0, ""),
  R ("GET", "/containers/{id}/export", api_container_export, IMPL, 0, ""),
  R ("GET", "/containers/{id}/stats", api_container_stats, PART, 0,
     "cgroup v1 and v2 CPU, memory, pids, block I/O; no network counters (no networking yet)"),
  R ("POST", "/containers/{id}/resize", api_container_resize, IMPL, 0, ""),
  R ("POST", "/containers/{id}/start", api_container_start, IMPL, 0, "no checkpoints"),
  R ("POST", "/containers/{id}/stop", api_container_stop, IMPL, 0, ""),
  R ("POST", "/containers/{id}/restart", api_container_restart, IMPL, 0, ""),
  R ("POST", "/containers/{id}/kill", api_container_kill, IMPL, 0, ""),
  R ("POST", "/containers/{id}/update", api_container_update, IMPL, 0,
     "resources and restart policy"),
  R ("POST", "/containers/{id}/rename", api_container_rename, IMPL, 0, ""),
  R ("POST", "/containers/{id}/pause", api_container_pause, IMPL, 0, ""),
  R ("POST", "/containers/{id}/unpause", api_container_unpause, IMPL, 0, ""),
  R ("POST", "/containers/{id}/attach", api_container_attach, PART, 0,
     "connection upgrade, detach keys; no logs replay"),
  R ("GET", "/containers/{id}/attach/ws", NULL, MISS, 0, ""),
  R ("POST", "/containers/{id}/wait", api_container_wait, IMPL, 0,
     "not-running, next-exit, removed"),
  R ("DELETE", "/containers/{id}", api_container_remove, IMPL, 0,
     "force; v removes the container's anonymous volumes"),
  R ("HEAD", "/containers/{id}/archive", api_archive_head, IMPL, 0, ""),
  R ("GET", "/containers/{id}/archive", api_archive_get, PART, 0,
     "the container's root file system, binds and volumes"),
  R ("PUT", "/containers/{id}/archive", api_archive_put, PART, BF,
     "the container's root file system; not through bind mounts"),
  R ("POST", "/containers/prune", api_container_prune, IMPL, 0, ""),

  /* images */
  R ("GET", "/images/json", api_image_list, PART, 0,
     "filters reference, dangling, label"),
  R ("POST", "/build", NULL, MISS, 0, "no builder yet (DOCKER_BUILDKIT=0 would need it too)"),
  R ("POST", "/build/prune", NULL, MISS, 0, ""),
  R ("POST", "/images/create", api_image_create, PART, BF,
     "pull (fromImage) streams Docker's progress JSON; import from the body (fromSrc=-), not from a URL"),
  R ("GET", "/images/{name}/json", api_image_inspect, IMPL, G, ""),
  R ("GET", "/images/{name}/history", api_image_history, IMPL, G, ""),
  R ("POST", "/images/{name}/push", api_image_push, IMPL, G, ""),
  R ("POST", "/images/{name}/tag", api_image_tag, IMPL, G, ""),
  R ("DELETE", "/images/{name}", api_image_remove, IMPL, G, "force; noprune is ignored"),
  R ("GET", "/images/search", NULL, MISS, 0, ""),
  R ("POST", "/images/prune", api_image_prune, PART, 0, "dangling images; no filters"),
  R ("POST", "/auth", NULL, MISS, 0, ""),
  R ("POST", "/commit", NULL, MISS, 0, ""),
  R ("GET", "/images/{name}/get", api_image_get, IMPL, G, ""),
  R ("GET", "/images/get", api_image_get_all, IMPL, 0, ""),
  R ("POST", "/images/load", api_image_load, IMPL, BF, ""),

  /* system */
  R ("GET", "/info", api_info, IMPL, 0, ""),
  R ("GET", "/version", api_version_handler, IMPL, 0, ""),
  R ("GET", "/_ping", api_ping, IMPL, 0, ""),
  R ("HEAD", "/_ping", api_ping, IMPL, 0, ""),
  R ("GET", "/events", api_events, IMPL, 0,
     "filters type, event, container, image, label; since/until"),
  R ("GET", "/system/df", api_system_df, PART, 0, "containers and volumes (type= picks); no images, build cache"),

  /* exec */
  R ("POST", "/containers/{id}/exec", api_exec_create, IMPL, 0, ""),
  R ("POST", "/exec/{id}/start", api_exec_start, IMPL, 0, ""),
  R ("POST", "/exec/{id}/resize", api_exec_resize, IMPL, 0, ""),
  R ("GET", "/exec/{id}/json", api_exec_inspect, IMPL, 0, ""),

  /* volumes: the local driver */
  R ("GET", "/volumes", api_volume_list, IMPL, 0,
     "filters dangling, name, label, label!, driver"),
  R ("POST", "/volumes/create", api_volume_create, IMPL, 0,
     "local driver: labels, options type/device/o (tmpfs, bind, ...); no quota `size`"),
  R ("GET", "/volumes/{name}", api_volume_inspect, IMPL, 0, ""),
  R ("PUT", "/volumes/{name}", NULL, MISS, 0, "cluster volumes (swarm)"),
  R ("DELETE", "/volumes/{name}", api_volume_remove, IMPL, 0,
     "409 while a container uses it; force ignores a missing volume"),
  R ("POST", "/volumes/prune", api_volume_prune, IMPL, 0,
     "anonymous volumes only from API 1.42 unless all=true; filters label, label!"),
  /* networks: a later issue */
  R ("GET", "/networks", NULL, MISS, 0, "networking is a later issue"),
  R ("GET", "/networks/{id}", NULL, MISS, 0, "404, so that `docker inspect` moves on"),
  R ("DELETE", "/networks/{id}", NULL, MISS, 0, ""),
  R ("POST", "/networks/create", NULL, MISS, 0, ""),
  R ("POST", "/networks/{id}/connect", NULL, MISS, 0, ""),
  R ("POST", "/networks/{id}/disconnect", NULL, MISS, 0, ""),
  R ("POST", "/networks/prune", NULL, MISS, 0, ""),

  /* plugins: 404, as `docker inspect` expects of an engine without them */
  R ("GET", "/plugins", NULL, MISS, 0, ""),
  R ("GET", "/plugins/privileges", NULL, MISS, 0, ""),
  R ("POST", "/plugins/pull", NULL, MISS, 0, ""),
  R ("GET", "/plugins/{name}/json", NULL, MISS, 0, ""),
  R ("DELETE", "/plugins/{name}", NULL, MISS, 0, ""),
  R ("POST", "/plugins/{name}/enable", NULL, MISS, 0, ""),
  R ("POST", "/plugins/{name}/disable", NULL, MISS, 0, ""),
  R ("POST", "/plugins/{name}/upgrade", NULL, MISS, 0, ""),
  R ("POST", "/plugins/create", NULL, MISS, 0, ""),
  R ("POST", "/plugins/{name}/push", NULL, MISS, 0, ""),
  R ("POST", "/plugins/{name}/set", NULL, MISS, 0, ""),

  /* swarm: 503 "not a swarm manager", as Docker outside a swarm */
  R ("GET", "/nodes", NULL, MISS, SW, "503, as Docker outside a swarm"),
  R ("GET", "/nodes/{id}", NULL, MISS, SW, ""),
  R ("DELETE", "/nodes/{id}", NULL, MISS, SW, ""),
  R ("POST", "/nodes/{id}/update", NULL, MISS, SW, ""),
  R ("GET", "/swarm", NULL, MISS, SW, ""),
  R ("POST", "/swarm/init", NULL, MISS, SW, ""),
  R ("POST", "/swarm/join", NULL, MISS, SW, ""),
  R ("POST", "/swarm/leave", NULL, MISS, SW, ""),
  R ("POST", "/swarm/update", NULL, MISS, SW, ""),
  R ("GET", "/swarm/unlockkey", NULL, MISS, SW, ""),
  R ("POST", "/swarm/unlock", NULL, MISS, SW, ""),
  R ("GET", "/services", NULL, MISS, SW, ""),
  R ("POST", "/services/create", NULL, MISS, SW, ""),
  R ("GET", "/services/{id}", NULL, MISS, SW, ""),
  R ("DELETE", "/services/{id}", NULL, MISS, SW, ""),
  R ("POST", "/services/{id}/update", NULL, MISS, SW, ""),
  R ("GET", "/services/{id}/logs", NULL, MISS, SW, ""),
  R ("GET", "/tasks", NULL, MISS, SW, ""),
  R ("GET", "/tasks/{id}", NULL, MISS, SW, ""),
  R ("GET", "/tasks/{id}/logs", NULL, MISS, SW, ""),
  R ("GET", "/secrets", NULL, MISS, SW, ""),
  R ("POST", "/secrets/create", NULL, MISS, SW, ""),
  R ("GET", "/secrets/{id}", NULL, MISS, SW, ""),
  R ("DELETE", "/secrets/{id}", NULL, MISS, SW, ""),
  R ("POST", "/secrets/{id}/update", NULL, MISS, SW, ""),
  R ("GET", "/configs", NULL, MISS, SW, ""),
  R ("POST", "/configs/create", NULL, MISS, SW, ""),
  R ("GET", "/configs/{id}", NULL, MISS, SW, ""),
  R ("DELETE", "/configs/{id}", NULL, MISS, SW, ""),
  R ("POST", "/configs/{id}/update", NULL, MISS, SW, ""),

  R ("GET", "/distribution/{name}/json", NULL, MISS, G, ""),
  R ("POST", "/session", NULL, MISS, 0, "no BuildKit"),
  { NULL, NULL, NULL, 0, 0, NULL },
};
