-- wrk script for make fault: JSON and SSE requests in turn to the models
-- given in FAULT_MODELS (comma separated), across 20 tenants. Prints how
-- many answers of each status came back.
local models = {}
for m in string.gmatch(os.getenv("FAULT_MODELS") or "clean-a", "[^,]+") do
    table.insert(models, m)
end
local n = 0
local threads = {}
statuses = {}

setup = function(thread)
    table.insert(threads, thread)
end

request = function()
    n = n + 1
    local model = models[(n % #models) + 1]
    local stream = (math.floor(n / #models) % 2 == 1) and "true" or "false"
    return wrk.format("POST", "/v1/chat/completions",
        { ["Content-Type"] = "application/json",
          ["Connection"] = "close",
          ["X-Tenant"] = "t" .. (n % 20) },
        '{"model":"' .. model .. '","stream":' .. stream
        .. ',"max_tokens":16,"messages":[{"role":"user","content":"hi"}]}')
end

response = function(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for code, count in pairs(s) do
            total[code] = (total[code] or 0) + count
        end
    end
    for code, count in pairs(total) do
        io.write(string.format("status %d: %d\n", code, count))
    end
    io.write(string.format("errors: connect %d read %d write %d "
        .. "status %d timeout %d\n", summary.errors.connect,
        summary.errors.read, summary.errors.write, summary.errors.status,
        summary.errors.timeout))
end
