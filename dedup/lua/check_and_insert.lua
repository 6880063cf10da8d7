-- Atomic check-and-insert for a batch of entries (dedup.redis_index documents the layout).
-- KEYS[1] = <base>seq. ARGV: base, now, window, ttl_ms, min_equal, slot_len, sig_len,
-- bits, rows, bands, block, then one packed entry per ARGV:
--   b-bit signature (sig_len) | content hash (8) | (bands + 2) x (bucket u32, residual 2)
--   | id 0x1f site 0x1f url
-- Returns 4 values per entry: verdict code, cluster id, version, equal count
-- (-1: no similarity, -2: exact content match).
local base = ARGV[1]
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local min_equal = tonumber(ARGV[5])
local slot_len = tonumber(ARGV[6])
local SL = tonumber(ARGV[7])
local bits = tonumber(ARGV[8])
local rows = tonumber(ARGV[9])
local nb = tonumber(ARGV[10])
local B = tonumber(ARGV[11])
local NBUCKETS = tonumber(ARGV[12])
local SWEEP = tonumber(ARGV[13])
local FIRST = 14
local RL = SL + 23
local HDR = SL + 8 + (nb + 2) * 6
local NEW, DUP, NEWVER, UNCHANGED = 1, 2, 3, 4

local seq_key = KEYS[1]
local clock_key = base .. 't'
local seq = tonumber(redis.call('GET', seq_key) or '0')
local seq0 = seq

