-- wrk script for make soak: a mix of JSON, SSE, failover, streams cut by
-- the provider, budget refusals and unknown models, in turn, across 50
-- tenants. Prints how many answers of each status came back.
local bodies = {
    [[{"model":"json","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}]],
    [[{"model":"sse","stream":true,"messages":[{"role":"user","content":"hi"}]}]],
    [[{"model":"failover","messages":[{"role":"user","content":"hi"}]}]],
    [[{"model":"cut","stream":true,"messages":[{"role":"user","content":"hi"}]}]],
    [[{"model":"tight","messages":[{"role":"user","content":"hi"}]}]],
    [[{"model":"nope","messages":[]}]],
    [[{"model":"json","messages":[{"role":"user","content":"\u00e9\u4e2d"}]}]],
}
local n = 0
local threads = {}
statuses = {}

setup = function(thread)
    table.insert(threads, thread)
end

request = function()
    n = n + 1
    return wrk.format("POST", "/v1/chat/completions",
        { ["Content-Type"] = "application/json",
          ["X-Tenant"] = "t" .. (n % 50) }, bodies[(n % #bodies) + 1])
end

response = function(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for code, count in pairs(s) do
            io.write(string.format("status %d: %d\n", code, count))
        end
    end
end
