
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
     * ttl, then per request its field in the marker, n, and per key
     * limit, amount, ttl, dry run.  The reply, per request: {1, 0,
     * left * n} (reserved; left before it, per key), or {0, index, left}
     * (refused by that key).  A key is read once and written once per
     * batch, however many requests share it (nobody sees it in between);
     * its ttl is set when it is made, its limit read as a number once
     * while it stays the same.  The marker is a hash, a field per
     * reservation made, written in one call; fields and values are the
     * arguments' strings (a number would be formatted by Redis).
     */
    ngx_string(
        "local na, k, a, o, out, c, keys, made, left, amt =\n"
        "  #ARGV, 1, 2, 0, {}, {}, {}, {}, {}, {}\n"
        "while a <= na do\n"
        "  local n, refused = tonumber(ARGV[a + 1]), nil\n"
        "  for i = 1, n do\n"
        "    local b, key = a + 2 + (i - 1) * 4, KEYS[k + i]\n"
        "    local e = c[key]\n"
        "    if not e then\n"
        "      local v = redis.call('HMGET', key, 'used', 'res')\n"
        "      e = {tonumber(v[1]) or 0, tonumber(v[2]) or 0, 0,\n"
        "           not v[1] and not v[2], ARGV[b + 2], nil, 0}\n"
        "      c[key] = e\n"
        "      keys[#keys + 1] = key\n"
        "    end\n"
        "    if e[6] ~= ARGV[b] then\n"
        "      e[6] = ARGV[b]\n"
        "      e[7] = tonumber(e[6])\n"
        "    end\n"
        "    local l, v = e[7] - e[1] - e[2], tonumber(ARGV[b + 1])\n"
        "    if v > l and ARGV[b + 3] == '0' then\n"
        "      refused = i\n"
        "      left[1] = l\n"
        "      break\n"
        "    end\n"
        "    left[i] = l\n"
        "    amt[i] = v\n"
        "  end\n"
        "  if refused then\n"
        "    out[o + 1], out[o + 2], out[o + 3] = 0, refused, left[1]\n"
        "    o = o + 3\n"
        "  else\n"
        "    for i = 1, n do\n"
        "      local e = c[KEYS[k + i]]\n"
        "      e[2] = e[2] + amt[i]\n"
        "      e[3] = e[3] + amt[i]\n"
        "    end\n"
        "    made[#made + 1] = ARGV[a]\n"
        "    made[#made + 1] = '1'\n"
        "    out[o + 1], out[o + 2] = 1, 0\n"
        "    for i = 1, n do out[o + 2 + i] = left[i] end\n"
        "    o = o + 2 + n\n"
        "  end\n"
        "  k = k + n\n"
        "  a = a + 2 + 4 * n\n"
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
     * reservation the key reserved in, then the key of the current
     * window if that is another one; ARGV per request: its field, its n
     * reservations, and per reservation minus the amount, the real
     * usage, and the ttl of the current window's key, 0 if it is the
     * key reserved in (no second key: most requests end in the window
     * they began in).  Requests in a row of the same marker (reserved
     * together) are looked up in it with one HMGET and deleted with one
     * HDEL, a lone one with HDEL alone.  Added up per key, written once
     * per key.  A key reserved in that is gone (expired) comes back with
     * res 0 for a minute.  The number of requests settled.
     */
    ngx_string(
        "local na, k, a, done, c, keys, f, p, q, nn = #ARGV, 1, 1, 0, {},\n"
        "  {}, {}, {}, {}, {}\n"
        "local function acc(key, i, v, ttl)\n"
        "  local e = c[key]\n"
        "  if not e then\n"
        "    e = {0, 0, nil}\n"
        "    c[key] = e\n"
        "    keys[#keys + 1] = key\n"
        "  end\n"
        "  e[i] = e[i] + v\n"
        "  if ttl then e[3] = ttl end\n"
        "end\n"
        "while a <= na do\n"
        "  local m, r = KEYS[k], 0\n"
        "  repeat\n"
        "    local n = tonumber(ARGV[a + 1])\n"
        "    r = r + 1\n"
        "    f[r], p[r], q[r], nn[r] = ARGV[a], a, k, n\n"
        "    k = k + 1 + n\n"
        "    for i = 1, n do\n"
        "      if ARGV[a + 3 * i + 1] ~= '0' then k = k + 1 end\n"
        "    end\n"
        "    a = a + 2 + 3 * n\n"
        "  until a > na or KEYS[k] ~= m\n"
        "  local v\n"
        "  if r == 1 then\n"
        "    v = {redis.call('HDEL', m, f[1]) == 1}\n"
        "  else\n"
        "    v = redis.call('HMGET', m, unpack(f, 1, r))\n"
        "    redis.call('HDEL', m, unpack(f, 1, r))\n"
        "  end\n"
        "  for x = 1, r do\n"
        "    if v[x] then\n"
        "      local b, j = p[x] + 2, q[x] + 1\n"
        "      done = done + 1\n"
        "      for i = 1, nn[x] do\n"
        "        local rk, ttl = KEYS[j], ARGV[b + 2]\n"
        "        local uk = rk\n"
        "        j = j + 1\n"
        "        if ttl ~= '0' then\n"
        "          uk = KEYS[j]\n"
        "          j = j + 1\n"
        "        else\n"
        "          ttl = nil\n"
        "        end\n"
        "        acc(rk, 1, tonumber(ARGV[b]))\n"
        "        local u = tonumber(ARGV[b + 1])\n"
        "        if u ~= 0 then acc(uk, 2, u, ttl) end\n"
        "        b = b + 3\n"
        "      end\n"
        "    end\n"
        "  end\n"
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

