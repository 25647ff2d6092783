-- One connection per thread, each following its own rotation chain: the refresh token of each answer is
-- the next request's, so no request presents a spent token (which would revoke the family).
function setup(thread)
  local f = io.open(os.getenv("AUTH_BENCH_TOKENS"))
  local i = 0
  setup_i = (setup_i or 0) + 1
  for line in f:lines() do i = i + 1; if i == setup_i then thread:set("token", line) end end
  f:close()
end
function request()
  return wrk.format("POST", "/auth/token", {["Content-Type"] = "application/x-www-form-urlencoded"},
    "grant_type=refresh_token&refresh_token=" .. token)
end
function response(status, headers, body)
  local next = body:match('"refresh_token":"([^"]+)"')
  if status == 200 and next then token = next end
end
