
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
     * a worker's event loop, applied in order, each as if alone.  KEYS
     * the batch's marker, then per request its n keys; ARGV the marker's
     * ttl, then per request n, and per key limit, amount, ttl, dry run.
     * The reply, per request: {1, 0, left * n} (reserved; left before
     * it, per key), or {0, index, left} (refused by that key).  A key is
     * read once and written once per batch, however many requests share
     * it (nobody sees it in between); its ttl is set when it is made.
     * The marker is a hash, a field per reservation made (its request's
     * place in the batch), written in one call.
     */
    ngx_string(
        "local k, a, o, j, out, c, keys, made = 1, 2, 0, 0, {}, {}, {}, {}\n"
        "while a <= #ARGV do\n"
        "  local n, refused, left = tonumber(ARGV[a]), nil, {}\n"
        "  j = j + 1\n"
        "  for i = 1, n do\n"
        "    local b, key = a + (i - 1) * 4, KEYS[k + i]\n"
        "    local e = c[key]\n"
        "    if not e then\n"
        "      local v = redis.call('HMGET', key, 'used', 'res')\n"
        "      e = {tonumber(v[1]) or 0, tonumber(v[2]) or 0, 0,\n"
        "           not v[1] and not v[2], ARGV[b + 3]}\n"
        "      c[key] = e\n"
        "      keys[#keys + 1] = key\n"
        "    end\n"
        "    local l = tonumber(ARGV[b + 1]) - e[1] - e[2]\n"
        "    if tonumber(ARGV[b + 2]) > l and ARGV[b + 4] == '0' then\n"
        "      refused = i\n"
        "      left[1] = l\n"
        "      break\n"
        "    end\n"
        "    left[i] = l\n"
        "  end\n"
        "  if refused then\n"
        "    out[o + 1], out[o + 2], out[o + 3] = 0, refused, left[1]\n"
        "    o = o + 3\n"
        "  else\n"
        "    for i = 1, n do\n"
        "      local e = c[KEYS[k + i]]\n"
        "      local v = tonumber(ARGV[a + (i - 1) * 4 + 2])\n"
        "      e[2] = e[2] + v\n"
        "      e[3] = e[3] + v\n"
        "    end\n"
        "    made[#made + 1] = j\n"
        "    made[#made + 1] = 1\n"
        "    out[o + 1], out[o + 2] = 1, 0\n"
        "    for i = 1, n do out[o + 2 + i] = left[i] end\n"
        "    o = o + 2 + n\n"
        "  end\n"
        "  k = k + n\n"
        "  a = a + 1 + 4 * n\n"
        "end\n"
        "for _, key in ipairs(keys) do\n"
        "  local e = c[key]\n"
        "  if e[3] ~= 0 then\n"
        "    redis.call('HINCRBY', key, 'res', e[3])\n"
        "    if e[4] then redis.call('EXPIRE', key, e[5]) end\n"
        "  end\n"
        "end\n"
        "if #made > 0 then\n"
        "  redis.call('HSET', KEYS[1], unpack(made))\n"
        "  redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
        "end\n"
        "return out\n"),

    /*
     * settle, a batch: per request, once (its field of its batch's
     * marker is deleted: a batch sent again after a lost reply counts
     * each request once).  KEYS per request: its batch's marker, and per
     * reservation the key reserved in and the key of the current window;
     * ARGV per request: its field, its n reservations, and per
     * reservation minus the amount, the real usage, the ttl of the
     * current window's key.  Added up per key, written once per key.  A
     * key reserved in that is gone (expired) comes back with res 0 for
     * a minute.  The number of requests settled.
     */
    ngx_string(
        "local k, a, done, c, keys = 1, 1, 0, {}, {}\n"
        "local function acc(key, f, v, ttl)\n"
        "  local e = c[key]\n"
        "  if not e then\n"
        "    e = {0, 0, nil}\n"
        "    c[key] = e\n"
        "    keys[#keys + 1] = key\n"
        "  end\n"
        "  e[f] = e[f] + v\n"
        "  if ttl then e[3] = ttl end\n"
        "end\n"
        "while a <= #ARGV do\n"
        "  local n = tonumber(ARGV[a + 1])\n"
        "  if redis.call('HDEL', KEYS[k], ARGV[a]) == 1 then\n"
        "    done = done + 1\n"
        "    for i = 1, n do\n"
        "      local b = a + 2 + (i - 1) * 3\n"
        "      local rk, uk = KEYS[k + 2 * i - 1], KEYS[k + 2 * i]\n"
        "      acc(rk, 1, tonumber(ARGV[b]))\n"
        "      local u = tonumber(ARGV[b + 1])\n"
        "      if u ~= 0 then\n"
        "        acc(uk, 2, u, uk ~= rk and ARGV[b + 2] or nil)\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "  k = k + 1 + 2 * n\n"
        "  a = a + 2 + 3 * n\n"
        "end\n"
        "for _, key in ipairs(keys) do\n"
        "  local e = c[key]\n"
        "  if e[1] ~= 0 and redis.call('HINCRBY', key, 'res', e[1]) < 0 then\n"
        "    redis.call('HSET', key, 'res', 0)\n"
        "    if redis.call('TTL', key) < 0 then\n"
        "      redis.call('EXPIRE', key, 60)\n"
        "    end\n"
        "  end\n"
        "  if e[2] ~= 0 then\n"
        "    redis.call('HINCRBY', key, 'used', e[2])\n"
        "    if e[3] then redis.call('EXPIRE', key, e[3]) end\n"
        "  end\n"
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