-- Time slots: f<slot> = first doc number allocated in the slot, n<slot> = documents indexed.
-- Every document numbered below the first number of all slots after `limit` was allocated
-- in a slot <= limit, so it expired at least one slot ago (one slot of slack for clock skew).
local slot = math.floor(now / slot_len)
local limit = math.floor((now - window) / slot_len) - 1
local prune_min = seq + 1
local clock = redis.call('HGETALL', clock_key)
local stale = {}
for i = 1, #clock, 2 do
  local f = clock[i]
  local kind, s = string.sub(f, 1, 1), tonumber(string.sub(f, 2))
  if s == nil then -- 'sweep'
  elseif kind == 'f' then
    if s > limit then
      prune_min = math.min(prune_min, tonumber(clock[i + 1]))
    else
      stale[#stale + 1] = f
    end
  elseif (s + 1) * slot_len + window <= now then
    stale[#stale + 1] = f
  end
end
if #stale > 0 then redis.call('HDEL', clock_key, unpack(stale)) end
redis.call('HSETNX', clock_key, 'f' .. slot, seq + 1)

-- Band buckets: fields of one hash; values are strings of 6-byte records (residual 2,
-- doc number u32) in doc number order, so expired records are a prefix. All buckets a batch
-- needs are read with one HMGET and the changed ones written back with one HSET.
local bkey = base .. 'b'
local buckets, dirty = {}, {}
do
  local want, seen = {}, {}
  local cursor = tonumber(redis.call('HGET', clock_key, 'sweep') or '0')
  for k = 0, SWEEP - 1 do
    local b = (cursor + k) % NBUCKETS
    if not seen[b] then seen[b] = true; want[#want + 1] = b end
  end
  redis.call('HSET', clock_key, 'sweep', (cursor + SWEEP) % NBUCKETS)
  for i = FIRST, #ARGV do
    local e = ARGV[i]
    for k = 0, nb + 1 do
      local b = struct.unpack('>I4', e, SL + 9 + k * 6)
      if not seen[b] then seen[b] = true; want[#want + 1] = b end
    end
  end
  local got = {}
  for i = 1, #want, 4000 do
    local part = redis.call('HMGET', bkey, unpack(want, i, math.min(#want, i + 3999)))
    for j = 1, #part do got[i + j - 1] = part[j] end
  end
  for i = 1, #want do
    local s = got[i] or ''
    if prune_min > 0 and #s >= 6 and struct.unpack('>I4', s, 3) < prune_min then
      local p = 1
      while p <= #s and struct.unpack('>I4', s, p + 2) < prune_min do p = p + 6 end
      s = string.sub(s, p)
      dirty[want[i]] = true
    end
    buckets[want[i]] = s
  end
end
local function bucket(b)
  return buckets[b]
end

local function matches(s, res)
  local out, init = {}, 1
  while true do
    local p = string.find(s, res, init, true)
    if not p then return out end
    if (p - 1) % 6 == 0 then
      out[#out + 1] = struct.unpack('>I4', s, p + 2)
      init = p + 6
    else
      init = p + 1
    end
  end
end

-- Document records: fixed width in blocks of B, addressed by doc number.
-- sig | time u32 | content hash 8 | version u32 | meta offset u32 | meta length u16 | flag u8
local records, metas = {}, {}
local ZEROS = string.rep('\0', SL)
local function record(d)
  local r = records[d]
  if r == nil then
    local off = (d % B) * RL
    r = redis.call('GETRANGE', base .. 's:' .. math.floor(d / B), off, off + RL - 1)
    if #r < RL then r = false end
    records[d] = r
  end
  return r
end

local function live(r)
  return r and string.byte(r, SL + 23) > 0 and now - struct.unpack('>I4', r, SL + 1) < window
end

local function meta(d, r)
  local m = metas[d]
  if m == nil then
    local off, len = struct.unpack('>I4I2', r, SL + 17)
    local raw = redis.call('GETRANGE', base .. 'm:' .. math.floor(d / B), off, off + len - 1)
    m = {}
    for part in string.gmatch(raw .. '\31', '([^\31]*)\31') do m[#m + 1] = part end
    metas[d] = m
  end
  return m
end

local function cluster_of(m)
  if m[4] == nil or m[4] == '' then return m[1] end
  return m[4]
end

local function sig_bytes(d, r)
  local t = records['b' .. d]
  if t == nil then
    t = { string.byte(r, 1, SL) }
    records['b' .. d] = t
  end
  return t
end

local function nibble(t, k) -- k: 0-based hash index
  local x = t[math.floor(k / 2) + 1]
  if k % 2 == 0 then return x % 16 end
  return (x - x % 16) / 16
end

local function band_equal(ta, tb, band)
  local lo, hi = band * rows, band * rows + rows - 1
  for k = lo, hi do
    if bits == 8 then
      if ta[k + 1] ~= tb[k + 1] then return false end
    elseif nibble(ta, k) ~= nibble(tb, k) then
      return false
    end
  end
  return true
end

local function equal_count(ta, tb)
  local n = 0
  for i = 1, SL do
    local x, y = ta[i], tb[i]
    if x == y then
      n = n + (bits == 8 and 1 or 2)
    elseif bits == 4 then
      if x % 16 == y % 16 then n = n + 1 end
      if (x - x % 16) == (y - y % 16) then n = n + 1 end
    end
  end
  return n
end

-- New records and metas are collected per block and written once per block at the end.
local indexed_now = 0
local pending = {} -- block -> {first doc number, record list, meta list, meta length}
local function insert(e, sig, ch, info, cluster, version, indexed)
  seq = seq + 1
  local d = seq
  local blk = math.floor(d / B)
  local p = pending[blk]
  if p == nil then
    p = { first = d, recs = {}, metas = {}, mlen = redis.call('STRLEN', base .. 'm:' .. blk) }
    pending[blk] = p
  end
  local mrec = info .. '\31' .. cluster
  local flag, body = 1, ZEROS
  if indexed then flag, body = 2, sig end
  local rec = body .. struct.pack('>I4', now) .. ch .. struct.pack('>I4I4I2B', version, p.mlen, #mrec, flag)
  p.mlen = p.mlen + #mrec
  p.recs[#p.recs + 1] = rec
  p.metas[#p.metas + 1] = mrec
  records[d] = rec
  local m = {}
  for part in string.gmatch(mrec .. '\31', '([^\31]*)\31') do m[#m + 1] = part end
  metas[d] = m
  local first = indexed and 0 or nb + 1
  local tail = struct.pack('>I4', d)
  for k = first, nb + 1 do
    local o = SL + 9 + k * 6
    local b = struct.unpack('>I4', e, o)
    buckets[b] = buckets[b] .. string.sub(e, o + 4, o + 5) .. tail
    dirty[b] = true
  end
  return d
end

local function record_duplicate(ckey, m, info)
  if redis.call('EXISTS', ckey) == 0 then
    if m[4] == nil or m[4] == '' then
      redis.call('RPUSH', ckey, cjson.encode({ id = m[1], site = m[2] or '', url = m[3] or '' }))
    else
      redis.call('RPUSH', ckey, cjson.encode({ id = m[4], site = '', url = '' }))
    end
  end
  local parts = {}
  for part in string.gmatch(info .. '\31', '([^\31]*)\31') do parts[#parts + 1] = part end
  redis.call('RPUSH', ckey, cjson.encode({ id = parts[1], site = parts[2] or '', url = parts[3] or '' }))
  redis.call('PEXPIRE', ckey, ttl)
end

local out = {}
for i = FIRST, #ARGV do
  local e = ARGV[i]
  local sig = string.sub(e, 1, SL)
  local ch = string.sub(e, SL + 1, SL + 8)
  local info = string.sub(e, HDR + 1)
  local id = string.match(info, '^([^\31]*)')
  local function slot_of(k)
    local o = SL + 9 + k * 6
    return struct.unpack('>I4', e, o), string.sub(e, o + 4, o + 5)
  end
  -- 1, 2: known document id (latest live record)
  local prev, prev_rec = nil, nil
  local ib, ir = slot_of(nb + 1)
  local ms = matches(bucket(ib), ir)
  for j = #ms, 1, -1 do
    local r = record(ms[j])
    if live(r) and meta(ms[j], r)[1] == id then
      prev, prev_rec = ms[j], r
      break
    end
  end
  if prev then
    local m = meta(prev, prev_rec)
    local version = struct.unpack('>I4', prev_rec, SL + 13)
    local cluster = cluster_of(m)
    if string.sub(prev_rec, SL + 5, SL + 12) == ch then
      out[#out + 1] = UNCHANGED; out[#out + 1] = cluster; out[#out + 1] = version; out[#out + 1] = -1
    else
      local c = cluster
      if c == id then c = '' end
      if string.byte(prev_rec, SL + 23) == 1 then indexed_now = indexed_now + 1 end -- a duplicate joins the bands
      insert(e, sig, ch, info, c, version + 1, true)
      out[#out + 1] = NEWVER; out[#out + 1] = cluster; out[#out + 1] = version + 1; out[#out + 1] = -1
    end
  else
    -- 3: exact content of an indexed document (earliest live one)
    local hit, equal = nil, -2
    local cb, cr = slot_of(nb)
    for _, d in ipairs(matches(bucket(cb), cr)) do
      local r = record(d)
      if live(r) and string.byte(r, SL + 23) == 2 and string.sub(r, SL + 5, SL + 12) == ch then
        hit = d
        break
      end
    end
    -- 4: LSH candidates whose band really matches, verified on the b-bit signature
    if hit == nil then
      local ta = { string.byte(sig, 1, SL) }
      local done = {}
      local best_eq = -1
      for k = 0, nb - 1 do
        local b, res = slot_of(k)
        for _, d in ipairs(matches(bucket(b), res)) do
          if not done[d] then
            local r = record(d)
            if live(r) and string.byte(r, SL + 23) == 2 then
              local tb = sig_bytes(d, r)
              if band_equal(ta, tb, k) then
                done[d] = true
                local eq = equal_count(ta, tb)
                if eq >= min_equal and (eq > best_eq or (eq == best_eq and d < hit)) then
                  hit, best_eq = d, eq
                end
              end
            else
              done[d] = true
            end
          end
        end
      end
      equal = best_eq
    end
    if hit then
      local m = meta(hit, record(hit))
      local cluster = cluster_of(m)
      insert(e, sig, ch, id .. '\31\31', cluster, 1, false) -- url, site: in the cluster list
      record_duplicate(base .. 'cluster:' .. cluster, m, info)
      out[#out + 1] = DUP; out[#out + 1] = cluster; out[#out + 1] = 1; out[#out + 1] = equal
    else
      indexed_now = indexed_now + 1
      insert(e, sig, ch, info, '', 1, true)
      out[#out + 1] = NEW; out[#out + 1] = id; out[#out + 1] = 1; out[#out + 1] = -1
    end
  end
end

local changed = {}
for b, _ in pairs(dirty) do
  changed[#changed + 1] = b
  changed[#changed + 1] = buckets[b]
end
for i = 1, #changed, 4000 do
  redis.call('HSET', bkey, unpack(changed, i, math.min(#changed, i + 3999)))
end
redis.call('PEXPIRE', bkey, ttl)
for blk, p in pairs(pending) do
  local skey, mkey = base .. 's:' .. blk, base .. 'm:' .. blk
  if redis.call('EXISTS', skey) == 0 then redis.call('SETRANGE', skey, B * RL - 1, '\0') end
  redis.call('SETRANGE', skey, (p.first % B) * RL, table.concat(p.recs))
  redis.call('APPEND', mkey, table.concat(p.metas))
  if seq >= (blk + 1) * B - 1 then -- block complete: rewrite to drop APPEND's spare capacity
    redis.call('SET', mkey, redis.call('GET', mkey), 'PX', ttl)
  else
    redis.call('PEXPIRE', mkey, ttl)
  end
  redis.call('PEXPIRE', skey, ttl)
end
if seq ~= seq0 then redis.call('SET', seq_key, seq) end
if indexed_now > 0 then redis.call('HINCRBY', clock_key, 'n' .. slot, indexed_now) end
redis.call('PEXPIRE', clock_key, ttl)
return out
