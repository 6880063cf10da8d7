-- Atomic check-and-insert for a batch of entries (dedup.redis_index documents the layout).
-- KEYS[1] = <base>seq. ARGV: base, now, window, ttl_ms, min_equal, slot_len, sig_len,
-- bits, rows, bands, block, buckets, sweep, the bucket fields the batch needs (4-byte
-- big-endian bucket numbers, ascending, concatenated), doc number bytes (3 or 4), metadata
-- chunk bytes, then one packed entry per ARGV:
--   b-bit signature (sig_len) | content hash (8) | (bands + 2) x (field index u32, residual 2)
--   | id 0x1f site 0x1f url
-- (field index: 1-based position of the bucket among the fields).
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
local FIELDS = ARGV[14]
local NW = #FIELDS / 4
local FIRST = 17
local find, sub, byte = string.find, string.sub, string.byte
local spack, sunpack = struct.pack, struct.unpack
local SLOTFMT = '>' .. string.rep('I4c2', nb + 2)
local RL = 23
local HDR = SL + 8 + (nb + 2) * 6
local DW = tonumber(ARGV[15]) -- bytes of a doc number in a bucket record (3 or 4)
local CH = tonumber(ARGV[16]) -- bytes of a metadata chunk (65536 chunk names, then they repeat)
local MMOD = CH * 65536 -- metadata offsets are modulo this
local RW = 2 + DW
local DFMT = '>I' .. DW
local DMOD = 2 ^ (8 * DW)
local NEW, DUP, NEWVER, UNCHANGED = 1, 2, 3, 4

local seq_key = KEYS[1]
local clock_key = base .. 't'
local seq = tonumber(redis.call('GET', seq_key) or '0')
local seq0 = seq

-- A bucket record keeps its doc number modulo 2**(8 * DW); the full number is the latest one
-- not above seq with that remainder (exact while fewer than 2**(8 * DW) documents are numbered
-- within a window plus the pruning lag; see dedup.redis_index).
local function doc_at(s, p)
  local x = sunpack(DFMT, s, p)
  if DW < 4 then x = seq - (seq - x) % DMOD end
  return x
end

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

-- Band buckets: fields of one hash; values are strings of RW-byte records (residual 2,
-- doc number DW bytes) in doc number order, so expired records are a prefix. All buckets a
-- batch needs are read with HMGET and the changed ones written back with HSET (4000 a call);
-- buckets[i], dirty[i] are indexed by field position.
local bkey = base .. 'b'
local buckets, dirty, fields = {}, {}, {}
local extra_pos = {} -- field name -> position, for fields beyond the batch's sorted NW
-- cut the expired prefix of a bucket string; returns it and whether it changed
local function prune(s)
  if prune_min > 0 and #s >= RW and doc_at(s, 3) < prune_min then
    local p = 1
    while p <= #s and doc_at(s, p + 2) < prune_min do p = p + RW end
    return sub(s, p), true
  end
  return s, false
end
-- position of a field name: binary search in the batch's ascending fields (as numbers: string
-- order would follow the server's collation locale), then the extras
local function position(name)
  local b = sunpack('>I4', name)
  local lo, hi = 1, NW
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    local v = sunpack('>I4', fields[mid])
    if v == b then return mid end
    if v < b then lo = mid + 1 else hi = mid - 1 end
  end
  return extra_pos[name]
