
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
     * reserve, a batch: the reservations of the requests of one turn of
     * a worker's event loop, applied in order, each as if alone.  ARGV
     * the markers' ttl, then per request: its number of keys n, and per
     * key limit, amount, ttl, dry run.  KEYS per request: its marker, its
     * n keys.  The reply, per request: {1, 0, left * n} (reserved; left
     * before it, per key), or {0, index, left} (refused by that key).
     * A key's ttl is set when the key is made (it is the same for every
     * request of its window): two calls per key, one per request.
     */
    ngx_string(
        "local k, a, o, out = 0, 2, 0, {}\n"
        "while a <= #ARGV do\n"
        "  local n = tonumber(ARGV[a])\n"
        "  local left, fresh, refused = {}, {}, nil\n"
        "  for i = 1, n do\n"
        "    local b = a + (i - 1) * 4\n"
        "    local v = redis.call('HMGET', KEYS[k + 1 + i], 'used', 'res')\n"
        "    local l = tonumber(ARGV[b + 1]) - (tonumber(v[1]) or 0)\n"
        "              - (tonumber(v[2]) or 0)\n"
        "    if tonumber(ARGV[b + 2]) > l and ARGV[b + 4] == '0' then\n"
        "      refused = i\n"
        "      left[1] = l\n"
        "      break\n"
        "    end\n"
        "    left[i] = l\n"
        "    fresh[i] = not v[1] and not v[2]\n"
        "  end\n"
        "  if refused then\n"
        "    out[o + 1], out[o + 2], out[o + 3] = 0, refused, left[1]\n"
        "    o = o + 3\n"
        "  else\n"
        "    for i = 1, n do\n"
        "      local b = a + (i - 1) * 4\n"
        "      redis.call('HINCRBY', KEYS[k + 1 + i], 'res', ARGV[b + 2])\n"
        "      if fresh[i] then\n"
        "        redis.call('EXPIRE', KEYS[k + 1 + i], ARGV[b + 3])\n"
        "      end\n"
        "    end\n"
        "    redis.call('SET', KEYS[k + 1], '1', 'EX', ARGV[1])\n"
        "    out[o + 1], out[o + 2] = 1, 0\n"
        "    for i = 1, n do out[o + 2 + i] = left[i] end\n"
        "    o = o + 2 + n\n"
        "  end\n"
        "  k = k + 1 + n\n"
        "  a = a + 1 + 4 * n\n"
        "end\n"
        "return out\n"),

    /*
     * settle, a batch: per request, once per marker (a batch sent again
     * after a lost reply counts once).  ARGV per request: its number of
     * reservations n, and per reservation minus the amount, the real
     * usage, the ttl of the current window's key.  KEYS per request: its
     * marker, and per reservation the key reserved in and the key of the
     * current window.  A key reserved in that is gone (expired) comes
     * back with res 0 for a minute.  The number of requests settled.
     */
    ngx_string(
        "local k, a, done = 0, 1, 0\n"
        "while a <= #ARGV do\n"
        "  local n = tonumber(ARGV[a])\n"
        "  if redis.call('DEL', KEYS[k + 1]) == 1 then\n"
        "    done = done + 1\n"
        "    for i = 1, n do\n"
        "      local b = a + (i - 1) * 3\n"
        "      local rk, uk = KEYS[k + 2 * i], KEYS[k + 2 * i + 1]\n"
        "      if redis.call('HINCRBY', rk, 'res', ARGV[b + 1]) < 0 then\n"
        "        redis.call('HSET', rk, 'res', 0)\n"
        "        if redis.call('TTL', rk) < 0 then\n"
        "          redis.call('EXPIRE', rk, 60)\n"
        "        end\n"
        "      end\n"
        "      if ARGV[b + 2] ~= '0' then\n"
        "        redis.call('HINCRBY', uk, 'used', ARGV[b + 2])\n"
        "        if uk ~= rk then\n"
        "          redis.call('EXPIRE', uk, ARGV[b + 3])\n"
        "        end\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "  k = k + 1 + 2 * n\n"
        "  a = a + 1 + 3 * n\n"
        "end\n"
        "return done\n"),

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

