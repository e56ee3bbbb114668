
/*
 * Copyright (C) the ngx_http_llm_router_module authors
 * BSD-2-Clause, see LICENSE.
 *
 * The server-side scripts of a fleet on Redis (llm_redis), loaded once
 * per connection (SCRIPT LOAD) and called by their sha1 (EVALSHA).
 */


#include "ngx_http_llm_router.h"
#include "ngx_http_llm_router_redis.h"


ngx_str_t  ngx_http_llm_scripts[NGX_HTTP_LLM_NSCRIPTS] = {

    /*
     * reserve: KEYS marker, budget keys; ARGV per key: limit, amount,
     * ttl, dry run; then the marker's ttl.  {1, 0, left...} or
     * {0, index, left}, "left" before this reservation.
     */
    ngx_string(
        "local n = #KEYS - 1\n"
        "local left = {}\n"
        "for i = 1, n do\n"
        "  local a = (i - 1) * 4\n"
        "  local v = redis.call('HMGET', KEYS[i + 1], 'used', 'res')\n"
        "  local l = tonumber(ARGV[a + 1]) - (tonumber(v[1]) or 0)\n"
        "            - (tonumber(v[2]) or 0)\n"
        "  if tonumber(ARGV[a + 2]) > l and ARGV[a + 4] == '0' then\n"
        "    return {0, i, l}\n"
        "  end\n"
        "  left[i] = l\n"
        "end\n"
        "for i = 1, n do\n"
        "  local a = (i - 1) * 4\n"
        "  redis.call('HINCRBY', KEYS[i + 1], 'res', ARGV[a + 2])\n"
        "  redis.call('EXPIRE', KEYS[i + 1], ARGV[a + 3])\n"
        "end\n"
        "redis.call('SET', KEYS[1], '1', 'EX', ARGV[n * 4 + 1])\n"
        "local out = {1, 0}\n"
        "for i = 1, n do out[i + 2] = left[i] end\n"
        "return out\n"),

    /*
     * settle: KEYS marker, then per reservation the key reserved in and
     * the key of the current window; ARGV per reservation: minus the
     * amount, the real usage, the ttl.  Once per marker.
     */
    ngx_string(
        "if redis.call('DEL', KEYS[1]) == 0 then return 0 end\n"
        "for i = 1, (#KEYS - 1) / 2 do\n"
        "  local a = (i - 1) * 3\n"
        "  local rk = KEYS[2 * i]\n"
        "  local uk = KEYS[2 * i + 1]\n"
        "  if redis.call('EXISTS', rk) == 1 then\n"
        "    if redis.call('HINCRBY', rk, 'res', ARGV[a + 1]) < 0 then\n"
        "      redis.call('HSET', rk, 'res', 0)\n"
        "    end\n"
        "  end\n"
        "  if ARGV[a + 2] ~= '0' then\n"
        "    redis.call('HINCRBY', uk, 'used', ARGV[a + 2])\n"
        "    redis.call('EXPIRE', uk, ARGV[a + 3])\n"
        "  end\n"
        "end\n"
        "return 1\n"),

    /* merge: KEYS marker, keys; ARGV per key: usage, ttl.  Once. */
    ngx_string(
        "if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then\n"
        "  return 0\n"
        "end\n"
        "for i = 2, #KEYS do\n"
        "  local a = (i - 2) * 2\n"
        "  redis.call('HINCRBY', KEYS[i], 'used', ARGV[a + 1])\n"
        "  redis.call('EXPIRE', KEYS[i], ARGV[a + 2])\n"
        "end\n"
        "return 1\n"),

    /*
     * count: KEYS the totals, then the marker of a batch (none: only
     * read); ARGV the batch, by field.  The totals, after.
     */
    ngx_string(
        "local f = {'requests', 'prompt_tokens', 'completion_tokens',\n"
        "           'cached_tokens', 'cost_nano_usd', 'usage_missing',\n"
        "           'errors'}\n"
        "if #KEYS > 1 and\n"
        "   redis.call('SET', KEYS[2], '1', 'NX', 'EX', 86400) then\n"
        "  for i = 1, #f do\n"
        "    if ARGV[i] ~= '0' then\n"
        "      redis.call('HINCRBY', KEYS[1], f[i], ARGV[i])\n"
        "    end\n"
        "  end\n"
        "end\n"
        "return redis.call('HMGET', KEYS[1], unpack(f))\n"),

    /*
     * health: KEYS the states, their version, the times of the changes;
     * ARGV provider, 1 (down) or 0, node, the change's time (ms), 1 if it
     * is shared late (made while Redis was down).  The change's version:
     * newer changes have greater ones; 0: a late change older than the
     * one there, dropped.
     */
    ngx_string(
        "local t = tonumber(redis.call('HGET', KEYS[3], ARGV[1]))\n"
        "if ARGV[5] == '1' and t and t > tonumber(ARGV[4]) then\n"
        "  return 0\n"
        "end\n"
        "local v = redis.call('INCR', KEYS[2])\n"
        "redis.call('HSET', KEYS[1], ARGV[1],\n"
        "           ARGV[2] .. ' ' .. v .. ' ' .. ARGV[3])\n"
        "redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])\n"
        "return v\n")
};