end
do
  for i = 1, NW, 500 do
    local n = math.min(500, NW - i + 1)
    local part = { sunpack(string.rep('c4', n), FIELDS, 4 * i - 3) }
    for j = 1, n do fields[i + j - 1] = part[j] end
  end
  -- the sweep: buckets after a cursor, besides those the batch touches
  local cursor = tonumber(redis.call('HGET', clock_key, 'sweep') or '0')
  for k = 0, math.min(SWEEP, NBUCKETS) - 1 do
    local name = spack('>I4', (cursor + k) % NBUCKETS)
    if not position(name) then fields[#fields + 1] = name; extra_pos[name] = #fields end
  end
  redis.call('HSET', clock_key, 'sweep', (cursor + SWEEP) % NBUCKETS)
  local n = #fields
  for i = 1, n, 4000 do
    local part = redis.call('HMGET', bkey, unpack(fields, i, math.min(n, i + 3999)))
    for j = 1, #part do
      local s, cut = prune(part[j] or '')
      if cut then dirty[i + j - 1] = true end
      buckets[i + j - 1] = s
    end
  end
end

-- A bucket the batch did not ask for (a cluster's member list): read, pruned, added.
local function field_index(name)
  local i = position(name)
  if i == nil then
    local s, cut = prune(redis.call('HGET', bkey, name) or '')
    fields[#fields + 1] = name
    i = #fields
    extra_pos[name] = i
    buckets[i] = s
    if cut then dirty[i] = true end
  end
  return i
end

-- Cluster members: a record (residual, doc number) of each duplicate in the bucket named by
-- the SHA-1 of the cluster id: bytes 1-4 (big-endian) >> (32 - bucket bits), residual bytes 5-6.
local SHIFT = 2 ^ 32 / NBUCKETS
local function cluster_slot(cluster)
  local h = redis.sha1hex(cluster)
  local name = spack('>I4', math.floor(tonumber(sub(h, 1, 8), 16) / SHIFT))
  return field_index(name), spack('>I2', tonumber(sub(h, 9, 12), 16))
end

local function matches(s, res)
  local out, init = {}, 1
  while true do
    local p = find(s, res, init, true)
    if not p then return out end
    if (p - 1) % RW == 0 then
      out[#out + 1] = doc_at(s, p + 2)
      init = p + RW
    else
      init = p + 1
    end
  end
end

-- Document records: fixed width in blocks of B, addressed by doc number.
-- time u32 | content hash 8 | version u32 | meta offset u32 | meta length u16 | flag u8
-- (flag 2: indexed, 1: duplicate). The meta of an indexed document starts with its b-bit
-- signature (SL bytes); a duplicate's has none.
local records, raws, metas, sigs = {}, {}, {}, {}
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
  return r and byte(r, 23) > 0 and now - sunpack('>I4', r, 1) < window
end

local function split(raw)
  local m = {}
  for part in string.gmatch(raw .. '\31', '([^\31]*)\31') do m[#m + 1] = part end
  return m
end

local function raw_meta(d, r)
  local m = raws[d]
  if m == nil then
    local off, len = sunpack('>I4I2', r, 17)
    -- the metadata stream is cut in chunks of CH bytes; an entry may continue in the next one
    local parts = {}
    while len > 0 do
      local c, pos = math.floor(off / CH), off % CH
      local n = math.min(len, CH - pos)
      parts[#parts + 1] = redis.call('GETRANGE', base .. 'm:' .. c, pos, pos + n - 1)
      off, len = (off + n) % MMOD, len - n
    end
    m = table.concat(parts)
    raws[d] = m
  end
  return m
end

-- {id, site, url, cluster}: cluster is empty for an indexed canonical document
local function meta(d, r)
  local m = metas[d]
  if m == nil then
    local raw = raw_meta(d, r)
    if byte(r, 23) == 2 then raw = sub(raw, SL + 1) end
    m = split(raw)
    metas[d] = m
  end
  return m
end

local function cluster_of(m)
  if m[4] == nil or m[4] == '' then return m[1] end
  return m[4]
end

local function sig_bytes(d, r)
  local t = sigs[d]
  if t == nil then
    t = { byte(raw_meta(d, r), 1, SL) }
    sigs[d] = t
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
local pending = {} -- block -> {first doc number, record list}
local mkey_tail = base .. 'mt'
local mtail0 = tonumber(redis.call('GET', mkey_tail) or '0')
local mtail = mtail0
local newmetas = {}
local function insert(slots, sig, ch, info, cluster, version, indexed, cfield, cres)
  seq = seq + 1
  local d = seq
  local blk = math.floor(d / B)
  local p = pending[blk]
  if p == nil then
    p = { first = d, recs = {} }
    pending[blk] = p
  end
  local mrec, flag = info .. '\31' .. cluster, 1
  if indexed then mrec, flag = sig .. mrec, 2 end
  local rec = spack('>I4', now) .. ch .. spack('>I4I4I2B', version, mtail, #mrec, flag)
  mtail = (mtail + #mrec) % MMOD
  p.recs[#p.recs + 1] = rec
  newmetas[#newmetas + 1] = mrec
  records[d] = rec
  raws[d] = mrec
  local tail = spack(DFMT, d % DMOD)
  local first = indexed and 1 or nb + 2
  for k = first, nb + 2 do
    local i = slots[2 * k - 1]
    buckets[i] = buckets[i] .. slots[2 * k] .. tail
    dirty[i] = true
  end
  if cfield then
    buckets[cfield] = buckets[cfield] .. cres .. tail
    dirty[cfield] = true
  end
  return d
end

local out = {}
local n_out = 0
local function emit(a, b, c, d)
  out[n_out + 1] = a; out[n_out + 2] = b; out[n_out + 3] = c; out[n_out + 4] = d
  n_out = n_out + 4
end
for i = FIRST, #ARGV do
  local e = ARGV[i]
  local sig = sub(e, 1, SL)
  local ch = sub(e, SL + 1, SL + 8)
  local info = sub(e, HDR + 1)
  local id = string.match(info, '^([^\31]*)')
  -- slots[2k - 1], slots[2k]: field index and residual of band k - 1 (k = nb + 1: content
  -- hash, k = nb + 2: document id)
  local slots = { sunpack(SLOTFMT, e, SL + 9) }
  -- 1, 2: known document id (latest live record)
  local prev, prev_rec = nil, nil
  local ms = matches(buckets[slots[2 * nb + 3]], slots[2 * nb + 4])
  for j = #ms, 1, -1 do
    local r = record(ms[j])
    if live(r) and meta(ms[j], r)[1] == id then
      prev, prev_rec = ms[j], r
      break
    end
  end
  if prev then
    local m = meta(prev, prev_rec)
    local version = sunpack('>I4', prev_rec, 13)
    local cluster = cluster_of(m)
    if sub(prev_rec, 5, 12) == ch then
      emit(UNCHANGED, cluster, version, -1)
    else
      local c = cluster
      if c == id then c = '' end
      if byte(prev_rec, 23) == 1 then indexed_now = indexed_now + 1 end -- a duplicate joins the bands
      insert(slots, sig, ch, info, c, version + 1, true)
      emit(NEWVER, cluster, version + 1, -1)
    end
  else
    -- 3: exact content of an indexed document (earliest live one)
    local hit, equal = nil, -2
    do
      local s, res = buckets[slots[2 * nb + 1]], slots[2 * nb + 2]
      local p = find(s, res, 1, true)
      while p do
        if (p - 1) % RW == 0 then
          local d = doc_at(s, p + 2)
          local r = record(d)
          if live(r) and byte(r, 23) == 2 and sub(r, 5, 12) == ch then
            hit = d
            break
          end
          p = find(s, res, p + RW, true)
        else
          p = find(s, res, p + 1, true)
        end
      end
    end
    -- 4: LSH candidates whose band really matches, verified on the b-bit signature
    if hit == nil then
      local ta = nil
      local done = {}
      local best_eq = -1
      for k = 0, nb - 1 do
        local s, res = buckets[slots[2 * k + 1]], slots[2 * k + 2]
        local p = find(s, res, 1, true)
        while p do
          if (p - 1) % RW == 0 then
            local d = doc_at(s, p + 2)
            if not done[d] then
              local r = record(d)
              if live(r) and byte(r, 23) == 2 then
                if ta == nil then ta = { byte(sig, 1, SL) } end
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
            p = find(s, res, p + RW, true)
          else
            p = find(s, res, p + 1, true)
          end
        end
      end
      equal = best_eq
    end
    if hit then
      local m = meta(hit, record(hit))
      local cluster = cluster_of(m)
      local cfield, cres = cluster_slot(cluster)
      insert(slots, sig, ch, info, cluster, 1, false, cfield, cres)
      emit(DUP, cluster, 1, equal)
    else
      indexed_now = indexed_now + 1
      insert(slots, sig, ch, info, '', 1, true)
      emit(NEW, id, 1, -1)
    end
  end
end

local changed = {}
for i, _ in pairs(dirty) do
  changed[#changed + 1] = fields[i]
  changed[#changed + 1] = buckets[i]
end
for i = 1, #changed, 4000 do
  redis.call('HSET', bkey, unpack(changed, i, math.min(#changed, i + 3999)))
end
redis.call('PEXPIRE', bkey, ttl)
for blk, p in pairs(pending) do
  local skey = base .. 's:' .. blk
  if redis.call('EXISTS', skey) == 0 then redis.call('SETRANGE', skey, B * RL - 1, '\0') end
  redis.call('SETRANGE', skey, (p.first % B) * RL, table.concat(p.recs))
  redis.call('PEXPIRE', skey, ttl)
end
-- metadata: appended at the tail of the chunked stream; a chunk is allocated whole when first
-- written, so it never over-allocates
if #newmetas > 0 then
  local all, done, off = table.concat(newmetas), 0, mtail0
  while done < #all do
    local c, pos = math.floor(off / CH), off % CH
    local n = math.min(#all - done, CH - pos)
    local mkey = base .. 'm:' .. c
    if pos == 0 then redis.call('DEL', mkey) end -- a chunk name from 65536 chunks ago
    if redis.call('EXISTS', mkey) == 0 then redis.call('SETRANGE', mkey, CH - 1, '\0') end
    redis.call('SETRANGE', mkey, pos, sub(all, done + 1, done + n))
    redis.call('PEXPIRE', mkey, ttl)
    done, off = done + n, (off + n) % MMOD
  end
  redis.call('SET', mkey_tail, mtail)
end
if seq ~= seq0 then redis.call('SET', seq_key, seq) end
if indexed_now > 0 then redis.call('HINCRBY', clock_key, 'n' .. slot, indexed_now) end
redis.call('PEXPIRE', clock_key, ttl)
return out
