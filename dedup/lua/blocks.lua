-- Learned boilerplate blocks of ONE site, one call per batch of that site's pages
-- (dedup.block_learning documents the layout and the rules; its memory store is the reference).
-- KEYS[1] = <prefix>blocks:{<site>}: a hash whose fields are bucket numbers (decimal) holding
--   strings of 12-byte records  residual u32 | page u32 | time u32  in time order, plus
--   'cfg' (parameters; other workers' must match) and 'sweep' (pruning cursor).
-- ARGV: now, window, refresh, ttl_ms, nbuckets, cfg, sweep, bands, min_pages, then one packed page each:
--   page u32 | n_leads u16 | n_blocks u16 | n_teasers u16 |
--   (n_leads + n_blocks * bands + n_teasers) x (bucket u32 | residual 4 bytes)
-- Returns per page: n_blocks distinct-page counts, then n_teasers flags (1: teaser of another page).
local key = KEYS[1]
local now = tonumber(ARGV[1])
local cutoff = now - tonumber(ARGV[2]) -- a record is live while its time > cutoff
local refresh = now - tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local NB = tonumber(ARGV[5])
local cfg = ARGV[6]
local SWEEP = tonumber(ARGV[7])
local bands = tonumber(ARGV[8])
local K = tonumber(ARGV[9])
local FIRST = 10
local RL = 12
local HDR = 10

local meta = redis.call('HMGET', key, 'cfg', 'sweep')
if meta[1] and meta[1] ~= cfg then
  return redis.error_reply('block index ' .. key .. ' was built with other parameters: ' .. meta[1])
end
local cursor = tonumber(meta[2] or '0')

-- Load every bucket the batch needs (plus SWEEP buckets for pruning) with HMGET; cut expired prefixes.
local buckets, dirty, want, seen = {}, {}, {}, {}
local function need(b)
  if not seen[b] then seen[b] = true; want[#want + 1] = b end
end
for k = 0, SWEEP - 1 do need((cursor + k) % NB) end
for i = FIRST, #ARGV do
  local e = ARGV[i]
  local _, nl, nblk, nt = struct.unpack('>I4I2I2I2', e)
  for j = 0, nl + nblk * bands + nt - 1 do need(struct.unpack('>I4', e, HDR + 1 + j * 8)) end
end
for i = 1, #want, 4000 do
  local last = math.min(#want, i + 3999)
  local part = redis.call('HMGET', key, unpack(want, i, last))
  for j = 1, #part do
    local b, s = want[i + j - 1], part[j] or ''
    local n, cut = #s / RL, 0
    while cut < n and struct.unpack('>I4', s, cut * RL + 9) <= cutoff do cut = cut + 1 end
    if cut > 0 then s = string.sub(s, cut * RL + 1); dirty[b] = true end
    buckets[b] = s
  end
end

-- Live distinct pages carrying `res` in bucket b: set, count, oldest time.
local function scan(b, res)
  local s = buckets[b]
  local pages, n, oldest, pos = {}, 0, nil, 1
  while true do
    local at = string.find(s, res, pos, true)
    if not at then break end
    if (at - 1) % RL == 0 then
      local p, t = struct.unpack('>I4I4', s, at + 4)
      if t > cutoff then
        if not pages[p] then pages[p] = true; n = n + 1 end
        if oldest == nil or t < oldest then oldest = t end
      end
      pos = at + RL
    else
      pos = at + 1
    end
  end
  return pages, n, oldest
end

local function append(b, res, page)
  buckets[b] = buckets[b] .. res .. struct.pack('>I4I4', page, now)
  dirty[b] = true
end

local function op(e, j)
  local off = HDR + 1 + j * 8
  return struct.unpack('>I4', e, off), string.sub(e, off + 4, off + 7)
end

-- 1. Leads of the whole batch first, so a teaser of a page in the same batch is recognised.
for i = FIRST, #ARGV do
  local e = ARGV[i]
  local page, nl = struct.unpack('>I4I2', e)
  for j = 0, nl - 1 do
    local b, res = op(e, j)
    local pages = scan(b, res)
    if not pages[page] then append(b, res, page) end
  end
end

-- 2. Blocks (count over each band, keep the max) and teaser probes, page by page.
local out = {}
for i = FIRST, #ARGV do
  local e = ARGV[i]
  local page, nl, nblk, nt = struct.unpack('>I4I2I2I2', e)
  for blk = 0, nblk - 1 do
    local best = 0
    for band = 0, bands - 1 do
      local b, res = op(e, nl + blk * bands + band)
      local pages, n, oldest = scan(b, res)
      local count = n
      if not pages[page] then
        count = n + 1
        -- a block already on K live pages needs no more records until its oldest one ages
        if n < K or oldest <= refresh then append(b, res, page) end
      end
      if count > best then best = count end
    end
    out[#out + 1] = best
  end
  for t = 0, nt - 1 do
    local b, res = op(e, nl + nblk * bands + t)
    local pages = scan(b, res)
    local hit = 0
    for p, _ in pairs(pages) do
      if p ~= page then hit = 1; break end
    end
    out[#out + 1] = hit
  end
end

-- Write back changed buckets (empty ones are deleted), advance the sweep, refresh the TTL.
local set, del = {}, {}
for b, _ in pairs(dirty) do
  if #buckets[b] > 0 then set[#set + 1] = b; set[#set + 1] = buckets[b] else del[#del + 1] = b end
end
for i = 1, #set, 4000 do redis.call('HSET', key, unpack(set, i, math.min(#set, i + 3999))) end
for i = 1, #del, 4000 do redis.call('HDEL', key, unpack(del, i, math.min(#del, i + 3999))) end
redis.call('HSET', key, 'cfg', cfg, 'sweep', (cursor + SWEEP) % NB)
redis.call('PEXPIRE', key, ttl)
return out
