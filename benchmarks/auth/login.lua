-- POST /auth/login with a fresh single-use code each time (the simulator accepts every code once).
local counter = 0
tid = 0
function setup(thread) tid = tid + 1; thread:set("tid", tid) end
function request()
  counter = counter + 1
  local body = string.format('{"code":"openid:bench-%d-%d-%d"}', tid, counter, math.random(1, 1e9))
  return wrk.format("POST", "/auth/login", {["Content-Type"] = "application/json"}, body)
end
