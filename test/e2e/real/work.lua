-- The Lua workload of test/e2e/test_engines_real.sh: tables, strings,
-- closures, a sort, gsub, a coroutine and the garbage collector, small
-- enough for the int3 engine (a few hundred thousand traced calls).
-- Prints one deterministic checksum line.
local N = tonumber(arg and arg[1]) or 2000

local function make(i)
  return { id = i, name = string.format("item%05d", i), tags = { i % 3, i % 7 } }
end

local recs, index = {}, {}
for i = 1, N do
  local r = make(i)
  recs[#recs + 1] = r
  local k = r.tags[1]
  index[k] = index[k] or {}
  table.insert(index[k], r)
end

table.sort(recs, function(a, b)
  if a.tags[2] ~= b.tags[2] then return a.tags[2] < b.tags[2] end
  return a.id < b.id
end)

local words = {}
for i = 1, #recs, 5 do words[#words + 1] = recs[i].name end
local text = table.concat(words, " ")
local vowels = select(2, text:gsub("[aeiou]", "%0"))

local gen = coroutine.wrap(function()
  for k = 0, 2 do
    for _, r in ipairs(index[k]) do coroutine.yield(r.id) end
  end
end)
local sum = 0
for _ = 1, N do sum = (sum * 31 + gen()) % 1000003 end

collectgarbage("collect")
print(string.format("work.lua: %d records, %d vowels, checksum %d", #recs, vowels, sum))
